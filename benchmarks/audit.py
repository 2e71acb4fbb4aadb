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
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from rempart.audit import Actor, AuditEvent, append_batch, export_log, issue_checkpoint
from rempart.audit.merkle import (
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from rempart.audit.models import AuditRecord
from rempart.audit.note import (
    Checkpoint,
    Ed25519Signer,
    NoteVerifier,
    sign_checkpoint,
    verifier_key,
)
from rempart.audit.schema import encode_event_fast
from rempart.audit.store import ENTRY_COLUMNS, StoreNodes, bulk_insert, log_of, new_entry_ids
from rempart.audit.verifier import verify_lines
from rempart.storage import Database, TenantContext
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
    session: Session, tenant: TenantId, batch: list[AuditEvent], state: dict[str, object]
) -> None:
    """The anchor: the same rows and canonical entries, linked by a plain hash chain.

    It writes through the same entry writer and the same bulk insert as the
    Merkle log, so the ratio is the cost of the tree (nodes, locked head).
    """
    prev = state["prev"]
    assert isinstance(prev, bytes)
    seq = state["seq"]
    assert isinstance(seq, int)
    rows = []
    log_name = f"chain/{tenant}"
    sha = hashlib.sha256
    for event, uid in zip(batch, new_entry_ids(len(batch)), strict=True):
        data, class_uid, details, text = encode_event_fast(
            event, log_name=log_name, sequence=seq, uid=uid
        )
        prev = sha(prev + data).digest()
        row = (
            uid,
            event.time,
            event.actor.type,
            event.actor.id,
            event.action,
            event.resource_type,
            event.resource_id,
            event.outcome,
            event.reason,
            event.source_ip,
            event.user_agent,
            event.request_id,
            text if isinstance(details, dict) and text is not None else "{}",
            class_uid,
            seq,
            prev,
            data.decode(),
            str(tenant),
        )
        rows.append(row)
        seq += 1
    bulk_insert(session, AuditRecord.__table__, (*ENTRY_COLUMNS, "tenant_id"), rows)
    state["prev"], state["seq"] = prev, seq


