"""The package's public face is what it claims, and engines never reach up into the web layer."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import rempart.identity


def test_export_list_names_real_objects_once() -> None:
    names = rempart.identity.__all__
    assert len(names) == len(set(names))
    assert names == sorted(names)
    for name in names:
        assert getattr(rempart.identity, name) is not None


def test_identity_never_imports_api_cli_or_console() -> None:
    root = Path(rempart.identity.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(
                    ("rempart.api", "rempart.cli", "rempart.console")
                ), f"{path.name} imports {node.module}"


def test_every_module_imports_cleanly() -> None:
    for info in pkgutil.walk_packages(rempart.identity.__path__, "rempart.identity."):
        importlib.import_module(info.name)
