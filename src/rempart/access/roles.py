"""Roles as data, per tenant: definitions, inheritance, and the rules a catalog must obey.

A tenant's catalog is built from plain data (a mapping, e.g. read from TOML or
the database) and validated once:

* every permission name must exist (``UnknownPermission`` names the role);
* inherited roles must exist and must not loop (``CircularRoleDefinition``
  prints the loop, ``a -> b -> a``);
* a *machine* role (the integration role always is one) may hold no
  permission that reads data (``RoleConstraintViolated``);
* mutually exclusive role sets (separation of duty) name known roles; the
  rule "nobody is both tenant administrator and auditor" is always present.

Exclusivity is checked over inheritance: a role that inherits
``tenant_admin`` counts as ``tenant_admin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rempart.access.errors import (
    CircularRoleDefinition,
    RoleConstraintViolated,
    SeparationOfDutyViolation,
    UnknownRole,
)
from rempart.access.permissions import Permission, parse_permission
from rempart.errors import ValidationFailed

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TENANT_ADMIN = "tenant_admin"
AUDITOR = "auditor"
INTEGRATION = "integration"
MANDATORY_EXCLUSIONS: tuple[frozenset[str], ...] = (frozenset({TENANT_ADMIN, AUDITOR}),)


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    name: str
    permissions: frozenset[Permission]
    inherits: tuple[str, ...] = ()
    description: str = ""
    machine: bool = False


@dataclass(frozen=True, slots=True)
class RoleCatalog:
    """A validated set of roles; ``effective`` holds each role's permissions after inheritance."""

    roles: Mapping[str, RoleDefinition]
    exclusions: tuple[frozenset[str], ...]
    effective: Mapping[str, frozenset[Permission]] = field(repr=False)
    closure: Mapping[str, frozenset[str]] = field(repr=False)

    def permissions_of(self, role_names: Iterable[str]) -> frozenset[Permission]:
        """Union of the effective permissions; unknown names contribute nothing."""
        out: set[Permission] = set()
        for name in role_names:
            out |= self.effective.get(name, frozenset())
        return frozenset(out)

    def require_known(self, name: str) -> RoleDefinition:
        role = self.roles.get(name)
        if role is None:
            raise UnknownRole(f"unknown role {name[:80]!r}; known: {', '.join(sorted(self.roles))}")
        return role

    def exclusion_conflicts(self, role_names: Iterable[str]) -> list[frozenset[str]]:
        """The exclusive role sets that ``role_names`` (with inheritance) fully covers."""
        held: set[str] = set()
        for name in role_names:
            held |= self.closure.get(name, frozenset({name}))
        return [rule for rule in self.exclusions if rule <= held]

    def check_assignment(self, current: Iterable[str], new_role: str) -> None:
        """Refuse adding ``new_role`` to a user holding ``current`` when it breaks an exclusion."""
        self.require_known(new_role)
        conflicts = self.exclusion_conflicts([*current, new_role])
        if conflicts:
            names = " and ".join(sorted(conflicts[0]))
            raise SeparationOfDutyViolation(
                f"separation of duty: nobody may hold both {names}", role=new_role
            )


