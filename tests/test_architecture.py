"""Dependencies flow one way: entry points -> capabilities -> storage/vault -> config."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "rempart"
ENTRY_POINTS = ("rempart.api", "rempart.cli", "rempart.console")
ENGINES = [
    "redaction",
    "vault",
    "audit",
    "detection",
    "access",
    "contact",
    "identity",
    "storage",
    "retention",
    "privacy",
    "ingest",
]
# What the lowest layers may import from the rest of Rempart.
FOUNDATION = {
    "storage": (
        "rempart.storage",
        "rempart.config",
        "rempart.errors",
        "rempart.types",
        "rempart.logs",
    ),
    "config.py": ("rempart.errors", "rempart.types"),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("rempart")}


def files(package: str) -> list[Path]:
    target = SRC / package
    return [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_never_import_the_entry_points(engine: str) -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in files(engine)
        for name in imports_of(path)
        if name.startswith(ENTRY_POINTS)
    ]
    assert offenders == []


@pytest.mark.parametrize("package", sorted(FOUNDATION))
def test_the_foundation_imports_nothing_above_it(package: str) -> None:
    allowed = FOUNDATION[package]
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in files(package)
        for name in imports_of(path)
        if not name.startswith(allowed)
    ]
    assert offenders == []


def test_the_checker_sees_imports() -> None:
    # Guards the guard: the API does import capabilities, so the scan must find them.
    assert any(
        name.startswith("rempart.contact") for path in files("api") for name in imports_of(path)
    )
