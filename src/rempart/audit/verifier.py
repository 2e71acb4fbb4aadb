"""The offline verifier: recompute a whole export and report its first inconsistency.

Needs no database and no server: an export file, the auditor's last trusted
checkpoint and the log's public key. It streams the export, so memory stays
O(log n) whatever the log's length. What it establishes:

* the trusted checkpoint is signed by the key, and the export is of that log
  (same origin);
* entries are contiguous from index 0, canonical (RFC 8785), bound to their
  position and log (``metadata.sequence``, ``metadata.log_name``);
* every checkpoint in the export is signed by the key, sizes never go back,
  no two checkpoints disagree at one size, and each one's root is exactly the
  root of the entries before it;
* the export reaches the trusted size and agrees with the trusted root there
  (no rewritten history, no fork, no truncated tail);
* every entry is covered by a signed checkpoint.

A modified entry whose stored leaf hash was left alone is named exactly; one
whose leaf hash was forged too is located between two checkpoints (the
narrowest range the signatures allow).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from rempart.audit.errors import CheckpointError, ExportError
from rempart.audit.export import EXPORT_FORMAT, EXPORT_VERSION
from rempart.audit.merkle import CompactRange, leaf_hash
from rempart.audit.note import Checkpoint, NoteVerifier
from rempart.audit.schema import canonical_objects, decode_entry_text


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with an export: a kind, a sentence, and where."""

    kind: str
    message: str
    line: int | None = None
    index: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.message} [{self.kind}]"


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The outcome: ``ok`` with what was verified, or the first ``problem``."""

    ok: bool
    origin: str | None
    entries: int
    checkpoints: int
    verified_size: int
    root: bytes | None
    latest_checkpoint: str | None
    problem: Problem | None = None
    # Entries whose content retention pruned: their place in the tree is checked,
    # their content cannot be (it is gone).
    pruned: int = 0


class _Failed(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _fail(kind: str, message: str, line: int | None = None, index: int | None = None) -> _Failed:
    return _Failed(Problem(kind, message, line, index))


TimestampCheck = Callable[[bytes, bytes], None]
"""Checks an RFC 3161 response against the note bytes; raises ``CheckpointError``."""


class _State:
    def __init__(self, trusted: Checkpoint, check_timestamp: TimestampCheck | None) -> None:
        self.trusted = trusted
        self.check_timestamp = check_timestamp
        self.origin = trusted.origin
        self.rng = CompactRange()
        self.checkpoints = 0
        self.last: Checkpoint | None = None
        self.last_note: str | None = None
        self.trusted_checked = False
        self.pruned = 0

    def check_trusted(self, line: int | None) -> None:
        if self.rng.size == self.trusted.size and not self.trusted_checked:
            self.trusted_checked = True
            if self.rng.root() != self.trusted.root:
                raise _fail(
                    "fork",
                    f"the export's first {self.trusted.size} entries do not match the trusted "
                    "checkpoint: history was rewritten or the log forked",
                    line,
                )


def _json_line(raw: str, lineno: int) -> dict[str, Any]:
    if not raw.endswith("\n"):
        raise _fail("truncated-file", "the last line is cut short (file truncated)", lineno)
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise _fail("malformed", f"not a JSON object ({exc})", lineno) from exc
    if not isinstance(obj, dict):
        raise _fail("malformed", "not a JSON object", lineno)
    return obj


def _header(raw: str | None, state: _State) -> None:
    if raw is None:
        raise _fail("malformed", "the export is empty", 1)
    obj = _json_line(raw, 1)
    if obj.get("format") != EXPORT_FORMAT or obj.get("version") != EXPORT_VERSION:
        raise _fail("malformed", f"not a {EXPORT_FORMAT} version {EXPORT_VERSION} file", 1)
    if obj.get("origin") != state.origin:
        raise _fail(
            "origin-mismatch",
            f"export is of log {obj.get('origin')!r}, the trusted checkpoint of {state.origin!r}",
            1,
        )


def _entry(obj: dict[str, Any], lineno: int, state: _State) -> None:
    index, text = obj.get("index"), obj.get("entry")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(text, str):
        raise _fail("malformed", "an entry line needs an integer index and a string entry", lineno)
    stored = obj.get("leaf_hash")
    _check_entry(index, text, None if stored is None else str(stored), lineno, state)


def _pruned(obj: dict[str, Any], lineno: int, state: _State) -> None:
    """An entry whose content retention dropped: its leaf hash takes its place in the tree.

    Its content cannot be checked any more; a changed hash still breaks every
    signed root that covers it, so the checkpoints keep the log honest.
    """
    index, stored = obj.get("index"), obj.get("leaf_hash")
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(stored, str):
        raise _fail("malformed", "a pruned line needs an integer index and a leaf_hash", lineno)
    _check_position(index, lineno, state)
    try:
        claimed = base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _fail("malformed", f"entry {index}: leaf_hash is not base64", lineno) from exc
    if len(claimed) != 32:
        raise _fail("malformed", f"entry {index}: leaf_hash is not 32 bytes", lineno)
    state.pruned += 1
    state.rng.push(claimed)


def _check_position(index: int, lineno: int, state: _State) -> None:
    expected = state.rng.size
    if index > expected:
        raise _fail(
            "missing",
            f"entry {expected} is missing (deleted): the next line holds entry {index}",
            lineno,
            expected,
        )
    if index < expected:
        raise _fail(
            "reordered",
            f"entry {index} appears after entry {expected - 1}: entries are out of order or "
            "an entry was inserted",
            lineno,
            index,
        )


# The exact shape ``export_log`` writes for an entry line. Such a line is split
# without a full JSON parse: the index by a regular expression, the entry string
# by the C string scanner ``json.loads`` itself uses (strict, same unescaping),
# the leaf hash as 44 base64 characters. Anything else takes ``json.loads``.
_ENTRY_HEAD = '{"type":"entry","index":'
_ENTRY_INDEX = re.compile(r'(0|[1-9][0-9]{0,17}),"entry":"')
_LEAF_FIELD = ',"leaf_hash":"'
_LEAF_B64 = re.compile(r'[A-Za-z0-9+/]{43}="}\n')
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _split_entry_line(raw: str) -> tuple[int, str, str] | None:
    """(index, entry, leaf hash) of a line in the exporter's exact shape, else None."""
    match = _ENTRY_INDEX.match(raw, len(_ENTRY_HEAD))
    if match is None:
        return None
    try:
        text, end = _scanstring(raw, match.end())
    except ValueError:
        return None
    if not raw.startswith(_LEAF_FIELD, end):
        return None
    start = end + len(_LEAF_FIELD)
    if _LEAF_B64.fullmatch(raw, start) is None:
        return None
    return int(match.group(1)), text, raw[start : start + 44]


