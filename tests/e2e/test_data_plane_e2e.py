"""The data plane end to end, through the HTTP API, with the real identity provider
(npm oidc-provider) and a real PostgreSQL (the application role bound by row-level
security).

One story: a chat in which the caller types a card number over two messages is
stored redacted; the agent who handled it sees the masked form; an agent who did
not gets 404; a supervisor asks to unmask it, is sent to step up, signs in again
with a second factor, another supervisor approves, the original is read and the
audit log shows it; a call of the same customer goes through secure payment
capture and its recording is uploaded; the PAN is then nowhere it could be read
back; finally the tenant administrator erases the customer, and nothing of theirs
is readable any more, not even from a backup copy of the database rows or of the
recording files taken before the erasure.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import inspect, select, text

from rempart.access import ObjectType, Relation, RelationKind
from rempart.access.store import SqlWriter, load_catalog
from rempart.api import AppContext, create_app
from rempart.audit import Ed25519Signer, verifier_key
from rempart.config import load_settings
from rempart.contact.models import Queue, Recording, Team, TranscriptSegment
from rempart.contact.payments import PaymentConfig, TestProcessor
from rempart.contact.policy import DataPolicy, save_policy
from rempart.contact.recording_upload import media_context
from rempart.errors import CryptoError
from rempart.identity.context import IdentityContext
from rempart.identity.discovery import http_client
from rempart.identity.idp import (
    ClaimMapping,
    IdpSettings,
    PolicySettings,
    configure_idp,
    prepare_idp,
    set_policy,
)
from rempart.identity.models import User
from rempart.logs import configure_logging
from rempart.privacy import verify_certificate
from rempart.storage import Database, TenantContext
from rempart.storage.base import new_id
from rempart.storage.tenants import Tenant
from rempart.types import TenantId, utc_now
from rempart.vault import FieldContext, Vault, open_local_vault
from rempart.vault.sql_store import SqlKeyringStore
from tests.api.conftest import issue
from tests.conftest import PostgresLane, make_tenant
from tests.contact.test_media import make_wav, tone_frames
from tests.identity.conftest import sign_in
from tests.identity.oidc_server import (
    POST_LOGOUT_URI,
    REDIRECT_URI,
    Client,
    OidcServer,
    node_available,
    start_server,
)

pytestmark = pytest.mark.postgres

PAN = "4970101234567893"  # passes Luhn
CVV = "582"
CUSTOMER = "CUST-E2E-0001"
PHONE = "+33 6 98 76 54 32"
EMAIL = "camille.durand@example.fr"
SEP = r"[^0-9A-Za-z]{0,3}"
PAN_ANY_GROUPING = re.compile(SEP.join(PAN))
PAN_HEAD = re.compile(SEP.join(PAN[:12]))


def _user(name: str, groups: list[str], acr: str, amr: list[str]) -> dict[str, Any]:
    return {
        "claims": {"name": name, "email": f"{name.lower()}@example.test", "groups": groups},
        "acr": acr,
        "amr": amr,
    }


USERS = {
    "alice": _user("Alice", ["cc-agents"], "urn:rempart:loa:1", ["pwd"]),
    "bruno": _user("Bruno", ["cc-agents"], "urn:rempart:loa:1", ["pwd"]),
    "sam": _user("Sam", ["cc-sup"], "urn:rempart:loa:1", ["pwd"]),
    "omar": _user("Omar", ["cc-sup"], "urn:rempart:loa:2", ["pwd", "otp"]),
    "tina": _user("Tina", ["cc-admin"], "urn:rempart:loa:2", ["pwd", "otp"]),
}


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcServer]:
    if not node_available():
        pytest.fail("the test OpenID provider is not installed: run `make test` (npm ci)")
    server = start_server([Client("rempart-e2e", "secret-e2e")], users=USERS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def db(pg_lane: PostgresLane) -> Iterator[Database]:
    database = Database.from_url(pg_lane.app_url, pool_size=4)
    try:
        yield database
    finally:
        database.dispose()


class Platform:
    def __init__(self, db: Database, tmp_path: Path, idp: OidcServer) -> None:
        self.db = db
        self.data = tmp_path / "data"
        self.settings = load_settings(data_dir=self.data, trusted_proxies=("testclient",))
        self.vault: Vault = open_local_vault(self.settings, store=SqlKeyringStore(db))
        self.signer = Ed25519Signer.generate("rempart-e2e")
        self.processor = TestProcessor()
        ctx = AppContext(
            settings=self.settings,
            db=db,
            vault=self.vault,
            audit_signer=self.signer,
            payments=PaymentConfig(processor=self.processor, observe_poll_s=0.01),
        )
        self.app = create_app(ctx)
        self.app.state.identity = IdentityContext(db=db, sealer=self.vault)
        self.tenant = make_tenant(db, "e2e")
        self.idp = idp
        self.responses: list[str] = []
        self._configure_idp()

    def _configure_idp(self) -> None:
        settings = IdpSettings(
            issuer=self.idp.issuer,
            client_id="rempart-e2e",
            client_secret=SecretStr("secret-e2e"),
            redirect_uri=REDIRECT_URI,
            post_logout_redirect_uri=POST_LOGOUT_URI,
            scopes=("openid", "profile", "email", "groups"),
            claim_mapping=ClaimMapping.from_config(
                {
                    "roles": {
                        "cc-agents": "agent",
                        "cc-sup": "supervisor",
                        "cc-admin": "tenant_admin",
                    }
                }
            ),
            provisioning="jit",
            insecure_http_loopback=True,
        )
        tid = self.tenant.tenant_id
        with http_client() as http:
            docs, sealed = prepare_idp(settings, tid, http=http, sealer=self.vault)
        with self.db.tenant_session(self.tenant) as s:
            configure_idp(s, tid, settings, documents=docs, sealed_secret=sealed)
            set_policy(s, tid, PolicySettings())
            save_policy(s, DataPolicy(protection="redacted+original"), actor="test", now=utc_now())
        with self.db.platform_session() as s:
            row = s.get(Tenant, tid)
            assert row is not None
            self.slug = row.slug

    def browser(self, user: str, **login: Any) -> TestClient:
        """A person's browser: their own cookie jar, signed in through the real IdP."""
        client = TestClient(self.app, base_url="https://testserver", raise_server_exceptions=False)
        client.__enter__()
        done = sign_in(client, self.slug, user, **login)
        assert done.status_code == 303, done.text
        return client

    def user_id(self, subject: str) -> str:
        with self.db.tenant_session(self.tenant) as s:
            return s.scalars(select(User.id).where(User.subject == subject)).one()

    def keep(self, response: Any) -> Any:
        self.responses.append(response.text)
        return response


