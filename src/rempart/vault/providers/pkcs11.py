"""The PKCS#11 provider: each tenant's KEK is a non-extractable AES key in an HSM.

Wrapping is AES-256-GCM inside the token (``CKM_AES_GCM``) with a random nonce
and the wrapping's associated data, so the KEK never leaves the HSM (hold your
own key). Tested against SoftHSM2. python-pkcs11 is imported when the provider
is built. An unreachable library, token or session is ``ProviderUnavailable``
(after retries for a session that failed); an altered wrapping is the opaque
``CryptoError``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault.errors import ProviderUnavailable
from rempart.vault.hazmat import NONCE_BYTES, random_bytes
from rempart.vault.providers.base import with_retries

if TYPE_CHECKING:
    import pkcs11

LABEL_PREFIX = "rempart-kek:"


class Pkcs11Provider:
    """KEKs in a PKCS#11 token, found by label ``rempart-kek:<tenant>:v<version>``."""

    name = "pkcs11"

    def __init__(
        self,
        library_path: str,
        *,
        token_label: str,
        user_pin: str,
        attempts: int = 3,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        try:
            import pkcs11 as p11
        except ImportError as exc:  # pragma: no cover - the hsm extra is not installed
            raise ProviderUnavailable("python-pkcs11 is not installed") from exc
        self._p11 = p11
        self._library_path = library_path
        self._token_label = token_label
        self._pin = user_pin
        self._attempts = attempts
        self._sleep = sleep
        self._lock = threading.RLock()
        self._session: pkcs11.Session | None = None
        self._keys: dict[str, Any] = {}  # label -> pkcs11 secret key handle

    def __repr__(self) -> str:
        return f"Pkcs11Provider(token={self._token_label!r}, pin=<hidden>)"

    # Session handling.
    def _open(self) -> pkcs11.Session:
        if self._session is None:
            try:
                lib = self._p11.lib(self._library_path)
                token = lib.get_token(token_label=self._token_label)
                self._session = token.open(user_pin=self._pin, rw=True)
            except self._p11.PKCS11Error as exc:
                raise ProviderUnavailable(
                    f"HSM not reachable (token {self._token_label!r}): {type(exc).__name__}"
                ) from exc
        return self._session

    def _reset(self) -> None:
        self._keys.clear()
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(self._p11.PKCS11Error):
                session.close()

    def _call(self, action: Callable[[pkcs11.Session], Any]) -> Any:
        """Run ``action`` on the session, reopening it on device or session errors."""
        p11 = self._p11
        transient = (
            p11.exceptions.SessionHandleInvalid,
            p11.exceptions.SessionClosed,
            p11.exceptions.DeviceRemoved,
            p11.exceptions.DeviceError,
            p11.exceptions.TokenNotPresent,
        )

        def attempt() -> Any:
            with self._lock:
                try:
                    return action(self._open())
                except transient:
                    self._reset()
                    raise

        kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep is not None else {}
        return with_retries(
            attempt,
            retryable=lambda e: isinstance(e, transient),
            attempts=self._attempts,
            what="HSM",
            **kwargs,
        )

    def _key(self, session: pkcs11.Session, key_ref: str) -> Any:
        key = self._keys.get(key_ref)
        if key is None:
            p11 = self._p11
            try:
                key = session.get_key(object_class=p11.ObjectClass.SECRET_KEY, label=key_ref)
            except (p11.NoSuchKey, p11.MultipleObjectsReturned) as exc:
                raise CryptoError() from exc
            self._keys[key_ref] = key
        return key

    # KeyProvider.
    def create_kek(self, tenant: TenantId, version: int) -> str:
        label = f"{LABEL_PREFIX}{tenant}:v{version}"
        p11 = self._p11

        def create(session: pkcs11.Session) -> str:
            try:
                session.get_key(object_class=p11.ObjectClass.SECRET_KEY, label=label)
                return label  # created before a crash: reuse
            except p11.NoSuchKey:
                pass
            session.generate_key(
                p11.KeyType.AES,
                256,
                label=label,
                store=True,
                capabilities=p11.MechanismFlag.ENCRYPT | p11.MechanismFlag.DECRYPT,
                template={p11.Attribute.SENSITIVE: True, p11.Attribute.EXTRACTABLE: False},
            )
            return label

        result: str = self._call(create)
        return result

    def wrap(self, key_ref: str, dek: bytes, aad: bytes) -> bytes:
        nonce = random_bytes(NONCE_BYTES)
        params = self._p11.mechanisms.GCMParams(nonce, aad)

        def wrap(session: pkcs11.Session) -> bytes:
            sealed: bytes = self._key(session, key_ref).encrypt(
                dek, mechanism=self._p11.Mechanism.AES_GCM, mechanism_param=params
            )
            return nonce + sealed

        result: bytes = self._call(wrap)
        return result

    def unwrap(self, key_ref: str, wrapped: bytes, aad: bytes) -> bytes:
        if len(wrapped) < NONCE_BYTES + 16:
            raise CryptoError()
        params = self._p11.mechanisms.GCMParams(wrapped[:NONCE_BYTES], aad)

        def unwrap(session: pkcs11.Session) -> bytes:
            key = self._key(session, key_ref)
            try:
                plain: bytes = key.decrypt(
                    wrapped[NONCE_BYTES:],
                    mechanism=self._p11.Mechanism.AES_GCM,
                    mechanism_param=params,
                )
            except (
                self._p11.exceptions.GeneralError,
                self._p11.exceptions.EncryptedDataInvalid,
                self._p11.exceptions.FunctionFailed,
            ) as exc:
                raise CryptoError() from exc
            return plain

        result: bytes = self._call(unwrap)
        return result

    def destroy_kek(self, key_ref: str) -> None:
        p11 = self._p11

        def destroy(session: pkcs11.Session) -> None:
            self._keys.pop(key_ref, None)
            for key in list(
                session.get_objects(
                    {p11.Attribute.LABEL: key_ref, p11.Attribute.CLASS: p11.ObjectClass.SECRET_KEY}
                )
            ):
                key.destroy()

        self._call(destroy)

    def find_keks(self, tenant: TenantId, version: int) -> list[str]:
        label = f"{LABEL_PREFIX}{tenant}:v{version}"
        p11 = self._p11

        def find(session: pkcs11.Session) -> list[str]:
            found = session.get_objects(
                {p11.Attribute.LABEL: label, p11.Attribute.CLASS: p11.ObjectClass.SECRET_KEY}
            )
            return [label] if any(True for _ in found) else []

        result: list[str] = self._call(find)
        return result

    def close(self) -> None:
        with self._lock:
            self._reset()


__all__ = ["Pkcs11Provider"]
