"""The public face of rempart.audit: what __all__ lists exists, and the lead's names stay."""

from __future__ import annotations

import rempart.audit
import rempart.audit.merkle


def test_everything_exported_exists() -> None:
    for module in (rempart.audit, rempart.audit.merkle):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
        assert sorted(module.__all__) == sorted(set(module.__all__))


def test_the_first_cut_names_are_still_exported() -> None:
    for name in ("Actor", "AuditEvent", "Origin", "AuditNote", "audited", "append", "query"):
        assert name in rempart.audit.__all__
