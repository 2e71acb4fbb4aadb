"""Audit entries: OCSF-aligned shape, RFC 8785 canonical bytes, masking before hashing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.audit.errors import ExportError
from rempart.audit.masking import PERSONAL_MARK, SECRET_MARK, mask_value
from rempart.audit.schema import OcsfClass, canonical, classify, decode_entry, encode_event, to_ocsf
from rempart.types import TenantId
from tests.audit.conftest import event

TENANT = "5d1c2a8e-0000-4000-8000-000000000001"


def _encode(**extra: Any) -> dict[str, Any]:
    data = encode_event(event(TENANT, 3, **extra), log_name="rempart/audit/x", sequence=3, uid="u")
    obj: dict[str, Any] = json.loads(data)
    return obj


def test_rfc8785_sorts_keys_and_writes_no_whitespace() -> None:
    # RFC 8785 section 3.2.3: keys sorted by UTF-16 code units; numbers in ES6 form.
    data = canonical({"b": 1, "a": [True, None, "\u20ac"], "\u00e9": 1.0, "A": 1e21})
    assert data == '{"A":1e+21,"a":[true,null,"\u20ac"],"b":1,"\u00e9":1}'.encode()


def test_entry_carries_the_ocsf_fields_and_its_position() -> None:
    obj = _encode()
    assert obj["class_uid"] == 6005
    assert obj["category_uid"] == 6
    assert obj["activity_id"] == 1
    assert obj["type_uid"] == 600501
    assert obj["status_id"] == 1
    assert obj["actor"] == {"user": {"type": "user", "uid": "agent-1"}}
    assert obj["src_endpoint"] == {"ip": "192.0.2.10"}
    assert obj["http_request"] == {"user_agent": "pytest"}
    assert obj["resources"] == [{"type": "interaction", "uid": "res-3"}]
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    assert meta["log_name"] == "rempart/audit/x"
    assert meta["sequence"] == 3
    assert meta["tenant_uid"] == TENANT
    assert meta["correlation_uid"] == "req-3"
    assert obj["time_dt"] == "2026-11-29T09:00:03.000000Z"


@pytest.mark.parametrize(
    ("resource_type", "action", "cls", "activity"),
    [
        ("session", "session.logon", OcsfClass.AUTHENTICATION, 1),
        ("user", "user.disable", OcsfClass.ACCOUNT_CHANGE, 5),
        ("machine_token", "token.create", OcsfClass.ENTITY_MANAGEMENT, 1),
        ("role", "role.assign", OcsfClass.USER_ACCESS_MANAGEMENT, 1),
        ("alert", "alert.create", OcsfClass.DETECTION_FINDING, 1),
        ("recording", "recording.delete", OcsfClass.DATASTORE_ACTIVITY, 7),
        ("webhook", "webhook.update", OcsfClass.API_ACTIVITY, 3),
        ("webhook", "webhook.frobnicate", OcsfClass.API_ACTIVITY, 99),
    ],
)
def test_class_and_activity_follow_resource_and_verb(
    resource_type: str, action: str, cls: OcsfClass, activity: int
) -> None:
    ev = event(TENANT, action=action, resource_type=resource_type)
    assert classify(ev) is cls
    obj = to_ocsf(ev, log_name="o", sequence=0, uid="u")
    assert obj["activity_id"] == activity


def test_an_explicit_class_wins_and_an_unknown_one_is_refused() -> None:
    assert classify(event(TENANT, class_uid=6003)) is OcsfClass.API_ACTIVITY
    with pytest.raises(ValueError, match="class_uid"):
        classify(event(TENANT, class_uid=1234))


def test_failure_carries_status_and_masked_reason() -> None:
    obj = _encode(outcome="failure", reason="denied for jane@example.com")
    assert obj["status_id"] == 2
    assert obj["status_detail"] == f"denied for {PERSONAL_MARK}"


def test_secrets_and_personal_data_are_masked_in_changes_and_details() -> None:
    obj = _encode(
        before={"email": "jane@example.com", "role": "agent", "api_key": "sk-123"},
        after={"phone": "+33 6 12 34 56 78", "role": "supervisor", "password": "hunter2"},
        details={"note": "card 4111 1111 1111 1111 from FR7630006000011234567890189", "n": 3},
    )
    text = json.dumps(obj)
    for leaked in ("jane@example.com", "sk-123", "hunter2", "4111", "12 34 56", "FR7630006"):
        assert leaked not in text
    unmapped = obj["unmapped"]
    assert isinstance(unmapped, dict)
    assert unmapped["change"] == {
        "before": {"email": PERSONAL_MARK, "role": "agent", "api_key": SECRET_MARK},
        "after": {"phone": PERSONAL_MARK, "role": "supervisor", "password": SECRET_MARK},
    }
    assert unmapped["details"]["n"] == 3


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _encode(time=datetime(2026, 1, 1))


def test_decode_refuses_non_canonical_or_non_object_entries() -> None:
    good = canonical({"a": 1, "b": [1, 2]})
    assert decode_entry(good) == {"a": 1, "b": [1, 2]}
    for bad in (b'{"b":1,"a":1}', b'{"a": 1}', b"[1]", b"{", b"\xff"):
        with pytest.raises(ExportError):
            decode_entry(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_canonical_encoding_is_a_fixed_point(obj: dict[str, object]) -> None:
    data = canonical(obj)
    assert decode_entry(data) == obj
    assert canonical(json.loads(data)) == data


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_masking_is_idempotent_and_keeps_json_shape(value: object) -> None:
    once = mask_value(value)
    assert mask_value(once) == once
    canonical({"v": once})


json_any = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_any, max_size=6))
def test_the_fast_canonical_path_agrees_with_the_reference_rfc8785(obj: dict[str, Any]) -> None:
    import rfc8785

    try:
        expected = rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError:
        with pytest.raises(ValueError, match="canonicalized"):
            canonical(obj)
        return
    assert canonical(obj) == expected


def test_keys_outside_the_bmp_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, which sorts before U+FF5E although its code point is larger.
    assert canonical({"\uff5e": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uff5e":1}'.encode()


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_any, max_size=6))
def test_decode_accepts_exactly_the_reference_canonical_bytes(obj: dict[str, Any]) -> None:
    import rfc8785

    try:
        data = rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError:
        return
    assert canonical(decode_entry(data)) == data
    loose = json.dumps(obj, ensure_ascii=True, indent=1).encode()
    if loose != data:
        with pytest.raises(ExportError):
            decode_entry(loose)


@pytest.mark.parametrize(
    "data",
    [b'{"a":NaN}', b'{"a":Infinity}', b'{"a":1.0}', b'{"a":9007199254740993}', b'{"a":"\\ud800"}'],
)
def test_decode_refuses_what_rfc8785_cannot_write_that_way(data: bytes) -> None:
    with pytest.raises(ExportError):
        decode_entry(data)


@settings(max_examples=150, deadline=None)
@given(
    details=st.dictionaries(st.text(max_size=6), json_any, max_size=6),
    before=json_any,
    after=json_any,
    agent=st.text(max_size=12),
)
def test_the_one_pass_entry_encoding_agrees_with_the_reference_rfc8785(
    details: dict[str, Any], before: Any, after: Any, agent: str
) -> None:
    import rfc8785

    from rempart.audit.schema import encode_ocsf

    ev = event(TENANT, 3, details=details, before=before, after=after, user_agent=agent or None)
    obj = to_ocsf(ev, log_name="rempart/audit/x", sequence=3, uid="u")
    try:
        expected = rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError:
        with pytest.raises(ValueError, match="canonicalized"):
            encode_ocsf(obj)
        return
    assert encode_ocsf(obj) == expected
    assert decode_entry(expected) == json.loads(expected)


def test_a_key_outside_the_bmp_in_details_takes_the_utf16_key_order() -> None:
    from rempart.audit.schema import encode_ocsf

    obj = to_ocsf(
        event(TENANT, 3, details={"\uff5e": 1, "\U0001f600": 2}),
        log_name="rempart/audit/x",
        sequence=3,
        uid="u",
    )
    assert b'{"\xf0\x9f\x98\x80":2,"\xef\xbd\x9e":1}' in encode_ocsf(obj)


@settings(max_examples=300, deadline=None)
@given(
    tenant=st.text(max_size=8),
    actor=st.tuples(st.sampled_from(["user", "machine", "system"]), st.text(max_size=8)),
    action=st.text(max_size=10) | st.sampled_from(["interaction.read", "user.create", "x.grant"]),
    resource=st.sampled_from(["interaction", "user", "role", "alert", "tenant", "other"])
    | st.text(max_size=6),
    resource_id=st.none() | st.text(max_size=8),
    failed=st.booleans(),
    optional=st.lists(st.none() | st.text(max_size=12), min_size=4, max_size=4),
    class_uid=st.none() | st.sampled_from([int(c) for c in OcsfClass]),
    details=st.dictionaries(st.text(max_size=6), json_any, max_size=4),
    change=st.none() | st.tuples(json_any, json_any),
    millis=st.integers(0, 10**12),
)
def test_the_direct_entry_writer_equals_to_ocsf_then_encode(
    tenant: str,
    actor: tuple[str, str],
    action: str,
    resource: str,
    resource_id: str | None,
    failed: bool,
    optional: list[str | None],
    class_uid: int | None,
    details: dict[str, Any],
    change: tuple[Any, Any] | None,
    millis: int,
) -> None:
    """``encode_event_fast`` writes exactly the bytes of ``encode_ocsf(to_ocsf(...))``."""
    from datetime import UTC, timedelta

    from rempart.audit.events import Actor, AuditEvent
    from rempart.audit.schema import encode_event_fast, encode_ocsf

    reason, source_ip, user_agent, request_id = optional
    ev = AuditEvent(
        tenant_id=TenantId(tenant),
        actor=Actor(actor[0], actor[1]),  # type: ignore[arg-type]
        action=action,
        resource_type=resource,
        resource_id=resource_id,
        outcome="failure" if failed else "success",
        time=datetime(1990, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis),
        reason=reason,
        source_ip=source_ip,
        user_agent=user_agent,
        request_id=request_id,
        details=details,
        class_uid=class_uid,
        before=None if change is None else change[0],
        after=None if change is None else change[1],
    )
    log, seq = "rempart/audit/x\u00e9", millis % 1000
    try:
        obj = to_ocsf(ev, log_name=log, sequence=seq, uid="u-1")
        expected = encode_ocsf(obj)
    except ValueError:
        with pytest.raises(ValueError, match="canonicalized"):
            encode_event_fast(ev, log_name=log, sequence=seq, uid="u-1")
        return
    data, cls, masked, masked_text = encode_event_fast(ev, log_name=log, sequence=seq, uid="u-1")
    assert data == expected
    assert cls == obj["class_uid"]
    assert masked == obj.get("unmapped", {}).get("details")
    assert (masked_text is None) == (masked is None)
    if masked_text is not None:
        assert json.loads(masked_text) == masked


# Keys and strings close to what the masking rules look for: sensitive key names
# in any case, keys that only contain such a name, words with digits or "@",
# escapes, and plain words; so both ways of ``masked_part`` are exercised.
_near_keys = st.sampled_from(
    [
        *("fields", "reason", "password", "Name", "name", "username", "pin", "spin", "PIN"),
        *("pan", "company", "e-mail", "Token", "kind", "channel", "a\nb", "pin\n", "\u00e9t\u00e9"),
    ]
)
_near_text = st.sampled_from(
    [
        *("subject", "channel", "a@b.example", "4111111111111111", "null", "NULL", 'x"y'),
        *("tab\t", "caf\u00e9", "plain words", "", "5", "\U0001f600"),
    ]
)
_near_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**10), 10**10) | st.floats() | _near_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_near_keys, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_near_keys | st.text(max_size=6), _near_values, max_size=5))
def test_masked_part_equals_the_walk(value: dict[str, Any]) -> None:
    """The text test of ``masked_part`` gives exactly ``mask_value`` and its canonical text."""
    from rempart.audit.schema import _part, masked_part

    expected = mask_value(value)
    got, text = masked_part(value)
    assert got == expected
    assert text == _part(expected)


def test_masked_part_takes_the_walk_for_what_it_must_mask() -> None:
    """Each trigger of the text test: the value comes back masked, never as given."""
    from rempart.audit.schema import masked_part

    for value, masked in [
        ({"password": "hunter"}, {"password": SECRET_MARK}),
        ({"Name": "Ada"}, {"Name": PERSONAL_MARK}),
        ({"spin": "x"}, {"spin": SECRET_MARK}),
        ({"note": "write to ada@example.org"}, {"note": f"write to {PERSONAL_MARK}"}),
        ({"ref": "card 4111 1111 1111 1111"}, {"ref": f"card {PERSONAL_MARK}"}),
        ({"ratio": float("nan")}, {"ratio": "nan"}),
        ({"pin\n": "x"}, {"pin\n": SECRET_MARK}),
    ]:
        assert masked_part(value)[0] == masked, value


def test_masked_part_keeps_an_unmasked_value_as_given() -> None:
    from rempart.audit.schema import masked_part

    value = {"fields": ["subject", "channel"], "kind": {"a": True}}
    got, text = masked_part(value)
    assert got is value
    assert text == '{"fields":["subject","channel"],"kind":{"a":true}}'
    # A tuple is written as the walk writes the list it makes of it.
    assert masked_part({"kinds": ("a", "b")})[1] == '{"kinds":["a","b"]}'


def test_utc_iso_converts_every_zone_and_refuses_naive_times() -> None:
    from datetime import UTC, timedelta, timezone
    from zoneinfo import ZoneInfo

    from rempart.audit.schema import utc_iso

    moment = datetime(2026, 11, 29, 8, 0, 0, 5, tzinfo=UTC)
    expected = "2026-11-29T08:00:00.000005+00:00"
    assert utc_iso(moment) == expected
    assert utc_iso(moment.astimezone(timezone(timedelta(hours=2)))) == expected
    assert utc_iso(moment.astimezone(ZoneInfo("Europe/Paris"))) == expected
    assert utc_iso(moment.astimezone(ZoneInfo("UTC"))) == expected
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_iso(moment.replace(tzinfo=None))