def tenant(db: Database, slug: str) -> TenantContext:
    with db.platform_session() as session:
        return TenantContext(TenantId(create_tenant(session, slug, slug).id))


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def median_cpu(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU time of this process over ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


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
    report = verify_lines(lines, cp.note, verifier)
    assert report.ok, report.problem
    entries = [json.loads(x)["entry"].encode() for x in lines if x.startswith('{"type":"entry"')]
    sha = hashlib.sha256
    t_ver = median_cpu(lambda: verify_lines(lines, cp.note, verifier), 3)
    t_raw = median_cpu(lambda: [sha(e).digest() for e in entries], 3)
    print(
        f"verify  export of {size:,} entries (JSON lines + RFC 8785 check + binding + tree + "
        f"signatures): {rate(size, t_ver):,.0f} entries/s per CPU-s | raw hashlib SHA-256 of "
        f"the same entries {rate(size, t_raw):,.0f}/s | ratio {t_ver / t_raw:.1f}x raw "
        f"(median of 3)"
    )


PAD = b"x" * 180


def leaf_chunk(start: int, stop: int) -> list[bytes]:
    """Leaves ``start`` to ``stop - 1``: distinct ~200-byte entries, made on demand."""
    return [b'{"i":%d,"pad":"%s"}' % (i, PAD) for i in range(start, stop)]


def maxrss_mib() -> float:
    """Peak resident set size of this process so far (Linux: KiB; macOS: bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def bench_tree(leaves: int, chunk: int) -> None:
    """Tree verification of ``leaves`` leaves, streamed: leaf hashes plus RFC 9162 tree.

    The leaves are produced ``chunk`` at a time (not timed) and dropped, so the
    only state that lives across the run is the compact range: O(log n) hashes.
    Each chunk is hashed twice, interleaved: raw hashlib SHA-256 of each leaf
    (the anchor, in a list comprehension, its fastest Python form) and the
    verifier's batch path (``CompactRange.extend_data``: leaf hashes, then one
    comprehension per level). The root is then checked against a signed
    checkpoint, as the verifier does. CPU time of this process is the measure.
    """
    sha = hashlib.sha256
    rng = CompactRange()
    spent = {"raw": 0.0, "tree": 0.0}
    wall = {"raw": 0.0, "tree": 0.0}
    rss_start = None
    for n, start in enumerate(range(0, leaves, chunk)):
        data = leaf_chunk(start, min(start + chunk, leaves))
        if rss_start is None:
            rss_start = maxrss_mib()
        order = ("raw", "tree") if n % 2 == 0 else ("tree", "raw")
        for kind in order:
            w, c = time.perf_counter(), time.process_time()
            if kind == "raw":
                [sha(d).digest() for d in data]
            else:
                rng.extend_data(data)
            spent[kind] += time.process_time() - c
            wall[kind] += time.perf_counter() - w
        del data
    signer = Ed25519Signer.generate("bench")
    verifier = NoteVerifier.from_vkey(verifier_key(signer))
    note = sign_checkpoint(Checkpoint("bench/tree", rng.size, rng.root()), signer)
    c = time.process_time()
    assert verifier.verify(note).root == rng.root()
    spent["tree"] += time.process_time() - c
    rss_end = maxrss_mib()
    assert rss_start is not None
    state = len(rng.hashes)
    print(
        f"tree    {leaves:,} leaves of ~200 B, streamed in chunks of {chunk:,}: "
        f"verify (leaf hashes + tree + root vs signed checkpoint) "
        f"{rate(leaves, spent['tree']):,.0f} leaves/s per CPU-s "
        f"({rate(leaves, wall['tree']):,.0f} wall) | raw hashlib SHA-256 "
        f"{rate(leaves, spent['raw']):,.0f}/s per CPU-s ({rate(leaves, wall['raw']):,.0f} wall)"
        f" | ratio {spent['tree'] / spent['raw']:.2f}x raw CPU "
        f"({wall['tree'] / wall['raw']:.2f}x wall)"
    )
    print(
        f"tree    memory: state kept across the run {state} hashes "
        f"(log2 n = {leaves.bit_length() - 1}); peak RSS {rss_start:,.0f} MiB after the "
        f"first chunk, {rss_end:,.0f} MiB at the end (+{rss_end - rss_start:,.0f} MiB over "
        f"{leaves:,} leaves)"
    )


def bench_tree_tracemalloc(leaves: int, chunk: int) -> None:
    """Python allocations of the verification itself, beyond the chunk being hashed."""
    rng = CompactRange()
    peaks: list[int] = []
    tracemalloc.start()
    try:
        for start in range(0, leaves, chunk):
            data = leaf_chunk(start, min(start + chunk, leaves))
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            rng.extend_data(data)
            if len(data) == chunk:  # a short last chunk would flatter the figure
                peaks.append(tracemalloc.get_traced_memory()[1] - base)
            del data
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    print(
        f"tree    tracemalloc over {leaves:,} leaves: transient peak per chunk of {chunk:,} "
        f"{max(peaks) / 2**20:.1f} MiB (first full chunk {peaks[0] / 2**20:.1f}, last "
        f"{peaks[-1] / 2**20:.1f}: the batch's hashes, independent of n); held after the run "
        f"{held / 1024:.1f} KiB ({len(rng.hashes)} hashes in the compact range)"
    )


def bench_memory_proofs(leaves: int, chunk: int, samples: int) -> None:
    """Proof generation at ``leaves`` leaves from an in-memory tree of every node."""
    tree = MemoryTree()
    level0: list[bytes] = []
    for start in range(0, leaves, chunk):
        level0.extend(leaf_hash(d) for d in leaf_chunk(start, min(start + chunk, leaves)))
    tree.levels = [level0]
    sha = hashlib.sha256
    while len(tree.levels[-1]) > 1:
        below = tree.levels[-1]
        tree.levels.append(
            [sha(b"\x01" + a + b).digest() for a, b in zip(below[::2], below[1::2], strict=False)]
        )
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
        "--leaves", type=int, default=1_000_000, help="leaves for the streamed tree verification"
    )
    parser.add_argument("--chunk", type=int, default=1 << 16, help="leaves per streamed chunk")
    parser.add_argument(
        "--trace-leaves",
        type=int,
        default=1_000_000,
        help="leaves for the tracemalloc pass (slower; 0 skips it)",
    )
    parser.add_argument(
        "--proof-leaves",
        type=int,
        default=None,
        help="leaves of the in-memory tree for proof latency (default: --leaves)",
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
    bench_tree(args.leaves, args.chunk)
    if args.trace_leaves:
        bench_tree_tracemalloc(min(args.trace_leaves, args.leaves), args.chunk)
    bench_memory_proofs(args.proof_leaves or args.leaves, args.chunk, args.samples)
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
