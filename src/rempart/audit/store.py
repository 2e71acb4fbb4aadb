"""The per-log storage engine: lock the tree head, append leaves, read nodes for proofs.

A session opened for a tenant works on that tenant's log; a platform session
works on the platform's log. Appending locks the log's head row (``SELECT
... FOR UPDATE`` on PostgreSQL; SQLite serialises writers on its database
lock, taken by the head upsert), so two transactions can never give out the
same sequence number; the unique ``(log, seq)`` constraint is the last wall.
Everything is written in the caller's transaction: an act and its trace
commit or roll back together.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Any, NamedTuple

from sqlalchemy import Connection, LargeBinary, Table, bindparam, select, union_all, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rempart.audit.errors import LogStateError
from rempart.audit.events import AuditEvent
from rempart.audit.merkle import EMPTY_ROOT, CompactRange
from rempart.audit.merkle.proofs import NodeId
from rempart.audit.models import (
    AuditCheckpoint,
    AuditLogHead,
    AuditNode,
    AuditRecord,
    PlatformAuditNode,
    PlatformAuditRecord,
    PlatformCheckpoint,
    PlatformLogHead,
)
from rempart.audit.schema import encode_event_fast, utc_iso
from rempart.errors import ValidationFailed
from rempart.storage.base import UTCDateTime, new_id
from rempart.storage.tenancy import PLATFORM_KEY, TenantContextMissing, session_tenant
from rempart.types import Clock, utc_now

ORIGIN_PREFIX = "rempart/audit"
"""First part of every log's origin line; the origin is fixed when a log is created."""
PLATFORM_LOG_ID = "platform"
NODE_COLUMNS = ("level", "idx", "hash", "tenant_id")
STORED_MIN_LEVEL = 4
"""Interior nodes below this level are not stored (that would be about one row per
entry): a proof recomputes such a node from its at most ``2**(STORED_MIN_LEVEL - 1)``
leaf hashes. Nodes of lower levels written by earlier versions are simply unused."""


@dataclass(frozen=True, slots=True)
class LogRef:
    """Which log a session works on, and the tables that hold it."""

    tenant_id: str | None
    record: type[Any]
    head: type[Any]
    node: type[Any]
    checkpoint: type[Any]

    @property
    def is_platform(self) -> bool:
        return self.tenant_id is None

    def default_origin(self) -> str:
        if self.tenant_id is None:
            return f"{ORIGIN_PREFIX}/platform"
        return f"{ORIGIN_PREFIX}/tenant/{self.tenant_id}"

    def key_filter(self, model: type[Any]) -> list[Any]:
        """Conditions restricting ``model`` to this log (tenant sessions add them again)."""
        if self.tenant_id is None:
            return []
        return [model.tenant_id == self.tenant_id]

    def key_values(self) -> dict[str, Any]:
        return {} if self.tenant_id is None else {"tenant_id": self.tenant_id}


class Appended(NamedTuple):
    """Where an event landed: its id (also ``metadata.uid``), index and leaf hash."""

    uid: str
    seq: int
    leaf_hash: bytes


def log_of(session: Session) -> LogRef:
    """The log a session acts on: its tenant's, or the platform's for a platform session."""
    tenant = session_tenant(session)
    if tenant is not None:
        return LogRef(str(tenant), AuditRecord, AuditLogHead, AuditNode, AuditCheckpoint)
    if session.info.get(PLATFORM_KEY):
        return LogRef(
            None, PlatformAuditRecord, PlatformLogHead, PlatformAuditNode, PlatformCheckpoint
        )
    raise TenantContextMissing("the audit log needs a tenant or a platform session")


def _upsert(connection: Connection) -> Any:
    return pg_insert if connection.dialect.name == "postgresql" else sqlite_insert


def _connection(target: Session | Connection) -> Connection:
    """The connection of a session's transaction (a hot path may pass it once for all)."""
    return target.connection() if isinstance(target, Session) else target


@dataclass(slots=True)
class HeadState:
    """The locked head of a log, read with Core statements (cheaper than the ORM per append)."""

    id: str
    origin: str
    size: int
    compact: list[str]
    root: bytes


