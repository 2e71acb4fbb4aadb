"""The AWS KMS provider against moto's KMS in server mode.

moto is the one mock allowed in this project: the real AWS KMS cannot run
here (no network but package registries). The test starts moto's server as a
separate process on 127.0.0.1 and a free port, and talks to it over HTTP with
the real boto3 client, so request signing, serialisation and error parsing
are the real ones. Throttling is injected at the HTTP layer through botocore's
own event hooks, so the provider sees a genuine ``ThrottlingException``
response.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import (
    KeyStateConflict,
    KeyStatus,
    MemoryKeyringStore,
    ProviderUnavailable,
    Vault,
    VaultAction,
    VaultEvent,
)
from rempart.vault.providers.aws_kms import AwsKmsProvider
from tests.vault.conftest import ctx

T = TenantId("kms-tenant")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def kms_endpoint() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def provider(kms_endpoint: str, aws_env: None) -> AwsKmsProvider:
    return AwsKmsProvider(endpoint_url=kms_endpoint, sleep=lambda _: None)


def test_wrap_and_unwrap_with_the_encryption_context(provider: AwsKmsProvider) -> None:
    ref = provider.create_kek(T, 1)
    assert len(ref) == 36  # a KMS key id (UUID)
    wrapped = provider.wrap(ref, b"k" * 32, b"context")
    assert b"k" * 32 not in wrapped
    assert provider.unwrap(ref, wrapped, b"context") == b"k" * 32
    with pytest.raises(CryptoError):
        provider.unwrap(ref, wrapped, b"other context")
    with pytest.raises(CryptoError):
        provider.unwrap(ref, wrapped[:-1] + bytes([wrapped[-1] ^ 1]), b"context")


def test_a_kms_tenant_encrypts_with_one_kms_call_per_dek(provider: AwsKmsProvider) -> None:
    vault = Vault(MemoryKeyringStore(), [provider])
    vault.create_tenant(T)
    vault.keys.cache.clear()
    before = vault.keys.provider_calls
    cts = [vault.encrypt_field(ctx(str(i), tenant=T), b"kms") for i in range(100)]
    assert [vault.decrypt_field(ctx(str(i), tenant=T), c) for i, c in enumerate(cts)] == [
        b"kms"
    ] * 100
    assert vault.keys.provider_calls - before == 1
    vault.keys.rotate_kek(T)
    assert vault.keys.rewrap(T).remaining == 0
    vault.keys.retire_kek(T, 1)
    backup = vault.keys.store.get_dek(T, "data", 1)
    kek = vault.keys.active_kek(T)
    assert backup is not None
    assert backup.wrapped is not None
    vault.shred_tenant(T, reason="test")
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx("0", tenant=T), cts[0])
    # The KMS keys themselves are disabled and pending deletion (moto does not refuse
    # Decrypt with a disabled key, real KMS does: so the state is what is checked here).
    for version in (1, 2):
        kek_ref = next(k.key_ref for k in vault.keys.store.list_keks(T) if k.version == version)
        meta = provider._client.describe_key(KeyId=kek_ref)["KeyMetadata"]
        assert meta["KeyState"] == "PendingDeletion"
        assert meta["Enabled"] is False
    assert backup.kek_version == kek.version


def throttle(provider: AwsKmsProvider, times: int) -> dict[str, int]:
    """Answer the next ``times`` KMS requests with HTTP 400 ThrottlingException."""
    from botocore.awsrequest import AWSResponse

    seen = {"throttled": 0}

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b""

    def handler(**_: Any) -> AWSResponse | None:
        if seen["throttled"] >= times:
            return None
        seen["throttled"] += 1
        response = AWSResponse("http://kms", 400, {"x-amzn-requestid": "x"}, Raw())
        response._content = (  # the body botocore parses
            b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
        )
        return response

    provider._client.meta.events.register("before-send.kms", handler)
    return seen


def test_throttling_is_retried_with_backoff(kms_endpoint: str, aws_env: None) -> None:
    delays: list[float] = []
    provider = AwsKmsProvider(endpoint_url=kms_endpoint, sleep=delays.append, base_delay=0.1)
    ref = provider.create_kek(T, 2)
    seen = throttle(provider, 3)
    wrapped = provider.wrap(ref, b"d" * 32, b"")
    assert seen["throttled"] == 3
    assert provider.retries == 3
    assert len(delays) == 3
    assert all(0 <= d <= 0.1 * 2**i for i, d in enumerate(delays))
    assert provider.unwrap(ref, wrapped, b"") == b"d" * 32


def test_persistent_throttling_ends_in_a_precise_error(kms_endpoint: str, aws_env: None) -> None:
    provider = AwsKmsProvider(endpoint_url=kms_endpoint, sleep=lambda _: None, attempts=4)
    ref = provider.create_kek(T, 3)
    throttle(provider, 100)
    with pytest.raises(ProviderUnavailable, match="after 4 attempts: ClientError"):
        provider.wrap(ref, b"d" * 32, b"")


def test_an_unreachable_kms_is_a_precise_error(aws_env: None) -> None:
    provider = AwsKmsProvider(
        endpoint_url=f"http://127.0.0.1:{free_port()}", sleep=lambda _: None, attempts=2
    )
    with pytest.raises(ProviderUnavailable, match="unavailable after 2 attempts"):
        provider.create_kek(T, 1)


class SimulatedCrash(Exception):
    """The process dies between a provider call and the next store write."""


class CrashAfterCreateKey(AwsKmsProvider):
    """The real provider; ``create_kek`` makes the KMS key, then the process 'dies'."""

    crash = True

    def create_kek(self, tenant: TenantId, version: int) -> str:
        key_id = super().create_kek(tenant, version)
        if self.crash:
            raise SimulatedCrash(key_id)
        return key_id


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def kms_state(provider: AwsKmsProvider, key_id: str) -> str:
    state: str = provider._client.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
    return state


def test_a_kms_key_orphaned_by_a_crash_is_found_and_scheduled_for_deletion(
    kms_endpoint: str, aws_env: None
) -> None:
    tenant = TenantId("kms-crash-create")
    crashing = CrashAfterCreateKey(endpoint_url=kms_endpoint, sleep=lambda _: None)
    store = MemoryKeyringStore()
    events: list[VaultEvent] = []
    clock = Clock()
    with pytest.raises(SimulatedCrash) as crash:
        Vault(store, [crashing], clock=clock).create_tenant(tenant)
    orphan = str(crash.value)
    # The intent was recorded before CreateKey: the orphan is not lost track of.
    (intent,) = store.list_keks(tenant)
    assert (intent.version, intent.status) == (1, KeyStatus.PENDING)
    assert kms_state(crashing, orphan) == "Enabled"

    # A restarted process. Within the grace period the intent may be a creation in
    # progress elsewhere: nothing is swept and the creation is not resumed.
    provider = AwsKmsProvider(endpoint_url=kms_endpoint, sleep=lambda _: None)
    vault = Vault(store, [provider], clock=clock, on_event=events.append)
    assert provider.find_keks(tenant, 1) == [orphan]
    with pytest.raises(KeyStateConflict, match="being created"):
        vault.create_tenant(tenant)
    assert kms_state(provider, orphan) == "Enabled"

    clock.now += timedelta(minutes=16)
    vault.create_tenant(tenant)  # resumes: sweeps the orphan, then KEK v2 and the keys
    assert kms_state(provider, orphan) == "PendingDeletion"
    assert provider.find_keks(tenant, 1) == []
    statuses = {k.version: k.status for k in store.list_keks(tenant)}
    assert statuses == {1: KeyStatus.DESTROYED, 2: KeyStatus.ACTIVE}
    abandoned = [e for e in events if e.action is VaultAction.KEK_ABANDONED]
    assert [(e.version, e.details["orphans_destroyed"]) for e in abandoned] == [(1, "1")]
    c = ctx("r", tenant=tenant)
    assert vault.decrypt_field(c, vault.encrypt_field(c, b"after recovery")) == b"after recovery"
    active = vault.keys.active_kek(tenant)
    assert active.key_ref != orphan
    assert kms_state(provider, active.key_ref) == "Enabled"


def test_a_crashed_kek_rotation_is_swept_by_the_next_one(kms_endpoint: str, aws_env: None) -> None:
    tenant = TenantId("kms-crash-rotate")
    provider = CrashAfterCreateKey(endpoint_url=kms_endpoint, sleep=lambda _: None)
    provider.crash = False
    clock = Clock()
    vault = Vault(MemoryKeyringStore(), [provider], clock=clock)
    vault.create_tenant(tenant)
    c = ctx("r", tenant=tenant)
    ct = vault.encrypt_field(c, b"v1")
    provider.crash = True
    with pytest.raises(SimulatedCrash) as crash:
        vault.keys.rotate_kek(tenant)
    orphan = str(crash.value)
    # No half-rotated state: KEK v1 is still the active one and everything decrypts.
    assert vault.keys.active_kek(tenant).version == 1
    assert vault.decrypt_field(c, ct) == b"v1"
    provider.crash = False
    clock.now += timedelta(hours=1)
    kek = vault.keys.rotate_kek(tenant)
    assert kek.version == 3
    assert kms_state(provider, orphan) == "PendingDeletion"
    assert vault.keys.rewrap(tenant).remaining == 0
    vault.keys.cache.clear()
    assert vault.decrypt_field(c, ct) == b"v1"
    # The sweep never touches confirmed KEKs.
    assert vault.keys.recover(tenant, older_than=timedelta(0)) == []
    for k in vault.keys.store.list_keks(tenant):
        if k.status is not KeyStatus.DESTROYED:
            assert kms_state(provider, k.key_ref) == "Enabled"


def test_a_creator_cannot_confirm_a_kek_the_sweep_abandoned(
    kms_endpoint: str, aws_env: None
) -> None:
    tenant = TenantId("kms-race")
    store = MemoryKeyringStore()
    clock = Clock()

    class SweptWhileCreating(AwsKmsProvider):
        def create_kek(self, t: TenantId, version: int) -> str:
            key_id = super().create_kek(t, version)
            if version == 2:  # a sweep elsewhere abandons this intent before it is confirmed
                sweeper.keys.recover(t, older_than=timedelta(0))
            return key_id

    provider = SweptWhileCreating(endpoint_url=kms_endpoint, sleep=lambda _: None)
    vault = Vault(store, [provider], clock=clock)
    sweeper = Vault(store, [AwsKmsProvider(endpoint_url=kms_endpoint, sleep=lambda _: None)])
    vault.create_tenant(tenant)
    with pytest.raises(KeyStateConflict, match="abandoned"):
        vault.keys.rotate_kek(tenant)
    statuses = {k.version: k.status for k in store.list_keks(tenant)}
    assert statuses == {1: KeyStatus.ACTIVE, 2: KeyStatus.DESTROYED}
    assert provider.find_keks(tenant, 2) == []  # its key was scheduled for deletion
