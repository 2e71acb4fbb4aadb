"""Card tokenization: random tokens, encrypted PANs, keyed lookup, audited detokenization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rempart.errors import NotFound, PermissionDenied, ValidationFailed
from rempart.vault import Vault, VaultAction, VaultEvent
from rempart.vault.tokens import normalize_pan
from tests.vault.conftest import OTHER, TENANT, VaultFactory

PAN = "4111 1111 1111 1111"
LATER = datetime(2099, 1, 1, tzinfo=UTC)


def test_tokenize_then_detokenize_returns_the_pan(vault: Vault) -> None:
    token = vault.tokenize_card(TENANT, PAN, expires_at=LATER)
    assert token.token.startswith("tok_")
    assert "4111" not in token.token
    assert token.last_four is None
    pan = vault.detokenize_card(TENANT, token.token, actor="agent-7", reason="refund #12")
    assert pan == "4111111111111111"


def test_the_pan_is_stored_only_encrypted(vault: Vault) -> None:
    token = vault.tokenize_card(TENANT, PAN, expires_at=LATER, keep_last_four=True)
    record = vault.keys.store.get_token(TENANT, token.token)
    assert record is not None
    assert b"4111111111111111" not in record.pan_ciphertext
    assert b"4111111111111111" not in record.lookup_hash
    assert record.pan_ciphertext[:3] == b"RV\x02"
    assert record.last_four == "1111"


def test_one_pan_has_one_live_token_per_tenant_found_by_keyed_hash(vault: Vault) -> None:
    first = vault.tokenize_card(TENANT, PAN, expires_at=LATER)
    assert vault.tokenize_card(TENANT, "4111-1111-1111-1111", expires_at=LATER) == first
    found = vault.cards.find(TENANT, PAN)
    assert found is not None
    assert found.token == first.token
    other = vault.tokenize_card(OTHER, PAN, expires_at=LATER)
    assert other.token != first.token
    assert vault.cards.find(TENANT, "5555 5555 5555 4444") is None


def test_tokens_of_two_tenants_do_not_cross(vault: Vault) -> None:
    token = vault.tokenize_card(TENANT, PAN, expires_at=LATER)
    with pytest.raises(NotFound):
        vault.detokenize_card(OTHER, token.token, actor="a", reason="r")


def test_expired_tokens_no_longer_detokenize_and_are_replaced(make_vault: VaultFactory) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    vault = make_vault(clock=lambda: now[0])
    vault.create_tenant(TENANT)
    token = vault.tokenize_card(TENANT, PAN, expires_at=now[0] + timedelta(days=1))
    now[0] += timedelta(days=2)
    with pytest.raises(NotFound):
        vault.detokenize_card(TENANT, token.token, actor="a", reason="r")
    assert vault.cards.find(TENANT, PAN) is None
    fresh = vault.tokenize_card(TENANT, PAN, expires_at=now[0] + timedelta(days=1))
    assert fresh.token != token.token
    now[0] += timedelta(days=2)
    assert vault.cards.purge_expired(TENANT) == 1
    with pytest.raises(ValidationFailed, match="future"):
        vault.tokenize_card(TENANT, PAN, expires_at=now[0])


@pytest.mark.parametrize("bad", ["4111 1111 1111 1112", "1234", "4111x111111111111", ""])
def test_non_card_numbers_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        normalize_pan(bad)


def test_detokenization_is_audited_with_actor_and_reason(
    vault: Vault, events: list[VaultEvent]
) -> None:
    token = vault.tokenize_card(TENANT, PAN, expires_at=LATER)
    vault.detokenize_card(TENANT, token.token, actor="agent-7", reason="refund #12")
    event = events[-1]
    assert event.action is VaultAction.CARD_DETOKENIZED
    assert event.details == {"token": token.token, "actor": "agent-7", "reason": "refund #12"}
    assert all("4111111111111111" not in repr(e) for e in events)
    with pytest.raises(ValidationFailed):
        vault.detokenize_card(TENANT, token.token, actor="", reason="r")


def test_no_pan_leaves_when_the_audit_hook_fails(make_vault: VaultFactory) -> None:
    def failing_sink(event: VaultEvent) -> None:
        if event.action is VaultAction.CARD_DETOKENIZED:
            raise RuntimeError("audit log unavailable")

    vault = make_vault(on_event=failing_sink)
    vault.create_tenant(TENANT)
    token = vault.tokenize_card(TENANT, PAN, expires_at=LATER)
    with pytest.raises(RuntimeError, match="audit"):
        vault.detokenize_card(TENANT, token.token, actor="a", reason="r")


def test_shredding_the_tenant_removes_its_tokens(vault: Vault) -> None:
    token = vault.tokenize_card(TENANT, PAN, expires_at=LATER)
    vault.shred_tenant(TENANT, reason="off-boarding")
    assert vault.keys.store.get_token(TENANT, token.token) is None


def test_a_permission_hook_refuses_detokenization_to_actors_without_it(
    make_vault: VaultFactory, events: list[VaultEvent]
) -> None:
    allowed = {(TENANT, "agent-payments")}
    vault = make_vault(detokenize_permission=lambda tenant, actor: (tenant, actor) in allowed)
    vault.create_tenant(TENANT)
    token = vault.tokenize_card(TENANT, PAN, expires_at=LATER)
    with pytest.raises(PermissionDenied):
        vault.detokenize_card(TENANT, token.token, actor="agent-7", reason="curious")
    denied = events[-1]
    assert denied.action is VaultAction.CARD_DETOKENIZE_DENIED
    assert denied.details["actor"] == "agent-7"
    assert not any(e.action is VaultAction.CARD_DETOKENIZED for e in events)
    assert all(PAN.replace(" ", "") not in repr(e) for e in events)
    pan = vault.detokenize_card(TENANT, token.token, actor="agent-payments", reason="refund #12")
    assert pan == PAN.replace(" ", "")
    assert events[-1].action is VaultAction.CARD_DETOKENIZED