@functools.cache
def _head_statements(table: Table, by_tenant: bool) -> tuple[Any, Any, Any]:
    """(lock, read, save) statements for a head table, built once and cached."""
    key = table.c.tenant_id if by_tenant else table.c.id
    where = key == bindparam("log_key")
    state = (table.c.id, table.c.origin, table.c.size, table.c.compact, table.c.root)
    # A no-op update takes the row lock, and on SQLite the database write lock,
    # and returns the state in the same statement: the state this transaction extends.
    lock = update(table).where(where).values(size=table.c.size).returning(*state)
    read = select(*state).where(where).with_for_update()
    save = (
        update(table)
        .where(table.c.id == bindparam("head_id"))
        .values(
            size=bindparam("new_size"),
            compact=bindparam("new_compact"),
            root=bindparam("new_root"),
            updated_at=bindparam("new_updated_at"),
        )
    )
    return lock, read, save


def lock_head(session: Session | Connection, log: LogRef, *, clock: Clock = utc_now) -> HeadState:
    """Lock the log's head row for the rest of the transaction (creating it on first use)."""
    table: Table = log.head.__table__
    lock, read, _save = _head_statements(table, log.tenant_id is not None)
    log_key = log.tenant_id if log.tenant_id is not None else PLATFORM_LOG_ID
    connection = _connection(session)
    row = connection.execute(lock, {"log_key": log_key}).one_or_none()
    if row is None:
        values: dict[str, Any] = {
            "id": new_id() if log.tenant_id is not None else PLATFORM_LOG_ID,
            "origin": log.default_origin(),
            "size": 0,
            "compact": [],
            "root": EMPTY_ROOT,
            "updated_at": clock(),
            **log.key_values(),
        }
        conflict = ["tenant_id"] if log.tenant_id is not None else ["id"]
        connection.execute(
            _upsert(connection)(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=conflict)
        )
        row = connection.execute(read, {"log_key": log_key}).one()
    return HeadState(row.id, row.origin, int(row.size), list(row.compact), bytes(row.root))


def save_head(
    session: Session | Connection,
    log: LogRef,
    head: HeadState,
    rng: CompactRange,
    *,
    clock: Clock = utc_now,
) -> None:
    """Write the extended tree state back to the locked head row."""
    _lock, _read, save = _head_statements(log.head.__table__, log.tenant_id is not None)
    head.size, head.compact, head.root = rng.size, [h.hex() for h in rng.hashes], rng.root()
    _connection(session).execute(
        save,
        {
            "head_id": head.id,
            "new_size": head.size,
            "new_compact": head.compact,
            "new_root": head.root,
            "new_updated_at": clock(),
        },
    )


def read_head(session: Session, log: LogRef) -> Any | None:
    """The head row without locking (for checkpoints and proofs), or None for an empty log."""
    return session.scalars(select(log.head).where(*log.key_filter(log.head))).one_or_none()


def compact_of(head: Any) -> CompactRange:
    try:
        return CompactRange(int(head.size), [bytes.fromhex(h) for h in head.compact])
    except (ValueError, TypeError) as exc:
        raise LogStateError("the stored compact range is unreadable") from exc


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
"""A random hex digit to the RFC 9562 variant digit (``10xx``) with its two low bits."""


def new_entry_ids(n: int) -> list[str]:
    """``n`` UUIDv7 strings (RFC 9562): Unix milliseconds, version, 74 random bits.

    One ``os.urandom`` call per batch instead of one ``uuid4`` per entry, and
    time-ordered ids, so the primary key index grows at its right edge instead
    of taking random inserts. The batch shares its millisecond prefix; each id
    takes 19 random hex digits (12 bits after the version digit, 2 in the
    variant digit, 60 in the rest).
    """
    ms = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    prefix = f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7"
    rand = os.urandom(10 * n).hex()
    var = _VARIANT
    return [
        f"{prefix}{rand[i : i + 3]}-{var[rand[i + 3]]}{rand[i + 4 : i + 7]}-{rand[i + 7 : i + 19]}"
        for i in range(0, 20 * n, 20)
    ]


ENTRY_COLUMNS = (
    "id",
    "time",
    "actor_type",
    "actor_id",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "reason",
    "source_ip",
    "user_agent",
    "request_id",
    "details",
    "class_uid",
    "seq",
    "leaf_hash",
    "entry",
)


