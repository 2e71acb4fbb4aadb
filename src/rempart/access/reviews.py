"""Access reviews: campaigns that put every entitlement before a reviewer.

``start_campaign`` lists, for every user of the tenant, each role, each
current relation and each live grant as a ``ReviewItem``, routed to a
reviewer (a supervisor of one of the user's teams, else the first fallback
reviewer who is not the user: nobody reviews their own access). Items are
flagged when the account is dormant (no login within the policy's
``dormant_after``; last logins come from ``store.record_login``), holds a
toxic combination of permissions, breaks separation of duty, or holds a
relation or grant its roles do not use (``exceeds_role``).

``decide`` certifies or revokes (revocation goes through the writer, so
the next decision sees it); ``close_overdue`` revokes whatever is still
pending at the deadline. ``export_json``/``export_csv`` give auditors the
result.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from rempart.access.errors import GrantRefused
from rempart.access.permissions import Permission
from rempart.access.relations import ObjectType, Relation, RelationKind
from rempart.access.state import TenantAccess
from rempart.access.subjects import Principal
from rempart.access.writer import AccessWriter
from rempart.errors import NotFound, ValidationFailed
from rempart.storage import new_id
from rempart.types import TenantId


class Flag(StrEnum):
    DORMANT = "dormant"
    TOXIC = "toxic_combination"
    SOD_CONFLICT = "separation_of_duty"
    EXCEEDS_ROLE = "exceeds_role"
    BREAK_GLASS = "break_glass"


class ItemStatus(StrEnum):
    PENDING = "pending"
    CERTIFIED = "certified"
    REVOKED = "revoked"
    AUTO_REVOKED = "auto_revoked"


# What a relation is for: without one of these role permissions it opens nothing.
RELATION_USES: dict[RelationKind, frozenset[Permission]] = {
    RelationKind.ASSIGNED: frozenset({Permission.INTERACTION_READ, Permission.TRANSCRIPT_READ}),
    RelationKind.SUPERVISES: frozenset({Permission.RECORDING_PLAY, Permission.GRANT_APPROVE}),
    RelationKind.EVALUATES: frozenset({Permission.QUALITY_EVALUATE}),
}


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: str
    user_id: str
    entitlement: str
    """``role:<name>``, ``relation:<kind>:<object type>:<object id>`` or ``grant:<id>``."""
    reviewer_id: str
    flags: tuple[str, ...] = ()
    status: ItemStatus = ItemStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    tenant_id: TenantId
    created_at: datetime
    deadline: datetime
    items: tuple[ReviewItem, ...]

    def by_reviewer(self) -> dict[str, list[ReviewItem]]:
        out: dict[str, list[ReviewItem]] = {}
        for item in self.items:
            out.setdefault(item.reviewer_id, []).append(item)
        return out

    def item(self, item_id: str) -> ReviewItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise NotFound("no such review item")

    def _with(self, item: ReviewItem) -> Campaign:
        return replace(self, items=tuple(item if i.id == item.id else i for i in self.items))


def _reviewer(
    relations: Iterable[Relation],
    user_id: str,
    supervisors: dict[str, list[str]],
    fallbacks: Sequence[str],
) -> str:
    for member in relations:
        if member.kind is RelationKind.MEMBER:
            for sup in supervisors.get(member.object_id, ()):
                if sup != user_id:
                    return sup
    for candidate in fallbacks:
        if candidate != user_id:
            return candidate
    raise ValidationFailed("no reviewer other than the user themselves")


def start_campaign(
    state: TenantAccess,
    *,
    now: datetime,
    deadline: datetime,
    fallback_reviewers: Sequence[str],
    ids: Callable[[], str] = new_id,
) -> Campaign:
    if deadline <= now:
        raise ValidationFailed("a campaign's deadline lies in the future")
    if not fallback_reviewers:
        raise ValidationFailed("a campaign needs at least one fallback reviewer")
    policy = state.policy
    supervisors: dict[str, list[str]] = {}
    for rel in state.relations():
        if rel.kind is RelationKind.SUPERVISES and rel.valid_at(now):
            supervisors.setdefault(rel.object_id, []).append(rel.user_id)
    for names in supervisors.values():
        names.sort()
    by_user: dict[str, list[Relation]] = {}
    for rel in state.relations():
        by_user.setdefault(rel.user_id, []).append(rel)
    items: list[ReviewItem] = []
    for user in sorted(state.users()):
        roles = state.roles_of(user)
        perms, _ = state.effective(user)
        grants = [g for g in state.grants_of(user) if g.live_at(now)]
        relations = [r for r in by_user.get(user, ()) if r.valid_at(now)]
        if not roles and not grants and not relations:
            continue
        reviewer = _reviewer(by_user.get(user, ()), user, supervisors, fallback_reviewers)
        user_flags: list[str] = []
        last = state.last_login.get(user)
        if last is None or now - last > policy.dormant_after:
            user_flags.append(Flag.DORMANT.value)
        toxic_perms: set[Permission] = set()
        for combo, _why in policy.toxic:
            if combo <= perms:
                toxic_perms |= combo
        sod = state.catalog.exclusion_conflicts(roles)
        for role in sorted(roles):
            flags = list(user_flags)
            if toxic_perms & state.catalog.effective.get(role, frozenset()):
                flags.append(Flag.TOXIC.value)
            if any(
                role in rule or state.catalog.closure.get(role, frozenset()) & rule for rule in sod
            ):
                flags.append(Flag.SOD_CONFLICT.value)
            items.append(ReviewItem(ids(), user, f"role:{role}", reviewer, tuple(flags)))
        for rel in relations:
            flags = list(user_flags)
            uses = RELATION_USES.get(rel.kind)
            if uses is not None and not (uses & perms):
                flags.append(Flag.EXCEEDS_ROLE.value)
            key = f"relation:{rel.kind.value}:{rel.object_type.value}:{rel.object_id}"
            items.append(ReviewItem(ids(), user, key, reviewer, tuple(flags)))
        for grant in grants:
            flags = list(user_flags)
            if grant.review_required and grant.reviewed_at is None:
                flags.append(Flag.BREAK_GLASS.value)
            elif not grant.permissions <= perms:
                flags.append(Flag.EXCEEDS_ROLE.value)
            items.append(ReviewItem(ids(), user, f"grant:{grant.id}", reviewer, tuple(flags)))
    return Campaign(ids(), state.tenant_id, now, deadline, tuple(items))


def revoke_entitlement(
    writer: AccessWriter, user_id: str, entitlement: str, *, now: datetime
) -> None:
    kind, _, rest = entitlement.partition(":")
    if kind == "role":
        writer.revoke_role(user_id, rest)
    elif kind == "relation":
        rel_kind, object_type, object_id = rest.split(":", 2)
        writer.remove_relation(user_id, RelationKind(rel_kind), ObjectType(object_type), object_id)
    elif kind == "grant":
        writer.revoke_grant(rest, at=now)
    else:
        raise ValidationFailed(f"unknown entitlement kind {kind!r}")


def decide(
    campaign: Campaign,
    state: TenantAccess,
    writer: AccessWriter,
    reviewer: Principal,
    item_id: str,
    outcome: Literal["certify", "revoke"],
    *,
    now: datetime,
) -> Campaign:
    """Certify or revoke one item; only its reviewer (or a review manager) may, before the
    deadline, and never for their own access."""
    item = campaign.item(item_id)
    if reviewer.tenant_id != campaign.tenant_id:
        raise GrantRefused("reviewer of another tenant")
    if item.status is not ItemStatus.PENDING:
        raise GrantRefused(f"the item is already {item.status.value}")
    if now >= campaign.deadline:
        raise GrantRefused("the campaign's deadline has passed")
    if reviewer.user_id == item.user_id:
        raise GrantRefused("nobody reviews their own access")
    perms, conflict = state.effective(reviewer.user_id)
    allowed = (
        reviewer.user_id == item.reviewer_id and Permission.ACCESS_REVIEW_DECIDE in perms
    ) or Permission.ACCESS_REVIEW_MANAGE in perms
    if conflict or not allowed or not state.is_active(reviewer.user_id):
        raise GrantRefused("the reviewer may not decide this item")
    if outcome == "revoke":
        revoke_entitlement(writer, item.user_id, item.entitlement, now=now)
        status = ItemStatus.REVOKED
    elif outcome == "certify":
        status = ItemStatus.CERTIFIED
    else:
        raise ValidationFailed("the outcome is 'certify' or 'revoke'")
    return campaign._with(replace(item, status=status, decided_by=reviewer.user_id, decided_at=now))


def close_overdue(campaign: Campaign, writer: AccessWriter, *, now: datetime) -> Campaign:
    """At or after the deadline, revoke every item still pending."""
    if now < campaign.deadline:
        return campaign
    items: list[ReviewItem] = []
    for item in campaign.items:
        if item.status is ItemStatus.PENDING:
            revoke_entitlement(writer, item.user_id, item.entitlement, now=now)
            item = replace(
                item, status=ItemStatus.AUTO_REVOKED, decided_by="system", decided_at=now
            )
        items.append(item)
    return replace(campaign, items=tuple(items))


def _row(campaign: Campaign, item: ReviewItem) -> dict[str, Any]:
    return {
        "campaign_id": campaign.id,
        "tenant_id": str(campaign.tenant_id),
        "deadline": campaign.deadline.isoformat(),
        "item_id": item.id,
        "user_id": item.user_id,
        "entitlement": item.entitlement,
        "reviewer_id": item.reviewer_id,
        "flags": ";".join(item.flags),
        "status": item.status.value,
        "decided_by": item.decided_by or "",
        "decided_at": item.decided_at.isoformat() if item.decided_at else "",
    }


CSV_COLUMNS = (
    "campaign_id",
    "tenant_id",
    "deadline",
    "item_id",
    "user_id",
    "entitlement",
    "reviewer_id",
    "flags",
    "status",
    "decided_by",
    "decided_at",
)


def export_json(campaign: Campaign) -> str:
    summary: dict[str, int] = {}
    for item in campaign.items:
        summary[item.status.value] = summary.get(item.status.value, 0) + 1
    doc = {
        "campaign_id": campaign.id,
        "tenant_id": str(campaign.tenant_id),
        "created_at": campaign.created_at.isoformat(),
        "deadline": campaign.deadline.isoformat(),
        "summary": dict(sorted(summary.items())),
        "items": [_row(campaign, i) for i in campaign.items],
    }
    return json.dumps(doc, indent=2, sort_keys=True)


def export_csv(campaign: Campaign) -> str:
    """CSV (RFC 4180); cells that a spreadsheet would run as formulas are neutralised."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in campaign.items:
        writer.writerow({k: _cell(str(v)) for k, v in _row(campaign, item).items()})
    return buf.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


__all__ = [
    "CSV_COLUMNS",
    "RELATION_USES",
    "Campaign",
    "Flag",
    "ItemStatus",
    "ReviewItem",
    "close_overdue",
    "decide",
    "export_csv",
    "export_json",
    "revoke_entitlement",
    "start_campaign",
]
