"""Benchmark of the audit log: append throughput, tree verification, proof latency.

Anchors measured side by side in the same run:
* append: the Merkle log (``append_batch``: canonical entry, leaf, nodes,
  locked head) against a plain hash chain writing the same rows
  (``sha256(prev || entry)``, no nodes, no head) into the same database;
* verification: recomputing the tree from entries against raw hashlib
  SHA-256 over the same entries; and the full offline verifier (JSON parse,
  RFC 8785 check, signatures) on an export;
* proofs: inclusion and consistency proof generation at N leaves, in memory
  and from the database.

    .venv/bin/python benchmarks/audit.py            # quick (about a minute)
    .venv/bin/python benchmarks/audit.py --events 200000 --leaves 10000000
    .venv/bin/python benchmarks/audit.py --postgres-url postgresql://...
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from rempart.audit import Actor, AuditEvent, append_batch, export_log, issue_checkpoint
from rempart.audit.merkle import (
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from rempart.audit.models import AuditRecord
from rempart.audit.note import Ed25519Signer, NoteVerifier, verifier_key
from rempart.audit.schema import canonical, classify, to_ocsf
from rempart.audit.store import StoreNodes, log_of
from rempart.audit.verifier import verify_lines
from rempart.storage import Database, TenantContext
from rempart.storage.base import new_id
from rempart.storage.migrate import upgrade
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId

T0 = datetime(2026, 11, 29, tzinfo=UTC)


def events(tenant: TenantId, start: int, n: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            tenant_id=tenant,
            actor=Actor("user", f"agent-{i % 50}"),
            action="interaction.read",
            resource_type="interaction",
            resource_id=f"int-{i}",
            outcome="success",
            time=T0 + timedelta(milliseconds=i),
            source_ip="192.0.2.7",
            user_agent="bench",
            request_id=f"req-{i}",
            details={"fields": ["subject", "channel"]},
        )
        for i in range(start, start + n)
    ]


def chain_append(
    session: object, tenant: TenantId, batch: list[AuditEvent], state: dict[str, object]
) -> None:
    """The anchor: the same rows and canonical entries, linked by a plain hash chain."""
    prev = state["prev"]
    assert isinstance(prev, bytes)
    seq = state["seq"]
    assert isinstance(seq, int)
    rows = []
    log_name = f"chain/{tenant}"
    for event in batch:
        uid = new_id()
        data = canonical(to_ocsf(event, log_name=log_name, sequence=seq, uid=uid))
        prev = hashlib.sha256(prev + data).digest()
        rows.append(
            {
                "id": uid,
                "tenant_id": str(tenant),
                "time": event.time,
                "actor_type": event.actor.type,
                "actor_id": event.actor.id,
                "action": event.action,
                "resource_type": event.resource_type,
                "resource_id": event.resource_id,
                "outcome": event.outcome,
                "source_ip": event.source_ip,
                "user_agent": event.user_agent,
                "request_id": event.request_id,
                "details": dict(event.details),
                "class_uid": int(classify(event)),
                "seq": seq,
                "leaf_hash": prev,
                "entry": data.decode(),
            }
        )
        seq += 1
    session.execute(insert(AuditRecord), rows)  # type: ignore[attr-defined]
    state["prev"], state["seq"] = prev, seq


def tenant(db: Database, slug: str) -> TenantContext:
    with db.platform_session() as session:
        return TenantContext(TenantId(create_tenant(session, slug, slug).id))


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_append(
    db: Database, total: int, batch: int, repeat: int
) -> tuple[TenantContext, Ed25519Signer]:
    """Events/s for the Merkle log and the hash chain, wall clock and CPU time of this process.

    CPU time is what "on one core" means on a shared machine; wall time also
    counts waiting for the disk and for other processes.
    """
    wall: dict[str, list[float]] = {"merkle": [], "chain": []}
    cpu: dict[str, list[float]] = {"merkle": [], "chain": []}
    last_ctx = None
    for r in range(repeat):
        suffix = f"{r}-{random.randrange(10**9)}"
        m_ctx, c_ctx = tenant(db, f"m-{suffix}"), tenant(db, f"c-{suffix}")
        state: dict[str, object] = {"prev": b"\x00" * 32, "seq": 0}
        spent = {"merkle": [0.0, 0.0], "chain": [0.0, 0.0]}
        # Interleave the two so both see the same machine and cache conditions.
        for start in range(0, total, batch):
            n = min(batch, total - start)
            evs_m = events(m_ctx.tenant_id, start, n)
            evs_c = events(c_ctx.tenant_id, start, n)
            w, c = time.perf_counter(), time.process_time()
            with db.tenant_session(m_ctx) as session:
                append_batch(session, evs_m)
            spent["merkle"][0] += time.perf_counter() - w
            spent["merkle"][1] += time.process_time() - c
            w, c = time.perf_counter(), time.process_time()
            with db.tenant_session(c_ctx) as session:
                chain_append(session, c_ctx.tenant_id, evs_c, state)
            spent["chain"][0] += time.perf_counter() - w
            spent["chain"][1] += time.process_time() - c
        for kind, (w_total, c_total) in spent.items():
            wall[kind].append(rate(total, w_total))
            cpu[kind].append(rate(total, c_total))
        last_ctx = m_ctx
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(
        f"append  {db.dialect:10s} batch {batch:5d}: merkle {med['merkle']:8,.0f} ev/s wall "
        f"({med_cpu['merkle']:8,.0f} per CPU-s) | hash chain {med['chain']:8,.0f} ev/s wall "
        f"({med_cpu['chain']:8,.0f} per CPU-s) | ratio merkle/chain "
        f"{med['merkle'] / med['chain']:.2f} wall, {med_cpu['merkle'] / med_cpu['chain']:.2f} CPU"
        f"  (median of {repeat})"
    )
    assert last_ctx is not None
    return last_ctx, Ed25519Signer.generate("bench")


def bench_db_proofs(db: Database, ctx: TenantContext, signer: Ed25519Signer, samples: int) -> None:
    with db.tenant_session(ctx) as session:
        cp = issue_checkpoint(session, signer)
    size = cp.size
    rnd = random.Random(1)
    with db.tenant_session(ctx) as session:
        nodes = StoreNodes(session, log_of(session))
        incl = [
            median_time(lambda: inclusion_proof(nodes, rnd.randrange(size), size), 1)
            for _ in range(samples)
        ]
        cons = [
            median_time(lambda: consistency_proof(nodes, rnd.randrange(1, size), size), 1)
            for _ in range(samples)
        ]
    print(
        f"proofs  {db.dialect:10s} at {size:,} leaves: "
        f"inclusion {statistics.median(incl) * 1e3:.2f} ms, "
        f"consistency {statistics.median(cons) * 1e3:.2f} ms "
        f"(median of {samples}, from the database)"
    )
    out = io.StringIO()
    with db.tenant_session(ctx) as session:
        export_log(session, out)
    lines = out.getvalue().splitlines(keepends=True)
    verifier = NoteVerifier.from_vkey(verifier_key(signer))
    t = median_time(lambda: verify_lines(lines, cp.note, verifier), 1)
    report = verify_lines(lines, cp.note, verifier)
    assert report.ok, report.problem
    print(
        f"verify  export of {size:,} entries (JSON + RFC 8785 check + tree + signature): "
        f"{rate(size, t):,.0f} entries/s"
    )


def bench_tree(leaves: int, repeat: int, samples: int) -> None:
    data = [f'{{"i":{i},"pad":"{"x" * 180}"}}'.encode() for i in range(leaves)]

    def raw() -> None:
        sha = hashlib.sha256
        for d in data:
            sha(d).digest()

    def merkle() -> None:
        rng = CompactRange()
        push = rng.push
        for d in data:
            push(leaf_hash(d))
        rng.root()

    t_raw, t_tree = median_time(raw, repeat), median_time(merkle, repeat)
    print(
        f"tree    {leaves:,} leaves of ~200 B: recompute root "
        f"{rate(leaves, t_tree):,.0f} leaves/s | raw hashlib {rate(leaves, t_raw):,.0f} /s | "
        f"ratio {t_tree / t_raw:.2f}x raw  (median of {repeat})"
    )
    tree = MemoryTree()
    for d in data:
        tree.append(leaf_hash(d))
    rnd = random.Random(2)
    incl = [
        median_time(lambda: inclusion_proof(tree, rnd.randrange(leaves), leaves), 1)
        for _ in range(samples)
    ]
    cons = [
        median_time(lambda: consistency_proof(tree, rnd.randrange(1, leaves), leaves), 1)
        for _ in range(samples)
    ]
    print(
        f"proofs  memory     at {leaves:,} leaves: "
        f"inclusion {statistics.median(incl) * 1e6:.1f} us, "
        f"consistency {statistics.median(cons) * 1e6:.1f} us (median of {samples})"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="events appended per run")
    parser.add_argument("--batch", type=int, default=1000, help="events per transaction")
    parser.add_argument(
        "--leaves", type=int, default=1_000_000, help="leaves for the in-memory tree"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=50, help="proofs timed per kind")
    parser.add_argument("--postgres-url", default=None, help="also run the append bench here")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throw-away PostgreSQL (the test suite's) and run the append bench there",
    )
    args = parser.parse_args(argv)
    print(
        f"benchmarks/audit.py on {sys.platform}, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    bench_tree(args.leaves, args.repeat, args.samples)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db.engine)
        ctx, signer = bench_append(db, args.events, args.batch, args.repeat)
        bench_append(db, min(args.events, 2000), 1, 1)
        bench_db_proofs(db, ctx, signer, args.samples)
        db.dispose()
    if args.postgres_url:
        bench_postgres(args.postgres_url, args)
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pg import PostgresServer  # the suite's throw-away server

        server = PostgresServer.start()
        try:
            # As in production and the tests: a table owner migrates, the app role
            # (no BYPASSRLS) appends, so row-level security is in the measurement.
            server.execute("CREATE ROLE bench_owner LOGIN CREATEROLE")
            server.execute("CREATE DATABASE bench OWNER bench_owner")
            owner = Database.from_url(server.url("bench_owner", "bench"))
            upgrade(owner.engine)
            owner.dispose()
            server.execute("CREATE ROLE bench_app LOGIN IN ROLE rempart_app")
            bench_postgres(server.url("bench_app", "bench"), args)
        finally:
            server.stop()


def bench_postgres(url: str, args: argparse.Namespace) -> None:
    db = Database.from_url(url)
    if not args.postgres:
        upgrade(db.engine)
    ctx, signer = bench_append(db, args.events, args.batch, args.repeat)
    bench_db_proofs(db, ctx, signer, args.samples)
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