def _check_entry(index: int, text: str, stored: str | None, lineno: int, state: _State) -> None:
    _check_position(index, lineno, state)
    try:
        entry = decode_entry_text(text)
    except ExportError as exc:
        raise _fail("modified", f"entry {index}: {exc.detail}", lineno, index) from exc
    meta = entry.get("metadata")
    if not isinstance(meta, dict):
        raise _fail("modified", f"entry {index} has no metadata", lineno, index)
    if meta.get("log_name") != state.origin:
        raise _fail("inserted", f"entry {index} belongs to another log", lineno, index)
    sequence = meta.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise _fail("modified", f"entry {index} has no sequence number", lineno, index)
    if sequence < index:
        raise _fail(
            "replayed",
            f"entry at index {index} is entry {sequence} again: an earlier entry was replayed",
            lineno,
            index,
        )
    if sequence > index:
        raise _fail(
            "reordered",
            f"entry {sequence} appears at index {index}: entries were reordered or deleted",
            lineno,
            index,
        )
    computed = leaf_hash(text.encode("utf-8"))
    if stored is not None:
        try:
            claimed = base64.b64decode(stored, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _fail("malformed", f"entry {index}: leaf_hash is not base64", lineno) from exc
        if claimed != computed:
            raise _fail(
                "modified",
                f"entry {index} was modified: its content no longer matches its leaf hash",
                lineno,
                index,
            )
    state.rng.push(computed)


def _checkpoint(obj: dict[str, Any], lineno: int, state: _State, verifier: NoteVerifier) -> None:
    note = obj.get("note")
    if not isinstance(note, str):
        raise _fail("malformed", "a checkpoint line needs a note", lineno)
    try:
        cp = verifier.verify(note)
    except CheckpointError as exc:
        raise _fail("forged-checkpoint", f"checkpoint rejected: {exc.detail}", lineno) from exc
    if cp.origin != state.origin:
        raise _fail("origin-mismatch", f"checkpoint is of log {cp.origin!r}", lineno)
    last = state.last
    if last is not None and cp.size < last.size:
        raise _fail(
            "rollback",
            f"checkpoint size goes back from {last.size} to {cp.size} (log rolled back)",
            lineno,
        )
    if last is not None and cp.size == last.size and cp.root != last.root:
        raise _fail("fork", f"two checkpoints of size {cp.size} sign different roots", lineno)
    if cp.size == state.trusted.size and cp.root != state.trusted.root:
        raise _fail(
            "fork", f"a checkpoint of size {cp.size} contradicts the trusted checkpoint", lineno
        )
    if cp.size > state.rng.size:
        raise _fail(
            "missing",
            f"checkpoint of size {cp.size} follows only {state.rng.size} entries: entries "
            f"{state.rng.size} to {cp.size - 1} are missing",
            lineno,
            state.rng.size,
        )
    if cp.size < state.rng.size:
        raise _fail(
            "malformed",
            f"checkpoint of size {cp.size} is placed after entry {state.rng.size - 1}",
            lineno,
        )
    if state.rng.root() != cp.root:
        start = last.size if last is not None else 0
        raise _fail(
            "root-mismatch",
            f"entries {start} to {cp.size - 1} do not reproduce the signed root of size "
            f"{cp.size}: an entry in that range was modified, inserted, deleted or reordered",
            lineno,
            start,
        )
    token = obj.get("timestamp_token")
    if token is not None and state.check_timestamp is not None:
        try:
            state.check_timestamp(base64.b64decode(str(token), validate=True), note.encode())
        except (binascii.Error, ValueError, CheckpointError) as exc:
            raise _fail(
                "bad-timestamp",
                f"the RFC 3161 time-stamp of checkpoint size {cp.size} does not verify",
                lineno,
            ) from exc
    state.last, state.last_note = cp, note
    state.checkpoints += 1
    if cp.size == state.trusted.size:
        state.trusted_checked = True  # same size, same root, entries reproduce it


def _line(raw: str, lineno: int, state: _State, verifier: NoteVerifier) -> None:
    """Check one line on its own: the general path, and the reference for the batch path."""
    if raw.startswith(_ENTRY_HEAD):
        fields = _split_entry_line(raw)
        if fields is not None:
            state.check_trusted(lineno)
            _check_entry(*fields, lineno, state)
            return
    if raw.strip() == "":
        raise _fail("malformed", "empty line", lineno)
    obj = _json_line(raw, lineno)
    kind = obj.get("type")
    if kind != "checkpoint":
        # A signed checkpoint right at the trusted size is checked first, as it
        # locates a difference more precisely than the trusted root does.
        state.check_trusted(lineno)
    if kind == "entry":
        _entry(obj, lineno, state)
    elif kind == "pruned":
        _pruned(obj, lineno, state)
    elif kind == "checkpoint":
        _checkpoint(obj, lineno, state, verifier)
    else:
        raise _fail("malformed", f"unknown line type {kind!r}", lineno)


_b2a = binascii.b2a_base64
_sha256 = hashlib.sha256


def _entry_run(
    chunk: list[str], objs: list[Any], start: int, limit: int, state: _State
) -> tuple[int, bool]:
    """Check the run of entry lines from ``start`` (before ``limit``) as one batch.

    Returns where the run ends and whether it passed. When it passed, every
    entry of the run has passed the checks ``_line`` makes (position, canonical
    form, log and sequence binding, stored leaf hash) and its leaf is in the
    tree. Otherwise nothing was pushed and the caller replays the run through
    ``_line``, which names the problem (or accepts what the batch test was too
    strict for: it only ever accepts what ``_line`` accepts).
    """
    expected = state.rng.size
    texts: list[str] = []
    stored: list[str] = []
    k = start
    while k < limit:
        obj = objs[k]
        if type(obj) is not dict or obj.get("type") != "entry":
            break
        index, text, leaf = obj.get("index"), obj.get("entry"), obj.get("leaf_hash")
        if (
            len(obj) != 4
            or type(index) is not int
            or index != expected + k - start
            or type(text) is not str
            or type(leaf) is not str
            or chunk[k][-1:] != "\n"
        ):
            return k + 1, False
        texts.append(text)
        stored.append(leaf)
        k += 1
    try:
        datas = [t.encode("utf-8") for t in texts]
    except UnicodeEncodeError:
        return k, False
    entries = canonical_objects(datas)
    if entries is None:
        return k, False
    origin = state.origin
    for n, entry in enumerate(entries, start=expected):
        meta = entry.get("metadata") if type(entry) is dict else None
        if (
            type(meta) is not dict
            or meta.get("log_name") != origin
            or type(sequence := meta.get("sequence")) is not int
            or sequence != n
        ):
            return k, False
    sha = _sha256
    hashes = [sha(b"\x00" + d).digest() for d in datas]
    if [_b2a(h, newline=False).decode("ascii") for h in hashes] != stored:
        return k, False
    state.rng.push_many(hashes)
    return k, True


def _run_chunk(chunk: list[str], lineno: int, state: _State, verifier: NoteVerifier) -> None:
    """Check consecutive lines; ``lineno`` is the first one's number.

    Lines are parsed with orjson in one pass; runs of entry lines are checked
    as batches (``_entry_run``), everything else, and any run the batch test
    does not accept, line by line (``_line``).
    """
    try:
        objs: list[Any] = list(map(orjson.loads, chunk))
    except orjson.JSONDecodeError:
        for k, raw in enumerate(chunk):
            _line(raw, lineno + k, state, verifier)
        return
    i, n = 0, len(chunk)
    while i < n:
        limit = n
        if not state.trusted_checked and state.rng.size < state.trusted.size:
            # The trusted root is compared exactly where ``_line`` compares it.
            limit = min(n, i + state.trusted.size - state.rng.size)
        if type(objs[i]) is dict and objs[i].get("type") == "entry":
            state.check_trusted(lineno + i)
            end, passed = _entry_run(chunk, objs, i, limit, state)
            if not passed:
                for k in range(i, end):
                    _line(chunk[k], lineno + k, state, verifier)
            i = end
        else:
            _line(chunk[i], lineno + i, state, verifier)
            i += 1


def _run(chunks: Iterable[list[str]], state: _State, verifier: NoteVerifier) -> None:
    lineno = 0
    for chunk in chunks:
        start = 0
        if lineno == 0:
            if not chunk:
                continue
            _header(chunk[0], state)
            start, lineno = 1, 2
        # Small batches: the objects of one batch stay in the CPU caches, and a
        # few hundred kilobytes allocated and freed at once would make the
        # allocator return memory to the system and fault it in again (measured
        # 2 to 2.5 times slower per entry with batches of 1000).
        for at in range(start, len(chunk), BATCH):
            batch = chunk[at : at + BATCH]
            _run_chunk(batch, lineno, state, verifier)
            lineno += len(batch)
    if lineno == 0:
        _header(None, state)
    state.check_trusted(None)
    if state.rng.size < state.trusted.size:
        raise _fail(
            "truncated",
            f"export holds {state.rng.size} entries but the trusted checkpoint covers "
            f"{state.trusted.size}: the tail was deleted or the log rolled back",
            None,
            state.rng.size,
        )
    covered = state.last.size if state.last is not None else 0
    if covered < state.rng.size:
        raise _fail(
            "unsigned",
            f"entries {covered} to {state.rng.size - 1} are not covered by a signed checkpoint",
            None,
            covered,
        )


BATCH = 64
"""Lines parsed and checked together."""


def _chunks_of(lines: Iterable[str]) -> Iterator[list[str]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, BATCH)):
        yield chunk


