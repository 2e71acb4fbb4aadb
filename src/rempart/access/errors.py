"""Errors of the access package, placed in the project's tree (``rempart.errors``).

ValidationFailed (422)
├── UnknownPermission          a permission name not in ``Permission``
├── UnknownRole                a role name not defined for the tenant
├── CircularRoleDefinition     roles that inherit from each other in a loop
├── RoleConstraintViolated     a role breaks a catalog rule (e.g. integration reads)
└── InvalidReason              a justification that is empty or too long
Conflict (409)
└── SeparationOfDutyViolation  an assignment that would join incompatible roles
PermissionDenied (403)
├── AccessDenied               a ``Deny`` decision turned into an error
└── GrantRefused               a grant request or approval the policy refuses
NotFound (404)
└── GrantNotFound              no such grant in the tenant
"""

from __future__ import annotations

from rempart.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class UnknownPermission(ValidationFailed):
    title = "Unknown permission"
    slug = "unknown-permission"


class UnknownRole(ValidationFailed):
    title = "Unknown role"
    slug = "unknown-role"


class CircularRoleDefinition(ValidationFailed):
    title = "Circular role definition"
    slug = "circular-role-definition"


class RoleConstraintViolated(ValidationFailed):
    title = "Role constraint violated"
    slug = "role-constraint-violated"


class InvalidReason(ValidationFailed):
    title = "Invalid reason"
    slug = "invalid-reason"


class SeparationOfDutyViolation(Conflict):
    title = "Separation of duty violated"
    slug = "separation-of-duty"


class AccessDenied(PermissionDenied):
    title = "Access denied"
    slug = "access-denied"


class GrantRefused(PermissionDenied):
    title = "Grant refused"
    slug = "grant-refused"


class GrantNotFound(NotFound):
    title = "Grant not found"
    slug = "grant-not-found"


__all__ = [
    "AccessDenied",
    "CircularRoleDefinition",
    "GrantNotFound",
    "GrantRefused",
    "InvalidReason",
    "RoleConstraintViolated",
    "SeparationOfDutyViolation",
    "UnknownPermission",
    "UnknownRole",
]
