"""An unwrapped DEK and the subkeys derived from it (lives only in memory)."""

from __future__ import annotations

import itertools
import struct
import threading

from rempart.types import TenantId
from rempart.vault.format import encode_header, field_subkey, lp
from rempart.vault.hazmat import Aead, hkdf_sha256
from rempart.vault.records import DATA_KEY, SUBJECT_PREFIX

_U32 = struct.Struct(">I")


class DekMaterial:
    """One DEK version, with its field-encryption AEAD and lazily derived purpose keys.

    Also carries this process's budget of GCM encryptions under the key: the
    keyring reserves blocks of the DEK's persistent counter, so random nonces
    are never used more than the configured number of times per key.
    """

    __slots__ = (
        "_dek",
        "_lock",
        "_subkeys",
        "budget",
        "encrypts_fields",
        "field",
        "field_header",
        "key_id",
        "tenant",
        "used",
        "version",
    )

    def __init__(self, tenant: TenantId, key_id: str, version: int, dek: bytes) -> None:
        self.tenant = tenant
        self.key_id = key_id
        self.version = version
        self._dek = dek
        self.field = Aead(field_subkey(dek, tenant, key_id, version))
        # The field ciphertext header (format 2) up to the nonce, the same for every field.
        self.field_header = encode_header(key_id, version, bytes(12))[:-12]
        # Only the data key and subject keys seal fields; the index key derives only.
        self.encrypts_fields = key_id == DATA_KEY or key_id.startswith(SUBJECT_PREFIX)
        self._subkeys: dict[bytes, bytes] = {}
        self._lock = threading.Lock()
        # GCM encryptions taken (``next`` on a count is atomic) and the budget reserved.
        self.used = itertools.count()
        self.budget = 0

    def __repr__(self) -> str:
        return f"DekMaterial({self.tenant!r}, {self.key_id!r}, v{self.version}, <key hidden>)"

    def subkey(self, purpose: bytes, *labels: str) -> bytes:
        """A 256-bit key for one purpose, bound to tenant, key id, version and labels."""
        info = b"".join(
            (
                b"rempart/vault/v1/",
                purpose,
                lp(self.tenant.encode()),
                lp(self.key_id.encode()),
                _U32.pack(self.version),
                *(lp(label.encode()) for label in labels),
            )
        )
        found = self._subkeys.get(info)
        if found is None:
            found = self._subkeys[info] = hkdf_sha256(self._dek, info=info)
        return found

    def take_encryption(self) -> bool:
        """Count one GCM encryption; False when the granted budget is spent.

        ``budget`` is the sum of every grant, so at most ``budget`` calls ever
        succeed, whatever the threads; a call that fails spends its count.
        """
        return next(self.used) < self.budget

    def add_budget(self, count: int) -> None:
        with self._lock:
            self.budget += count