def _row(
    event: AuditEvent,
    uid: str,
    seq: int,
    data: bytes,
    class_uid: int,
    lh: bytes,
    details: str,
    time: Any,
    log_key: str | None,
) -> tuple[Any, ...]:
    """An entry row, in ``ENTRY_COLUMNS`` order then the log's key column.

    ``details`` is already JSON text (the masked details as hashed into the
    entry) and ``time`` the value the column's bind processor gives, so the
    column processors are skipped for both. Searchable copies are clipped to
    their columns (``v and v[:n]`` keeps None and ""); the entry keeps the
    full values.
    """
    resource_id, reason, source_ip = event.resource_id, event.reason, event.source_ip
    request_id, user_agent = event.request_id, event.user_agent
    return (
        uid,
        time,
        event.actor.type,
        event.actor.id[:200],
        event.action[:100],
        event.resource_type[:50],
        resource_id and resource_id[:200],
        event.outcome,
        reason and reason[:200],
        source_ip and source_ip[:45],
        user_agent[:300] if user_agent else None,
        request_id and request_id[:64],
        details,
        class_uid,
        seq,
        lh,
        data.decode("utf-8"),
        log_key,
    )


_SERIALIZED = frozenset({"details"})
"""Entry columns given as JSON text already (their bind processor would encode them again)."""


@functools.cache
def _insert_plan(
    table: Table, dialect: Any, columns: tuple[str, ...], ready: frozenset[str] = _SERIALIZED
) -> tuple[str, str, tuple[tuple[int, Any], ...]]:
    """(SQL, parameter form, type processors by column position) for a bulk insert.

    Forms: ``"rows"`` (SQLite: ``qmark`` placeholders in ``columns`` order, one
    ``executemany``), ``"arrays"`` (PostgreSQL: one ``INSERT ... SELECT FROM
    unnest(...)`` with one typed array per column, so a batch is one statement;
    each column goes as one text of its values joined by a separator, split by
    ``string_to_array`` on the server, or where that cannot be used, as an
    array the driver adapts element by element) and
    ``"dicts"`` (any other driver: SQLAlchemy's compiled statement). The
    columns' own bind processors are applied to the values that need one
    (timestamps, JSON) unless ``ready`` says they are given in driver form.
    Row-level security applies to ``INSERT ... SELECT`` like to any insert
    (``COPY FROM`` would be faster but PostgreSQL refuses it on a table under
    row-level security).
    """
    prep = dialect.identifier_preparer
    names = ", ".join(prep.quote(c) for c in columns)
    table_name = prep.format_table(table)
    if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table_name} ({names}) VALUES ({marks})"  # noqa: S608 - our quoted names
        form = "rows"
    elif dialect.name == "postgresql" and dialect.paramstyle == "pyformat":
        # Each column's SQL is picked per batch (``_pg_column``): the "{}" is its name.
        sql = f"INSERT INTO {table_name} ({names}) SELECT * FROM unnest({{}})"  # noqa: S608
        form = "arrays"
    else:
        compiled = sa_insert(table).compile(dialect=dialect, column_keys=list(columns))
        if compiled.positiontup is not None:
            raise LogStateError(f"no bulk insert for paramstyle {dialect.paramstyle}")
        sql, form = str(compiled), "dicts"
    procs = tuple(
        (i, proc)
        for i, name in enumerate(columns)
        if name not in ready and (proc := _bind_processor(table.c[name].type, dialect))
    )
    return sql, form, procs


