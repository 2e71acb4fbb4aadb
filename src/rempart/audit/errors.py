"""Errors of the audit log.

    RempartError
    └── AuditError                  any audit-log failure (500 unless below)
        ├── InvalidProof            a Merkle proof or root does not verify (422)
        ├── CheckpointError         a checkpoint note is malformed or badly signed (422)
        ├── LogStateError           the stored tree state is inconsistent (500)
        └── ExportError             an export cannot be read (422)

Messages name what is wrong (sizes, indexes, line numbers) but never carry
event contents, which may hold personal data.
"""

from __future__ import annotations

from rempart.errors import RempartError


class AuditError(RempartError):
    title = "Audit log error"
    slug = "audit-error"


class InvalidProof(AuditError):
    status = 422
    title = "Invalid Merkle proof"
    slug = "invalid-proof"


class CheckpointError(AuditError):
    status = 422
    title = "Invalid checkpoint"
    slug = "invalid-checkpoint"


class LogStateError(AuditError):
    title = "Audit log state inconsistent"
    slug = "audit-log-state"


class ExportError(AuditError):
    status = 422
    title = "Invalid audit export"
    slug = "invalid-audit-export"


__all__ = ["AuditError", "CheckpointError", "ExportError", "InvalidProof", "LogStateError"]