def _team(db: Database, ctx: TenantContext, name: str, queue: str) -> str:
    with db.tenant_session(ctx) as s:
        team = Team(id=new_id(), tenant_id=ctx.tenant_id, name=name)
        s.add(team)
        s.flush()
        s.add(Queue(id=new_id(), tenant_id=ctx.tenant_id, name=queue, team_id=team.id))
        return team.id


def _supervises(db: Database, ctx: TenantContext, user_id: str, team_id: str) -> None:
    with db.tenant_session(ctx) as s:
        writer = SqlWriter(s, load_catalog(s), actor="test")
        writer.add_relation(Relation(user_id, RelationKind.SUPERVISES, ObjectType.TEAM, team_id))


def _csrf(browser: TestClient) -> dict[str, str]:
    me = browser.get("/auth/me")
    assert me.status_code == 200, me.text
    return {"X-CSRF-Token": me.json()["csrf_token"]}


def _all_values(db: Database, admin_url: str) -> list[tuple[str, str]]:
    """Every value of every table, as the database owner sees it (all tenants)."""
    owner = Database.from_url(admin_url, pool_size=1)
    out: list[tuple[str, str]] = []
    try:
        with owner.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    for value in row:
                        if isinstance(value, bytes | memoryview):
                            out.append((table, bytes(value).decode("latin-1")))
                        elif value is not None:
                            out.append((table, str(value)))
    finally:
        owner.dispose()
    return out


def test_the_data_plane_end_to_end(
    db: Database, pg_lane: PostgresLane, tmp_path: Path, idp: OidcServer
) -> None:
    logs = io.StringIO()
    configure_logging("debug", "json", stream=logs)
    handler = logging.StreamHandler(logs)
    logging.getLogger().addHandler(handler)
    try:
        _story(db, pg_lane, tmp_path, idp, logs)
    finally:
        logging.getLogger().removeHandler(handler)
        configure_logging("info", "json")


