"""The package's public face is what it claims, and it speaks the identity scopes' language."""

from __future__ import annotations

import rempart.access as access
from rempart.access import Permission
from rempart.identity.scopes import Scope


def test_every_exported_name_exists() -> None:
    for name in access.__all__:
        assert getattr(access, name) is not None, name
    assert len(set(access.__all__)) == len(access.__all__)


def test_every_machine_token_scope_is_a_permission() -> None:
    for scope in Scope:
        assert Permission(scope.value).value == scope.value
