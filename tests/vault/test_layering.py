"""The vault's layering: hazmat is used by nothing outside the vault, and the public face."""

from __future__ import annotations

import ast
from pathlib import Path

import rempart.vault
import rempart.vault.hazmat

SRC = Path(rempart.__file__).parent
VAULT = SRC / "vault"
HAZMAT = VAULT / "hazmat"


def imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Absolute names of every module a file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    if package is None:
        package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_import_scanner_sees_absolute_and_relative_imports(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "from rempart.vault import hazmat\nimport rempart.vault.hazmat.aead\n"
        "from ..vault.hazmat import Aead\n"
    )
    found = imported_modules(sample, package="rempart.api")
    assert {
        "rempart.vault.hazmat",
        "rempart.vault.hazmat.aead",
        "rempart.vault.hazmat.Aead",
    } <= found


def test_nothing_outside_the_vault_imports_vault_hazmat() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if VAULT in path.parents:
            continue
        if any(
            m == "rempart.vault.hazmat" or m.startswith("rempart.vault.hazmat.")
            for m in imported_modules(path)
        ):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []
    assert len(list(SRC.rglob("*.py"))) > len(list(VAULT.rglob("*.py")))


def test_within_the_vault_only_hazmat_imports_cryptography() -> None:
    offenders = []
    for path in VAULT.rglob("*.py"):
        if HAZMAT in path.parents:
            continue
        if any(
            m == "cryptography" or m.startswith("cryptography.") for m in imported_modules(path)
        ):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def test_public_exports_are_what_they_claim() -> None:
    for module in (rempart.vault, rempart.vault.hazmat):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    assert "Aead" not in rempart.vault.__all__
