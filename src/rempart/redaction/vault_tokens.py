"""Reversible tokenization through ``rempart.vault``: the :class:`TokenVault` that the
``Tokenize`` operator calls.

- A ``CARD_NUMBER`` that is a card number (digits, Luhn) goes through the vault's
  card tokenization (``Vault.tokenize_card``): a random ``tok_`` token, the PAN
  kept only encrypted, one token per PAN and tenant, detokenization reported to
  the vault's audit hook.
- Any other value (a name, an e-mail, a card number said in words) gets a random
  ``rtk_`` token; the value is encrypted under the tenant's data key (context
  ``redaction_tokens/<label>/<token>``) and kept in the vault's token store, found
  again through a keyed hash (the tenant's index key), so the same value gives
  the same token within a tenant. Tokens of one tenant mean nothing to another.

The replacement written into the text is ``<LABEL:token>``; :meth:`detokenize`
takes it (or the bare token) back to the value, with an actor and a reason.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from rempart.errors import NotFound, ValidationFailed
from rempart.redaction.entities import Entity
from rempart.types import TenantId

if TYPE_CHECKING:
    from rempart.vault import Vault

TOKEN_TABLE: Final = "redaction_tokens"  # noqa: S105 - an encryption-context name
GENERIC_PREFIX: Final = "rtk_"
CARD_PREFIX: Final = "tok_"
_REPLACEMENT: Final = re.compile(r"<([A-Z][A-Z0-9_]{1,40}):((?:rtk|tok)_[a-z2-7]{8,64})>")
_BARE: Final = re.compile(r"(?:rtk|tok)_[a-z2-7]{8,64}")


def _random_token() -> str:
    return GENERIC_PREFIX + base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


class VaultTokens:
    """:class:`~rempart.redaction.operators.TokenVault` backed by a :class:`Vault`.

    ``ttl`` is how long a new token stays valid; ``actor`` and ``reason`` are
    what detokenization reports (the caller checks the actor's permission).
    """

    def __init__(
        self,
        vault: Vault,
        *,
        ttl: timedelta = timedelta(days=365),
        actor: str = "",
        reason: str = "",
    ) -> None:
        if ttl <= timedelta(0):
            raise ValidationFailed("token lifetime must be positive")
        self.vault = vault
        self.ttl = ttl
        self.actor = actor
        self.reason = reason

    def __repr__(self) -> str:
        return f"VaultTokens({self.vault!r})"

    def tokenize(self, tenant: TenantId, label: str, value: str) -> str:
        expires_at = self.vault.keys.clock() + self.ttl
        if label == Entity.CARD_NUMBER:
            try:
                card = self.vault.tokenize_card(tenant, value, expires_at=expires_at)
            except ValidationFailed:
                pass  # not digits passing Luhn (said in words, mistyped): generic token
            else:
                return f"<{label}:{card.token}>"
        return f"<{label}:{self._generic(tenant, label, value, expires_at)}>"

    def _lookup(self, tenant: TenantId, label: str, value: str) -> bytes:
        return self.vault.blind_index(
            tenant, f"{TOKEN_TABLE}.{label}", value, length=32, normalizer=_exact
        )

    def _generic(self, tenant: TenantId, label: str, value: str, expires_at: datetime) -> str:
        from rempart.vault.format import FieldContext
        from rempart.vault.records import TokenRecord

        store = self.vault.keys.store
        lookup = self._lookup(tenant, label, value)
        now = self.vault.keys.clock()
        existing = store.find_token(tenant, lookup)
        if existing is not None:
            if existing.expires_at > now:
                return existing.token
            store.delete_token(tenant, existing.token)
        token = _random_token()
        ciphertext = self.vault.encrypt_field(
            FieldContext(tenant, TOKEN_TABLE, label, token), value.encode("utf-8")
        )
        store.add_token(TokenRecord(tenant, token, lookup, ciphertext, None, expires_at, now))
        return token

    def detokenize(self, tenant: TenantId, token: str) -> str:
        """The value behind ``<LABEL:token>`` (or a bare token: then only card tokens,
        whose label is known)."""
        from rempart.vault.format import FieldContext

        if not self.actor or not self.reason:
            raise ValidationFailed("detokenization needs an actor and a reason")
        m = _REPLACEMENT.fullmatch(token.strip())
        if m is not None:
            label, bare = m.group(1), m.group(2)
        elif _BARE.fullmatch(token.strip()):
            label, bare = Entity.CARD_NUMBER, token.strip()
        else:
            raise NotFound("not a token")
        if bare.startswith(CARD_PREFIX):
            if label != Entity.CARD_NUMBER:
                raise NotFound("unknown or expired token")
            return self.vault.detokenize_card(tenant, bare, actor=self.actor, reason=self.reason)
        record = self.vault.keys.store.get_token(tenant, bare)
        if record is None or record.expires_at <= self.vault.keys.clock():
            raise NotFound("unknown or expired token")
        plain = self.vault.decrypt_field(
            FieldContext(tenant, TOKEN_TABLE, label, bare), record.pan_ciphertext
        )
        return plain.decode("utf-8")


def _exact(value: str) -> str:
    """Tokens are per exact value, so that detokenization gives back what was said."""
    return value


__all__ = ["CARD_PREFIX", "GENERIC_PREFIX", "TOKEN_TABLE", "VaultTokens"]
