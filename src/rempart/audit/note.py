"""Checkpoints in the transparency-dev signed-note format, signed with Ed25519.

A checkpoint body is three lines (origin, decimal tree size, base64 root
hash), each ending in a newline. A signed note is the body, one blank line,
then one line per signature::

    rempart/audit/tenant/5d1c...\\n
    42\\n
    n3a...=\\n
    \\n
    — rempart-audit AbCdEf...==\\n

where the base64 blob is the 4-byte key hash followed by the 64-byte Ed25519
signature of the body. The key hash is the first 4 bytes of
``SHA-256(name || "\\n" || 0x01 || public key)``. Keys travel as the
standard ``name+hash+base64(0x01||key)`` strings (``PRIVATE+KEY+...`` for
signing keys), so tools of the transparency-dev ecosystem read them too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rempart.audit.errors import CheckpointError
from rempart.audit.merkle import HASH_SIZE

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "
_NAME = re.compile(r"^[^\s+]+$")
_MAX_NOTE = 64 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what} is not valid base64") from exc


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise CheckpointError("a key name must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The state of one log: origin, tree size and root hash."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{_b64(self.root)}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("checkpoint body must be origin, size and root, one per line")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not origin or origin != origin.strip():
            raise CheckpointError("checkpoint origin line is empty or padded")
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise CheckpointError("checkpoint size is not a decimal number")
        root = _unb64(root_text, "checkpoint root hash")
        if len(root) != HASH_SIZE:
            raise CheckpointError("checkpoint root hash is not 32 bytes")
        return cls(origin, int(size_text), root)


class NoteSigner(Protocol):
    """What signs checkpoints. The local key file implements it; ``rempart.vault`` will too."""

    @property
    def name(self) -> str: ...

    def public_key(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


class Ed25519Signer:
    """An Ed25519 note signer held in memory (loaded from a key file or the vault)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        self._name = _check_name(name)
        self._key = private_key

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, text: str) -> Ed25519Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("not a note signing key (PRIVATE+KEY+name+hash+key)")
        name, raw = parts[2], _unb64(parts[4], "signing key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError("signing key is not an Ed25519 key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if parts[3] != signer.key_hash().hex():
            raise CheckpointError("signing key hash does not match its key")
        return signer

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Ed25519Signer:
        """A signer from its 32-byte Ed25519 private key (the seed)."""
        if len(seed) != 32:
            raise CheckpointError("an Ed25519 private key is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def seed(self) -> bytes:
        """The 32-byte private key, for wrapping under the vault; never log it."""
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def to_skey(self) -> str:
        encoded = _b64(bytes([ALG_ED25519]) + self.seed())
        return f"PRIVATE+KEY+{self._name}+{self.key_hash().hex()}+{encoded}"

    @property
    def name(self) -> str:
        return self._name

    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def key_hash(self) -> bytes:
        return key_hash(self._name, self.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Ed25519Signer(name={self._name!r}, key=<hidden>)"


def verifier_key(signer: NoteSigner) -> str:
    """The public ``name+hash+base64(0x01||key)`` string auditors keep."""
    pub = signer.public_key()
    return f"{signer.name}+{key_hash(signer.name, pub).hex()}+{_b64(bytes([ALG_ED25519]) + pub)}"


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed note of a checkpoint."""
    body = checkpoint.body()
    pub = signer.public_key()
    sig = signer.sign(body.encode())
    return f"{body}\n{SIG_PREFIX}{signer.name} {_b64(key_hash(signer.name, pub) + sig)}\n"


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """Checks notes against one public key, named as the auditor trusts it."""

    name: str
    key_hash: bytes
    public_key: bytes

    @classmethod
    def from_vkey(cls, text: str) -> NoteVerifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise CheckpointError("not a note verifier key (name+hash+key)")
        name, hash_hex, key_b64 = parts
        _check_name(name)
        raw = _unb64(key_b64, "verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError("verifier key is not an Ed25519 key")
        khash = key_hash(name, raw[1:])
        if hash_hex.lower() != khash.hex():
            raise CheckpointError("verifier key hash does not match its key")
        return cls(name, khash, raw[1:])

    def verify(self, note: str) -> Checkpoint:
        """The checkpoint of a note carrying a valid signature by this key, else an error."""
        if len(note) > _MAX_NOTE:
            raise CheckpointError("note is too large")
        if not note.endswith("\n"):
            raise CheckpointError("note does not end with a newline")
        split = note.rfind("\n\n")
        if split < 0:
            raise CheckpointError("note has no signature block")
        body, sig_block = note[: split + 1], note[split + 2 :]
        found = False
        for line in sig_block[:-1].split("\n"):
            if not line.startswith(SIG_PREFIX):
                raise CheckpointError("malformed signature line in note")
            fields = line[len(SIG_PREFIX) :].split(" ")
            if len(fields) != 2:
                raise CheckpointError("malformed signature line in note")
            blob = _unb64(fields[1], "note signature")
            if len(blob) < 5:
                raise CheckpointError("note signature is too short")
            if fields[0] != self.name or blob[:4] != self.key_hash:
                continue  # another key's signature: not ours to judge
            try:
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(blob[4:], body.encode())
            except InvalidSignature as exc:
                raise CheckpointError(f"signature by key {self.name!r} is invalid") from exc
            found = True
        if not found:
            raise CheckpointError(f"note carries no signature by key {self.name!r}")
        return Checkpoint.parse(body)


__all__ = [
    "Checkpoint",
    "Ed25519Signer",
    "NoteSigner",
    "NoteVerifier",
    "key_hash",
    "sign_checkpoint",
    "verifier_key",
]
