"""Lower bounds of the audit log's per-event cost in CPython, against issue #5's goals.

The goals are 50,000 appends per second on one core and full verification
within 3x of raw hashlib SHA-256. This script measures what any append or
verification written in Python on this stack must spend per event, whatever
the Python around it does, and prints the rate those costs alone allow:

* append, database: the project's SQLite table for entries, filled with
  ``sqlite3`` directly (``executemany`` + commit per batch, no SQLAlchemy, no
  Python per row), with the rows the append writes; and the same rows in a
  narrow table (log, sequence, id, leaf hash, entry: no search columns).
* append, entry: the C calls an entry cannot avoid (the OCSF object written
  by orjson with sorted keys from a prebuilt object, SHA-256 of the leaf, one
  interior node hash), next to what the log's entry writer costs today
  (``encode_event_fast``) and ``append_batch`` with its inserts skipped.
* verification: per export line, the C calls the check cannot avoid (parse
  the line, parse the entry, write it back canonically to compare, SHA-256),
  against raw SHA-256 of the same entries.

    .venv/bin/python benchmarks/audit_floors.py [--events 20000]

Every figure is per CPU second of this process (``time.process_time``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from rempart.audit import append_batch
from rempart.audit import store as audit_store
from rempart.audit.merkle import node_hash
from rempart.audit.schema import encode_event_fast, to_ocsf, utc_iso
from rempart.audit.store import ENTRY_COLUMNS, _row, new_entry_ids
from rempart.storage import Database
from rempart.storage.migrate import upgrade
from rempart.types import TenantId

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit import events, tenant

BATCH = 1000


def per_event_us(fn: Callable[[], object], n: int, repeat: int = 3) -> float:
    """Median CPU microseconds per event of ``fn`` over ``repeat`` calls (each covers n events)."""
    runs = []
    for _ in range(repeat):
        c = time.process_time()
        fn()
        runs.append((time.process_time() - c) / n * 1e6)
    return sorted(runs)[len(runs) // 2]


def entry_rows(tenant_id: str, n: int) -> list[tuple[Any, ...]]:
    """The rows the append writes for ``n`` benchmark events (ENTRY_COLUMNS + tenant_id)."""
    origin = f"rempart/audit/tenant/{tenant_id}"
    rows = []
    batch = events(TenantId(tenant_id), 0, n)
    for seq, (event, uid) in enumerate(zip(batch, new_entry_ids(n), strict=True)):
        iso = utc_iso(event.time)
        data, cls, _details, text = encode_event_fast(
            event, log_name=origin, sequence=seq, uid=uid, iso=iso
        )
        lh = hashlib.sha256(b"\x00" + data).digest()
        when = f"{iso[:10]} {iso[11:26]}"
        rows.append(_row(event, uid, seq, data, cls, lh, text or "{}", when, tenant_id))
    return rows


def insert_us(path: Path, sql: str, rows: list[tuple[Any, ...]]) -> float:
    """CPU microseconds per row of ``executemany`` + commit per batch (the project's pragmas)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    c = time.process_time()
    for start in range(0, len(rows), BATCH):
        conn.execute("BEGIN")
        conn.executemany(sql, rows[start : start + BATCH])
        conn.execute("COMMIT")
    spent = time.process_time() - c
    conn.close()
    return spent / len(rows) * 1e6


def database_floor(n: int, tmp: Path) -> tuple[float, float]:
    db_path = tmp / "floor.db"
    db = Database.from_url(f"sqlite:///{db_path}")
    upgrade(db.engine)
    tenant_id = str(tenant(db, "floor").tenant_id)
    db.dispose()
    rows = entry_rows(tenant_id, n)
    columns = (*ENTRY_COLUMNS, "tenant_id")
    marks = ", ".join("?" for _ in columns)
    wide = insert_us(
        db_path, f"INSERT INTO audit_records ({', '.join(columns)}) VALUES ({marks})", rows
    )
    narrow_path = tmp / "narrow.db"
    conn = sqlite3.connect(narrow_path)
    conn.execute(
        "CREATE TABLE entries (log TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT PRIMARY KEY,"
        " leaf_hash BLOB NOT NULL, entry TEXT NOT NULL, UNIQUE (log, seq))"
    )
    conn.close()
    narrow_rows = [(r[-1], r[14], r[0], r[15], r[16]) for r in rows]
    narrow = insert_us(narrow_path, "INSERT INTO entries VALUES (?, ?, ?, ?, ?)", narrow_rows)
    return wide, narrow


def entry_floor(n: int) -> dict[str, float]:
    tenant_id = "5d1c2a8e-0000-4000-8000-000000000000"
    origin = f"rempart/audit/tenant/{tenant_id}"
    evs = events(TenantId(tenant_id), 0, n)
    ids = new_entry_ids(n)
    objects = [
        to_ocsf(e, log_name=origin, sequence=i, uid=u)
        for i, (e, u) in enumerate(zip(evs, ids, strict=True))
    ]
    datas = [orjson.dumps(o, option=orjson.OPT_SORT_KEYS) for o in objects]
    sha = hashlib.sha256
    left = sha(b"left").digest()

    def c_only() -> None:
        for o in objects:
            h = sha(b"\x00" + orjson.dumps(o, option=orjson.OPT_SORT_KEYS)).digest()
            node_hash(left, h)

    def writer() -> None:
        for i, (e, u) in enumerate(zip(evs, ids, strict=True)):
            encode_event_fast(e, log_name=origin, sequence=i, uid=u)

    return {
        "sha": per_event_us(lambda: [sha(b"\x00" + d).digest() for d in datas], n),
        "c_only": per_event_us(c_only, n),
        "writer": per_event_us(writer, n),
    }


def append_without_inserts(n: int, tmp: Path) -> float:
    """CPU microseconds per event of ``append_batch`` with its two inserts skipped (SQLite).

    The real append (head lock and save included), minus the rows reaching the
    database: what the Python side costs per event.
    """
    db = Database.from_url(f"sqlite:///{tmp / 'python.db'}")
    upgrade(db.engine)
    ctx = tenant(db, "python")
    batches = [events(ctx.tenant_id, s, BATCH) for s in range(0, n, BATCH)]
    real = audit_store.bulk_insert
    audit_store.bulk_insert = lambda *args, **kwargs: None
    try:
        c = time.process_time()
        for batch in batches:
            with db.tenant_session(ctx) as session:
                append_batch(session, batch)
        spent = time.process_time() - c
    finally:
        audit_store.bulk_insert = real
        db.dispose()
    return spent / n * 1e6


def verify_floor(n: int) -> tuple[float, float]:
    tenant_id = "5d1c2a8e-0000-4000-8000-000000000000"
    origin = f"rempart/audit/tenant/{tenant_id}"
    evs = events(TenantId(tenant_id), 0, n)
    datas = [
        encode_event_fast(e, log_name=origin, sequence=i, uid=u)[0]
        for i, (e, u) in enumerate(zip(evs, new_entry_ids(n), strict=True))
    ]
    lines = [
        orjson.dumps({"type": "entry", "index": i, "entry": d.decode()})
        for i, d in enumerate(datas)
    ]
    sha = hashlib.sha256

    def checks() -> None:
        for line in lines:
            text = orjson.loads(line)["entry"].encode()
            if orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS) != text:
                raise AssertionError("not canonical")
            sha(b"\x00" + text).digest()

    raw = per_event_us(lambda: [sha(d).digest() for d in datas], n)
    return per_event_us(checks, n), raw


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args(argv)
    n = args.events
    print(
        f"benchmarks/audit_floors.py, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}, {n:,} events, batches of {BATCH}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        wide, narrow = database_floor(n, Path(tmp))
        e = entry_floor(n)
        e["loop"] = append_without_inserts(n, Path(tmp))
    goal = 1e6 / 50_000
    print(f"append goal: 50,000 events/s on one core = {goal:.1f} us per event")
    print(
        f"  database alone (sqlite3, no Python per row): project table {wide:.1f} us/row "
        f"({1e6 / wide:,.0f}/s at most); narrow table (log, seq, id, leaf, entry) "
        f"{narrow:.1f} us/row ({1e6 / narrow:,.0f}/s)"
    )
    print(
        f"  entry, C calls only (orjson of a prebuilt object, leaf hash, one node hash): "
        f"{e['c_only']:.1f} us | entry writer today {e['writer']:.1f} us | append_batch "
        f"with its inserts skipped {e['loop']:.1f} us"
    )
    print(
        f"  at most: project table + append {1e6 / (wide + e['loop']):,.0f}/s; narrow table "
        f"+ append {1e6 / (narrow + e['loop']):,.0f}/s; project table + C calls only "
        f"{1e6 / (wide + e['c_only']):,.0f}/s; narrow + C calls only "
        f"{1e6 / (narrow + e['c_only']):,.0f}/s"
    )
    checks, raw = verify_floor(n)
    print(
        f"verification goal: within 3x raw SHA-256 | per export line, C calls only (parse line, "
        f"parse entry, canonical re-encode, compare, leaf hash) {checks:.2f} us vs raw SHA-256 "
        f"{raw:.2f} us: {checks / raw:.1f}x raw, {1e6 / checks:,.0f} lines/s at most"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
