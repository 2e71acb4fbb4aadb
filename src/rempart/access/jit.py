"""Just-in-time grants, break-glass and audited unmasking.

``GrantService`` is what routes call:

* ``request`` a grant on one interaction with a reason (10 to 500
  characters), a duration within the policy's maximum, and the assurance
  level the policy demands (a lower level is refused with the level to step
  up to). With an approver rule the grant waits as ``pending``.
* ``approve`` / ``refuse``: by another user holding ``grant:approve``;
  nobody approves their own grant. The grant's clock starts at approval.
* ``break_glass``: for holders of ``break_glass:invoke``; active at once,
  no approver, an *urgent* security event, and flagged until reviewed
  (``review_break_glass``).
* ``unmask``: decide, and on ``Allow`` append the unmask audit event and
  emit the detection event; on ``Deny`` (an expired grant used again, for
  instance) audit the refusal and raise ``AccessDenied``.

Every refusal raises a ``RempartError`` subclass *after* it is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

from rempart.access.decisions import Allow, Deny, require
from rempart.access.errors import GrantRefused, InvalidReason
from rempart.access.grants import (
    BREAK_GLASS_PERMISSIONS,
    Grant,
    GrantKind,
    GrantStatus,
    validate_reason,
)
from rempart.access.hooks import AuditSink, SecurityEvents
from rempart.access.obligations import ObligationKind
from rempart.access.pdp import decide
from rempart.access.permissions import Permission
from rempart.access.relations import ObjectType, RelationKind
from rempart.access.state import TenantAccess
from rempart.access.subjects import InteractionResource, Principal
from rempart.access.training import NoTrainingRecords, TrainingGate
from rempart.access.writer import AccessWriter
from rempart.audit import Actor, AuditEvent
from rempart.errors import RempartError
from rempart.storage import new_id
from rempart.types import Clock, utc_now


class GrantService:
    def __init__(
        self,
        state: TenantAccess,
        writer: AccessWriter,
        audit: AuditSink,
        events: SecurityEvents,
        *,
        training: TrainingGate | None = None,
        clock: Clock = utc_now,
        ids: Callable[[], str] = new_id,
    ) -> None:
        self.state = state
        self.writer = writer
        self.audit = audit
        self.events = events
        self.training = training or NoTrainingRecords()
        self.clock = clock
        self.ids = ids

    # -- audit helpers ---------------------------------------------------------
    def _record(
        self,
        principal: Principal,
        action: str,
        resource_id: str | None,
        *,
        ok: bool,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        resource_type: str = "access_grant",
    ) -> None:
        self.audit.record(
            AuditEvent(
                tenant_id=self.state.tenant_id,
                actor=Actor("machine" if principal.machine else "user", principal.user_id),
                action=action,
                resource_type=resource_type,
                resource_id=resource_id,
                outcome="success" if ok else "failure",
                time=self.clock(),
                reason=reason,
                details=details or {},
            )
        )

    def _refuse(
        self, principal: Principal, action: str, resource_id: str | None, exc: RempartError
    ) -> RempartError:
        self._record(
            principal,
            action,
            resource_id,
            ok=False,
            reason=exc.slug,
            details={"detail": exc.detail[:200]},
        )
        return exc

    # -- JIT -------------------------------------------------------------------
    def request(
        self,
        principal: Principal,
        permissions: Iterable[Permission],
        interaction_id: str,
        reason: str,
        duration: timedelta,
    ) -> Grant:
        action = "access.grant.request"
        perms = frozenset(permissions)
        try:
            text = validate_reason(reason)
            held, conflict = self.state.effective(principal.user_id)
            if principal.tenant_id != self.state.tenant_id:
                raise GrantRefused("grant requested for another tenant")
            if not self.state.is_active(principal.user_id) or conflict:
                raise GrantRefused("the requester may not receive grants")
            if not perms:
                raise GrantRefused("a grant needs at least one permission")
            missing = sorted(p.value for p in perms if p not in held)
            if missing:
                raise GrantRefused(f"the requester's roles do not allow {', '.join(missing)}")
            rules = []
            for p in perms:
                rule = self.state.policy.unmask_rules.get(p)
                if rule is None:
                    raise GrantRefused(f"no grant policy for {p.value}")
                rules.append(rule)
            longest = min(r.max_duration for r in rules)
            if duration <= timedelta(0) or duration > longest:
                raise InvalidReason(f"the duration must be positive and at most {longest}")
            level = max(r.min_assurance for r in rules)
            self._require_assurance(principal, level)
        except RempartError as exc:
            raise self._refuse(principal, action, interaction_id, exc) from None
        now = self.clock()
        needs_approver = any(r.requires_approver for r in rules)
        grant = Grant(
            id=self.ids(),
            user_id=principal.user_id,
            kind=GrantKind.JIT,
            permissions=perms,
            interaction_id=interaction_id,
            reason=text,
            requested_at=now,
            expires_at=now + duration,
            status=GrantStatus.PENDING if needs_approver else GrantStatus.ACTIVE,
            min_assurance=level,
            duration=duration,
        )
        self.writer.put_grant(grant)
        self._record(
            principal, action, grant.id, ok=True, reason=text, details=_grant_details(grant)
        )
        return grant

    def approve(self, approver: Principal, grant_id: str) -> Grant:
        action = "access.grant.approve"
        try:
            grant = self._pending(approver, grant_id)
        except RempartError as exc:
            raise self._refuse(approver, action, grant_id, exc) from None
        now = self.clock()
        active = replace(
            grant,
            status=GrantStatus.ACTIVE,
            approver_id=approver.user_id,
            decided_at=now,
            expires_at=now + grant.duration,
        )
        self.writer.put_grant(active)
        self._record(approver, action, grant_id, ok=True, details=_grant_details(active))
        return active

    def refuse(self, approver: Principal, grant_id: str) -> Grant:
        action = "access.grant.refuse"
        try:
            grant = self._pending(approver, grant_id)
        except RempartError as exc:
            raise self._refuse(approver, action, grant_id, exc) from None
        refused = replace(
            grant, status=GrantStatus.REFUSED, approver_id=approver.user_id, decided_at=self.clock()
        )
        self.writer.put_grant(refused)
        self._record(approver, action, grant_id, ok=True)
        return refused

    def _require(self, principal: Principal, permission: Permission, refusal: str) -> None:
        """Refuse unless ``principal`` is an active user of this tenant holding ``permission``.

        One check for approvers, break-glass and reviewers alike: active, no
        separation-of-duty conflict, and the permission among their roles'.
        """
        if principal.tenant_id != self.state.tenant_id:
            raise GrantRefused("a principal of another tenant")
        held, conflict = self.state.effective(principal.user_id)
        if not self.state.is_active(principal.user_id) or conflict or permission not in held:
            raise GrantRefused(refusal)

    @staticmethod
    def _require_assurance(principal: Principal, level: int) -> None:
        if principal.assurance < level:
            raise GrantRefused(f"step-up required: assurance level {level}", step_up=level)

    def _pending(self, approver: Principal, grant_id: str) -> Grant:
        grant = self.state.grant(grant_id)
        if approver.tenant_id != self.state.tenant_id:
            raise GrantRefused("approver of another tenant")
        if grant.status is not GrantStatus.PENDING:
            raise GrantRefused(f"the grant is {grant.status.value}, not pending")
        if approver.user_id == grant.user_id:
            raise GrantRefused("nobody approves their own grant")
        self._require(approver, Permission.GRANT_APPROVE, "the approver lacks grant:approve")
        self._require_assurance(approver, grant.min_assurance)
        rules = self.state.policy.unmask_rules
        if any(
            rules[p].approver_scope == "team_supervisor" for p in grant.permissions if p in rules
        ) and not self._supervises(approver.user_id, grant.user_id):
            raise GrantRefused("the approver must supervise one of the requester's teams")
        return grant

    def _supervises(self, approver_id: str, requester_id: str) -> bool:
        now = self.clock()
        for rel in self.state.relations(requester_id):
            if rel.kind is RelationKind.MEMBER and rel.valid_at(now):
                sup = self.state.relation(
                    approver_id, RelationKind.SUPERVISES, ObjectType.TEAM, rel.object_id
                )
                if sup is not None and sup.valid_at(now):
                    return True
        return False

    def revoke(self, actor: Principal, grant_id: str) -> Grant:
        grant = self.writer.revoke_grant(grant_id, at=self.clock())
        self._record(actor, "access.grant.revoke", grant_id, ok=True)
        return grant

    # -- break-glass -----------------------------------------------------------
    def break_glass(
        self, principal: Principal, reason: str, interaction_id: str | None = None
    ) -> Grant:
        action = "access.break_glass"
        policy = self.state.policy
        try:
            text = validate_reason(reason)
            if principal.tenant_id != self.state.tenant_id:
                raise GrantRefused("break-glass for another tenant")
            self._require(principal, Permission.BREAK_GLASS_INVOKE, "the user may not break glass")
            self._require_assurance(principal, policy.break_glass_min_assurance)
        except RempartError as exc:
            raise self._refuse(principal, action, interaction_id, exc) from None
        now = self.clock()
        grant = Grant(
            id=self.ids(),
            user_id=principal.user_id,
            kind=GrantKind.BREAK_GLASS,
            permissions=BREAK_GLASS_PERMISSIONS,
            interaction_id=interaction_id,
            reason=text,
            requested_at=now,
            expires_at=now + policy.break_glass_duration,
            status=GrantStatus.ACTIVE,
            min_assurance=policy.break_glass_min_assurance,
            duration=policy.break_glass_duration,
            decided_at=now,
            review_required=True,
        )
        self.writer.put_grant(grant)
        details = _grant_details(grant)
        self._record(principal, action, grant.id, ok=True, reason=text, details=details)
        self.events.emit(
            self.state.tenant_id,
            "access.break_glass",
            {**details, "user_id": principal.user_id},
            urgent=True,
        )
        return grant

    def pending_reviews(self) -> list[Grant]:
        return [g for g in self.state.grants() if g.review_required and g.reviewed_at is None]

    def review_break_glass(
        self, reviewer: Principal, grant_id: str, outcome: Literal["justified", "unjustified"]
    ) -> Grant:
        action = "access.break_glass.review"
        try:
            grant = self.state.grant(grant_id)
            if not grant.review_required or grant.reviewed_at is not None:
                raise GrantRefused("this grant awaits no review")
            if reviewer.user_id == grant.user_id:
                raise GrantRefused("nobody reviews their own break-glass")
            self._require(
                reviewer, Permission.ACCESS_REVIEW_DECIDE, "the reviewer lacks access_review:decide"
            )
        except RempartError as exc:
            raise self._refuse(reviewer, action, grant_id, exc) from None
        now = self.clock()
        reviewed = replace(
            grant,
            reviewed_by=reviewer.user_id,
            reviewed_at=now,
            extra={**grant.extra, "review": outcome},
        )
        if outcome == "unjustified":
            reviewed = replace(reviewed, status=GrantStatus.REVOKED)
            self.events.emit(
                self.state.tenant_id,
                "access.break_glass.unjustified",
                {"grant_id": grant_id, "user_id": grant.user_id},
                urgent=True,
            )
        self.writer.put_grant(reviewed)
        self._record(reviewer, action, grant_id, ok=True, details={"outcome": outcome})
        return reviewed

    # -- unmask ----------------------------------------------------------------
    def unmask(
        self, principal: Principal, permission: Permission, resource: InteractionResource
    ) -> Allow:
        """The decision for revealing originals; audited and signalled either way."""
        decision = decide(
            self.state, principal, permission, resource, now=self.clock(), training=self.training
        )
        if isinstance(decision, Deny):
            self._record(
                principal,
                "access.unmask",
                resource.interaction_id,
                ok=False,
                reason=decision.reason.value,
                resource_type="interaction",
                details={"permission": permission.value},
            )
            return require(decision)
        fields = sorted(
            o.field.value
            for o in decision.obligations
            if o.kind is ObligationKind.AUDIT_UNMASK and o.field is not None
        )
        details = {"permission": permission.value, "grant_id": decision.grant_id, "fields": fields}
        self._record(
            principal,
            "access.unmask",
            resource.interaction_id,
            ok=True,
            resource_type="interaction",
            details=details,
        )
        self.events.emit(
            self.state.tenant_id,
            "access.unmask",
            {**details, "user_id": principal.user_id, "interaction_id": resource.interaction_id},
            urgent=False,
        )
        return decision


def _grant_details(grant: Grant) -> dict[str, Any]:
    return {
        "grant_id": grant.id,
        "kind": grant.kind.value,
        "permissions": sorted(p.value for p in grant.permissions),
        "interaction_id": grant.interaction_id,
        "status": grant.status.value,
        "expires_at": grant.expires_at.isoformat(),
        "min_assurance": grant.min_assurance,
    }


__all__ = ["GrantService"]
