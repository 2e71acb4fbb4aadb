"""Permissions: a closed ``StrEnum`` named ``resource:action``, with what each one touches.

Every permission is declared here and nowhere else; configuration that names
one goes through ``parse_permission``, which refuses unknown names with the
closest known ones. Two facts about each permission drive the rules:

* ``reads_data``: it shows tenant data (contact data, recordings, audit
  evidence). The integration role may hold none of these.
* ``need_to_know``: it acts on one interaction (or its transcript, recording),
  so a role is not enough: the user also needs a relation to that interaction.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum

from rempart.access.errors import UnknownPermission

NAME_RULE = re.compile(r"^[a-z][a-z_]*[a-z]:[a-z][a-z_]*[a-z]$")
"""``resource:action``, lower-case words joined by underscores, exactly one colon."""


class Permission(StrEnum):
    INTERACTION_READ = "interaction:read"
    INTERACTION_WRITE = "interaction:write"
    INTERACTION_UNMASK = "interaction:unmask"
    TRANSCRIPT_READ = "transcript:read"
    RECORDING_PLAY = "recording:play"
    RECORDING_UNMASK = "recording:unmask"
    QUALITY_EVALUATE = "quality:evaluate"
    CUSTOMER_READ = "customer:read"
    EXPORT_CREATE = "export:create"
    EVENT_WRITE = "event:write"
    SCIM_PROVISION = "scim:provision"
    USER_READ = "user:read"
    USER_MANAGE = "user:manage"
    ROLE_READ = "role:read"
    ROLE_ASSIGN = "role:assign"
    ROLE_DEFINE = "role:define"
    TOKEN_MANAGE = "token:manage"  # noqa: S105 - a permission name, not a secret
    TENANT_CONFIGURE = "tenant:configure"
    GRANT_APPROVE = "grant:approve"
    BREAK_GLASS_INVOKE = "break_glass:invoke"
    ACCESS_REVIEW_MANAGE = "access_review:manage"
    ACCESS_REVIEW_DECIDE = "access_review:decide"
    ACCESS_REVIEW_READ = "access_review:read"
    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"
    ALERT_READ = "alert:read"
    ALERT_MANAGE = "alert:manage"
    POSTURE_READ = "posture:read"
    RISK_READ = "risk:read"
    RISK_MANAGE = "risk:manage"
    TRAINING_READ = "training:read"
    TRAINING_MANAGE = "training:manage"
    PAYMENT_CAPTURE = "payment:capture"
    PAYMENT_OBSERVE = "payment:observe"
    # A chat platform redacting messages in flight (a machine token scope too).
    CHAT_REDACT = "chat:redact"
    # Data-subject requests (GDPR): find a person's data and erase it (art. 17);
    # export it for them (art. 15), which reads their data.
    SUBJECT_ERASE = "subject:erase"
    SUBJECT_EXPORT = "subject:export"

    @property
    def resource(self) -> str:
        return self.value.split(":", 1)[0]

    @property
    def action(self) -> str:
        return self.value.split(":", 1)[1]

    @property
    def reads_data(self) -> bool:
        return self in READS_DATA

    @property
    def need_to_know(self) -> bool:
        return self in NEED_TO_KNOW

    @property
    def grant_only(self) -> bool:
        """Held by a role only as eligibility: allowed only under an active grant."""
        return self in GRANT_ONLY


NEED_TO_KNOW: frozenset[Permission] = frozenset(
    {
        Permission.INTERACTION_READ,
        Permission.PAYMENT_OBSERVE,
        Permission.INTERACTION_UNMASK,
        Permission.TRANSCRIPT_READ,
        Permission.RECORDING_PLAY,
        Permission.RECORDING_UNMASK,
        Permission.QUALITY_EVALUATE,
    }
)

GRANT_ONLY: frozenset[Permission] = frozenset(
    {Permission.INTERACTION_UNMASK, Permission.RECORDING_UNMASK}
)

READS_DATA: frozenset[Permission] = NEED_TO_KNOW | frozenset(
    {
        Permission.CUSTOMER_READ,
        Permission.EXPORT_CREATE,
        Permission.SUBJECT_EXPORT,
        Permission.USER_READ,
        Permission.AUDIT_READ,
        Permission.AUDIT_EXPORT,
        Permission.ALERT_READ,
        Permission.POSTURE_READ,
        Permission.RISK_READ,
        Permission.TRAINING_READ,
        Permission.ROLE_READ,
        Permission.ACCESS_REVIEW_READ,
    }
)


def check_naming() -> list[str]:
    """Members whose value breaks the naming rule (empty when all is well)."""
    return [p.value for p in Permission if not NAME_RULE.match(p.value)]


def parse_permission(name: str, *, where: str = "") -> Permission:
    """The permission called ``name``; an unknown name is refused with a suggestion."""
    try:
        return Permission(name)
    except ValueError:
        pass
    place = f" in {where}" if where else ""
    shown = name if len(name) <= 80 else name[:77] + "..."
    if not isinstance(name, str) or not NAME_RULE.match(name):
        raise UnknownPermission(
            f"unknown permission {shown!r}{place}: names are 'resource:action' "
            "(lower case, e.g. 'interaction:read')"
        )
    close = difflib.get_close_matches(name, [p.value for p in Permission], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownPermission(f"unknown permission {shown!r}{place}{hint}")


__all__ = [
    "GRANT_ONLY",
    "NAME_RULE",
    "NEED_TO_KNOW",
    "READS_DATA",
    "Permission",
    "check_naming",
    "parse_permission",
]
