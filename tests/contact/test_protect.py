"""Protection on ingest, the text part: order, context, joined numbers, audio, fail-closed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from rempart.contact import service
from rempart.contact.models import Interaction, TranscriptSegment
from rempart.contact.policy import DataPolicy
from rempart.contact.protect import ProtectionFailed, ProtectionUnavailable, protect_content
from rempart.contact.schemas import InteractionIn
from rempart.errors import ValidationFailed
from rempart.storage import Database, TenantContext
from rempart.vault import Vault

PAN = "4970101234567893"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def chat(*messages: tuple[str, str], **extra: Any) -> InteractionIn:
    return InteractionIn.model_validate(
        {
            "external_id": "c-1",
            "channel": "chat",
            "language": "fr",
            "started_at": T0,
            "segments": [{"speaker": who, "text": text} for who, text in messages],
            **extra,
        }
    )


def test_a_card_number_typed_over_two_messages_is_redacted_in_both() -> None:
    payload = chat(
        ("agent", "Votre numéro de carte ?"),
        ("customer", f"{PAN[:4]} {PAN[4:8]}"),
        ("customer", f"{PAN[8:12]} {PAN[12:]}"),
    )
    content = protect_content(payload, DataPolicy().redaction_policy())
    first, second = content.segments[1].redacted, content.segments[2].redacted
    assert PAN[:4] not in first
    assert PAN[12:] not in second
    assert content.segments[1].original == f"{PAN[:4]} {PAN[4:8]}"


def test_the_subject_of_an_email_is_redacted_too() -> None:
    payload = chat(("customer", "Bonjour"), subject="Remboursement pour Jeanne Martin")
    content = protect_content(payload, DataPolicy().redaction_policy())
    assert content.subject is not None
    assert "Jeanne" not in content.subject.redacted
    assert content.entity_counts.get("PERSON", 0) >= 1


def test_word_timings_map_the_card_to_the_audio_to_silence() -> None:
    words = [("le", 1000, 1100), (PAN[:4], 1200, 1400), (PAN[4:8], 1400, 1600)]
    words += [(PAN[8:12], 1600, 1800), (PAN[12:], 1800, 2000), ("merci", 2100, 2300)]
    payload = InteractionIn.model_validate(
        {
            "external_id": "call-1",
            "channel": "call",
            "started_at": T0,
            "language": "fr",
            "segments": [
                {"speaker": "agent", "text": "Votre carte ?", "start_ms": 0, "end_ms": 900},
                {
                    "speaker": "customer",
                    "text": " ".join(w for w, _, _ in words),
                    "start_ms": 1000,
                    "end_ms": 2300,
                    "words": [{"text": w, "start_ms": a, "end_ms": b} for w, a, b in words],
                },
                # A sensitive turn without word timings is silenced whole.
                {
                    "speaker": "customer",
                    "text": f"je répète {PAN}",
                    "start_ms": 3000,
                    "end_ms": 5000,
                },
            ],
        }
    )
    content = protect_content(payload, DataPolicy().redaction_policy())
    assert content.silence_ms == [[1100, 2100], [3000, 5000]]


def test_words_that_do_not_appear_in_their_segment_are_refused() -> None:
    payload = InteractionIn.model_validate(
        {
            "external_id": "call-1",
            "channel": "call",
            "started_at": T0,
            "segments": [
                {
                    "speaker": "customer",
                    "text": f"ma carte {PAN}",
                    "start_ms": 0,
                    "end_ms": 900,
                    "words": [{"text": "autre", "start_ms": 0, "end_ms": 100}],
                }
            ],
        }
    )
    with pytest.raises(ValidationFailed, match=r"segments\[0\]\.words\[0\]"):
        protect_content(payload, DataPolicy().redaction_policy())


def test_what_cannot_be_redacted_is_refused_and_nothing_is_stored(
    db: Database, tenant_a: TenantContext, vault: Vault
) -> None:
    policy = DataPolicy(redaction={"max_chars": 10})  # every longer text fails to redact
    payload = chat(("customer", f"ma carte est la {PAN}"))
    with pytest.raises(ProtectionFailed), db.tenant_session(tenant_a) as s:
        service.ingest(s, payload, created_by="t", vault=vault, policy=policy)
    with db.tenant_session(tenant_a) as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 0
        assert s.scalar(select(func.count()).select_from(TranscriptSegment)) == 0


def test_without_a_vault_ingest_refuses_rather_than_store_in_clear(
    db: Database, tenant_a: TenantContext
) -> None:
    with pytest.raises(ProtectionUnavailable), db.tenant_session(tenant_a) as s:
        service.ingest(s, chat(("customer", PAN)), created_by="t", vault=None)


def test_a_redaction_policy_that_does_not_fail_closed_is_forced_to() -> None:
    policy = DataPolicy(redaction={"fail_closed": False, "keep_original": True})
    built = policy.redaction_policy()
    assert built.fail_closed
    assert not built.keep_original  # ingest keeps originals itself, encrypted
