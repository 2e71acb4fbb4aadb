"""Synthetic contact-center data for the demo: two tenants, French and English.

Everything here is made up by Faker; no real person's data is involved.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from faker import Faker
from sqlalchemy import select

from rempart.audit import Actor, Origin, audited
from rempart.contact import service
from rempart.contact.directory import add_queue, add_team
from rempart.contact.schemas import AgentRef, InteractionIn, SegmentIn
from rempart.identity.models import User
from rempart.identity.tokens import create_token
from rempart.storage import Database, TenantContext
from rempart.storage.tenants import Tenant, create_tenant
from rempart.types import Clock, TenantId, utc_now
from rempart.vault import Vault

DEMO_TENANTS = (
    ("acme-fr", "ACME Assurances (Lyon)", "fr_FR", "fr"),
    ("globex-uk", "Globex Retail (Leeds)", "en_GB", "en"),
)
SYSTEM = Origin(actor=Actor(type="system", id="rempart-demo"))


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    tenant_id: TenantId
    token: str
    interactions: int


def _call_lines(fake: Faker, lang: str) -> list[tuple[str, str]]:
    name = fake.name()
    if lang == "fr":
        return [
            ("agent", "ACME Assurances bonjour, je vous écoute."),
            ("customer", f"Bonjour, je m'appelle {name}, j'appelle pour mon contrat."),
            ("agent", "Pouvez-vous me donner votre date de naissance ?"),
            ("customer", f"Le {fake.day_of_month()} {fake.month_name()} {fake.year()}."),
            ("agent", "Merci, je regarde votre dossier."),
            ("customer", f"Mon adresse a changé, j'habite au {fake.address()}."),
        ]
    return [
        ("agent", "Globex customer care, how can I help?"),
        ("customer", f"Hi, my name is {name}, I'm calling about an order."),
        ("agent", "Could I take your phone number please?"),
        ("customer", f"Sure, it's {fake.phone_number()}."),
        ("agent", "Thanks, let me look at your account."),
        ("customer", f"I've moved, my new address is {fake.address()}."),
    ]


def _payload(fake: Faker, lang: str, i: int, now: datetime, agent: User) -> InteractionIn:
    rng = random.Random(i)  # noqa: S311 - synthetic data, not security
    started = now - timedelta(hours=rng.randint(1, 24 * 14), minutes=rng.randint(0, 59))
    channel = ("call", "chat", "email")[i % 3]
    lines = _call_lines(fake, lang)
    segments: list[SegmentIn] = []
    if channel == "call":
        t = 0
        for speaker, text in lines:
            dur = 1500 + 60 * len(text)
            segments.append(SegmentIn(speaker=speaker, text=text, start_ms=t, end_ms=t + dur))
            t += dur + 300
    elif channel == "chat":
        for k, (speaker, text) in enumerate(lines):
            segments.append(
                SegmentIn(speaker=speaker, text=text, sent_at=started + timedelta(seconds=20 * k))
            )
    else:
        body = "\n".join(text for speaker, text in lines if speaker == "customer")
        segments.append(SegmentIn(speaker="customer", text=body, sent_at=started))
    return InteractionIn(
        external_id=f"demo-{lang}-{i:04d}",
        channel=channel,
        direction="inbound",
        language=lang,
        subject=("Changement d'adresse" if lang == "fr" else "Change of address")
        if channel == "email"
        else None,
        queue=("Sinistres" if lang == "fr" else "Orders") if i % 2 else "Support",
        customer_id=f"CUST-{rng.randint(100000, 999999)}",
        customer_phone=(
            f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} 00"
            if lang == "fr"
            else f"+44 7700 900{rng.randint(100, 999)}"
        ),
        customer_email=f"customer{i}@example.{'fr' if lang == 'fr' else 'co.uk'}",
        agent=AgentRef(issuer=agent.issuer, subject=agent.subject),
        started_at=started,
        ended_at=started + timedelta(minutes=rng.randint(2, 15)),
        segments=segments,
    )


def seed(
    db: Database, vault: Vault, *, per_tenant: int = 12, clock: Clock = utc_now
) -> list[DemoTenant]:
    """Create (or reuse) the demo tenants, fill them and issue one token each."""
    out: list[DemoTenant] = []
    now = clock()
    for slug, name, locale, lang in DEMO_TENANTS:
        with db.platform_session() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
            fresh = tenant is None
            if tenant is None:
                tenant = create_tenant(session, slug, name, clock=clock)
            tenant_id = tenant.tenant_id
        ctx = TenantContext(tenant_id)
        fake = Faker(locale)
        fake.seed_instance(zlib.crc32(slug.encode()))
        issuer = f"https://idp.{slug}.example"
        with db.tenant_session(ctx) as session:
            agent = session.scalar(select(User).where(User.issuer == issuer))
            if agent is None:
                agent = User(
                    tenant_id=tenant_id,
                    issuer=issuer,
                    subject="agent-001",
                    display_name=fake.name(),
                    created_at=now,
                )
                session.add(agent)
                session.flush()
        # A second run reuses the data already there and only issues a new token.
        with db.tenant_session(ctx) as session:
            # Need-to-know follows teams and queues: declare them before interactions.
            team = "Équipe Sinistres" if lang == "fr" else "Orders team"
            add_team(session, team)
            for queue in ("Sinistres" if lang == "fr" else "Orders", "Support"):
                add_queue(session, queue, team=team)
        for i in range(per_tenant if fresh else 0):
            payload = _payload(fake, lang, i, now.astimezone(UTC), agent)
            with audited(
                db,
                ctx,
                SYSTEM,
                action="interaction.create",
                resource_type="interaction",
                clock=clock,
            ) as (session, note):
                interaction, _created = service.ingest(
                    session, payload, created_by="system:rempart-demo", vault=vault, clock=clock
                )
                note.resource_id = interaction.id
        with db.tenant_session(ctx) as session:
            issued = create_token(
                session,
                tenant_id,
                "demo integration",
                ["interaction:write", "interaction:read"],
                clock=clock,
            )
        out.append(DemoTenant(slug, tenant_id, issued.value, per_tenant))
    return out


__all__ = ["DEMO_TENANTS", "DemoTenant", "seed"]
