"""Synthetic audit traffic: a contact center's day as Rempart's audit log writes it.

Tests, the benchmark and demonstrations need streams of audit entries that look like
real traffic: mostly agents reading interactions, chat messages redacted in flight,
calls ingested, sign-ins, and now and then an export, an unmask, a role or policy
change. Each act is an :class:`~rempart.audit.AuditEvent` shaped like the one the
platform's own code records for it (same action, resource type, actor kind and detail
keys: ``api/routes/workspace.py``, ``api/routes/chat.py``, ``access/jit.py``,
``access/admin.py``, ``cli/contact.py``, ``cli/identity.py``, ``identity/login.py``,
``privacy/export.py``), and each entry is what the audit log's encoder makes of it
(:func:`rempart.audit.schema.to_ocsf`, read back from its JSON). So the contact-center
pack is tested and measured on what it reads in production.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from rempart.audit.events import Actor, AuditEvent
from rempart.audit.schema import encode_ocsf, to_ocsf
from rempart.audit.store import ORIGIN_PREFIX
from rempart.types import TenantId


@dataclass(frozen=True)
class Traffic:
    """The shape of a synthetic stream."""

    seed: int = 7
    start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    tenants: int = 20
    agents: int = 400
    interactions: int = 50_000
    """Distinct interactions per tenant that agents read."""
    step_ms: tuple[int, int] = (1, 40)
    """Time between two acts, drawn uniformly (milliseconds)."""
    disorder: float = 0.0
    """Share of acts stamped earlier than the stream's clock (out of order, some late)."""
    addresses: int = 0
    """Distinct source addresses (0: drawn from a /14, so that sign-ins rarely share one)."""


def _uid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


_ENTITIES = [
    [],
    [],
    [],
    ["PERSON"],
    ["PHONE"],
    ["CARD_NUMBER"],
    ["CARD_NUMBER", "CARD_EXPIRY"],
    ["EMAIL"],
]
_BASIS = {"basis": "agent_on_call"}
_ANONYMOUS = Actor("user", "anonymous")
_OPS = Actor("system", "cli:ops")
_CHANGES = [
    ("access.role.assign", {"role": "supervisor"}),
    ("access.role.revoke", {"role": "agent"}),
    ("access.relation.add", {"relation": "supervises"}),
    ("access.policy.configure", {}),
]


def _act(
    tenant: TenantId,
    when: datetime,
    ip: str,
    actor: Actor,
    action: str,
    kind: str,
    rid: str | None,
    **rest: Any,
) -> AuditEvent:
    rest.setdefault("outcome", "success")
    return AuditEvent(
        tenant_id=tenant,
        actor=actor,
        action=action,
        resource_type=kind,
        resource_id=rid,
        time=when,
        source_ip=ip,
        **rest,
    )


