"""The package's public face is what it claims, and the library never imports the entry points."""

from __future__ import annotations

import ast
from pathlib import Path

import rempart.ingest

PACKAGE = Path(rempart.ingest.__file__).parent


def test_every_exported_name_exists_and_nothing_is_listed_twice() -> None:
    names = rempart.ingest.__all__
    assert len(names) == len(set(names))
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert hasattr(rempart.ingest, name), name


def test_the_library_never_imports_api_cli_or_console() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith(("rempart.api", "rempart.cli", "rempart.console"))
            ]
    assert offenders == []