def _story(
    db: Database, pg_lane: PostgresLane, tmp_path: Path, idp: OidcServer, logs: io.StringIO
) -> None:
    p = Platform(db, tmp_path, idp)
    token = issue(
        db,
        p.tenant,
        scopes=["interaction:write", "interaction:read", "payment:capture", "audit:read"],
    )
    api = TestClient(p.app, base_url="https://testserver", raise_server_exceptions=False)
    api.__enter__()
    machine = token.headers

    # Everyone signs in once through the IdP (users are provisioned just in time).
    alice, bruno, omar, tina = (p.browser(u) for u in ("alice", "bruno", "omar", "tina"))
    sam = p.browser("sam")
    team_a = _team(db, p.tenant, "Team A", "Sinistres")
    team_b = _team(db, p.tenant, "Team B", "Habitation")
    _supervises(db, p.tenant, p.user_id("sam"), team_a)
    _supervises(db, p.tenant, p.user_id("omar"), team_b)

    # 1. A chat in which the card number arrives over two messages.
    chat = {
        "external_id": "chat-e2e-1",
        "channel": "chat",
        "language": "fr",
        "queue": "Sinistres",
        "customer_id": CUSTOMER,
        "customer_phone": PHONE,
        "customer_email": EMAIL,
        "agent": {"issuer": idp.issuer, "subject": "alice"},
        "started_at": "2026-11-29T08:00:00Z",
        "segments": [
            {"speaker": "agent", "text": "Pour régler, votre numéro de carte s'il vous plaît ?"},
            {"speaker": "customer", "text": f"{PAN[:4]} {PAN[4:8]}"},
            {"speaker": "customer", "text": f"{PAN[8:12]} {PAN[12:]}"},
            {"speaker": "customer", "text": "Camille Durand, merci."},
        ],
    }
    pushed = p.keep(api.post("/api/v1/interactions", json=chat, headers=machine))
    assert pushed.status_code == 201, pushed.text
    chat_id = pushed.json()["id"]

    # 2. The agent who handled it reads the masked form.
    seen = p.keep(alice.get(f"/api/v1/workspace/interactions/{chat_id}"))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    texts = " ".join(s["text"] for s in body["segments"])
    assert not PAN_HEAD.search(texts)
    assert PAN[-4:] not in texts
    assert "Camille" not in texts
    assert body["customer_phone"] not in (None, PHONE)
    assert body["customer_email"] == "***@example.fr"

    # 3. An agent who did not handle it gets 404, like for nothing at all.
    assert p.keep(bruno.get(f"/api/v1/workspace/interactions/{chat_id}")).status_code == 404

    # 4. The supervisor unmasks: reason, step-up, approval by another supervisor.
    ask = {"reason": "Chargeback 7781: the customer disputes the card they gave"}
    url = f"/api/v1/workspace/interactions/{chat_id}/unmask-requests"
    challenged = p.keep(sam.post(url, json=ask, headers=_csrf(sam)))
    assert challenged.status_code == 401, challenged.text
    assert "insufficient_user_authentication" in challenged.headers["www-authenticate"]
    assert (
        sign_in(sam, p.slug, "sam", acr="urn:rempart:loa:2", amr=["pwd", "otp"]).status_code == 303
    )  # steps up at the IdP
    asked = p.keep(sam.post(url, json=ask, headers=_csrf(sam)))
    assert asked.status_code == 201, asked.text
    grant = asked.json()
    approved = p.keep(
        omar.post(f"/api/v1/workspace/grants/{grant['id']}/approve", headers=_csrf(omar))
    )
    assert approved.status_code == 200, approved.text
    original = sam.get(f"/api/v1/workspace/interactions/{chat_id}/original")
    assert original.status_code == 200, original.text
    assert PAN[:4] in original.text  # the unmasked original (kept out of `responses`)
    found = p.keep(
        api.get("/api/v1/audit/events", params={"action": "access.unmask"}, headers=machine)
    )
    assert found.status_code == 200, found.text
    unmasks = [e for e in found.json()["items"] if e["outcome"] == "success"]
    assert [e["resource_id"] for e in unmasks] == [chat_id]

    # 5. A call of the same customer: secure payment capture, then its recording.
    call = {
        "external_id": "call-e2e-1",
        "channel": "call",
        "language": "fr",
        "queue": "Sinistres",
        "customer_id": CUSTOMER,
        "agent": {"issuer": idp.issuer, "subject": "alice"},
        "started_at": "2026-11-29T08:10:00Z",
        "segments": [
            {
                "speaker": "agent",
                "text": "Je vous passe au paiement sécurisé.",
                "start_ms": 0,
                "end_ms": 900,
            },
        ],
        "recordings": [{"media_type": "audio/wav", "duration_ms": 3000, "channels": 1}],
    }
    pushed_call = p.keep(api.post("/api/v1/interactions", json=call, headers=machine))
    assert pushed_call.status_code == 201, pushed_call.text
    call_id = pushed_call.json()["id"]
    recording_id = pushed_call.json()["recordings"][0]["id"]
    captures = "/api/v1/payments/captures"
    opened = p.keep(
        api.post(
            captures,
            json={"interaction_id": call_id, "amount_minor": 4990, "currency": "EUR"},
            headers=machine,
        )
    )
    assert opened.status_code == 201, opened.text
    capture = opened.json()["capture_id"]
    for pressed in [*PAN, "#", "1229", CVV]:
        r = p.keep(api.post(f"{captures}/{capture}/dtmf", json={"keys": pressed}, headers=machine))
        assert r.status_code == 200, r.text
    done = p.keep(api.post(f"{captures}/{capture}/complete", headers=machine))
    assert done.status_code == 200, done.text
    assert p.processor.received  # the processor got the card (as a token or PAN)
    upload = p.keep(
        api.put(
            f"/api/v1/interactions/{call_id}/recordings/{recording_id}/media",
            content=make_wav(tone_frames(3.0)),
            headers={**machine, "Content-Type": "audio/wav"},
        )
    )
    assert upload.status_code in (200, 201), upload.text

    # 6. The PAN is nowhere it could be read back: rows of every table (all tenants,
    # as the database owner), audit entries among them, logs, every response.
    for table, value in _all_values(db, pg_lane.admin_url):
        assert not PAN_ANY_GROUPING.search(value), f"PAN in table {table}"
    assert not PAN_ANY_GROUPING.search(logs.getvalue())
    for answer in p.responses:
        assert not PAN_ANY_GROUPING.search(answer)

    # 7. Erasure. Keep a "backup" of the customer's ciphertexts first.
    tid = TenantId(p.tenant.tenant_id)
    with db.tenant_session(p.tenant) as s:
        backup_rows = [
            (row.id, row.redacted_ct, row.original_ct)
            for row in s.scalars(select(TranscriptSegment))
        ]
        assert s.get(Recording, recording_id) is not None
    media_dir = p.data / "media" / p.tenant.tenant_id
    backup_media = tmp_path / "backup-media"
    shutil.copytree(media_dir, backup_media)
    erased = tina.post(
        "/api/v1/privacy/erasures",
        json={"phone": "06 98 76 54 32", "reason": "Art. 17 request #2026-118"},
        headers=_csrf(tina),
    )
    assert erased.status_code == 200, erased.text
    result = erased.json()
    assert result["status"] == "certified"
    certificate = verify_certificate(result["certificate"], verifier_key(p.signer))
    assert CUSTOMER not in result["certificate"]
    assert PHONE not in result["certificate"]
    assert certificate

    # Nothing is readable any more: the API, the rows, the backup rows, the media.
    for who, iid in ((alice, chat_id), (sam, chat_id), (alice, call_id)):
        assert who.get(f"/api/v1/workspace/interactions/{iid}").status_code == 404
    listed = sam.get("/api/v1/workspace/interactions", params={"phone": PHONE})
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    with db.tenant_session(p.tenant) as s:
        assert s.scalars(select(TranscriptSegment)).all() == []
    for row_id, redacted, kept in backup_rows:
        for column, sealed in (("redacted", redacted), ("original", kept)):
            if sealed is None:
                continue
            ctx = FieldContext(tid, "transcript_segments", column, row_id)
            with pytest.raises(CryptoError):
                p.vault.decrypt_field(ctx, sealed)
    assert not media_dir.exists() or list(media_dir.iterdir()) == []
    copies = list(backup_media.iterdir())
    assert len(copies) == 2  # the original and the redacted rendition
    for copy in copies:
        kind: Literal["original", "redacted"] = (
            "original" if copy.name.endswith(".original") else "redacted"
        )
        with copy.open("rb") as src, pytest.raises(CryptoError):
            p.vault.decrypt_stream(media_context(tid, recording_id, kind), src, io.BytesIO())