def build_catalog(
    roles: Iterable[RoleDefinition], exclusions: Iterable[Iterable[str]] = ()
) -> RoleCatalog:
    """Validate role definitions and resolve inheritance (see the module docstring)."""
    by_name: dict[str, RoleDefinition] = {}
    for role in roles:
        if not ROLE_NAME.match(role.name):
            raise ValidationFailed(
                f"invalid role name {role.name[:80]!r}: lower case letters, digits, underscores"
            )
        if role.name in by_name:
            raise ValidationFailed(f"role {role.name!r} is defined twice")
        if role.name == INTEGRATION and not role.machine:
            role = RoleDefinition(
                role.name, role.permissions, role.inherits, role.description, machine=True
            )
        by_name[role.name] = role
    for role in by_name.values():
        for parent in role.inherits:
            if parent not in by_name:
                raise UnknownRole(f"role {role.name!r} inherits unknown role {parent[:80]!r}")
    closure: dict[str, frozenset[str]] = {}
    for name in by_name:
        closure[name] = _closure(name, by_name, closure, ())
    effective: dict[str, frozenset[Permission]] = {}
    for name, included in closure.items():
        perms: set[Permission] = set()
        for member in included:
            perms |= by_name[member].permissions
        effective[name] = frozenset(perms)
        if by_name[name].machine:
            reading = sorted(p.value for p in perms if p.reads_data)
            if reading:
                raise RoleConstraintViolated(
                    f"machine role {name!r} may not read data, but holds {', '.join(reading)}"
                )
    rules: list[frozenset[str]] = list(MANDATORY_EXCLUSIONS)
    for raw in exclusions:
        rule = frozenset(raw)
        if len(rule) < 2:
            raise ValidationFailed("an exclusion names at least two roles")
        for name in rule:
            if name not in by_name:
                raise UnknownRole(f"exclusion names unknown role {name[:80]!r}")
        if rule not in rules:
            rules.append(rule)
    # A mandatory rule only binds roles the tenant defines.
    kept = tuple(r for r in rules if r <= by_name.keys())
    for name, included in closure.items():
        for rule in kept:
            if rule <= included:
                raise SeparationOfDutyViolation(
                    f"role {name!r} includes the exclusive roles {' and '.join(sorted(rule))}"
                )
    return RoleCatalog(by_name, kept, effective, closure)


def _closure(
    name: str,
    roles: Mapping[str, RoleDefinition],
    done: dict[str, frozenset[str]],
    path: tuple[str, ...],
) -> frozenset[str]:
    if name in path:
        loop = " -> ".join((*path[path.index(name) :], name))
        raise CircularRoleDefinition(f"circular role definition: {loop}")
    if name in done:
        return done[name]
    out = {name}
    for parent in roles[name].inherits:
        out |= _closure(parent, roles, done, (*path, name))
    result = frozenset(out)
    done[name] = result
    return result


def catalog_from_mapping(data: Mapping[str, Any]) -> RoleCatalog:
    """Build a catalog from plain data::

    {"roles": {"agent": {"permissions": ["interaction:read"], "inherits": [],
                         "description": "...", "machine": false}},
     "exclusions": [["tenant_admin", "auditor"]]}
    """
    raw_roles = data.get("roles")
    if not isinstance(raw_roles, Mapping) or not raw_roles:
        raise ValidationFailed("a role catalog needs a non-empty 'roles' mapping")
    defs: list[RoleDefinition] = []
    for name, spec in raw_roles.items():
        if not isinstance(spec, Mapping):
            raise ValidationFailed(f"role {str(name)[:80]!r}: expected a mapping")
        unknown_keys = set(spec) - {"permissions", "inherits", "description", "machine"}
        if unknown_keys:
            raise ValidationFailed(f"role {name!r}: unknown keys {', '.join(sorted(unknown_keys))}")
        perms = spec.get("permissions", [])
        inherits = spec.get("inherits", [])
        if not isinstance(perms, list | tuple) or not isinstance(inherits, list | tuple):
            raise ValidationFailed(f"role {name!r}: 'permissions' and 'inherits' are lists")
        defs.append(
            RoleDefinition(
                name=str(name),
                permissions=frozenset(
                    parse_permission(str(p), where=f"role {name!r}") for p in perms
                ),
                inherits=tuple(str(i) for i in inherits),
                description=str(spec.get("description", "")),
                machine=bool(spec.get("machine", False)),
            )
        )
    exclusions = data.get("exclusions", [])
    if not isinstance(exclusions, list | tuple):
        raise ValidationFailed("'exclusions' is a list of role-name lists")
    return build_catalog(defs, [[str(n) for n in rule] for rule in exclusions])


def catalog_to_mapping(catalog: RoleCatalog) -> dict[str, Any]:
    """The plain-data form ``catalog_from_mapping`` reads back."""
    return {
        "roles": {
            r.name: {
                "permissions": sorted(p.value for p in r.permissions),
                "inherits": list(r.inherits),
                "description": r.description,
                "machine": r.machine,
            }
            for r in catalog.roles.values()
        },
        "exclusions": [sorted(rule) for rule in catalog.exclusions],
    }