def verify_lines(
    lines: Iterable[str],
    trusted_checkpoint: str,
    verifier: NoteVerifier,
    *,
    check_timestamp: TimestampCheck | None = None,
) -> VerificationReport:
    """Verify an export given as lines (each with its newline).

    With ``check_timestamp`` (e.g. ``rempart.audit.timestamp.verify_timestamp``
    bound to the authority's CA), every time-stamp token in the export is
    checked too.
    """
    return _verify(_chunks_of(lines), trusted_checkpoint, verifier, check_timestamp)


def _verify(
    chunks: Iterable[list[str]],
    trusted_checkpoint: str,
    verifier: NoteVerifier,
    check_timestamp: TimestampCheck | None,
) -> VerificationReport:
    try:
        trusted = verifier.verify(trusted_checkpoint)
    except CheckpointError as exc:
        problem = Problem("untrusted", f"trusted checkpoint rejected: {exc.detail}")
        return VerificationReport(False, None, 0, 0, 0, None, None, problem)
    state = _State(trusted, check_timestamp)
    try:
        _run(chunks, state, verifier)
    except _Failed as failed:
        return VerificationReport(
            False,
            state.origin,
            state.rng.size,
            state.checkpoints,
            state.last.size if state.last else 0,
            None,
            None,
            failed.problem,
        )
    last = state.last
    return VerificationReport(
        True,
        state.origin,
        state.rng.size,
        state.checkpoints,
        last.size if last else 0,
        last.root if last else None,
        state.last_note,
        pruned=state.pruned,
    )