def sqlite_utc_text(value: datetime | None) -> str | None:
    """What ``UTCDateTime`` then SQLite's ``DATETIME`` bind write, in one step.

    The column's own chain converts to UTC, then formats the naive fields as
    ``YYYY-MM-DD HH:MM:SS.ffffff`` through a dictionary of attributes (about
    8 us per row here); ``isoformat`` writes the same characters first. A
    property test checks both agree on arbitrary aware datetimes.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: timestamps must be timezone-aware")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


_ENTRY_READY = frozenset({"details", "time"})


def time_binder(dialect: Any) -> Any:
    """The function giving an entry time's driver value (what the column's processor gives)."""
    return _bind_processor(UTCDateTime(), dialect) or (lambda value: value)


def _bind_processor(kind: Any, dialect: Any) -> Any:
    if isinstance(kind, LargeBinary):
        # sqlite3 binds bytes as a BLOB and psycopg as bytea themselves (the
        # processor only wraps them), and the joined text form writes them as hex.
        return None
    if dialect.name == "sqlite" and isinstance(kind, UTCDateTime):
        return sqlite_utc_text
    return kind._cached_bind_processor(dialect)


_SEP, _NULL = "\x1f", "\x1e"
"""Unit and record separators: one joins a column's values into one text parameter, the other
stands for NULL. Neither can appear in a value sent that way (checked per batch)."""


@functools.cache
def _pg_fragments(table: Table, column: str, dialect: Any) -> tuple[str, str]:
    """(joined-text form, binary-array form) of one column inside ``unnest(...)``."""
    kind = table.c[column].type.compile(dialect=dialect)
    joined = f"(string_to_array(%({column})s::text, chr(31), chr(30)))[2:]::{kind}[]"
    return joined, f"%({column})b::{kind}[]"


_NONE = type(None)
_HEX_SEP = _SEP + "\\x"  # bytea's hex input form


def _pg_column(values: list[Any]) -> str | None:
    """One column of a batch as ``_SEP`` + its values joined by ``_SEP``, None marked ``_NULL``.

    C-level joins instead of the driver's per-element loop over an array
    (most of the client's time per row before). Texts, integers, bytes (as
    bytea hex) and datetimes (ISO 8601) are joined, each column holding one
    type (and None); anything else returns None (send the array instead), as
    does a text holding either separator, which the separator counts show.
    """
    kinds = set(map(type, values))
    nulls = 0
    if _NONE in kinds:
        kinds.discard(_NONE)
        nulls = values.count(None)
        values = [_NULL if v is None else v for v in values]
    if kinds == {int}:
        texts: Any = map(str, values)  # str(_NULL) is _NULL
    elif kinds == {bytes} and not nulls:
        return _HEX_SEP + _HEX_SEP.join(map(bytes.hex, values))
    elif kinds == {datetime} and not nulls:
        texts = map(datetime.isoformat, values)
    elif kinds <= {str}:
        texts = values
    else:
        return None
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(values) - 1 or joined.count(_NULL) != nulls:
        return None
    return _SEP + joined


def bulk_insert(
    session: Session | Connection,
    table: Table,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    ready: frozenset[str] = _SERIALIZED,
) -> None:
    """Insert complete rows with one ``executemany`` of the driver.

    Columns in ``ready`` hold values already in the driver's form (their bind
    processors are not applied again).
    """
    if not rows:
        return
    connection = _connection(session)
    sql, form, procs = _insert_plan(table, connection.dialect, columns, ready)
    if procs:
        converted = []
        for row in rows:
            values = list(row)
            for i, proc in procs:
                values[i] = proc(values[i])
            converted.append(tuple(values))
        rows = converted
    if form == "rows":
        connection.exec_driver_sql(sql, rows)
    elif form == "arrays":
        params: dict[str, Any] = {}
        parts = []
        table_columns = zip(columns, map(list, zip(*rows, strict=True)), strict=True)
        for name, values in table_columns:
            joined_sql, array_sql = _pg_fragments(table, name, connection.dialect)
            text = _pg_column(values)
            parts.append(array_sql if text is None else joined_sql)
            params[name] = values if text is None else text
        connection.exec_driver_sql(sql.format(", ".join(parts)), params)
    else:
        connection.exec_driver_sql(sql, [dict(zip(columns, r, strict=True)) for r in rows])


def append_events(
    session: Session,
    events: Sequence[AuditEvent],
    *,
    clock: Clock = utc_now,
    rows_out: list[dict[str, Any]] | None = None,
) -> list[Appended]:
    """Append a batch of events to the session's log, in the session's transaction.

    ``rows_out``, when given, receives the inserted rows (to build records
    without reading them back).
    """
    log = log_of(session)
    if log.tenant_id is not None:
        for event in events:
            # Tenant ids are strings; anything else is compared by its text.
            if event.tenant_id != log.tenant_id and str(event.tenant_id) != log.tenant_id:
                raise ValidationFailed("audit event does not belong to the session's tenant")
    if not events:
        return []
    connection = session.connection()  # once: each call walks the session's transaction
    head = lock_head(connection, log, clock=clock)
    rng = compact_of(head)
    rows: list[tuple[Any, ...]] = []
    kept: list[tuple[int, int, bytes]] = []  # interior nodes to store
    out: list[Appended] = []
    key = (log.tenant_id,)
    if log.tenant_id is None:
        columns = (*ENTRY_COLUMNS, "tenant_uid")
    else:
        columns = (*ENTRY_COLUMNS, "tenant_id")
    node_columns = ("level", "idx", "hash") if log.tenant_id is None else NODE_COLUMNS
    origin = head.origin
    sha = hashlib.sha256
    bind_time = time_binder(connection.dialect)
    node_key = key if log.tenant_id is not None else ()
    # SQLite's column text is a slice of the ISO form the entry's time_dt also uses;
    # PostgreSQL reads that form itself.
    iso_text = bind_time is sqlite_utc_text
    iso_input = connection.dialect.name == "postgresql"
    leaves: list[bytes] = []
    for seq, event, uid in zip(count(rng.size), events, new_entry_ids(len(events)), strict=False):
        iso = utc_iso(event.time)
        data, class_uid, details, text = encode_event_fast(
            event, log_name=origin, sequence=seq, uid=uid, iso=iso, tenant=log.tenant_id
        )
        lh = sha(b"\x00" + data).digest()
        stored = text if isinstance(details, dict) and text is not None else "{}"
        if iso_text:
            when: Any = f"{iso[:10]} {iso[11:26]}"
        else:
            when = iso if iso_input else bind_time(event.time)
        log_key = log.tenant_id if log.tenant_id is not None else str(event.tenant_id) or None
        row = _row(event, uid, seq, data, class_uid, lh, stored, when, log_key)
        leaves.append(lh)
        rows.append(row)
        out.append(Appended(uid, seq, lh))
    rng.push_many_keeping(leaves, STORED_MIN_LEVEL, kept)
    # Driver-level inserts: the rows are complete and stamped with the log's
    # tenant above, so neither the ORM's nor Core's per-row work is needed.
    bulk_insert(connection, log.record.__table__, columns, rows, ready=_ENTRY_READY)
    if kept:
        nodes = [(*node, *node_key) for node in kept] if node_key else kept
        bulk_insert(connection, log.node.__table__, node_columns, nodes)
    save_head(connection, log, head, rng, clock=clock)
    if rows_out is not None:
        for event, row in zip(events, rows, strict=True):
            values = dict(zip(columns, row, strict=True))
            values["details"] = json.loads(values["details"])
            values["time"] = event.time
            rows_out.append(values)
    return out


def _with_low_nodes(leaf_hashes: Mapping[int, bytes], low: Sequence[NodeId]) -> dict[NodeId, bytes]:
    """Leaves as ``(0, seq)`` plus each unstored node of ``low`` whose leaves are all present."""
    out: dict[NodeId, bytes] = {(0, seq): h for seq, h in leaf_hashes.items()}
    for level, index in low:
        span = range(index << level, (index + 1) << level)
        if all(seq in leaf_hashes for seq in span):
            # A perfect subtree: its compact range holds exactly its root.
            out[(level, index)] = CompactRange.from_leaves(leaf_hashes[s] for s in span).root()
    return out


class StoreNodes:
    """A ``NodeSource`` over one stored log: leaves from entries, interior nodes from nodes."""

    def __init__(self, session: Session, log: LogRef) -> None:
        self.session = session
        self.log = log

    def nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        by_level: dict[int, list[int]] = {}
        for level, index in ids:
            by_level.setdefault(level, []).append(index)
        out: dict[NodeId, bytes] = {}
        low = [(lv, ix) for lv in range(1, STORED_MIN_LEVEL) for ix in by_level.pop(lv, [])]
        leaves = set(by_level.pop(0, []))
        for lv, ix in low:
            leaves.update(range(ix << lv, (ix + 1) << lv))
        leaf_hashes: dict[int, bytes] = {}
        if leaves:
            rec = self.log.record
            stmt = select(rec.seq, rec.leaf_hash).where(
                *self.log.key_filter(rec), rec.seq.in_(sorted(leaves))
            )
            leaf_hashes = {int(seq): bytes(h) for seq, h in self.session.execute(stmt)}
        out.update(_with_low_nodes(leaf_hashes, low))
        if by_level:
            node = self.log.node
            # One indexed lookup per level: an OR across levels makes SQLite scan
            # every node of the log instead of using the primary key.
            parts = [
                select(node.level, node.idx, node.hash).where(
                    *self.log.key_filter(node), node.level == lv, node.idx.in_(ix)
                )
                for lv, ix in by_level.items()
            ]
            query = parts[0] if len(parts) == 1 else union_all(*parts)
            for level, index, h in self.session.execute(query):
                out[(int(level), int(index))] = bytes(h)
        return out


__all__ = [
    "ENTRY_COLUMNS",
    "ORIGIN_PREFIX",
    "Appended",
    "HeadState",
    "LogRef",
    "StoreNodes",
    "append_events",
    "bulk_insert",
    "compact_of",
    "lock_head",
    "log_of",
    "new_entry_ids",
    "read_head",
    "save_head",
    "sqlite_utc_text",
]
