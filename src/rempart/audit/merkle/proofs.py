"""Generate RFC 9162 inclusion and consistency proofs from stored perfect-subtree hashes.

A proof is a list of subtree hashes ``MTH(D[a:b])``. Every such range in an
RFC 9162 proof starts at a multiple of a power of two at least as large as
the range, so it is the fold of at most ``log2(b - a)`` perfect subtrees.
Generation first lists the perfect subtrees it needs, asks the store for
them in one batch, then folds: O(log n) hashes read, O(log n) hashes made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from rempart.audit.errors import InvalidProof, LogStateError
from rempart.audit.merkle.hashing import EMPTY_ROOT, node_hash

NodeId = tuple[int, int]
"""(level, index) of a perfect subtree; level 0 is a leaf."""


class NodeSource(Protocol):
    """Anything that returns perfect-subtree hashes of one log (a store, a memory tree)."""

    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]: ...


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect subtrees covering leaves ``[start, end)``, left to right."""
    out: list[NodeId] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def _fold(ids: Sequence[NodeId], hashes: Mapping[NodeId, bytes]) -> bytes:
    try:
        h = hashes[ids[-1]]
        for node in reversed(ids[:-1]):
            h = node_hash(hashes[node], h)
    except KeyError as exc:
        raise LogStateError(f"node {exc.args[0]} is missing from the log store") from exc
    return h


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[0:size]), bottom-up."""
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is outside a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if m < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m = lo + k, m - k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(size1, D[0:size2]) of RFC 9162."""
    if not 0 <= size1 <= size2:
        raise InvalidProof(f"no consistency proof from size {size1} to size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, size2, size1, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    out.reverse()
    return out


def hashes_for_ranges(source: NodeSource, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """Fetch (one batch) and fold the subtree hash of each leaf range."""
    decomposed = [range_nodes(a, b) for a, b in ranges]
    wanted = sorted({node for ids in decomposed for node in ids})
    found = source.nodes(wanted) if wanted else {}
    return [_fold(ids, found) for ids in decomposed]


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
    return hashes_for_ranges(source, inclusion_ranges(index, size))


def consistency_proof(source: NodeSource, size1: int, size2: int) -> list[bytes]:
    """Proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2``."""
    return hashes_for_ranges(source, consistency_ranges(size1, size2))


def tree_root(source: NodeSource, size: int) -> bytes:
    """The root hash of the first ``size`` leaves, from O(log n) stored nodes."""
    if size == 0:
        return EMPTY_ROOT
    return hashes_for_ranges(source, [(0, size)])[0]


class MemoryTree:
    """Every perfect-subtree hash of a tree kept in lists; for tests, tools and benchmarks."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level, index = 0, len(self.levels[0]) - 1
        while index & 1:
            parent = node_hash(self.levels[level][index - 1], self.levels[level][index])
            level, index = level + 1, index >> 1
            if len(self.levels) == level:
                self.levels.append([])
            self.levels[level].append(parent)

    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        out: dict[NodeId, bytes] = {}
        for level, index in ids:
            if level < len(self.levels) and index < len(self.levels[level]):
                out[(level, index)] = self.levels[level][index]
        return out

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self, self.size if size is None else size)


__all__ = [
    "MemoryTree",
    "NodeId",
    "NodeSource",
    "consistency_proof",
    "consistency_ranges",
    "hashes_for_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "range_nodes",
    "tree_root",
]
