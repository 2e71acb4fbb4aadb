"""The AWS KMS provider: each tenant's KEK is a symmetric KMS key.

DEKs are wrapped with ``Encrypt`` and unwrapped with ``Decrypt``, the wrapping's
associated data passed as the KMS encryption context (so KMS binds it). boto3
is imported when the provider is built. Throttling and transient service or
network errors are retried with capped exponential backoff and full jitter
(boto3's own retries are turned off so that one policy applies); after the
last attempt the error is ``ProviderUnavailable``. An altered wrapping, a wrong
context or a key scheduled for deletion is the opaque ``CryptoError``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault.errors import ProviderUnavailable
from rempart.vault.providers.base import with_retries

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
    }
)
UNREADABLE_CODES = frozenset(
    {
        "InvalidCiphertextException",
        "IncorrectKeyException",
        "NotFoundException",
        "DisabledException",
        "KMSInvalidStateException",
        "InvalidKeyUsageException",
    }
)


class AwsKmsProvider:
    """KEKs in AWS KMS (or anything speaking its API at ``endpoint_url``)."""

    name = "aws-kms"

    def __init__(
        self,
        client: KMSClient | None = None,
        *,
        region: str = "eu-west-3",
        endpoint_url: str | None = None,
        attempts: int = 6,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        deletion_window_days: int = 7,
    ) -> None:
        try:
            import botocore.exceptions
        except ImportError as exc:  # pragma: no cover - the kms extra is not installed
            raise ProviderUnavailable("boto3 is not installed") from exc
        self._botocore_exceptions = botocore.exceptions
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "kms",
                region_name=region,
                endpoint_url=endpoint_url,
                config=Config(
                    retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=15
                ),
            )
        self._client = client
        self._retry: dict[str, Any] = {
            "attempts": attempts,
            "base_delay": base_delay,
            "max_delay": max_delay,
            "sleep": sleep,
        }
        self._deletion_window_days = deletion_window_days
        self.retries = 0

    def __repr__(self) -> str:
        return "AwsKmsProvider()"

    def _retryable(self, exc: Exception) -> bool:
        exceptions = self._botocore_exceptions
        if isinstance(exc, exceptions.ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            retry = code in RETRYABLE_CODES
        else:
            retry = isinstance(
                exc,
                (
                    exceptions.EndpointConnectionError,
                    exceptions.ConnectTimeoutError,
                    exceptions.ReadTimeoutError,
                    exceptions.ConnectionClosedError,
                ),
            )
        self.retries += retry
        return retry

    def _call(self, call: Callable[[], Any]) -> Any:
        try:
            return with_retries(call, retryable=self._retryable, what="AWS KMS", **self._retry)
        except self._botocore_exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in UNREADABLE_CODES:
                raise CryptoError() from exc
            raise ProviderUnavailable(f"AWS KMS refused the call: {code}") from exc
        except self._botocore_exceptions.BotoCoreError as exc:
            raise ProviderUnavailable(f"AWS KMS not reachable: {type(exc).__name__}") from exc

    @staticmethod
    def _context(aad: bytes) -> dict[str, str]:
        return {"rempart:aad": base64.b64encode(aad).decode()}

    def create_kek(self, tenant: TenantId, version: int) -> str:
        response = self._call(
            lambda: self._client.create_key(
                Description=f"Rempart KEK, tenant {tenant}, version {version}",
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Tags=[
                    {"TagKey": "rempart:tenant", "TagValue": str(tenant)},
                    {"TagKey": "rempart:kek-version", "TagValue": str(version)},
                ],
            )
        )
        # The key id, not the ARN: accepted by every call in the key's own account and
        # region (and moto, the test double, resolves only key ids in some calls).
        key_id: str = response["KeyMetadata"]["KeyId"]
        return key_id

    def find_keks(self, tenant: TenantId, version: int) -> list[str]:
        """Live keys (not pending deletion) tagged with this tenant and KEK version.

        Lists the account's keys and reads their tags: one call per key, which is
        acceptable for a recovery sweep (never on a data path).
        """
        wanted = {"rempart:tenant": str(tenant), "rempart:kek-version": str(version)}
        client = self._client
        found: list[str] = []
        marker: str | None = None
        while True:
            page: Any = self._call(partial(_list_keys, client, marker))
            for key in page.get("Keys", []):
                key_id: str = key["KeyId"]
                tags: Any = self._call(partial(_list_tags, client, key_id))
                values = {t["TagKey"]: t["TagValue"] for t in tags.get("Tags", [])}
                if any(values.get(k) != v for k, v in wanted.items()):
                    continue
                meta: Any = self._call(partial(_describe, client, key_id))
                if meta["KeyMetadata"].get("KeyState") not in _GONE_STATES:
                    found.append(key_id)
            if not page.get("Truncated"):
                return found
            marker = page.get("NextMarker")

    def wrap(self, key_ref: str, dek: bytes, aad: bytes) -> bytes:
        response = self._call(
            lambda: self._client.encrypt(
                KeyId=key_ref, Plaintext=dek, EncryptionContext=self._context(aad)
            )
        )
        blob: bytes = response["CiphertextBlob"]
        return blob

    def unwrap(self, key_ref: str, wrapped: bytes, aad: bytes) -> bytes:
        response = self._call(
            lambda: self._client.decrypt(
                KeyId=key_ref, CiphertextBlob=wrapped, EncryptionContext=self._context(aad)
            )
        )
        plain: bytes = response["Plaintext"]
        return plain

    def destroy_kek(self, key_ref: str) -> None:
        """Disable the key at once and schedule its deletion (KMS's shortest window)."""
        try:
            self._call(lambda: self._client.disable_key(KeyId=key_ref))
            self._call(
                lambda: self._client.schedule_key_deletion(
                    KeyId=key_ref, PendingWindowInDays=self._deletion_window_days
                )
            )
        except CryptoError:
            return  # already disabled, pending deletion or gone: idempotent


_GONE_STATES = ("PendingDeletion", "PendingReplicaDeletion")


def _list_keys(client: Any, marker: str | None) -> Any:
    if marker is None:
        return client.list_keys(Limit=1000)
    return client.list_keys(Limit=1000, Marker=marker)


def _list_tags(client: Any, key_id: str) -> Any:
    return client.list_resource_tags(KeyId=key_id)


def _describe(client: Any, key_id: str) -> Any:
    return client.describe_key(KeyId=key_id)


__all__ = ["AwsKmsProvider"]
