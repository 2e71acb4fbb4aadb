"""The package's public face is what ``__all__`` says, and it stays a library."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import rempart.contact.payments as payments


def test_every_name_in_all_exists() -> None:
    for module_info in [None, *pkgutil.iter_modules(payments.__path__)]:
        name = "rempart.contact.payments" + (f".{module_info.name}" if module_info else "")
        module = importlib.import_module(name)
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.{exported}"


def test_the_package_imports_no_web_or_cli_layer() -> None:
    for path in Path(payments.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(
                    ("rempart.api", "rempart.cli", "rempart.console")
                ), path.name
