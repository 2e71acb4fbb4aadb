"""RFC 9162 Merkle trees: hashing, compact ranges, proof generation and verification.

Pure functions over bytes; no database, no I/O. The audit log stores what
these functions produce; the offline verifier uses nothing else.
"""

from rempart.audit.merkle.compact import CompactRange, Node
from rempart.audit.merkle.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from rempart.audit.merkle.proofs import (
    MemoryTree,
    NodeId,
    NodeSource,
    consistency_proof,
    inclusion_proof,
    tree_root,
)
from rempart.audit.merkle.verify import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "Node",
    "NodeId",
    "NodeSource",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]
