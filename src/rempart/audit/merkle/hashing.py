"""RFC 9162 hashing: domain-separated SHA-256 for leaves and interior nodes."""

from __future__ import annotations

import hashlib

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root hash of the empty tree: SHA-256 of the empty string."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


__all__ = ["EMPTY_ROOT", "HASH_SIZE", "LEAF_PREFIX", "NODE_PREFIX", "leaf_hash", "node_hash"]
