"""A compact range: the O(log n) state needed to append to a Merkle tree and get its root.

For a tree of ``size`` leaves the range holds, from left to right, the
hashes of the perfect subtrees that the binary decomposition of ``size``
gives (one per set bit, largest first). Appending a leaf merges equal-sized
neighbours, exactly like a binary counter's carry, and reports each interior
node it creates so a store can keep them for proofs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import count, repeat

from rempart.audit.errors import LogStateError
from rempart.audit.merkle.hashing import EMPTY_ROOT, HASH_SIZE, node_hash

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class Node:
    """A perfect subtree: ``2**level`` leaves starting at leaf ``index * 2**level``."""

    level: int
    index: int
    hash: bytes


@dataclass(slots=True)
class CompactRange:
    """Right border of a Merkle tree of ``size`` leaves starting at leaf 0."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise LogStateError("compact range does not match its size")
        if any(len(h) != HASH_SIZE for h in self.hashes):
            raise LogStateError("compact range holds a hash of the wrong length")

    @classmethod
    def from_leaves(cls, leaf_hashes: Iterable[bytes]) -> CompactRange:
        rng = cls()
        for h in leaf_hashes:
            rng.append(h)
        return rng

    def copy(self) -> CompactRange:
        return CompactRange(self.size, list(self.hashes))

    def append(self, leaf: bytes) -> list[Node]:
        """Add one leaf hash; return the interior nodes this completed (bottom-up)."""
        if len(leaf) != HASH_SIZE:
            raise LogStateError("leaf hash of the wrong length")
        created: list[Node] = []
        h = leaf
        index = self.size
        level = 0
        while (self.size >> level) & 1:
            h = node_hash(self.hashes.pop(), h)
            level += 1
            index >>= 1
            created.append(Node(level, index, h))
        self.hashes.append(h)
        self.size += 1
        return created

    def push(self, leaf: bytes) -> None:
        """``append`` without reporting nodes: the verifier's hot loop (caller checks length)."""
        hashes = self.hashes
        size = self.size
        h = leaf
        while size & 1:
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            size >>= 1
        hashes.append(h)
        self.size += 1

    def push_many_keeping(
        self, leaves: Sequence[bytes], min_level: int, kept: list[tuple[int, int, bytes]]
    ) -> None:
        """``push_many`` adding to ``kept`` each interior node of ``min_level`` and above it
        creates, as ``(level, index, hash)``, level by level: a store's batch append
        (the same nodes ``append`` reports one leaf at a time; the caller checks
        the leaves' length)."""
        self._fold(list(leaves), min_level, kept)

    def push_many(self, leaves: Sequence[bytes]) -> None:
        """``push`` for many leaf hashes at once, folding them level by level.

        Same result as pushing them one by one (property-tested), with one list
        comprehension per tree level instead of a Python loop per leaf. Memory is
        that of ``leaves`` (the caller's batch) plus the O(log n) range.
        """
        for leaf in leaves:
            if len(leaf) != HASH_SIZE:
                raise LogStateError("leaf hash of the wrong length")
        self._fold(list(leaves))

    def extend_data(self, data: Sequence[bytes]) -> None:
        """Hash each item as an RFC 9162 leaf (``SHA-256(0x00 || d)``) and append them all."""
        sha = _sha256
        self._fold([sha(b"\x00" + d).digest() for d in data])

    def _fold(
        self,
        level_nodes: list[bytes],
        min_level: int = 0,
        kept: list[tuple[int, int, bytes]] | None = None,
    ) -> None:
        sha = _sha256
        hashes = self.hashes
        old, added = self.size, len(level_nodes)
        leftovers: list[bytes] = []  # odd node left at each level, lowest level first
        level = 0
        while level_nodes:
            if (old >> level) & 1:
                # The range's node of this level is the left neighbour of the new ones.
                level_nodes.insert(0, hashes.pop())
            if len(level_nodes) & 1:
                leftovers.append(level_nodes.pop())
            else:
                leftovers.append(b"")
            level_nodes = [
                sha(b"\x01" + left + right).digest()
                for left, right in zip(level_nodes[::2], level_nodes[1::2], strict=True)
            ]
            level += 1
            if kept is not None and level >= min_level:
                # Each level's first node (the range's, or else the first new one)
                # sits at index old >> level, paired from an even index below.
                first = old >> level
                kept.extend(zip(repeat(level), count(first), level_nodes))
        hashes.extend(h for h in reversed(leftovers) if h)
        self.size = old + added

    def extend(self, leaves: Sequence[bytes]) -> list[Node]:
        created: list[Node] = []
        for leaf in leaves:
            created.extend(self.append(leaf))
        return created

    def root(self) -> bytes:
        """The RFC 9162 tree hash of the leaves appended so far."""
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = node_hash(left, h)
        return h

    def border(self) -> list[tuple[int, int]]:
        """The (level, index) of each hash held, left to right."""
        out: list[tuple[int, int]] = []
        start = 0
        for level in range(self.size.bit_length() - 1, -1, -1):
            if (self.size >> level) & 1:
                out.append((level, start >> level))
                start += 1 << level
        return out


__all__ = ["CompactRange", "Node"]
