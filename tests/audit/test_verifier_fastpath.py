"""The verifier's split of exporter-shaped entry lines agrees with ``json.loads``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.audit import Actor, AuditEvent
from rempart.audit.export import EXPORT_FORMAT, EXPORT_VERSION
from rempart.audit.merkle import CompactRange, leaf_hash
from rempart.audit.note import (
    Checkpoint,
    Ed25519Signer,
    NoteVerifier,
    sign_checkpoint,
    verifier_key,
)
from rempart.audit.schema import encode_event
from rempart.audit.verifier import _split_entry_line, verify_lines
from rempart.types import TenantId

ORIGIN = "rempart/audit/tenant/fast"
SIGNER = Ed25519Signer.generate("fast")
VERIFIER = NoteVerifier.from_vkey(verifier_key(SIGNER))
T0 = datetime(2026, 11, 29, tzinfo=UTC)


def _compact(obj: object) -> str:
    """A line as ``export_log`` writes it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def _spaced(obj: object) -> str:
    """The same object in another JSON shape (the general path)."""
    return json.dumps(obj) + "\n"


def _export(n: int, write: Callable[[object], str]) -> tuple[list[str], str]:
    lines = [write({"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "origin": ORIGIN})]
    rng = CompactRange()
    note = ""
    for i in range(n):
        event = AuditEvent(
            tenant_id=TenantId("fast"),
            actor=Actor("user", f"u{i % 3}"),
            action="interaction.read",
            resource_type="interaction",
            resource_id=f"r{i}",
            outcome="success",
            time=T0 + timedelta(seconds=i),
            details={"note": "café ☕"},
        )
        data = encode_event(event, log_name=ORIGIN, sequence=i, uid=f"uid-{i}")
        lh = leaf_hash(data)
        rng.append(lh)
        entry = {
            "type": "entry",
            "index": i,
            "entry": data.decode(),
            "leaf_hash": base64.b64encode(lh).decode(),
        }
        lines.append(write(entry))
        if rng.size % 4 == 0 or rng.size == n:
            note = sign_checkpoint(Checkpoint(ORIGIN, rng.size, rng.root()), SIGNER)
            lines.append(write({"type": "checkpoint", "note": note}))
    return lines, note


@settings(max_examples=300)
@given(
    index=st.integers(min_value=0, max_value=10**17),
    text=st.text(),
    digest=st.binary(min_size=32, max_size=32),
)
def test_the_split_equals_json_loads_on_exporter_lines(
    index: int, text: str, digest: bytes
) -> None:
    obj = {"type": "entry", "index": index, "entry": text}
    obj["leaf_hash"] = base64.b64encode(digest).decode()
    raw = _compact(obj)
    assert _split_entry_line(raw) == (index, text, obj["leaf_hash"])
    assert json.loads(raw) == obj


def test_other_shapes_are_left_to_json_loads() -> None:
    lh = base64.b64encode(b"\x07" * 32).decode()
    good = '{"type":"entry","index":3,"entry":"{}","leaf_hash":"' + lh + '"}\n'
    assert _split_entry_line(good) == (3, "{}", lh)
    for variant in (
        good.replace('"index":3', '"index":03'),
        good.replace('"index":3', '"index":-3'),
        good.replace('"index":3', '"index":3.0'),
        good.replace('"index":3', '"index": 3'),
        good.replace(lh, lh.replace("A", "\\u0041", 1) if "A" in lh else "\\/" + lh[2:]),
        good.replace(lh, lh[:-2] + "=="),
        good.replace(lh, lh + "AAAA"),
        good.replace('"}\n', '","extra":1}\n'),
        good.replace('"}\n', '"}'),
        good.replace('"}\n', '"} \n'),
        good.replace('"entry":"{}"', '"entry":"{\\u007d"'.replace("\\u007d", "\\x")),
    ):
        assert _split_entry_line(variant) is None, variant


def test_the_fast_and_general_paths_report_the_same() -> None:
    fast, trusted = _export(10, _compact)
    slow, _ = _export(10, _spaced)
    assert verify_lines(fast, trusted, VERIFIER) == verify_lines(slow, trusted, VERIFIER)
    assert verify_lines(fast, trusted, VERIFIER).ok
    # The same tampering on both shapes: one byte of one entry, a deletion, a swap.
    edits: list[Callable[[list[str]], list[str]]] = [
        lambda ls: [*ls[:3], ls[3].replace("r2", "r9"), *ls[4:]],
        lambda ls: [*ls[:3], *ls[4:]],
        lambda ls: [*ls[:2], ls[3], ls[2], *ls[4:]],
    ]
    for edit in edits:
        a = verify_lines(edit(fast), trusted, VERIFIER)
        b = verify_lines(edit(slow), trusted, VERIFIER)
        assert not a.ok
        assert a == b


def test_an_entry_with_a_lone_surrogate_is_named_not_a_crash() -> None:
    for write in (_compact, _spaced):
        lines, trusted = _export(4, write)
        obj = json.loads(lines[2])
        obj["entry"] = obj["entry"].replace("r1", "r\ud8001")
        lines[2] = json.dumps(obj, separators=(",", ":")) + "\n"  # ASCII: \ud800 escaped
        report = verify_lines(lines, trusted, VERIFIER)
        assert report.problem is not None
        assert report.problem.kind == "modified"
        assert report.problem.index == 1
