"""Access control: least privilege by role, need-to-know by relation, masking obligations,
just-in-time unmasking, break-glass, training gating and access reviews.

Decisions are values (``Allow(obligations)`` / ``Deny(reason)``) made in
memory against a versioned tenant state; see ``docs/access.md``.
"""

from rempart.access.admin import AccessAdmin, role_permission_matrix
from rempart.access.decisions import Allow, Decision, Deny, DenyReason, require
from rempart.access.errors import (
    AccessDenied,
    CircularRoleDefinition,
    GrantNotFound,
    GrantRefused,
    InvalidReason,
    RoleConstraintViolated,
    SeparationOfDutyViolation,
    UnknownPermission,
    UnknownRole,
)
from rempart.access.grants import Grant, GrantKind, GrantStatus, UnmaskRule, validate_reason
from rempart.access.hooks import (
    AuditSink,
    DatabaseAuditSink,
    MemorySink,
    SecurityEvents,
    SessionAuditSink,
)
from rempart.access.jit import GrantService
from rempart.access.obligations import (
    Obligation,
    ObligationKind,
    SensitiveField,
    apply_masks,
    mask_card,
    mask_email,
    mask_iban,
    mask_phone,
)
from rempart.access.pdp import DecisionPoint, TenantView, decide
from rempart.access.permissions import Permission, parse_permission
from rempart.access.policy import AccessPolicy, policy_from_mapping, policy_to_mapping
from rempart.access.relations import ObjectType, Relation, RelationKind
from rempart.access.roles import (
    RoleCatalog,
    RoleDefinition,
    build_catalog,
    catalog_from_mapping,
    catalog_to_mapping,
    default_catalog,
)
from rempart.access.state import TenantAccess
from rempart.access.subjects import InteractionResource, Principal, Resource, TenantResource
from rempart.access.training import NoTrainingRecords, TrainingGate, TrainingNotEnforced
from rempart.access.writer import AccessWriter

__all__ = [
    "AccessAdmin",
    "AccessDenied",
    "AccessPolicy",
    "AccessWriter",
    "Allow",
    "AuditSink",
    "CircularRoleDefinition",
    "DatabaseAuditSink",
    "Decision",
    "DecisionPoint",
    "Deny",
    "DenyReason",
    "Grant",
    "GrantKind",
    "GrantNotFound",
    "GrantRefused",
    "GrantService",
    "GrantStatus",
    "InteractionResource",
    "InvalidReason",
    "MemorySink",
    "NoTrainingRecords",
    "ObjectType",
    "Obligation",
    "ObligationKind",
    "Permission",
    "Principal",
    "Relation",
    "RelationKind",
    "Resource",
    "RoleCatalog",
    "RoleConstraintViolated",
    "RoleDefinition",
    "SecurityEvents",
    "SensitiveField",
    "SeparationOfDutyViolation",
    "SessionAuditSink",
    "TenantAccess",
    "TenantResource",
    "TenantView",
    "TrainingGate",
    "TrainingNotEnforced",
    "UnknownPermission",
    "UnknownRole",
    "UnmaskRule",
    "apply_masks",
    "build_catalog",
    "catalog_from_mapping",
    "catalog_to_mapping",
    "decide",
    "default_catalog",
    "mask_card",
    "mask_email",
    "mask_iban",
    "mask_phone",
    "parse_permission",
    "policy_from_mapping",
    "policy_to_mapping",
    "require",
    "role_permission_matrix",
    "validate_reason",
]
