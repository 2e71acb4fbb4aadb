"""What the API's handlers share: settings, the database and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from rempart.audit.note import NoteSigner
from rempart.config import Settings
from rempart.contact.payments.config import PaymentConfig
from rempart.storage import Database
from rempart.types import Clock, utc_now
from rempart.vault import Vault


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default=utc_now)
    # Signs audit checkpoints; its public key is what auditors keep.
    audit_signer: NoteSigner | None = None
    # Secure payment capture: processor adapter, timeouts (defaults when None).
    payments: PaymentConfig | None = None
    # Keys and ciphertext; routes that need it refuse to work without it (fail closed).
    vault: Vault | None = None


__all__ = ["AppContext"]
