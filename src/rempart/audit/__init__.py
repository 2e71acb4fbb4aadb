"""Tamper-evident audit log: a Merkle-tree log per tenant and one for the platform (RFC 9162).

Appending is transactional with the audited act; signed checkpoints
(transparency-dev note format, Ed25519) commit to each log's state;
inclusion and consistency proofs and the offline verifier let anyone check
the log with nothing but its public key. See ``docs/audit.md``.
"""

from rempart.audit.checkpoints import (
    Anchor,
    CheckpointRun,
    SignedCheckpoint,
    Timestamper,
    issue_checkpoint,
    issue_due_checkpoints,
    latest_checkpoint,
    list_checkpoints,
)
from rempart.audit.events import Actor, AuditEvent, Outcome
from rempart.audit.export import export_log
from rempart.audit.keys import (
    checkpoint_signer,
    load_or_create_signer,
    load_or_create_wrapped_signer,
    load_signer,
)
from rempart.audit.log import append, append_batch, append_platform, query
from rempart.audit.models import AuditRecord
from rempart.audit.note import Checkpoint, Ed25519Signer, NoteSigner, NoteVerifier, verifier_key
from rempart.audit.proofs import (
    ConsistencyProof,
    InclusionProof,
    prove_consistency,
    prove_inclusion,
)
from rempart.audit.schema import OcsfClass
from rempart.audit.search import AuditEntry, AuditPage, search
from rempart.audit.trail import AuditNote, Origin, audited
from rempart.audit.verifier import Problem, VerificationReport, verify_export, verify_lines

__all__ = [
    "Actor",
    "Anchor",
    "AuditEntry",
    "AuditEvent",
    "AuditNote",
    "AuditPage",
    "AuditRecord",
    "Checkpoint",
    "CheckpointRun",
    "ConsistencyProof",
    "Ed25519Signer",
    "InclusionProof",
    "NoteSigner",
    "NoteVerifier",
    "OcsfClass",
    "Origin",
    "Outcome",
    "Problem",
    "SignedCheckpoint",
    "Timestamper",
    "VerificationReport",
    "append",
    "append_batch",
    "append_platform",
    "audited",
    "checkpoint_signer",
    "export_log",
    "issue_checkpoint",
    "issue_due_checkpoints",
    "latest_checkpoint",
    "list_checkpoints",
    "load_or_create_signer",
    "load_or_create_wrapped_signer",
    "load_signer",
    "prove_consistency",
    "prove_inclusion",
    "query",
    "search",
    "verifier_key",
    "verify_export",
    "verify_lines",
]
