"""Card tokenization (PCI DSS): random tokens for PANs, the PAN kept only encrypted.

A token is 128 random bits, unrelated to the PAN. The PAN is encrypted with the
tenant's data key, bound to the token; one token exists per PAN and tenant,
found through a keyed hash of the whole PAN (never a plain hash, which a
4-to-6-digit BIN and the last four make easy to reverse). The last four digits
are kept apart only when the caller's policy allows. Detokenization is its own
call, which requires an actor and a reason and is reported to the audit hook
before the PAN is returned.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rempart.errors import NotFound, PermissionDenied, ValidationFailed
from rempart.types import TenantId
from rempart.vault.events import VaultAction
from rempart.vault.fields import FieldCipher
from rempart.vault.format import FieldContext
from rempart.vault.hazmat import hmac_sha256, random_bytes
from rempart.vault.keyring import Keyring
from rempart.vault.records import INDEX_KEY, TokenRecord
from rempart.vault.store import KeyringStore

TOKEN_PREFIX = "tok_"  # noqa: S105 - a label, not a secret
TOKEN_TABLE = "vault_card_tokens"  # noqa: S105
TOKEN_COLUMN = "pan"  # noqa: S105


DetokenizePermission = Callable[[TenantId, str], bool]
"""``permission(tenant, actor)``: may this actor detokenize card numbers of the tenant?"""


@dataclass(frozen=True, slots=True)
class CardToken:
    token: str
    last_four: str | None
    expires_at: datetime


def normalize_pan(pan: str) -> str:
    """Digits only (spaces and dashes dropped), 12 to 19 of them, passing the Luhn check."""
    digits = pan.replace(" ", "").replace("-", "")
    if not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise ValidationFailed("not a card number")
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    if total % 10:
        raise ValidationFailed("not a card number")
    return digits


class CardTokenizer:
    """Tokenize and detokenize PANs of each tenant."""

    def __init__(
        self,
        keyring: Keyring,
        store: KeyringStore,
        field_cipher: FieldCipher,
        *,
        permission: DetokenizePermission | None = None,
    ) -> None:
        self._keyring = keyring
        self._store = store
        self._fields = field_cipher
        self._permission = permission

    def _lookup_hash(self, tenant: TenantId, pan: str) -> bytes:
        key = self._keyring.active_key(tenant, INDEX_KEY).subkey(b"token-lookup")
        return hmac_sha256(key, pan.encode())

    def tokenize(
        self, tenant: TenantId, pan: str, *, expires_at: datetime, keep_last_four: bool = False
    ) -> CardToken:
        """The PAN's token, created if it has none or its old one has expired."""
        digits = normalize_pan(pan)
        now = self._keyring.clock()
        if expires_at <= now:
            raise ValidationFailed("token expiry must be in the future")
        lookup = self._lookup_hash(tenant, digits)
        existing = self._store.find_token(tenant, lookup)
        if existing is not None:
            if existing.expires_at > now:
                last_four = existing.last_four if keep_last_four else None
                return CardToken(existing.token, last_four, existing.expires_at)
            self._store.delete_token(tenant, existing.token)
        token = TOKEN_PREFIX + base64.b32encode(random_bytes(16)).decode().rstrip("=").lower()
        ciphertext = self._fields.encrypt(
            FieldContext(tenant, TOKEN_TABLE, TOKEN_COLUMN, token), digits.encode()
        )
        last_four = digits[-4:] if keep_last_four else None
        self._store.add_token(
            TokenRecord(tenant, token, lookup, ciphertext, last_four, expires_at, now)
        )
        self._keyring.emit(VaultAction.CARD_TOKENIZED, tenant, details={"token": token})
        return CardToken(token, last_four, expires_at)

    def find(self, tenant: TenantId, pan: str) -> CardToken | None:
        """The live token of a PAN, if any (the PAN is hashed, never stored in clear)."""
        record = self._store.find_token(tenant, self._lookup_hash(tenant, normalize_pan(pan)))
        if record is None or record.expires_at <= self._keyring.clock():
            return None
        return CardToken(record.token, record.last_four, record.expires_at)

    def detokenize(self, tenant: TenantId, token: str, *, actor: str, reason: str) -> str:
        """The PAN behind a live token. The actor's detokenization permission is checked
        by the vault's ``detokenize_permission`` hook when one is given (a refusal is
        ``PermissionDenied`` and is audited), else by the caller; the audit hook hears
        of it before the PAN leaves."""
        if not actor or not reason:
            raise ValidationFailed("detokenization needs an actor and a reason")
        if self._permission is not None and not self._permission(tenant, actor):
            self._keyring.emit(
                VaultAction.CARD_DETOKENIZE_DENIED,
                tenant,
                details={"token": token, "actor": actor, "reason": reason},
            )
            raise PermissionDenied("this actor may not detokenize card numbers")
        record = self._store.get_token(tenant, token)
        if record is None or record.expires_at <= self._keyring.clock():
            raise NotFound("unknown or expired token")
        pan = self._fields.decrypt(
            FieldContext(tenant, TOKEN_TABLE, TOKEN_COLUMN, token), record.pan_ciphertext
        ).decode()
        self._keyring.emit(
            VaultAction.CARD_DETOKENIZED,
            tenant,
            details={"token": token, "actor": actor, "reason": reason},
        )
        return pan

    def purge_expired(self, tenant: TenantId) -> int:
        return self._store.delete_expired_tokens(tenant, self._keyring.clock())


__all__ = ["CardToken", "CardTokenizer", "normalize_pan"]
