"""Benchmark of protected ingestion and of the in-flight chat endpoint (issue #9).

Measured side by side in one run, on one corpus (Faker, fixed seed: calls with
timed segments and word timings, chats, e-mails; French and English; card
numbers spoken or typed, sometimes split across turns, IBANs, phone numbers,
names, addresses, e-mail addresses):

* ingestion throughput through the full pipeline, exactly as the push route
  runs it (``audited(...)`` around ``service.ingest(...)``: redaction,
  encryption under the customer's key, blind indexes, audit record), on
  SQLite and (``--postgres``) on a throw-away PostgreSQL as the RLS-bound app
  role; against the anchor, the same pipeline with protection switched off,
  implemented here (not in the product): the same rows stored the
  pre-protection way (clear ``TranscriptSegment.text``, clear
  ``Customer.external_id``, clear contact values, plain SHA-256 content
  digest) inside the same ``audited(...)``. The ratio is the cost of
  protection (goal: under 2x); a breakdown measures each part on its own on
  the same corpus (redaction, encryption, key management, blind indexes,
  SQL, audit), and the HTTP route in-process (TestClient) shows the HTTP
  overhead separately;
* ``POST /api/v1/chat/redact`` latency (p50/p99) and requests/s under 8 and
  32 concurrent conversations, against uvicorn in a subprocess on 127.0.0.1
  (a migrated SQLite database, a vault, a machine token with ``chat:redact``),
  clients with httpx (async); the floor is the same endpoint with empty text
  (auth, audit record, policy load, no redaction) and ``GET /readyz``.

    .venv/bin/python benchmarks/ingest.py --quick          # a minute or two
    .venv/bin/python benchmarks/ingest.py --interactions 1000 --postgres
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rempart.api import AppContext, create_app
from rempart.audit import Actor, Origin, audited
from rempart.config import load_settings
from rempart.contact import service
from rempart.contact.models import (
    Customer,
    CustomerLookup,
    Interaction,
    Queue,
    Recording,
    TranscriptSegment,
)
from rempart.contact.policy import DataPolicy
from rempart.contact.protect import ProtectedContent, protect_content
from rempart.contact.schemas import InteractionIn
from rempart.contact.subjects import LookupKind, index_of, subject_of
from rempart.identity.tokens import create_token
from rempart.ingest.chat import ChatSessions, chat_policy
from rempart.logs import configure_logging
from rempart.storage import Database, TenantContext
from rempart.storage.base import new_id
from rempart.storage.migrate import upgrade
from rempart.storage.tenancy import session_tenant
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from rempart.vault import (
    FieldContext,
    Vault,
    normalize_email,
    normalize_identifier,
    open_local_vault,
    phone_normalizer,
)
from rempart.vault.sql_store import SqlKeyringStore

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
ACTOR = "token:bench"
ORIGIN = Origin(
    actor=Actor(type="machine", id=ACTOR), source_ip="127.0.0.1", user_agent="bench/ingest"
)

# --------------------------------------------------------------------------- corpus

FR_UNITS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]
EN_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FR_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
QUEUES = ["Sinistres", "Facturation", "Support", "Résiliation", "Billing", "Claims"]
CARD_PREFIXES = [("4", 16), ("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15)]


def fr_pair(n: int) -> str:
    """A French number 0-99 as a phone number is read out ("soixante-douze")."""
    small = [
        *FR_UNITS,
        "dix",
        "onze",
        "douze",
        "treize",
        "quatorze",
        "quinze",
        "seize",
        "dix-sept",
        "dix-huit",
        "dix-neuf",
    ]
    if n < 20:
        return small[n]
    if n < 70:
        tens, unit = divmod(n, 10)
        base = FR_TENS[tens]
        return base if unit == 0 else (f"{base} et un" if unit == 1 else f"{base}-{small[unit]}")
    if n < 80:
        return "soixante et onze" if n == 71 else f"soixante-{small[n - 60]}"
    return "quatre-vingts" if n == 80 else f"quatre-vingt-{small[n - 80]}"


class Corpus:
    """Realistic interactions and chat conversations, reproducible from a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = {"fr": Faker("fr_FR"), "en": Faker("en_GB")}
        for f in self.fake.values():
            f.seed_instance(seed)

    # values
    def card(self) -> str:
        prefix, length = self.rng.choice(CARD_PREFIXES)
        body = prefix + "".join(
            self.rng.choice(string.digits) for _ in range(length - 1 - len(prefix))
        )
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:
                d = d * 2 - 9 if d * 2 > 9 else d * 2
            total += d
        return body + str((10 - total % 10) % 10)

    def phone(self, lang: str) -> str:
        """National digits of a valid mobile number (FR 06/07, GB 07)."""
        while True:
            if lang == "fr":
                digits = self.rng.choice(["06", "07"]) + "".join(
                    self.rng.choice(string.digits) for _ in range(8)
                )
                region = "FR"
            else:
                digits = (
                    "07"
                    + self.rng.choice("1234579")
                    + "".join(self.rng.choice(string.digits) for _ in range(8))
                )
                region = "GB"
            if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                return digits

    @staticmethod
    def group(digits: str, size: int = 4) -> str:
        return " ".join(digits[i : i + size] for i in range(0, len(digits), size))

    def spoken(self, digits: str, lang: str) -> str:
        units = FR_UNITS if lang == "fr" else EN_UNITS
        return " ".join(units[int(d)] for d in digits)

    def spoken_phone(self, digits: str, lang: str) -> str:
        if lang != "fr":
            return " ".join(("oh" if d == "0" else EN_UNITS[int(d)]) for d in digits)
        pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
        return " ".join(
            ("zéro " + FR_UNITS[int(p[1])]) if p[0] == "0" else fr_pair(int(p)) for p in pairs
        )

    def person(self, lang: str) -> tuple[str, str]:
        return self.fake[lang].first_name(), self.fake[lang].last_name()

    def address(self, lang: str) -> str:
        return str(self.fake[lang].address()).replace("\n", ", ")

    # channels
    def call(self, i: int, lang: str) -> list[dict[str, Any]]:
        first, last = self.person(lang)
        card, phone = self.card(), self.phone(lang)
        iban = self.fake[lang].iban()
        spoken_card = self.rng.random() < 0.5
        split = self.rng.random() < 0.5
        half = len(card) // 2
        if lang == "fr":
            turns: list[tuple[str, str]] = [
                ("ivr", "bienvenue chez assurances horizon, cet appel peut être enregistré"),
                (
                    "agent",
                    f"bonjour {self.fake[lang].first_name().lower()} à l'appareil "
                    "que puis-je faire pour vous",
                ),
                (
                    "customer",
                    f"oui bonjour je m'appelle {first} {last} j'appelle pour mon sinistre",
                ),
                ("agent", "très bien pouvez-vous me confirmer votre adresse postale"),
                ("customer", f"alors c'est {self.address(lang).lower()}"),
                ("agent", "et un numéro de téléphone où vous joindre"),
                ("customer", f"c'est le {self.spoken_phone(phone, lang)}"),
                ("agent", "pour le règlement de la franchise quel est votre numéro de carte"),
            ]
            if spoken_card:
                parts = [self.spoken(card[:half], lang), self.spoken(card[half:], lang)]
            else:
                parts = [self.group(card[:half]), self.group(card[half:])]
            if split:
                turns += [
                    ("customer", f"alors c'est {parts[0]}"),
                    ("agent", "oui"),
                    ("customer", parts[1]),
                ]
            else:
                turns.append(("customer", f"c'est {parts[0]} {parts[1]}"))
            turns += [
                ("agent", "merci et pour le remboursement votre iban s'il vous plaît"),
                ("customer", f"oui c'est {self.group(iban)}"),
                ("agent", "parfait le dossier est complet je vous souhaite une bonne journée"),
                ("customer", "merci au revoir"),
            ]
        else:
            turns = [
                ("ivr", "welcome to horizon insurance this call may be recorded"),
                (
                    "agent",
                    f"hello you're speaking with {self.fake[lang].first_name().lower()} "
                    "how can i help",
                ),
                ("customer", f"hi my name is {first} {last} i'm calling about my claim"),
                ("agent", "sure can you confirm your postal address please"),
                ("customer", f"it's {self.address(lang).lower()}"),
                ("agent", "and a phone number where we can reach you"),
                ("customer", f"it's {self.spoken_phone(phone, lang)}"),
                ("agent", "to pay the excess what is your card number"),
            ]
            if spoken_card:
                parts = [self.spoken(card[:half], lang), self.spoken(card[half:], lang)]
            else:
                parts = [self.group(card[:half]), self.group(card[half:])]
            if split:
                turns += [
                    ("customer", f"so it's {parts[0]}"),
                    ("agent", "yes"),
                    ("customer", parts[1]),
                ]
            else:
                turns.append(("customer", f"it's {parts[0]} {parts[1]}"))
            turns += [
                ("agent", "thank you and your iban for the refund please"),
                ("customer", f"yes it's {self.group(iban)}"),
                ("agent", "perfect the file is complete have a nice day"),
                ("customer", "thanks bye"),
            ]
        segments = []
        clock = 0
        for speaker, text in turns:
            words = []
            for w in text.split():
                dur = 120 + 45 * len(w)
                words.append({"text": w, "start_ms": clock, "end_ms": clock + dur})
                clock += dur + 60
            segments.append(
                {
                    "speaker": speaker,
                    "text": text,
                    "start_ms": words[0]["start_ms"],
                    "end_ms": words[-1]["end_ms"],
                    "words": words,
                }
            )
            clock += 400
        return segments

    def chat_messages(self, lang: str) -> list[tuple[str, str]]:
        """(role, text) of a typed conversation; the card number split over two messages."""
        first, last = self.person(lang)
        card, phone = self.card(), self.phone(lang)
        email = self.fake[lang].free_email()
        iban = self.fake[lang].iban()
        half = 8
        if lang == "fr":
            return [
                ("agent", "Bonjour, je suis Léa du service client. Que puis-je faire pour vous ?"),
                ("customer", f"Bonjour, {first} {last}, je voudrais payer ma facture en retard"),
                ("agent", "Bien sûr. Quel est votre numéro de carte ?"),
                ("customer", f"c'est {self.group(card[:half])}"),
                ("customer", self.group(card[half:])),
                ("agent", "Merci. Une adresse e-mail et un téléphone pour le reçu ?"),
                ("customer", f"{email}, sinon le {self.group(phone, 2)}"),
                ("customer", f"et mon adresse a changé : {self.address(lang)}"),
                ("customer", f"pour le prélèvement, IBAN {iban}"),
                ("agent", "C'est noté, bonne journée !"),
            ]
        return [
            ("agent", "Hi, this is Sam from customer care. How can I help?"),
            ("customer", f"Hello, {first} {last} here, I'd like to pay my overdue bill"),
            ("agent", "Sure. What is your card number?"),
            ("customer", f"it's {self.group(card[:half])}"),
            ("customer", self.group(card[half:])),
            ("agent", "Thanks. An e-mail address and a phone number for the receipt?"),
            ("customer", f"{email}, or {phone[:5]} {phone[5:]}"),
            ("customer", f"and I moved: {self.address(lang)}"),
            ("customer", f"for the direct debit, IBAN {iban}"),
            ("agent", "All set, have a nice day!"),
        ]

    def email(self, lang: str) -> tuple[str, str]:
        first, last = self.person(lang)
        phone, iban = self.phone(lang), self.fake[lang].iban()
        if lang == "fr":
            subject = f"Réclamation dossier {self.rng.randint(10000, 99999)} - {first} {last}"
            body = (
                f"Bonjour,\n\nJe suis {first} {last}, client depuis 2019. Suite à mon appel, "
                f"je vous confirme mes coordonnées : {self.address(lang)}, téléphone "
                f"{self.group(phone, 2)}. Merci de rembourser sur l'IBAN {self.group(iban)}.\n"
                f"Ma carte {self.group(self.card())} a été débitée deux fois.\n\n"
                f"Cordialement,\n{first} {last}"
            )
        else:
            subject = f"Complaint about case {self.rng.randint(10000, 99999)} - {first} {last}"
            body = (
                f"Hello,\n\nI am {first} {last}. Following my call, my details are: "
                f"{self.address(lang)}, phone {phone}. Please refund to IBAN {self.group(iban)}.\n"
                f"My card {self.group(self.card())} was charged twice.\n\n"
                f"Kind regards,\n{first} {last}"
            )
        return subject, body

    def interactions(self, n: int, prefix: str) -> list[dict[str, Any]]:
        """``n`` push bodies: 50% calls, 30% chats, 20% e-mails; half French, half English.

        Customers come from a pool of n/3, so that most pushes meet a customer
        already stored (a second call of the same person), as in production.
        """
        pool = [f"CUST-{k:06d}" for k in range(max(1, n // 3))]
        contacts = {c: (self.phone("fr"), self.fake["fr"].free_email()) for c in pool}
        out = []
        for i in range(n):
            lang = "fr" if i % 2 == 0 else "en"
            kind = self.rng.choices(["call", "chat", "email"], weights=[5, 3, 2])[0]
            customer = self.rng.choice(pool)
            phone, mail = contacts[customer]
            started = T0 + timedelta(minutes=3 * i)
            body: dict[str, Any] = {
                "external_id": f"{prefix}-{i:06d}",
                "channel": kind,
                "direction": "inbound",
                "language": lang,
                "queue": self.rng.choice(QUEUES),
                "customer_id": customer,
                "customer_phone": self.rng.choice(
                    [phone, f"+33 {phone[1:]}", self.group(phone, 2)]
                ),
                "customer_email": mail,
                "started_at": started.isoformat(),
            }
            if kind == "call":
                body["segments"] = self.call(i, lang)
                end = body["segments"][-1]["end_ms"]
                body["ended_at"] = (started + timedelta(milliseconds=end)).isoformat()
                body["recordings"] = [
                    {"media_type": "audio/wav", "duration_ms": end, "channels": 2}
                ]
            elif kind == "chat":
                body["segments"] = [
                    {
                        "speaker": role,
                        "text": text,
                        "sent_at": (started + timedelta(seconds=20 * k)).isoformat(),
                    }
                    for k, (role, text) in enumerate(self.chat_messages(lang))
                ]
            else:
                subject, text = self.email(lang)
                body["subject"] = subject
                body["segments"] = [
                    {"speaker": "customer", "text": text, "sent_at": started.isoformat()}
                ]
            out.append(body)
        return out


# --------------------------------------------------------------------------- pipelines


def protected(db: Database, ctx: TenantContext, vault: Vault, payload: InteractionIn) -> None:
    """The push route's unit of work, without HTTP (``routes/interactions.py``)."""
    with audited(db, ctx, ORIGIN, action="interaction.create", resource_type="interaction") as (
        session,
        note,
    ):
        interaction, created = service.ingest(session, payload, created_by=ACTOR, vault=vault)
        note.resource_id = interaction.id
        note.details["created"] = created


def _insert_ignore(session: Session, model: type[Any], **values: Any) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def clear_ingest(session: Session, payload: InteractionIn) -> Interaction:
    """The anchor: the same rows, stored the pre-protection way (as before commit d9b46ad).

    Plain SHA-256 content digest; clear ``Customer.external_id``; contact rows
    with the normalised value in clear as the lookup key and the value in
    clear (the same normalisation as the product, so that a number written
    three ways still finds one customer); clear segment text and subject; no
    redaction, no encryption, no keyed index, no policy read.
    """
    tenant = session_tenant(session)
    assert tenant is not None
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    existing = session.scalar(
        select(Interaction).where(Interaction.external_id == payload.external_id)
    )
    if existing is not None:
        return existing
    now = datetime.now(UTC)
    customer_id = None
    if payload.customer_id:
        where = Customer.external_id == payload.customer_id
        customer_id = session.scalar(select(Customer.id).where(where))
        if customer_id is None:
            _insert_ignore(
                session,
                Customer,
                id=new_id(),
                tenant_id=tenant,
                external_id=payload.customer_id,
                created_at=now,
            )
            customer_id = session.scalars(select(Customer.id).where(where)).one()
        contacts = [
            (LookupKind.PHONE, payload.customer_phone, phone_normalizer("FR")),
            (LookupKind.EMAIL, payload.customer_email, normalize_email),
        ]
        for kind, value, normalize in contacts:
            if value is None:
                continue
            key = normalize(value).encode()
            known = session.scalar(
                select(CustomerLookup.id).where(
                    CustomerLookup.customer_id == customer_id,
                    CustomerLookup.kind == kind.value,
                    CustomerLookup.digest == key,
                )
            )
            if known is None:
                _insert_ignore(
                    session,
                    CustomerLookup,
                    id=new_id(),
                    tenant_id=tenant,
                    customer_id=customer_id,
                    kind=kind.value,
                    digest=key,
                    value_ct=value.encode(),
                )
    interaction = Interaction(
        id=new_id(),
        tenant_id=tenant,
        external_id=payload.external_id,
        channel=payload.channel,
        direction=payload.direction,
        language=payload.language,
        subject=payload.subject,
        queue_id=_queue(session, tenant, payload.queue) if payload.queue else None,
        customer_id=customer_id,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        created_at=now,
        created_by=ACTOR,
        content_sha256=digest,
    )
    interaction.segments = [
        TranscriptSegment(
            id=new_id(),
            tenant_id=tenant,
            seq=i,
            speaker=seg.speaker,
            start_ms=seg.start_ms,
            end_ms=seg.end_ms,
            sent_at=seg.sent_at,
            text=seg.text,
        )
        for i, seg in enumerate(payload.segments)
    ]
    interaction.recordings = [
        Recording(
            id=new_id(),
            tenant_id=tenant,
            media_type=rec.media_type,
            duration_ms=rec.duration_ms,
            channels=rec.channels,
            media_status="pending",
        )
        for rec in payload.recordings
    ]
    session.add(interaction)
    session.flush()
    return interaction


def _queue(session: Session, tenant: str, name: str) -> str:
    """The queue's id (declared with the tenant, see ``new_tenant``), created if missing."""
    found = session.scalar(select(Queue.id).where(Queue.name == name))
    if found is None:
        _insert_ignore(session, Queue, id=new_id(), tenant_id=tenant, name=name)
        found = session.scalars(select(Queue.id).where(Queue.name == name)).one()
    return found


def clear_audited(db: Database, ctx: TenantContext, _vault: Vault, payload: InteractionIn) -> None:
    with audited(db, ctx, ORIGIN, action="interaction.create", resource_type="interaction") as (
        session,
        note,
    ):
        interaction = clear_ingest(session, payload)
        note.resource_id = interaction.id
        note.details["created"] = True


def clear_no_audit(db: Database, ctx: TenantContext, _vault: Vault, payload: InteractionIn) -> None:
    with db.tenant_session(ctx) as session:
        clear_ingest(session, payload)


Pipeline = Callable[[Database, TenantContext, Vault, InteractionIn], None]

# --------------------------------------------------------------------------- measurement


@dataclass
class Spent:
    wall: float
    cpu: float


@contextmanager
def timed(out: list[Spent]) -> Iterator[None]:
    w, c = time.perf_counter(), time.process_time()
    yield
    out.append(Spent(time.perf_counter() - w, time.process_time() - c))


def new_tenant(db: Database, prefix: str) -> TenantContext:
    """A fresh tenant with its queues declared, as an onboarded tenant has them."""
    slug = f"{prefix}-{new_id()[:12]}"
    with db.platform_session() as session:
        ctx = TenantContext(TenantId(create_tenant(session, slug, slug).id))
    with db.tenant_session(ctx) as session:
        session.add_all(Queue(id=new_id(), tenant_id=ctx.tenant_id, name=q) for q in QUEUES)
    return ctx


def run_pipeline(
    db: Database, vault: Vault, fn: Pipeline, payloads: Sequence[InteractionIn], prefix: str
) -> Spent:
    ctx = new_tenant(db, prefix)
    vault.ensure_tenant(
        TenantId(ctx.tenant_id)
    )  # the tenant's keyring exists before its first push
    w, c = time.perf_counter(), time.process_time()
    for p in payloads:
        fn(db, ctx, vault, p)
    return Spent(time.perf_counter() - w, time.process_time() - c)


def ms(seconds: float, n: int) -> float:
    return seconds / n * 1e3


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def bench_pipelines(
    name: str,
    db: Database,
    vault: Vault,
    payloads: list[InteractionIn],
    warm: list[InteractionIn],
    repeat: int,
) -> dict[str, dict[str, float]]:
    """Interactions/s of the three pipelines, interleaved, median of ``repeat`` runs."""
    variants: dict[str, Pipeline] = {
        "protected": protected,
        "clear": clear_audited,
        "clear-no-audit": clear_no_audit,
    }
    for key, fn in variants.items():  # warm-up: imports, caches, statement cache, pool
        run_pipeline(db, vault, fn, warm, f"warm-{key}")
    results: dict[str, list[Spent]] = {k: [] for k in variants}
    order = list(variants)
    for r in range(repeat):
        for key in order[r % 3 :] + order[: r % 3]:
            results[key].append(run_pipeline(db, vault, variants[key], payloads, key))
    n = len(payloads)
    out = {
        k: {"wall_ms": med([ms(s.wall, n) for s in v]), "cpu_ms": med([ms(s.cpu, n) for s in v])}
        for k, v in results.items()
    }
    p, c = out["protected"], out["clear"]
    print(
        f"ingest  {name:10s} {n} interactions x {repeat} runs, median per interaction:\n"
        f"        protected (redaction+encryption+indexes+audit): {1e3 / p['wall_ms']:7.1f} "
        f"interactions/s wall, {1e3 / p['cpu_ms']:7.1f} per CPU-s "
        f"({p['wall_ms']:.2f} ms wall, {p['cpu_ms']:.2f} ms CPU)\n"
        f"        protection off (clear rows + same audit):       {1e3 / c['wall_ms']:7.1f} "
        f"interactions/s wall, {1e3 / c['cpu_ms']:7.1f} per CPU-s "
        f"({c['wall_ms']:.2f} ms wall, {c['cpu_ms']:.2f} ms CPU)\n"
        f"        cost of protection: {p['wall_ms'] / c['wall_ms']:.2f}x wall, "
        f"{p['cpu_ms'] / c['cpu_ms']:.2f}x CPU (goal: under 2x)"
    )
    return out


def per_item(fn: Callable[[], object], n: int, repeat: int) -> Spent:
    """Median wall and CPU time of one call of ``fn`` (which does ``n`` items), per item, in ms."""
    spent: list[Spent] = []
    for _ in range(repeat):
        with timed(spent):
            fn()
    return Spent(med([ms(s.wall, n) for s in spent]), med([ms(s.cpu, n) for s in spent]))


def breakdown(
    name: str,
    db: Database,
    vault: Vault,
    payloads: list[InteractionIn],
    pipes: dict[str, dict[str, float]],
    repeat: int,
) -> dict[str, Spent]:
    """Each part of protection measured on its own, on the same corpus, per interaction."""
    n = len(payloads)
    policy = DataPolicy().redaction_policy()
    ctx = new_tenant(db, "parts")
    tenant = TenantId(ctx.tenant_id)
    vault.ensure_tenant(tenant)
    parts: dict[str, Spent] = {}
    protected_content: list[ProtectedContent] = []

    def redact_all() -> None:
        protected_content.clear()
        protected_content.extend(protect_content(p, policy) for p in payloads)

    parts["redaction"] = per_item(redact_all, n, repeat)
    found: Counter[str] = Counter()
    for content in protected_content:
        found.update(content.entity_counts)
    print(
        f"        redaction found ({name}, whole corpus): "
        + ", ".join(f"{k} {v}" for k, v in found.most_common())
    )

    # Encryption under warm subject keys (one per customer, as ingest does), then
    # the cost of creating a subject key (first interaction of each customer).
    subjects = {p.customer_id: subject_of(f"warm-{p.customer_id}") for p in payloads}
    for s in subjects.values():
        vault.encrypt_field(FieldContext(tenant, "bench", "warm", "0"), b"x", subject=s)

    def encrypt_all() -> None:
        seen: set[str | None] = set()
        for p, content in zip(payloads, protected_content, strict=True):
            subject = subjects[p.customer_id]
            iid = new_id()

            def seal(table: str, column: str, row: str, text: str, subject: str = subject) -> bytes:
                return vault.encrypt_field(
                    FieldContext(tenant, table, column, row), text.encode(), subject=subject
                )

            if content.subject:
                seal("interactions", "subject", iid, content.subject.redacted)
            for seg in content.segments:
                seal("transcript_segments", "redacted", new_id(), seg.redacted)
            if p.customer_id not in seen:  # a new customer: its id, phone and e-mail
                seen.add(p.customer_id)
                seal("customers", "external_id", new_id(), p.customer_id or "")
                seal("customer_lookups", "value", new_id(), p.customer_phone or "")
                seal("customer_lookups", "value", new_id(), p.customer_email or "")

    parts["encryption"] = per_item(encrypt_all, n, repeat)

    def new_subject_keys() -> None:
        for _ in range(k):
            vault.encrypt_field(
                FieldContext(tenant, "bench", "k", "0"), b"x", subject=subject_of(new_id())
            )

    k = max(10, min(100, n // 3))
    key_cost = per_item(new_subject_keys, k, 1)
    share = len({p.customer_id for p in payloads}) / n  # new customers per interaction
    parts["subject keys"] = Spent(key_cost.wall * share, key_cost.cpu * share)

    def ensure_tenant() -> None:
        for _ in payloads:
            vault.ensure_tenant(tenant)

    parts["keyring check"] = per_item(ensure_tenant, n, repeat)

    def indexes() -> None:
        for p in payloads:
            canonical = json.dumps(p.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
            vault.blind_index(tenant, "interaction.content", canonical, length=32, normalizer=str)
            index_of(vault, tenant, LookupKind.CUSTOMER_ID, p.customer_id or "x")
            index_of(vault, tenant, LookupKind.PHONE, p.customer_phone or "0600000000")
            index_of(vault, tenant, LookupKind.EMAIL, p.customer_email or "a@b")

    def clear_keys() -> None:
        norm = phone_normalizer("FR")
        for p in payloads:
            canonical = json.dumps(p.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
            hashlib.sha256(canonical.encode()).hexdigest()
            normalize_identifier(p.customer_id or "x")
            norm(p.customer_phone or "0600000000")
            normalize_email(p.customer_email or "a@b")

    idx = per_item(indexes, n, repeat)
    clear = per_item(clear_keys, n, repeat)
    parts["blind indexes"] = Spent(idx.wall - clear.wall, idx.cpu - clear.cpu)

    def audit_only() -> None:
        for _ in payloads:
            with audited(
                db, ctx, ORIGIN, action="interaction.create", resource_type="interaction"
            ) as (_session, note):
                note.resource_id = "bench"
                note.details["created"] = True

    def session_only() -> None:
        for _ in payloads:
            with db.tenant_session(ctx):
                pass

    audit, bare = per_item(audit_only, n, repeat), per_item(session_only, n, repeat)
    parts["audit record"] = Spent(audit.wall - bare.wall, audit.cpu - bare.cpu)

    pr, cl, nc = pipes["protected"], pipes["clear"], pipes["clear-no-audit"]
    parts["SQL, clear rows"] = Spent(nc["wall_ms"], nc["cpu_ms"])
    off = ["SQL, clear rows", "audit record"]
    on = ["redaction", "encryption", "subject keys", "keyring check", "blind indexes"]
    print(
        f"        where the time goes ({name}, ms per interaction, wall / CPU; each part timed "
        f"on its own over the same corpus, median of {repeat}):"
    )

    def line(key: str) -> str:
        v = parts[key]
        return f"{key} {v.wall:.2f} / {v.cpu:.2f}"

    def rest(total: Spent, keys: list[str]) -> str:
        return (
            f"rest {total.wall - sum(parts[k].wall for k in keys):.2f} / "
            f"{total.cpu - sum(parts[k].cpu for k in keys):.2f}"
        )

    adds = Spent(pr["wall_ms"] - cl["wall_ms"], pr["cpu_ms"] - cl["cpu_ms"])
    print(
        f"          protection off {cl['wall_ms']:.2f} / {cl['cpu_ms']:.2f} = "
        + " + ".join([*(line(k) for k in off), rest(Spent(cl["wall_ms"], cl["cpu_ms"]), off)])
    )
    print(
        f"          protection adds {adds.wall:.2f} / {adds.cpu:.2f} = "
        + " + ".join([*(line(k) for k in on), rest(adds, on)])
    )
    shares = ", ".join(f"{k} {parts[k].cpu / pr['cpu_ms']:.0%}" for k in [*off, *on])
    print(f"          share of the protected pipeline's CPU: {shares}")
    print(
        f"          SQL = the clear pipeline without the audit record (its own transaction); "
        f"audit = audited() around nothing minus a bare tenant session; encryption = AES-GCM "
        f"of every sealed value under warm subject keys; subject keys = {key_cost.wall:.1f} ms "
        f"wall ({key_cost.cpu:.1f} ms CPU) to create one customer's key x {share:.2f} new "
        f"customers per interaction; keyring check = vault.ensure_tenant (a keyring read per "
        f"push); blind indexes = keyed HMACs minus the same normalisation and a plain "
        f"SHA-256 digest; rest = what the parts do not explain (policy read, silence ranges, "
        f"larger rows, ORM, noise)"
    )
    return parts


# --------------------------------------------------------------------------- HTTP in-process


def machine_token(db: Database, ctx: TenantContext, scopes: list[str]) -> str:
    with db.tenant_session(ctx) as s:
        return create_token(s, ctx.tenant_id, "bench", scopes, ttl=timedelta(days=1)).value


def bench_http_ingest(
    name: str,
    db: Database,
    vault: Vault,
    data_dir: Path,
    bodies: list[dict[str, Any]],
    warm: list[dict[str, Any]],
    repeat: int,
    lib: dict[str, float],
) -> None:
    """The push route in-process (TestClient): the same corpus, the HTTP layer on top."""
    settings = load_settings(data_dir=data_dir / "http", max_request_bytes=1 << 20)
    app = create_app(AppContext(settings=settings, db=db, vault=vault))
    spent: list[Spent] = []
    with TestClient(app) as client:
        for r in range(repeat + 1):
            ctx = new_tenant(db, "http")
            vault.ensure_tenant(TenantId(ctx.tenant_id))
            headers = {"Authorization": f"Bearer {machine_token(db, ctx, ['interaction:write'])}"}
            batch = warm if r == 0 else bodies
            w, c = time.perf_counter(), time.process_time()
            for body in batch:
                resp = client.post("/api/v1/interactions", json=body, headers=headers)
                assert resp.status_code == 201, resp.text
            if r > 0:
                spent.append(Spent(time.perf_counter() - w, time.process_time() - c))
    n = len(bodies)
    wall, cpu = med([ms(s.wall, n) for s in spent]), med([ms(s.cpu, n) for s in spent])
    print(
        f"http    {name:10s} POST /api/v1/interactions in-process (TestClient), same corpus: "
        f"{1e3 / wall:.1f} interactions/s wall, {1e3 / cpu:.1f} per CPU-s ({wall:.2f} ms wall, "
        f"{cpu:.2f} ms CPU); HTTP layer (JSON, validation, token, response with decryption) "
        f"+{wall - lib['wall_ms']:.2f} ms wall, +{cpu - lib['cpu_ms']:.2f} ms CPU per interaction"
    )


# --------------------------------------------------------------------------- chat under load


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db_url: str, data_dir: str, port: int) -> None:
    """The server process: the real app over the migrated database, with a vault."""
    import uvicorn

    db = Database.from_url(db_url)
    settings = load_settings(data_dir=Path(data_dir))
    vault = open_local_vault(settings, store=SqlKeyringStore(db))
    app = create_app(AppContext(settings=settings, db=db, vault=vault))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(
    base: str,
    token: str,
    conversations: list[list[tuple[str, str]]],
    concurrency: int,
    mode: str,
    tag: str,
) -> tuple[list[float], float, Counter[str]]:
    """Latencies (s), total wall time and labels found: ``concurrency`` clients at once.

    Each client takes the next conversation and sends its messages in order,
    each after the previous answer, as a chat platform does.
    """
    latencies: list[float] = []
    found: Counter[str] = Counter()
    queue: asyncio.Queue[tuple[int, list[tuple[str, str]]]] = asyncio.Queue()
    for i, conv in enumerate(conversations):
        queue.put_nowait((i, conv))
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                i, conv = queue.get_nowait()
                for m, (role, text) in enumerate(conv):
                    t = time.perf_counter()
                    if mode == "healthz":
                        resp = await client.get("/healthz")
                    else:
                        body = {
                            "conversation_id": f"{tag}-{i}",
                            "message_id": f"m{m}",
                            "role": role,
                            "text": text if mode == "redact" else "",
                        }
                        resp = await client.post("/api/v1/chat/redact", json=body)
                    latencies.append(time.perf_counter() - t)
                    if resp.status_code != 200:
                        raise RuntimeError(f"{resp.status_code} {resp.text[:200]}")
                    if mode == "redact":
                        out = resp.json()
                        assert out["status"] == "redacted", out
                        found.update(out["entities"])
                        found["amendments"] += len(out["amendments"])

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - t0, found


def chat_cpu(convs: list[list[tuple[str, str]]]) -> tuple[float, float]:
    """CPU ms per message of what the route does besides HTTP, DB and audit: the redaction.

    ``ChatSessions.redact`` in this process, as the route calls it, over the
    same conversations: with their text, then with empty text (the floor).
    """
    policy = chat_policy(DataPolicy())
    tenant = TenantId("bench")
    out = []
    for empty in (False, True):
        sessions = ChatSessions()
        n = 0
        t = time.process_time()
        for i, conv in enumerate(convs):
            for m, (role, text) in enumerate(conv):
                sessions.redact(
                    tenant,
                    f"{empty}-{i}",
                    policy,
                    message_id=f"m{m}",
                    role="agent" if role == "agent" else "customer",
                    text="" if empty else text,
                    lang="fr" if i % 2 == 0 else "en",
                    now=T0,
                )
                n += 1
        out.append((time.process_time() - t) / n * 1e3)
    return out[0], out[1]


def bench_chat(corpus: Corpus, conversations: int, levels: list[int], quick: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="rempart-chat-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'chat.db'}"
        db = Database.from_url(url)
        upgrade(db.engine)
        settings = load_settings(data_dir=Path(tmp))
        vault = open_local_vault(settings, store=SqlKeyringStore(db))  # creates the key file
        ctx = new_tenant(db, "chat")
        vault.ensure_tenant(TenantId(ctx.tenant_id))
        token = machine_token(db, ctx, ["chat:redact"])
        db.dispose()
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", url, tmp, str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"server did not start: {err}")
                time.sleep(0.2)
            convs = [
                corpus.chat_messages("fr" if i % 2 == 0 else "en") for i in range(conversations)
            ]
            asyncio.run(load(base, token, convs[: max(8, conversations // 8)], 8, "redact", "warm"))
            asyncio.run(
                load(base, token, convs[: max(8, conversations // 8)], 8, "empty", "warm-e")
            )
            msgs = sum(len(c) for c in convs)
            chat_cpu(convs[:8])  # warm-up
            cpu_text, cpu_empty = chat_cpu(convs)
            print(
                f"chat    POST /api/v1/chat/redact, uvicorn subprocess (1 worker) over SQLite "
                f"with a vault; {conversations} conversations of {msgs / conversations:.0f} "
                f"messages ({msgs} requests) per measurement, card numbers split "
                f"across two messages; client in this process (httpx async)"
            )
            for level in levels:
                # Three rounds, the modes in turn within each, so that all three see
                # the same share of the shared machine's ups and downs.
                modes = ["redact", "empty", "healthz"]
                lats: dict[str, list[float]] = {m: [] for m in modes}
                spent = dict.fromkeys(modes, 0.0)
                labels: Counter[str] = Counter()
                rounds = 3
                for k in range(rounds):
                    part = convs[k::rounds]
                    for mode in modes[k:] + modes[:k]:
                        lat, total, got = asyncio.run(
                            load(base, token, part, level, mode, f"{mode}-{level}-{k}")
                        )
                        labels += got
                        lats[mode] += lat
                        spent[mode] += total
                row = {
                    m: (
                        percentile(lats[m], 0.5) * 1e3,
                        percentile(lats[m], 0.99) * 1e3,
                        len(lats[m]) / spent[m],
                    )
                    for m in modes
                }
                r, e, z = row["redact"], row["empty"], row["healthz"]
                effective = min(level, -(-len(convs) // rounds))
                shown = f"{level:3d}" if effective == level else f"{level} (only {effective})"
                print(
                    f"chat    {shown} concurrent conversations: redact p50 {r[0]:6.1f} ms p99 "
                    f"{r[1]:6.1f} ms {r[2]:6.1f} req/s | floor: same endpoint, empty text "
                    f"(token, policy read, audit record) p50 {e[0]:6.1f} ms p99 {e[1]:6.1f} ms "
                    f"{e[2]:6.1f} req/s | GET /healthz (HTTP stack only) p50 {z[0]:6.1f} ms p99 "
                    f"{z[1]:6.1f} ms {z[2]:6.1f} req/s | redaction adds {r[0] - e[0]:+.1f} ms at "
                    f"p50, {(1 / r[2] - 1 / e[2]) * 1e3:+.1f} ms of server time per request"
                )
                print(
                    "        redacted in those conversations: "
                    + ", ".join(f"{k} {v}" for k, v in labels.most_common())
                )
            print(
                f"chat    in-process, the route's redaction call (ChatSessions.redact) costs "
                f"{cpu_text:.2f} ms CPU per message of these conversations, {cpu_empty:.2f} ms "
                f"with empty text"
            )
            ready = []
            for _ in range(20):
                t = time.perf_counter()
                httpx.get(f"{base}/readyz", timeout=30).raise_for_status()
                ready.append(time.perf_counter() - t)
            print(
                f"chat    GET /readyz alone, one at a time: median {med(ready) * 1e3:.1f} ms "
                f"(it re-reads the migration scripts on every call: not a usable floor)"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


# --------------------------------------------------------------------------- main


def bench_database(
    name: str,
    db: Database,
    data_dir: Path,
    corpus_bodies: list[dict[str, Any]],
    warm_bodies: list[dict[str, Any]],
    repeat: int,
) -> None:
    payloads = [InteractionIn.model_validate(b) for b in corpus_bodies]
    warm = [InteractionIn.model_validate(b) for b in warm_bodies]
    vault = open_local_vault(load_settings(data_dir=data_dir / "vault"), store=SqlKeyringStore(db))
    pipes = bench_pipelines(name, db, vault, payloads, warm, repeat)
    breakdown(name, db, vault, payloads, pipes, repeat)
    bench_http_ingest(
        name,
        db,
        vault,
        data_dir,
        corpus_bodies,
        warm_bodies,
        max(1, repeat - 1),
        pipes["protected"],
    )


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--serve":
        serve(argv[1], argv[2], int(argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--interactions", type=int, default=300, help="interactions per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per pipeline (median)")
    parser.add_argument(
        "--conversations", type=int, default=96, help="chat conversations per load level"
    )
    parser.add_argument(
        "--concurrency", default="8,32", help="concurrent conversations, comma-separated"
    )
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument(
        "--postgres", action="store_true", help="also on a throw-away PostgreSQL, as the app role"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only", choices=["ingest", "chat"], default=None, help="run one of the two parts"
    )
    args = parser.parse_args(argv)
    # The app logs every request at info, as in production; not onto this terminal.
    configure_logging("info", "json", stream=open(os.devnull, "w"))  # noqa: SIM115
    if args.quick:
        args.interactions, args.repeat, args.conversations = min(args.interactions, 60), 1, 24
    load1, load5, _ = os.getloadavg()
    print(
        f"benchmarks/ingest.py on {sys.platform}, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load {load1:.1f} (1 min) "
        f"{load5:.1f} (5 min); {args.interactions} interactions, seed {args.seed}"
    )
    corpus = Corpus(args.seed)
    bodies = corpus.interactions(args.interactions, "int")
    warm = corpus.interactions(max(6, args.interactions // 20), "warm")
    segs = sum(len(b["segments"]) for b in bodies)
    chars = sum(len(s["text"]) for b in bodies for s in b["segments"])
    kinds = {k: sum(b["channel"] == k for b in bodies) for k in ("call", "chat", "email")}
    print(
        f"corpus  {kinds['call']} calls, {kinds['chat']} chats, {kinds['email']} e-mails; "
        f"{segs} segments, {chars / len(bodies):,.0f} characters per interaction; "
        f"{len({b['customer_id'] for b in bodies})} customers"
    )
    with tempfile.TemporaryDirectory(prefix="rempart-ingest-") as tmp:
        if args.only == "chat":
            args.postgres = False
        db = Database.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db.engine)
        if args.only != "chat":
            bench_database("sqlite", db, Path(tmp), bodies, warm, args.repeat)
        db.dispose()
        if args.postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.pg import PostgresServer  # the suite's throw-away server

            server = PostgresServer.start()
            try:
                # A table owner migrates; the app role (no BYPASSRLS) works, so
                # row-level security is in the measurement.
                server.execute("CREATE ROLE bench_owner LOGIN CREATEROLE")
                server.execute("CREATE DATABASE bench OWNER bench_owner")
                owner = Database.from_url(server.url("bench_owner", "bench"))
                upgrade(owner.engine)
                owner.dispose()
                server.execute("CREATE ROLE bench_app LOGIN IN ROLE rempart_app")
                pg = Database.from_url(server.url("bench_app", "bench"))
                bench_database("postgresql", pg, Path(tmp) / "pg", bodies, warm, args.repeat)
                pg.dispose()
            finally:
                server.stop()
    if args.only != "ingest":
        levels = [int(x) for x in args.concurrency.split(",")]
        bench_chat(corpus, args.conversations, levels, args.quick)
    load1, load5, _ = os.getloadavg()
    print(f"done    load at the end {load1:.1f} (1 min) {load5:.1f} (5 min)")


if __name__ == "__main__":
    main(sys.argv[1:])
