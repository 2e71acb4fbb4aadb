"""The delivery format: round trips, an independent reader written from docs/privacy.md,
and every way of tampering with a sealed file fails with the one opaque error."""

from __future__ import annotations

import io
import struct
import unicodedata

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.errors import CryptoError, ValidationFailed
from rempart.privacy.sealed import open_sealed, seal
from tests.privacy.conftest import FAST_KDF, PASSPHRASE

CHUNK = 4096


def sealed(data: bytes, passphrase: str = PASSPHRASE, chunk: int = CHUNK) -> bytes:
    out = io.BytesIO()
    seal(io.BytesIO(data), out, passphrase, log2_n=FAST_KDF, chunk_size=chunk)
    return out.getvalue()


def opened(blob: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    open_sealed(io.BytesIO(blob), out, passphrase)
    return out.getvalue()


def independent_open(blob: bytes, passphrase: str) -> bytes:
    """A reader written from the format table in docs/privacy.md, pyca/cryptography only."""
    magic, version, kdf, log2_n, r, p, salt, chunk, prefix = struct.unpack(
        ">4sBBBBB16sI7s", blob[:36]
    )
    assert (magic, version, kdf) == (b"RPEX", 1, 1)
    key = Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p).derive(
        unicodedata.normalize("NFC", passphrase).encode()
    )
    body, size, out, i = blob[36:], chunk + 16, b"", 0
    while True:
        piece, body = body[:size], body[size:]
        last = not body
        nonce = prefix + i.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
        out += AESGCM(key).decrypt(nonce, piece, blob[:36])
        if last:
            return out
        i += 1


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
def test_round_trip_at_chunk_boundaries(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    blob = sealed(data)
    assert opened(blob) == data
    assert independent_open(blob, PASSPHRASE) == data
    chunks = max(1, -(-size // CHUNK))
    assert len(blob) == 36 + size + 16 * chunks


@settings(max_examples=15)
@given(st.binary(max_size=3 * CHUNK + 100))
def test_round_trip_law(data: bytes) -> None:
    assert opened(sealed(data)) == data


def test_two_seals_of_the_same_data_differ() -> None:
    assert sealed(b"same") != sealed(b"same")


def test_wrong_passphrase_fails_opaquely() -> None:
    blob = sealed(b"secret archive")
    with pytest.raises(CryptoError) as info:
        opened(blob, PASSPHRASE + "!")
    assert str(info.value) == "Cryptographic operation failed"


def test_passphrase_is_compared_after_unicode_normalisation() -> None:
    composed, decomposed = "mot de passe d\u00e9j\u00e0 vu", "mot de passe de\u0301ja\u0300 vu"
    assert opened(sealed(b"x", composed), decomposed) == b"x"


def test_a_short_passphrase_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        seal(io.BytesIO(b"x"), io.BytesIO(), "short", log2_n=FAST_KDF)


def test_every_header_byte_flip_fails() -> None:
    blob = sealed(b"A" * 100)
    for i in range(36):
        if i == 6:  # log2(N): flips are out of bounds or only cost time; checked below
            continue
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(CryptoError):
            opened(bytes(bad))


def test_a_planted_header_cannot_ask_for_huge_scrypt_work() -> None:
    blob = bytearray(sealed(b"A"))
    blob[6] = 30  # log2(N) = 30 would need 128 GiB
    with pytest.raises(CryptoError):
        opened(bytes(blob))


def test_every_body_bit_flip_fails() -> None:
    blob = sealed(b"B" * 40)
    for i in range(36, len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x80
        with pytest.raises(CryptoError):
            opened(bytes(bad))


def test_truncation_anywhere_fails() -> None:
    blob = sealed(b"C" * (2 * CHUNK + 10))
    for cut in (0, 10, 35, 36, 36 + CHUNK + 16, 36 + 2 * (CHUNK + 16), len(blob) - 1):
        with pytest.raises(CryptoError):
            opened(blob[:cut])


def test_reordered_and_extended_chunks_fail() -> None:
    blob = sealed(b"D" * CHUNK + b"E" * CHUNK + b"F")
    size = CHUNK + 16
    header, c0, c1, c2 = (
        blob[:36],
        blob[36 : 36 + size],
        blob[36 + size : 36 + 2 * size],
        blob[36 + 2 * size :],
    )
    with pytest.raises(CryptoError):
        opened(header + c1 + c0 + c2)
    with pytest.raises(CryptoError):
        opened(blob + c2)
    other = sealed(b"G" * CHUNK + b"H")
    with pytest.raises(CryptoError):
        opened(header + other[36 : 36 + size] + c1 + c2)
