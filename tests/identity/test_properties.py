"""Laws: parsers of untrusted input fail only with their own refusal, never crash or open up."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.identity.jwt import TokenRejected, read_header
from rempart.identity.login import LoginFailed, safe_return_to, tenant_of_state
from rempart.identity.sessions import SessionInvalid, parse_cookie


@given(st.text(max_size=300))
def test_return_to_is_always_a_local_path(value: str) -> None:
    out = safe_return_to(value)
    assert out.startswith("/")
    assert not out.startswith("//")
    assert "\\" not in out
    assert all(ord(c) >= 0x20 for c in out)


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_token_header_parser_only_refuses(value: str) -> None:
    try:
        header = read_header(value)
    except TokenRejected:
        return
    assert isinstance(header, dict)


@given(st.text(max_size=300))
def test_cookie_and_state_parsers_only_refuse(value: str) -> None:
    with contextlib.suppress(SessionInvalid):
        parse_cookie(value)
    with contextlib.suppress(LoginFailed):
        tenant_of_state(value)
