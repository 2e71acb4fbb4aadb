"""Batch redaction of files: plain text, JSONL and CSV, streamed in bounded memory.

Input is read as bytes, line by line, and decoded strictly: invalid UTF-8 stops
the run with an error naming the line and the byte offset (or is replaced, if
asked). Output goes to a temporary file renamed into place on success, so a
failure never leaves a partial file. ``workers > 1`` spreads chunks of records
over processes, with a bounded number of chunks in flight.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from rempart.errors import BadRequest
from rempart.redaction.engine import engine_for
from rempart.redaction.operators import OperatorState
from rempart.redaction.policy import DEFAULT_POLICY, Policy

InvalidUtf8 = Literal["error", "replace"]
Format = Literal["text", "jsonl", "csv"]
T = TypeVar("T")
R = TypeVar("R")
CHUNK = 256


class InputError(BadRequest):
    """The input cannot be read: invalid UTF-8, invalid JSON, missing field."""

    title = "Invalid input"
    slug = "invalid-input"

    def __init__(self, detail: str, line: int, byte_offset: int | None = None) -> None:
        super().__init__(detail, line=line, byte_offset=byte_offset)
        self.line = line
        self.byte_offset = byte_offset


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based
    offset: int  # byte offset of the line's start
    text: str  # without the line ending


def read_lines(stream: IO[bytes], invalid: InvalidUtf8 = "error") -> Iterator[Line]:
    """Decoded lines; invalid UTF-8 raises :class:`InputError` naming line and byte."""
    offset = 0
    for number, raw in enumerate(stream, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if invalid == "error":
                raise InputError(
                    f"invalid UTF-8 at line {number}, byte offset {offset + exc.start}",
                    line=number,
                    byte_offset=offset + exc.start,
                ) from None
            text = raw.decode("utf-8", errors="replace")
        yield Line(number, offset, text.rstrip("\r\n"))
        offset += len(raw)


@contextmanager
def atomic_output(path: str | Path | None, binary: bool = False) -> Iterator[IO[Any]]:
    """A file written in full or not at all (stdout when ``path`` is None or ``-``)."""
    if path is None or str(path) == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    target = Path(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent if str(target.parent) else "."
    )
    try:
        f: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        )
        with f:
            yield f
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def bounded_map(
    func: Callable[[list[T]], list[R]], items: Iterable[T], workers: int, chunk: int = CHUNK
) -> Iterator[R]:
    """``func`` over chunks of ``items``, in order, at most ``2 * workers`` chunks in flight."""
    if workers <= 1:
        for c in _chunks(items, chunk):
            yield from func(c)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        inflight: deque[Future[list[R]]] = deque()
        for c in _chunks(items, chunk):
            inflight.append(pool.submit(func, c))
            if len(inflight) >= 2 * workers:
                yield from inflight.popleft().result()
        while inflight:
            yield from inflight.popleft().result()


# --- workers (top-level so that processes can pickle them) -------------------


@dataclass(frozen=True)
class _DetectTask:
    lang: str | None
    policy: Policy = DEFAULT_POLICY

    def __call__(self, records: list[tuple[int, Any, str | None, str]]) -> list[str]:
        engine = engine_for(self.policy)
        pol = self.policy
        out = []
        for _, rid, lang, text in records:
            spans = engine.detect(
                text, lang or self.lang, entities=pol.entities, min_score=pol.min_score
            )
            out.append(
                json.dumps({"id": rid, "spans": [s.as_list() for s in spans]}, ensure_ascii=False)
            )
        return out


@dataclass(frozen=True)
class _RedactTask:
    policy: Policy
    lang: str | None
    fields: tuple[str, ...]
    fmt: Format
    # Tenant, pseudonym key, vault: each record gets a copy (its own surrogates).
    state: OperatorState | None = None

    def __call__(self, records: list[tuple[int, Any, str | None, Any]]) -> list[Any]:
        engine = engine_for(self.policy)
        out: list[Any] = []
        for _, _, lang, payload in records:
            if self.fmt == "jsonl":
                obj = dict(payload)
                for f in self.fields:
                    if isinstance(obj.get(f), str):
                        obj[f] = self._one(engine, obj[f], obj.get("lang") or lang)
                out.append(json.dumps(obj, ensure_ascii=False))
            elif self.fmt == "csv":
                row = list(payload)
                for i in self.fields_idx(row):
                    row[i] = self._one(engine, row[i], lang)
                out.append(row)
            else:
                out.append(self._one(engine, payload, lang))
        return out

    def fields_idx(self, row: list[str]) -> list[int]:
        return [int(f) for f in self.fields if int(f) < len(row)]

    def _one(self, engine: Any, text: str, lang: str | None) -> str:
        state = replace(self.state, surrogates=None) if self.state is not None else None
        res = engine.redact(text, lang or self.lang, self.policy, state=state)
        return str(res.text)


# --- public entry points ------------------------------------------------------


def _json_records(
    lines: Iterable[Line], need_text: bool
) -> Iterator[tuple[int, Any, str | None, Any]]:
    for line in lines:
        if not line.text.strip():
            continue
        try:
            obj = json.loads(line.text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON at line {line.number}: {exc.msg}",
                line=line.number,
                byte_offset=line.offset,
            ) from None
        if not isinstance(obj, dict):
            raise InputError(f"line {line.number} is not a JSON object", line=line.number)
        text = obj.get("text")
        if need_text and not isinstance(text, str):
            raise InputError(f"line {line.number} has no string 'text'", line=line.number)
        lang = obj.get("lang") if isinstance(obj.get("lang"), str) else None
        yield line.number, obj.get("id"), lang, text if need_text else obj


def detect_jsonl(
    src: IO[bytes],
    dst: IO[str],
    lang: str | None = None,
    workers: int = 1,
    invalid: InvalidUtf8 = "error",
    progress: Callable[[int], None] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> int:
    """Lines ``{"id","lang","text"}`` in, lines ``{"id","spans":[[s,e,label],...]}`` out.

    ``policy`` brings a tenant's own entities, its entity selection and minimum score.
    """
    count = 0
    records = _json_records(read_lines(src, invalid), need_text=True)
    for out in bounded_map(_DetectTask(lang, policy), records, workers):
        dst.write(out + "\n")
        count += 1
        if progress:
            progress(count)
    return count


def redact_file(
    src: IO[bytes],
    dst: IO[str],
    fmt: Format,
    policy: Policy = DEFAULT_POLICY,
    lang: str | None = None,
    fields: tuple[str, ...] = ("text",),
    workers: int = 1,
    invalid: InvalidUtf8 = "error",
    progress: Callable[[int], None] | None = None,
    state: OperatorState | None = None,
) -> int:
    """Redact a text, JSONL or CSV stream; returns the number of records written.

    ``state`` carries what keyed operators need (tenant, pseudonym key, vault);
    with ``workers > 1`` it must be picklable (a vault is not).
    """
    lines = read_lines(src, invalid)
    count = 0
    if fmt == "text":
        task = _RedactTask(policy, lang, (), "text", state)
        recs: Iterator[tuple[int, Any, str | None, Any]] = (
            (ln.number, None, None, ln.text) for ln in lines
        )
        for out in bounded_map(task, recs, workers):
            dst.write(out + "\n")
            count += 1
            if progress:
                progress(count)
        return count
    if fmt == "jsonl":
        task = _RedactTask(policy, lang, fields, "jsonl", state)
        for out in bounded_map(task, _json_records(lines, need_text=False), workers):
            dst.write(out + "\n")
            count += 1
            if progress:
                progress(count)
        return count
    # CSV: the first row names the columns; ``fields`` picks them by name.
    reader = csv.reader(io.StringIO(ln.text + "\n").getvalue() for ln in lines)
    writer = csv.writer(dst, lineterminator="\n")
    try:
        header = next(reader)
    except StopIteration:
        return 0
    writer.writerow(header)
    missing = [f for f in fields if f not in header]
    if missing:
        raise InputError(f"CSV has no column {', '.join(missing)}", line=1)
    idx = tuple(str(header.index(f)) for f in fields)
    task = _RedactTask(policy, lang, idx, "csv", state)
    rows: Iterator[tuple[int, Any, str | None, Any]] = (
        (i, None, None, row) for i, row in enumerate(reader, 2)
    )
    for out in bounded_map(task, rows, workers):
        writer.writerow(out)
        count += 1
        if progress:
            progress(count)
    return count


__all__ = [
    "InputError",
    "Line",
    "atomic_output",
    "bounded_map",
    "detect_jsonl",
    "read_lines",
    "redact_file",
]
