"""Verify RFC 9162 inclusion and consistency proofs (the transparency-dev/merkle algorithm).

Every function raises ``InvalidProof`` with the reason; none returns a bare
bool, so a caller cannot forget to look at the result.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from rempart.audit.errors import InvalidProof
from rempart.audit.merkle.hashing import HASH_SIZE, node_hash


def _check_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise InvalidProof(f"proof hash {i} has {len(h)} bytes, want {HASH_SIZE}")


def _match(calculated: bytes, expected: bytes, what: str) -> None:
    if not hmac.compare_digest(calculated, expected):
        raise InvalidProof(f"{what} does not match the proof")


def _decompose(index: int, size: int) -> tuple[int, int]:
    """Split an audit path into its inner part and its right-border part."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        seed = node_hash(seed, h) if (index >> i) & 1 == 0 else node_hash(h, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for i, h in enumerate(proof):
        if (index >> i) & 1:
            seed = node_hash(h, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for h in proof:
        seed = node_hash(h, seed)
    return seed


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root a valid inclusion proof of ``leaf_hash`` at ``index`` implies."""
    if index < 0 or index >= size:
        raise InvalidProof(f"leaf index {index} is beyond tree size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise InvalidProof(f"leaf hash has {len(leaf_hash)} bytes, want {HASH_SIZE}")
    _check_hashes(proof)
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise InvalidProof(f"inclusion proof has {len(proof)} hashes, want {inner + border}")
    res = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(res, proof[inner:])


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``InvalidProof`` unless ``leaf_hash`` is leaf ``index`` of the tree ``root``."""
    _match(root_from_inclusion_proof(index, size, leaf_hash, proof), root, "root hash")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise ``InvalidProof`` unless tree ``root1`` of ``size1`` is a prefix of ``root2``."""
    if size1 < 0 or size2 < size1:
        raise InvalidProof(f"size2 ({size2}) < size1 ({size1})")
    _check_hashes(proof)
    if size1 == 0:
        # Every tree extends the empty one, so such a "proof" proves nothing; the
        # vectors (and this log) refuse it rather than return a vacuous success.
        raise InvalidProof("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise InvalidProof("sizes are equal but the proof is not empty")
        _match(root1, root2, "first root")
        return
    if not proof:
        raise InvalidProof("empty consistency proof")

    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    # The proof starts with the root of the subtree of size 2**shift, unless
    # size1 is that subtree, whose root the verifier already knows.
    if size1 == 1 << shift:
        seed, start = root1, 0
    else:
        seed, start = proof[0], 1
    if len(proof) != start + inner + border:
        raise InvalidProof(
            f"consistency proof has {len(proof)} hashes, want {start + inner + border}"
        )
    rest = proof[start:]
    mask = (size1 - 1) >> shift
    hash1 = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    _match(hash1, root1, "first root")
    hash2 = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    _match(hash2, root2, "second root")


__all__ = ["root_from_inclusion_proof", "verify_consistency", "verify_inclusion"]
