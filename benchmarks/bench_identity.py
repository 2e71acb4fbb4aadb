"""Benchmark of identity's hot paths: ID token validation and session resolution.

Anchors measured side by side in the same run:
* token: Rempart's strict ``validate_id_token`` (header checks, pinned key
  lookup, signature, every claim rule) against joserfc's own
  ``jwt.decode`` + ``JWTClaimsRegistry.validate`` on the same RS256 token
  with the same key (what a plain integration would do);
* session: ``resolve_session`` (the per-request check: session row, user,
  tenant, policy and allowlist, provider, SCIM-group roles) against the
  minimal lookup it replaces (one primary-key read of the session row), on
  the same SQLite database.

    .venv/bin/python benchmarks/bench_identity.py            # quick (seconds)
    .venv/bin/python benchmarks/bench_identity.py --rounds 5000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from joserfc import jws, jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from rempart.identity.assurance import Level
from rempart.identity.jwt import ValidationPolicy, validate_id_token
from rempart.identity.keys import PinnedKeys
from rempart.identity.models import IdentityPolicy, User, UserSession
from rempart.identity.sessions import create_session, resolve_session
from rempart.storage import Database, TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId

ISSUER = "https://idp.bench.example"
CLIENT = "rempart-bench"


def median_us(fn: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def bench_tokens(rounds: int) -> tuple[float, float]:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "alice",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 300,
        "nonce": "n",
        "amr": ["pwd"],
    }
    token = jws.serialize_compact(
        {"alg": "RS256", "kid": "k1"}, json.dumps(claims).encode(), key, algorithms=["RS256"]
    )
    keys = PinnedKeys({"keys": [key.as_dict(private=False)]}, fetched_at=now)
    policy = ValidationPolicy(issuer=ISSUER, client_id=CLIENT, algorithms=frozenset({"RS256"}))
    public = RSAKey.import_key(key.as_dict(private=False))
    registry = jwt.JWTClaimsRegistry(iss={"essential": True, "value": ISSUER})

    def ours() -> object:
        return validate_id_token(token, keys, policy, nonce="n", now=now)

    def plain() -> object:
        decoded = jwt.decode(token, public, algorithms=["RS256"])
        registry.validate(decoded.claims)
        return decoded

    ours()
    plain()
    return median_us(ours, rounds), median_us(plain, rounds)


def bench_sessions(rounds: int) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="rempart-bench-identity-"))
    db = Database.from_url(f"sqlite:///{root / 'bench.db'}")
    upgrade(db.engine)
    now = datetime.now(UTC)
    with db.platform_session() as s:
        tenant = create_tenant(s, "bench", "Bench")
        ctx = TenantContext(TenantId(tenant.id))
    with db.tenant_session(ctx) as s:
        user = User(
            tenant_id=ctx.tenant_id, issuer=ISSUER, subject="alice", active=True, created_at=now
        )
        s.add(user)
        s.flush()
        policy = IdentityPolicy(
            tenant_id=ctx.tenant_id,
            min_assurance=1,
            idle_timeout_s=3600,
            absolute_timeout_s=7200,
            step_up_max_age_s=900,
            allowed_networks=["10.0.0.0/8"],
            updated_at=now,
        )
        s.add(policy)
        issued = create_session(
            s,
            ctx.tenant_id,
            user=user,
            issuer=ISSUER,
            idp_sid="sid",
            assurance=Level.SINGLE_FACTOR,
            acr=None,
            amr=("pwd",),
            auth_time=now,
            policy=policy,
            source_ip="10.0.0.1",
            user_agent="bench",
        )

    def ours() -> object:
        return resolve_session(db, issued.cookie_value, source_ip="10.0.0.1")

    def minimal() -> object:
        with db.tenant_session(ctx) as s:
            return s.scalar(select(UserSession).where(UserSession.id == issued.session_id))

    ours()
    minimal()
    try:
        return median_us(ours, rounds), median_us(minimal, rounds)
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()
    ours, plain = bench_tokens(args.rounds)
    print(
        f"ID token validation: rempart {ours:.1f} us, joserfc decode+claims {plain:.1f} us, "
        f"ratio {ours / plain:.2f}x (median of {args.rounds})"
    )
    ours, minimal = bench_sessions(args.rounds)
    print(
        f"session resolution: rempart {ours:.1f} us, one-row lookup {minimal:.1f} us, "
        f"ratio {ours / minimal:.2f}x (median of {args.rounds}, SQLite)"
    )


if __name__ == "__main__":
    main()
