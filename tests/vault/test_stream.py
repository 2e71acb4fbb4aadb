"""Chunked streaming encryption of large objects."""

from __future__ import annotations

import hashlib
import io
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import Vault
from tests.vault.conftest import OTHER, TENANT, ctx

CHUNK = 1024


def seal(vault: Vault, data: bytes, chunk_size: int = CHUNK) -> bytes:
    out = io.BytesIO()
    vault.encrypt_stream(ctx(table="recordings"), io.BytesIO(data), out, chunk_size=chunk_size)
    return out.getvalue()


def unseal(vault: Vault, data: bytes, row: str = "row-1", tenant: TenantId = TENANT) -> bytes:
    out = io.BytesIO()
    vault.decrypt_stream(ctx(row, table="recordings", tenant=tenant), io.BytesIO(data), out)
    return out.getvalue()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=5000), chunk=st.sampled_from([256, 1000, 1024]))
def test_stream_round_trip_for_any_bytes(vault: Vault, data: bytes, chunk: int) -> None:
    assert unseal(vault, seal(vault, data, chunk)) == data


def header_and_segments(blob: bytes) -> tuple[bytes, list[bytes]]:
    header_len = 4 + blob[3] + 8 + 32 + 7
    seg = CHUNK + 16
    body = blob[header_len:]
    return blob[:header_len], [body[i : i + seg] for i in range(0, len(body), seg)]


def test_truncation_reordering_splicing_and_extension_are_detected(vault: Vault) -> None:
    data = bytes(range(256)) * 20  # 5 chunks
    blob = seal(vault, data)
    header, segs = header_and_segments(blob)
    assert len(segs) == 5
    other_header, other_segs = header_and_segments(seal(vault, data))
    attacks = {
        "dropped last chunk": header + b"".join(segs[:-1]),
        "dropped middle chunk": header + b"".join(segs[:2] + segs[3:]),
        "swapped chunks": header + segs[1] + segs[0] + b"".join(segs[2:]),
        "spliced chunk": header + other_segs[0] + b"".join(segs[1:]),
        "other header": other_header + b"".join(segs),
        "appended chunk": blob + segs[-1],
        "cut mid-chunk": blob[: len(header) + CHUNK // 2],
    }
    for name, tampered in attacks.items():
        with pytest.raises(CryptoError):
            unseal(vault, tampered)
        assert name


def test_every_bit_flip_in_a_small_stream_fails(vault: Vault) -> None:
    blob = seal(vault, b"x" * 300, chunk_size=256)
    for i in range(0, len(blob) * 8, 7):
        tampered = bytearray(blob)
        tampered[i // 8] ^= 1 << (i % 8)
        with pytest.raises(CryptoError):
            unseal(vault, bytes(tampered))


def test_a_stream_is_bound_to_its_tenant_and_row(vault: Vault) -> None:
    blob = seal(vault, b"recording")
    with pytest.raises(CryptoError):
        unseal(vault, blob, row="row-2")
    with pytest.raises(CryptoError):
        unseal(vault, blob, tenant=OTHER)


class Pattern(io.RawIOBase):
    """A large readable object generated on the fly (never held in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = b"\xa5" * n
        self.left -= n
        return n


class Sink(io.RawIOBase):
    """Hashes what it is given, keeps nothing."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.digest.update(data)
        self.size += len(data)
        return len(data)


def test_memory_stays_constant_whatever_the_object_size(vault: Vault) -> None:
    size, chunk = 32 * 1024 * 1024, 64 * 1024
    vault.pseudonym(ctx().tenant, "warm-up")  # load keys before measuring
    encrypted = Sink()
    tracemalloc.start()
    try:
        vault.encrypt_stream(ctx(), Pattern(size), encrypted, chunk_size=chunk)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert encrypted.size > size
    assert peak < 8 * chunk, f"peak {peak} bytes for a {size}-byte object"


def test_invalid_chunk_sizes_are_refused(vault: Vault) -> None:
    with pytest.raises(ValueError, match="chunk size"):
        seal(vault, b"x", chunk_size=10)