MAX_LINE = 1 << 20
"""Longest line accepted (characters): entries are small; a huge line is an attack on memory."""
BLOCK = 1 << 16
"""Bytes read from an export file at a time."""


def _decoded_lines(data: bytes, first: int) -> Iterator[list[str]]:
    """The lines of ``data`` as text (each with its newline, except an unfinished
    last one), refusing one longer than ``MAX_LINE``; ``first`` is the first's number.

    Lines before a bad one are yielded first, so that earlier problems are still
    the ones reported; then ``UnicodeDecodeError`` or the overlong line's failure.
    """
    try:
        pieces = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        good: list[str] = []
        for raw in data.split(b"\n"):
            try:
                good.append(raw.decode("utf-8") + "\n")
            except UnicodeDecodeError:
                if good:
                    yield from _decoded_lines(b"".join(g.encode() for g in good), first)
                raise
        raise
    tail = pieces.pop()
    lines = [p + "\n" for p in pieces]
    if tail:
        lines.append(tail)
    if lines and max(map(len, lines)) > MAX_LINE:
        at = next(k for k, line in enumerate(lines) if len(line) > MAX_LINE)
        if at:
            yield lines[:at]
        raise _fail("malformed", f"line longer than {MAX_LINE} characters", first + at)
    if lines:
        yield lines


