"""The package's public face is what ``__all__`` says, and it depends only downwards."""

from __future__ import annotations

import ast
from pathlib import Path

import rempart.retention

SRC = Path(rempart.retention.__file__).parent


def test_every_exported_name_exists() -> None:
    missing = [n for n in rempart.retention.__all__ if not hasattr(rempart.retention, n)]
    assert missing == []
    assert sorted(rempart.retention.__all__) == sorted(set(rempart.retention.__all__))


def test_retention_never_imports_the_entry_points() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith(("rempart.api", "rempart.cli", "rempart.console"))
            ]
    assert offenders == []