def audit_events(traffic: Traffic = Traffic(), n: int = 1000) -> Iterator[AuditEvent]:
    """``n`` acts of the platform, in the order the log receives them."""
    rnd = random.Random(traffic.seed)  # noqa: S311 - synthetic data, reproducible by design
    tenants = [TenantId(_uid(rnd)) for _ in range(traffic.tenants)]
    agents = [(_uid(rnd), tenants[i % len(tenants)]) for i in range(traffic.agents)]
    index = {t: i for i, t in enumerate(tenants)}

    def interaction(tenant: TenantId) -> str:
        return str(uuid.UUID(int=(index[tenant] << 64) | rnd.randrange(traffic.interactions)))

    bots = {t: f"token:{_uid(rnd)[:8]}" for t in tenants}
    t = traffic.start
    low, high = traffic.step_ms
    for _ in range(n):
        t += timedelta(milliseconds=rnd.randint(low, high))
        when = t
        if traffic.disorder and rnd.random() < traffic.disorder:
            when = t - timedelta(seconds=rnd.choice([5, 60, 3600]))
        user, tenant = rnd.choice(agents)
        if traffic.addresses:
            ip = f"192.0.2.{rnd.randrange(traffic.addresses) % 254 + 1}"
        else:
            ip = f"10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
        person, bot, ops = Actor("user", user), Actor("machine", bots[tenant]), _OPS

        act = functools.partial(_act, tenant, when, ip)
        r = rnd.random()
        if r < 0.62:
            iid = interaction(tenant)
            if rnd.random() < 0.01:
                yield act(person, "interaction.read_original", "interaction", iid, details={
                    "grant_id": _uid(rnd)})  # fmt: skip
            else:
                yield act(person, "interaction.read", "interaction", iid, details=_BASIS)
        elif r < 0.72:
            entities = rnd.choice(_ENTITIES)
            yield act(bot, "chat.redact", "chat_message", f"m-{rnd.randrange(10**6)}", details={
                "conversation_id": f"conv-{rnd.randrange(10**5)}",
                "role": rnd.choice(["customer", "customer", "agent"]),
                "outcome": "redacted", "entities": entities,
                "amendments": int(len(entities) > 1)})  # fmt: skip
        elif r < 0.80:
            yield act(bot, "interaction.create", "interaction", _uid(rnd), details={
                "created": True, "via": "webhook"})  # fmt: skip
        elif r < 0.87:
            if rnd.random() < 0.3:  # the identity provider refused: nobody is known yet
                why = rnd.choice(["idp-error", "assurance-too-low", "token-rejected"])
                yield act(_ANONYMOUS, "auth.login", "session", None, outcome="failure",
                          reason=why, details={"reason": why})  # fmt: skip
            else:
                yield act(_ANONYMOUS, "auth.login", "session", _uid(rnd), details={
                    "assurance": 1, "amr": ["pwd"], "user_id": user})  # fmt: skip
        elif r < 0.92:
            yield act(person, "recording.play", "interaction", interaction(tenant), details={
                "recording_id": _uid(rnd), **_BASIS})  # fmt: skip
        elif r < 0.96:
            yield act(person, "interaction.list", "interaction", None, details={
                "filters": ["queue"], "count": rnd.randint(0, 50), "scanned": 200})  # fmt: skip
        elif r < 0.98:
            yield act(person, "privacy.export", "data_subject", _uid(rnd), details={
                "interactions": rnd.randint(1, 9), "recordings": 0})  # fmt: skip
        elif r < 0.99:
            fields = rnd.choice([["card_number"], ["email", "phone"], ["transcript"]])
            yield act(person, "access.unmask", "interaction", interaction(tenant), details={
                "permission": "interaction:unmask", "grant_id": _uid(rnd),
                "fields": fields})  # fmt: skip
        elif r < 0.995:
            action, extra = rnd.choice(_CHANGES)
            kind = "access_role" if action.startswith("access.role") else "access"
            yield act(person, action, kind, rnd.choice(agents)[0], details=dict(extra))
        elif r < 0.9975:
            before, after = rnd.choice([(2, 1), (1, 2), (3, 2), (2, 2)])
            yield act(ops, "identity.policy.set", "identity_policy", None,
                      details={"min_assurance": after, "allowed_networks": []},
                      before={"min_assurance": before, "idle_timeout_s": 1800},
                      after={"min_assurance": after, "idle_timeout_s": 1800})  # fmt: skip
        else:
            failure = rnd.choice(["closed", "open"])
            dropped = rnd.choice([[], [], ["CARD_NUMBER"]])
            yield act(ops, "data_policy.update", "tenant", None,
                      details={"changed": ["chat_failure"], "entities_unredacted": dropped},
                      before={"protection": "redacted", "chat_failure": "closed"},
                      after={"protection": "redacted", "chat_failure": failure})  # fmt: skip


def entries(events: Iterator[AuditEvent] | list[AuditEvent]) -> Iterator[dict[str, Any]]:
    """The audit log's entries for ``events``, numbered per tenant's log, as a reader of
    the log (an export, the API, a SIEM) decodes them from their canonical JSON."""
    sequences: dict[str, int] = {}
    rnd = random.Random(0)  # noqa: S311 - synthetic entry ids, reproducible
    for event in events:
        name = f"{ORIGIN_PREFIX}/tenant/{event.tenant_id}"
        seq = sequences.get(name, 0)
        sequences[name] = seq + 1
        entry = to_ocsf(event, log_name=name, sequence=seq, uid=_uid(rnd))
        yield orjson.loads(encode_ocsf(entry))


def audit_entries(n: int, traffic: Traffic = Traffic()) -> list[dict[str, Any]]:
    """``n`` entries of synthetic traffic (see :class:`Traffic`)."""
    return list(entries(audit_events(traffic, n)))


__all__ = ["Traffic", "audit_entries", "audit_events", "entries"]