def _file_chunks(handle: BinaryIO) -> Iterator[list[str]]:
    """The file's lines, a block at a time, in O(``BLOCK`` + ``MAX_LINE``) memory."""
    lineno = 1  # number of the next line
    parts: list[bytes] = []  # the unfinished line
    pending = 0
    while True:
        block = handle.read(BLOCK)
        if not block:
            data = b"".join(parts)
            if data:
                yield from _decoded_lines(data, lineno)
            return
        cut = block.rfind(b"\n") + 1
        if not cut:
            parts.append(block)
            pending += len(block)
            if pending > 4 * MAX_LINE:  # no end in sight: more than MAX_LINE characters
                raise _fail("malformed", f"line longer than {MAX_LINE} characters", lineno)
            continue
        data = b"".join([*parts, block[:cut]]) if parts else block[:cut]
        parts = [block[cut:]]
        pending = len(block) - cut
        for lines in _decoded_lines(data, lineno):
            lineno += len(lines)
            yield lines


def verify_export(
    path: Path,
    trusted_checkpoint: str,
    verifier: NoteVerifier,
    *,
    check_timestamp: TimestampCheck | None = None,
) -> VerificationReport:
    """Verify an export file against the auditor's trusted checkpoint and the log's key."""
    try:
        with path.open("rb") as handle:
            return _verify(_file_chunks(handle), trusted_checkpoint, verifier, check_timestamp)
    except UnicodeDecodeError:
        problem = Problem("malformed", "the export is not UTF-8 text")
        return VerificationReport(False, None, 0, 0, 0, None, None, problem)


__all__ = [
    "Problem",
    "TimestampCheck",
    "VerificationReport",
    "verify_export",
    "verify_lines",
]
