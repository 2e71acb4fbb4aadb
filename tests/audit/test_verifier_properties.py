"""Property: whatever is done to an export, "verified" means the signed entries, unchanged."""

from __future__ import annotations

import json
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
from rempart.audit.verifier import verify_lines
from rempart.types import TenantId
from tests.audit.tampering import tamper

ORIGIN = "rempart/audit/tenant/prop"
SIGNER = Ed25519Signer.generate("prop")
VERIFIER = NoteVerifier.from_vkey(verifier_key(SIGNER))
T0 = datetime(2026, 11, 29, tzinfo=UTC)


def _export(n: int, checkpoint_sizes: set[int]) -> tuple[list[str], str]:
    lines = [json.dumps({"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "origin": ORIGIN})]
    rng = CompactRange()
    note = ""
    for i in range(n):
        event = AuditEvent(
            tenant_id=TenantId("prop"),
            actor=Actor("user", f"u{i % 3}"),
            action="interaction.read",
            resource_type="interaction",
            resource_id=f"r{i}",
            outcome="success",
            time=T0 + timedelta(seconds=i),
        )
        data = encode_event(event, log_name=ORIGIN, sequence=i, uid=f"uid-{i}")
        rng.append(leaf_hash(data))
        lines.append(json.dumps({"type": "entry", "index": i, "entry": data.decode()}))
        if rng.size in checkpoint_sizes or rng.size == n:
            note = sign_checkpoint(Checkpoint(ORIGIN, rng.size, rng.root()), SIGNER)
            lines.append(json.dumps({"type": "checkpoint", "note": note}))
    return [line + "\n" for line in lines], note


LINES, TRUSTED = _export(12, {4, 9})
ORIGINAL_ENTRIES = [json.loads(x)["entry"] for x in LINES if '"type": "entry"' in x]


def _entries(text: str) -> list[object]:
    found: list[object] = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("type") == "entry":
            found.append(obj.get("entry"))
    return found


def test_the_unmodified_export_verifies() -> None:
    report = verify_lines(LINES, TRUSTED, VERIFIER)
    assert report.ok, report.problem
    assert report.entries == 12


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_verified_export_always_holds_exactly_the_signed_entries(data: st.DataObject) -> None:
    mutated = tamper(data, LINES)
    report = verify_lines(mutated.splitlines(keepends=True), TRUSTED, VERIFIER)
    if report.ok:
        # Only changes that leave the signed content intact may pass (e.g. a
        # flipped bit in a key name of the optional leaf_hash field).
        assert _entries(mutated) == ORIGINAL_ENTRIES
        assert report.verified_size == 12
    else:
        assert report.problem is not None
        assert report.problem.kind
