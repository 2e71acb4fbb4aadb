"""The verifier's batch path (orjson) accepts exactly what its line-by-line path accepts.

Runs of exporter-shaped entry lines are checked as batches: orjson parses,
the canonical form is checked by re-encoding (``canonical_objects``), the
leaf hashes are compared in bulk. Anything the batch test doubts is replayed
line by line, which names the problem. These tests hold the two to the same
reports, and the canonical test to ``decode_entry_text`` (the reference).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.audit import Actor, AuditEvent
from rempart.audit import verifier as verifier_module
from rempart.audit.errors import ExportError
from rempart.audit.export import EXPORT_FORMAT, EXPORT_VERSION
from rempart.audit.merkle import CompactRange, leaf_hash
from rempart.audit.note import (
    Checkpoint,
    Ed25519Signer,
    NoteVerifier,
    sign_checkpoint,
    verifier_key,
)
from rempart.audit.schema import canonical_objects, decode_entry_text, encode_event_fast
from rempart.audit.verifier import VerificationReport, verify_export, verify_lines
from rempart.types import TenantId
from tests.audit.tampering import tamper

ORIGIN = "rempart/audit/tenant/batch"
SIGNER = Ed25519Signer.generate("batch")
VERIFIER = NoteVerifier.from_vkey(verifier_key(SIGNER))
T0 = datetime(2026, 11, 29, tzinfo=UTC)


def _line(obj: object) -> str:
    """A line as ``export_log`` writes it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def _export(n: int, checkpoint_sizes: set[int]) -> tuple[list[str], dict[int, str]]:
    lines = [_line({"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "origin": ORIGIN})]
    rng = CompactRange()
    notes: dict[int, str] = {}
    for i in range(n):
        event = AuditEvent(
            tenant_id=TenantId("batch"),
            actor=Actor("user", f"u{i % 3}"),
            action="interaction.read",
            resource_type="interaction",
            resource_id=f"r{i}",
            outcome="success" if i % 5 else "failure",
            reason="denied" if i % 5 == 0 else None,
            time=T0 + timedelta(seconds=i),
            details={"note": "café ☕", "n": i, "ok": i % 2 == 0, "none": None},
        )
        data = encode_event_fast(event, log_name=ORIGIN, sequence=i, uid=f"uid-{i}")[0]
        lh = leaf_hash(data)
        rng.append(lh)
        entry = {"type": "entry", "index": i, "entry": data.decode()}
        entry["leaf_hash"] = base64.b64encode(lh).decode()
        lines.append(_line(entry))
        if rng.size in checkpoint_sizes or rng.size == n:
            notes[rng.size] = sign_checkpoint(Checkpoint(ORIGIN, rng.size, rng.root()), SIGNER)
            lines.append(_line({"type": "checkpoint", "note": notes[rng.size]}))
    return lines, notes


# Longer than two batches, with the trusted size inside the second.
LINES, NOTES = _export(150, {40, 100})


def _line_by_line(lines: list[str], trusted: str) -> VerificationReport:
    """The reference: every entry run refused by the batch test, so ``_line`` does it all."""
    original = verifier_module._entry_run

    def refuse(chunk: list[str], objs: list[Any], start: int, limit: int, state: Any) -> Any:
        end = start
        while end < limit and type(objs[end]) is dict and objs[end].get("type") == "entry":
            end += 1
        return end, False

    verifier_module._entry_run = refuse
    try:
        return verify_lines(lines, trusted, VERIFIER)
    finally:
        verifier_module._entry_run = original


@pytest.fixture
def counted_batches() -> Iterator[list[bool]]:
    """Records whether each entry run passed the batch test."""
    results: list[bool] = []
    original = verifier_module._entry_run

    def record(chunk: list[str], objs: list[Any], start: int, limit: int, state: Any) -> Any:
        end, passed = original(chunk, objs, start, limit, state)
        results.append(passed)
        return end, passed

    verifier_module._entry_run = record
    try:
        yield results
    finally:
        verifier_module._entry_run = original


def test_an_intact_export_takes_the_batch_path(counted_batches: list[bool]) -> None:
    for trusted in NOTES.values():
        report = verify_lines(LINES, trusted, VERIFIER)
        assert report.ok, report.problem
        assert report.entries == 150
        assert report == _line_by_line(LINES, trusted)
    assert counted_batches
    assert all(counted_batches)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_batches_and_lines_give_the_same_report_whatever_the_tampering(
    data: st.DataObject,
) -> None:
    mutated = tamper(data, LINES, first=1)
    trusted = NOTES[data.draw(st.sampled_from(sorted(NOTES)))]
    split = mutated.splitlines(keepends=True)
    assert verify_lines(split, trusted, VERIFIER) == _line_by_line(split, trusted)


@pytest.mark.parametrize(
    "edit",
    [
        # The content of entry 70 (second batch) changed, hash left alone.
        lambda s: s.replace('\\"r70\\"', '\\"r71\\"', 1),
        # Not canonical (a space), hash recomputed: found by the canonical test.
        lambda s: s.replace('{\\"activity_id\\":1', '{ \\"activity_id\\":1', 1),
        # Another log's name in one entry.
        lambda s: s.replace(ORIGIN, ORIGIN + "x", 3),
        # A float in the details of one entry.
        lambda s: s.replace('\\"n\\":70', '\\"n\\":70.0', 1),
    ],
    ids=["content", "not-canonical", "other-log", "float"],
)
def test_tampering_in_a_later_batch_is_named_like_the_line_path(edit: Any) -> None:
    mutated = edit("".join(LINES)).splitlines(keepends=True)
    report = verify_lines(mutated, NOTES[150], VERIFIER)
    assert not report.ok
    assert report == _line_by_line(mutated, NOTES[150])


def test_a_file_read_in_blocks_gives_the_same_report(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    original = verifier_module.BLOCK
    verifier_module.BLOCK = 1000  # many blocks, lines cut across them
    try:
        tampered = LINES[70].replace('\\"r68\\"', '\\"r67\\"')
        assert tampered != LINES[70]
        for lines in (LINES, [*LINES[:70], tampered, *LINES[71:]]):
            path.write_text("".join(lines), encoding="utf-8")
            assert verify_export(path, NOTES[150], VERIFIER) == verify_lines(
                lines, NOTES[150], VERIFIER
            )
    finally:
        verifier_module.BLOCK = original


def test_invalid_utf8_late_in_a_file_is_reported_after_earlier_problems(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    tampered = LINES[10].replace('\\"r9\\"', '\\"r8\\"')
    assert tampered != LINES[10]
    lines = [*LINES[:10], tampered, *LINES[11:]]
    data = "".join(lines).encode()
    cut = data.index(b"\n", len(data) // 2) + 1
    path.write_bytes(data[:cut] + b"\xff\xfe\n" + data[cut:])
    report = verify_export(path, NOTES[150], VERIFIER)
    assert report.problem is not None
    assert report.problem.kind == "modified"
    path.write_bytes("".join(LINES).encode()[:cut] + b"\xff\xfe\n" + data[cut:])
    report = verify_export(path, NOTES[150], VERIFIER)
    assert report.problem is not None
    assert report.problem.message == "the export is not UTF-8 text"


# JSON values: every kind RFC 8785 must handle, keys outside the BMP and long integers included.
_keys = st.text(max_size=4) | st.sampled_from(["\U0001f600", "\ufb01", "a\U00010000", "é"])
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


def _reference(text: str) -> Any:
    try:
        return decode_entry_text(text)
    except ExportError:
        return ExportError


def _candidates(value: dict[str, Any]) -> list[bytes]:
    """Texts of a value: RFC 8785, orjson's sorted form, Python's, and spaced."""
    writers: list[Callable[[Any], bytes]] = [
        rfc8785.dumps,
        lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS),
        lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(),
        lambda v: json.dumps(v, sort_keys=True).encode(),
    ]
    out = []
    for write in writers:
        try:
            out.append(write(value))
        except (rfc8785.CanonicalizationError, orjson.JSONEncodeError, UnicodeEncodeError):
            continue
    return out


@settings(max_examples=500, deadline=None)
@given(value=st.dictionaries(_keys, _values, max_size=5))
def test_the_fast_canonical_test_only_accepts_what_the_reference_accepts(
    value: dict[str, Any],
) -> None:
    for data in _candidates(value):
        fast = canonical_objects([data])
        if fast is not None:
            assert _reference(data.decode("utf-8")) == fast[0]


# Plain values: no floats, safe integers, BMP text without characters JSON escapes.
_bmp_text = st.text(
    st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs", "Cc"), exclude_characters='"\\'),
    max_size=6,
)
_plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | _bmp_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_bmp_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(_bmp_text, _plain_values, max_size=5))
def test_plain_canonical_entries_are_decided_by_the_fast_test(value: dict[str, Any]) -> None:
    data = rfc8785.dumps(value)
    fast = canonical_objects([data])
    assert fast is not None
    assert fast[0] == _reference(data.decode("utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1.5}',
        '{"a":1e21}',
        '{"a":100.0}',
        '{"a":[1,2.0]}',
        '{"a":1e-7}',
        '{"a":9007199254740993}',
        '{"a":18446744073709551616}',
        '{"\U0001f600":1,"\ufb01":2}',
        '{"a":-0}',
        '{"a":1,"a":1}',
    ],
)
def test_numbers_and_keys_rfc8785_writes_differently_are_deferred(text: str) -> None:
    assert canonical_objects([text.encode()]) is None


def test_floats_in_strings_do_not_confuse_the_scan() -> None:
    text = b'{"a":"T00:00:00.5","b":[true,false,null],"c":"1e5"}'
    assert canonical_objects([text]) == [json.loads(text)]