P = Permission
DEFAULT_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "agent",
        frozenset({P.INTERACTION_READ, P.TRANSCRIPT_READ, P.CUSTOMER_READ, P.PAYMENT_OBSERVE}),
        description="Handles contacts; sees the interactions they handled or are assigned "
        "(and the progress of a payment capture on their call).",
    ),
    RoleDefinition(
        "supervisor",
        frozenset(
            {
                P.RECORDING_PLAY,
                P.QUALITY_EVALUATE,
                P.INTERACTION_UNMASK,
                P.GRANT_APPROVE,
                P.USER_READ,
                P.TRAINING_READ,
                P.ACCESS_REVIEW_DECIDE,
            }
        ),
        inherits=("agent",),
        description="Leads teams; sees their teams' interactions for a limited period.",
    ),
    RoleDefinition(
        "quality_analyst",
        frozenset({P.INTERACTION_READ, P.TRANSCRIPT_READ, P.RECORDING_PLAY, P.QUALITY_EVALUATE}),
        description="Evaluates the interactions of the queues or teams they are assigned to.",
    ),
    RoleDefinition(
        "security_officer",
        frozenset(
            {
                P.ALERT_READ,
                P.ALERT_MANAGE,
                P.POSTURE_READ,
                P.RISK_READ,
                P.RISK_MANAGE,
                P.AUDIT_READ,
                P.INTERACTION_UNMASK,
                P.RECORDING_UNMASK,
                P.GRANT_APPROVE,
                P.BREAK_GLASS_INVOKE,
                P.ACCESS_REVIEW_MANAGE,
                P.ACCESS_REVIEW_DECIDE,
                P.ACCESS_REVIEW_READ,
                P.USER_READ,
                P.ROLE_READ,
                P.TRAINING_READ,
                P.EXPORT_CREATE,
                P.SUBJECT_EXPORT,
            }
        ),
        description="Runs security operations; reaches data only through grants (and answers "
        "data-subject access requests).",
    ),
    RoleDefinition(
        TENANT_ADMIN,
        frozenset(
            {
                P.USER_READ,
                P.USER_MANAGE,
                P.ROLE_READ,
                P.ROLE_ASSIGN,
                P.ROLE_DEFINE,
                P.TOKEN_MANAGE,
                P.TENANT_CONFIGURE,
                P.TRAINING_MANAGE,
                P.ACCESS_REVIEW_MANAGE,
                P.SUBJECT_ERASE,
            }
        ),
        description="Administers the tenant; reads no contact data; carries out erasures.",
    ),
    RoleDefinition(
        AUDITOR,
        frozenset(
            {
                P.AUDIT_READ,
                P.AUDIT_EXPORT,
                P.ROLE_READ,
                P.USER_READ,
                P.POSTURE_READ,
                P.RISK_READ,
                P.TRAINING_READ,
                P.ACCESS_REVIEW_READ,
            }
        ),
        description="Read-only evidence: audit log, reviews, posture, risk.",
    ),
    RoleDefinition(
        INTEGRATION,
        frozenset({P.INTERACTION_WRITE, P.EVENT_WRITE, P.CHAT_REDACT}),
        description="A CCaaS integration: pushes interactions and events, redacts chat "
        "messages in flight (returning them redacted), never reads stored data.",
        machine=True,
    ),
)
del P


def default_catalog() -> RoleCatalog:
    """The seven built-in roles with the mandatory separation of duty."""
    return build_catalog(DEFAULT_ROLES)


__all__ = [
    "AUDITOR",
    "DEFAULT_ROLES",
    "INTEGRATION",
    "MANDATORY_EXCLUSIONS",
    "TENANT_ADMIN",
    "RoleCatalog",
    "RoleDefinition",
    "build_catalog",
    "catalog_from_mapping",
    "catalog_to_mapping",
    "default_catalog",
]
