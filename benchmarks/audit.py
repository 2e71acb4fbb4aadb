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
import base64
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
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from rempart.audit import Actor, AuditEvent, append_batch, export_log, issue_checkpoint
from rempart.audit.export import EXPORT_FORMAT, EXPORT_VERSION
from rempart.audit.merkle import (
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from rempart.audit.models import AuditLogHead, AuditNode, AuditRecord
from rempart.audit.note import (
    Checkpoint,
    Ed25519Signer,
    NoteVerifier,
    sign_checkpoint,
    verifier_key,
)
from rempart.audit.schema import encode_event_fast
from rempart.audit.store import (
    ENTRY_COLUMNS,
    NODE_COLUMNS,
    STORED_MIN_LEVEL,
    StoreNodes,
    bulk_insert,
    log_of,
    new_entry_ids,
)
from rempart.audit.verifier import verify_export, verify_lines
from rempart.storage import Database, TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId

T0 = datetime(2026, 11, 29, tzinfo=UTC)
RECORDS = cast(Table, AuditRecord.__table__)
NODES = cast(Table, AuditNode.__table__)


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
    bulk_insert(session, RECORDS, (*ENTRY_COLUMNS, "tenant_id"), rows)
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


def _export_line(obj: object) -> str:
    """A line in the exporter's shape (``rempart.audit.export``: compact, UTF-8)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def bench_export_verify(entries: int, every: int, path: Path) -> None:
    """``rempart audit verify`` on an export of ``entries`` entries, against raw hashlib.

    The export is written by this script with the log's own entry writer
    (``encode_event_fast``, the append path's) and the exporter's line shape,
    with a signed checkpoint every ``every`` entries: it is not read from a
    database (appending that many events would take most of the run). The
    anchor is raw hashlib SHA-256 of the same entry bytes, timed while they are
    written. The verification is ``verify_export`` on the file, exactly what
    the CLI runs: JSON lines, RFC 8785 check, binding to log and position,
    leaf hashes, tree, checkpoint signatures and roots.
    """
    signer = Ed25519Signer.generate("bench")
    tenant_id = TenantId("5d1c2a8e-0000-4000-8000-000000000000")
    origin = f"rempart/audit/tenant/{tenant_id}"
    sha = hashlib.sha256
    rng = CompactRange()
    raw = 0.0
    note = ""
    chunk = 4096
    with path.open("w", encoding="utf-8") as out:
        header = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "origin": origin}
        out.write(_export_line(header))
        for start in range(0, entries, chunk):
            batch = events(tenant_id, start, min(chunk, entries - start))
            ids = new_entry_ids(len(batch))
            datas = [
                encode_event_fast(e, log_name=origin, sequence=start + i, uid=u)[0]
                for i, (e, u) in enumerate(zip(batch, ids, strict=True))
            ]
            c = time.process_time()
            [sha(d).digest() for d in datas]
            raw += time.process_time() - c
            lines = []
            for i, data in enumerate(datas):
                lh = leaf_hash(data)
                rng.push(lh)
                line = {"type": "entry", "index": start + i, "entry": data.decode()}
                line["leaf_hash"] = base64.b64encode(lh).decode()
                lines.append(_export_line(line))
                if rng.size % every == 0 or rng.size == entries:
                    note = sign_checkpoint(Checkpoint(origin, rng.size, rng.root()), signer)
                    lines.append(_export_line({"type": "checkpoint", "note": note}))
            out.write("".join(lines))
    size_mib = path.stat().st_size / 2**20
    verifier = NoteVerifier.from_vkey(verifier_key(signer))
    rss_before = maxrss_mib()
    w, c = time.perf_counter(), time.process_time()
    report = verify_export(path, note, verifier)
    cpu, wall = time.process_time() - c, time.perf_counter() - w
    assert report.ok, report.problem
    assert report.entries == entries
    print(
        f"verify  export file of {entries:,} entries ({size_mib:,.0f} MiB, checkpoint every "
        f"{every:,}; written by this script with the entry writer, not read from a database): "
        f"verify_export {rate(entries, cpu):,.0f} entries/s per CPU-s ({rate(entries, wall):,.0f}"
        f" wall) | raw hashlib SHA-256 of the same entry bytes {rate(entries, raw):,.0f}/s per "
        f"CPU-s | ratio {cpu / raw:.1f}x raw | peak RSS {rss_before:,.0f} MiB before, "
        f"{maxrss_mib():,.0f} MiB after"
    )


def _subtree_nodes(level0: list[bytes], start: int) -> tuple[list[tuple[int, int, bytes]], bytes]:
    """Stored nodes (level >= STORED_MIN_LEVEL) of the leaves ``start...``, aligned on
    ``len(level0)`` (a power of two, or fewer leaves at the log's end), and the top hash."""
    sha = hashlib.sha256
    out: list[tuple[int, int, bytes]] = []
    level, nodes = 0, level0
    while len(nodes) > 1:
        pairs = zip(nodes[::2], nodes[1::2], strict=False)
        nodes = [sha(b"\x01" + a + b).digest() for a, b in pairs]
        level += 1
        if level >= STORED_MIN_LEVEL:
            base = start >> level
            out.extend((level, base + i, h) for i, h in enumerate(nodes))
    return out, nodes[0] if nodes else b""


def bench_big_log_proofs(db: Database, leaves: int, samples: int) -> None:
    """Proof generation from the database for a log of ``leaves`` leaves.

    The log is built by a bulk path, not by ``append_batch``: rows carrying the
    leaf hash and short constant fields, the stored nodes (level >= 4) computed
    here a 65,536-leaf subtree at a time, the head, then a checkpoint signed by
    ``issue_checkpoint``. The search indexes of ``audit_records`` (time,
    actor, action, resource, tenant) are dropped in this throw-away database
    to load faster; proofs read only the primary keys and the unique
    ``(tenant_id, seq)`` index, which stay. Proofs are then generated as the
    API does (``StoreNodes``: one query for the leaves, one per node level) and
    checked against the signed root.
    """
    from sqlalchemy import text

    ctx = tenant(db, f"big-{random.randrange(10**9)}")
    tid = str(ctx.tenant_id)
    with db.engine.begin() as conn:
        for name in ("time", "actor_id", "action", "resource_id", "tenant_id"):
            conn.execute(text(f"DROP INDEX IF EXISTS ix_audit_records_{name}"))
    sha = hashlib.sha256
    rng = CompactRange()
    top = CompactRange()  # over complete 65,536-leaf subtrees
    span = 1 << 16
    w0 = time.perf_counter()
    columns: tuple[str, ...] = ("id", "time", "actor_type", "actor_id", "action")
    columns += ("resource_type", "outcome", "details", "seq", "leaf_hash", "tenant_id")
    when = T0
    for start in range(0, leaves, span):
        n = min(span, leaves - start)
        hashes = [sha(b"\x00%d" % i).digest() for i in range(start, start + n)]
        nodes, subtree_root = _subtree_nodes(hashes, start)
        if n == span:
            for node in top.append(subtree_root):
                nodes.append((node.level + 16, node.index, node.hash))
        rng.push_many(hashes)
        rows = [
            (f"{i:x}", when, "user", "a", "x.read", "x", "success", "{}", i, h, tid)
            for i, h in zip(range(start, start + n), hashes, strict=True)
        ]
        with db.tenant_session(ctx) as session:
            bulk_insert(session, RECORDS, columns, rows)
            bulk_insert(session, NODES, NODE_COLUMNS, [(*x, tid) for x in nodes])
    with db.tenant_session(ctx) as session:
        session.add(
            AuditLogHead(
                tenant_id=tid,
                origin=f"rempart/audit/tenant/{tid}",
                size=rng.size,
                compact=[h.hex() for h in rng.hashes],
                root=rng.root(),
                updated_at=datetime.now(UTC),
            )
        )
    signer = Ed25519Signer.generate("bench")
    with db.tenant_session(ctx) as session:
        cp = issue_checkpoint(session, signer)
    built = time.perf_counter() - w0
    assert cp.size == leaves
    assert cp.root == rng.root()
    rnd = random.Random(3)
    incl, cons = [], []
    with db.tenant_session(ctx) as session:
        nodes_source = StoreNodes(session, log_of(session))
        for _ in range(samples):
            index = rnd.randrange(leaves)
            t = time.perf_counter()
            proof = inclusion_proof(nodes_source, index, leaves)
            incl.append(time.perf_counter() - t)
            verify_inclusion(index, leaves, sha(b"\x00%d" % index).digest(), proof, cp.root)
            old = rnd.randrange(1, leaves)
            t = time.perf_counter()
            cproof = consistency_proof(nodes_source, old, leaves)
            cons.append(time.perf_counter() - t)
            old_root = tree_root_of_prefix(nodes_source, old)
            verify_consistency(old, leaves, cproof, old_root, cp.root)
    print(
        f"proofs  {db.dialect:10s} at {leaves:,} leaves (log built by a bulk path in "
        f"{built:,.0f} s: leaf hashes, stored nodes, head; search indexes dropped): "
        f"inclusion {statistics.median(incl) * 1e3:.2f} ms (p90 "
        f"{sorted(incl)[int(0.9 * samples)] * 1e3:.2f}), consistency "
        f"{statistics.median(cons) * 1e3:.2f} ms (p90 {sorted(cons)[int(0.9 * samples)] * 1e3:.2f})"
        f", wall, median of {samples}, each proof checked against the signed root"
    )


def tree_root_of_prefix(source: StoreNodes, size: int) -> bytes:
    """Root of the first ``size`` leaves, from the stored nodes (to check consistency proofs)."""
    from rempart.audit.merkle import tree_root

    return tree_root(source, size)


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
    parser.add_argument(
        "--export-entries",
        type=int,
        default=200_000,
        help="entries of the export file verified by verify_export (0 skips it)",
    )
    parser.add_argument(
        "--export-checkpoint-every", type=int, default=65_536, help="entries per checkpoint"
    )
    parser.add_argument(
        "--big-log",
        type=int,
        default=0,
        help="leaves of a SQLite log built by a bulk path, for proof latency (0 skips it)",
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
        if args.export_entries:
            bench_export_verify(
                args.export_entries, args.export_checkpoint_every, Path(tmp) / "export.jsonl"
            )
            (Path(tmp) / "export.jsonl").unlink()
        db = Database.from_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db.engine)
        ctx, signer = bench_append(db, args.events, args.batch, args.repeat)
        bench_append(db, min(args.events, 2000), 1, 1)
        bench_db_proofs(db, ctx, signer, args.samples)
        db.dispose()
        if args.big_log:
            big = Database.from_url(f"sqlite:///{Path(tmp) / 'big.db'}")
            upgrade(big.engine)
            bench_big_log_proofs(big, args.big_log, args.samples)
            big.dispose()
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
