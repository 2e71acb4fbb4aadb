"""Laws of the Merkle library: proofs from stored nodes verify, any corruption fails."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.audit.errors import InvalidProof, LogStateError
from rempart.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from rempart.audit.merkle.proofs import range_nodes


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 section 2.1.1, recursive and slow."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def _data(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def _tree(n: int) -> MemoryTree:
    tree = MemoryTree()
    for d in _data(n):
        tree.append(leaf_hash(d))
    return tree


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[(bit // 8) % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


# Leaves of the RFC 6962 reference tree used by transparency-dev/merkle; its
# 8-leaf root is the one the consistency vectors sign (root2 of consistency/1).
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
RFC6962_ROOT8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_known_answer_root_of_the_rfc6962_reference_tree() -> None:
    rng = CompactRange.from_leaves(leaf_hash(d) for d in RFC6962_LEAVES)
    assert rng.root().hex() == RFC6962_ROOT8
    assert reference_root(RFC6962_LEAVES).hex() == RFC6962_ROOT8


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert CompactRange().root() == EMPTY_ROOT == MemoryTree().root()
    assert EMPTY_ROOT.hex().startswith("e3b0c442")


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    # A node can never pass for a leaf whose data is the two child hashes.
    assert node_hash(left, right) != leaf_hash(left + right)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=130))
def test_compact_range_root_equals_the_rfc_tree_hash(n: int) -> None:
    data = _data(n)
    rng = CompactRange.from_leaves(leaf_hash(d) for d in data)
    assert rng.size == n
    assert len(rng.hashes) == n.bit_count()
    assert rng.root() == reference_root(data)
    assert _tree(n).root() == reference_root(data)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=100))
def test_compact_range_reports_exactly_the_interior_nodes_of_the_memory_tree(n: int) -> None:
    rng, tree = CompactRange(), _tree(n)
    created = []
    for d in _data(n):
        created.extend(rng.append(leaf_hash(d)))
    assert len(created) == sum(len(level) for level in tree.levels[1:])
    for node in created:
        assert tree.levels[node.level][node.index] == node.hash
    border = tree.nodes(rng.border())
    assert [border[i] for i in rng.border()] == rng.hashes


def test_compact_range_refuses_a_state_that_does_not_match_its_size() -> None:
    with pytest.raises(LogStateError):
        CompactRange(3, [EMPTY_ROOT])
    with pytest.raises(LogStateError):
        CompactRange(1, [b"short"])


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=1 << 20), st.integers(min_value=1, max_value=1 << 20))
def test_range_nodes_cover_the_range_with_perfect_subtrees(start: int, length: int) -> None:
    end = start + length
    position = start
    for level, index in range_nodes(start, end):
        assert index << level == position
        position += 1 << level
    assert position == end


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_inclusion_proofs_verify_for_random_sizes_and_leaves(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=1, max_value=200))
    tree = _tree(size)
    tree_size = data.draw(st.integers(min_value=1, max_value=size))
    index = data.draw(st.integers(min_value=0, max_value=tree_size - 1))
    root = tree.root(tree_size)
    assert root == reference_root(_data(tree_size))
    proof = inclusion_proof(tree, index, tree_size)
    verify_inclusion(index, tree_size, tree.levels[0][index], proof, root)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_consistency_proofs_verify_for_random_size_pairs(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(min_value=1, max_value=200))
    size1 = data.draw(st.integers(min_value=1, max_value=size2))
    tree = _tree(size2)
    proof = consistency_proof(tree, size1, size2)
    verify_consistency(size1, size2, proof, tree.root(size1), tree.root(size2))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_bit_flip_in_an_inclusion_proof_fails(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=2, max_value=120))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    tree = _tree(size)
    root, leaf = tree.root(), tree.levels[0][index]
    proof = inclusion_proof(tree, index, size)
    target = data.draw(st.integers(min_value=0, max_value=len(proof) + 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    if target < len(proof):
        proof[target] = _flip(proof[target], bit)
    elif target == len(proof):
        leaf = _flip(leaf, bit)
    else:
        root = _flip(root, bit)
    with pytest.raises(InvalidProof):
        verify_inclusion(index, size, leaf, proof, root)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_bit_flip_in_a_consistency_proof_fails(data: st.DataObject) -> None:
    size2 = data.draw(st.integers(min_value=3, max_value=120))
    size1 = data.draw(st.integers(min_value=1, max_value=size2 - 1))
    tree = _tree(size2)
    roots = [tree.root(size1), tree.root(size2)]
    proof = consistency_proof(tree, size1, size2)
    target = data.draw(st.integers(min_value=0, max_value=len(proof) + 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    if target < len(proof):
        proof[target] = _flip(proof[target], bit)
    else:
        roots[target - len(proof)] = _flip(roots[target - len(proof)], bit)
    with pytest.raises(InvalidProof):
        verify_consistency(size1, size2, proof, roots[0], roots[1])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_an_inclusion_proof_does_not_verify_at_another_index(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=2, max_value=120))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
    tree = _tree(size)
    proof = inclusion_proof(tree, index, size)
    with pytest.raises(InvalidProof):
        verify_inclusion(other, size, tree.levels[0][index], proof, tree.root())


def test_proof_requests_outside_the_tree_are_refused() -> None:
    tree = _tree(5)
    with pytest.raises(InvalidProof):
        inclusion_proof(tree, 5, 5)
    with pytest.raises(InvalidProof):
        consistency_proof(tree, 4, 3)


def test_a_store_missing_a_node_is_reported_not_papered_over() -> None:
    tree = _tree(8)
    tree.levels[2].pop()  # the right half of the 8-leaf tree
    with pytest.raises(LogStateError):
        inclusion_proof(tree, 0, 8)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_push_builds_the_same_range_as_append(n: int) -> None:
    leaves = [leaf_hash(d) for d in _data(n)]
    fast = CompactRange()
    for leaf in leaves:
        fast.push(leaf)
    slow = CompactRange.from_leaves(leaves)
    assert (fast.size, fast.hashes, fast.root()) == (slow.size, slow.hashes, slow.root())


@settings(max_examples=80, deadline=None)
@given(
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=0, max_value=5),
)
def test_push_many_keeping_keeps_exactly_the_high_nodes_append_reports(
    before: int, n: int, low: int
) -> None:
    leaves = [leaf_hash(d) for d in _data(before + n)]
    start = CompactRange.from_leaves(leaves[:before])
    fast, slow = start.copy(), start.copy()
    kept: list[tuple[int, int, bytes]] = []
    fast.push_many_keeping(leaves[before:], low, kept)
    reported = [
        (x.level, x.index, x.hash)
        for leaf in leaves[before:]
        for x in slow.append(leaf)
        if x.level >= low
    ]
    assert (fast.size, fast.hashes) == (slow.size, slow.hashes)
    assert sorted(kept) == sorted(reported)
    assert len(kept) == len(set(kept))


@settings(max_examples=150)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=70), max_size=8),
    hashed=st.booleans(),
)
def test_batch_appends_equal_one_by_one_pushes(sizes: list[int], hashed: bool) -> None:
    """``extend_data`` and ``push_many`` give the same range, and root, as ``push`` per leaf."""
    data = _data(sum(sizes))
    one, batch = CompactRange(), CompactRange()
    start = 0
    for size in sizes:
        part = data[start : start + size]
        for d in part:
            one.push(leaf_hash(d))
        if hashed:
            batch.push_many([leaf_hash(d) for d in part])
        else:
            batch.extend_data(part)
        start += size
        assert (batch.size, batch.hashes) == (one.size, one.hashes)
    assert batch.root() == reference_root(data)


def test_push_many_refuses_a_hash_of_the_wrong_length() -> None:
    rng = CompactRange()
    with pytest.raises(LogStateError):
        rng.push_many([b"\x00" * 32, b"\x00" * 31])
    assert rng.size == 0
