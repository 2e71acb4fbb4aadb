"""The package's public face lists exactly what it exports."""

from __future__ import annotations

import rempart.privacy


def test_every_name_in_all_exists_and_nothing_else_is_public() -> None:
    names = rempart.privacy.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(rempart.privacy, name), name
    public = {n for n in vars(rempart.privacy) if not n.startswith("_")}
    modules = {  # submodules (``inventory`` is also the function of that name)
        "archive",
        "certificate",
        "erasure",
        "errors",
        "export",
        "holds",
        "media",
        "models",
        "ports",
        "sealed",
    }
    assert public - modules == set(names)
