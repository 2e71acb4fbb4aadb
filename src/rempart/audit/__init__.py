"""Audit trail: every access to customer data and every administrative act leaves a record."""

from rempart.audit.events import Actor, AuditEvent, Outcome
from rempart.audit.log import append, query
from rempart.audit.models import AuditRecord
from rempart.audit.trail import AuditNote, Origin, audited

__all__ = [
    "Actor",
    "AuditEvent",
    "AuditNote",
    "AuditRecord",
    "Origin",
    "Outcome",
    "append",
    "audited",
    "query",
]
