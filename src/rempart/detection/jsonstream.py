"""Read JSON values written one after another (pretty-printed or one per line).

Each value gets the 0-based position it has in the input. A value that is not valid
JSON is reported with its line and column, then reading resumes at the next line that
starts with ``{`` so one bad record does not lose the rest; a value over the size limit
is reported the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

MAX_EVENT_BYTES = 16 * 1024 * 1024
_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


@dataclass(frozen=True)
class JsonItem:
    """One decoded value (``value``) or one failure (``error``), at ``line`` of ``source``."""

    index: int
    line: int
    value: Any = None
    error: str | None = None


def iter_json(
    stream: IO[str], *, max_bytes: int = MAX_EVENT_BYTES, chunk: int = 1 << 20
) -> Iterator[JsonItem]:
    """Decode concatenated JSON values from a text stream, without reading it all at once."""
    buf = ""
    pos = 0
    line = 1
    index = 0
    eof = False
    while True:
        # Skip whitespace, counting lines.
        while True:
            while pos < len(buf) and buf[pos] in _WS:
                if buf[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buf) or eof:
                break
            buf, pos = stream.read(chunk), 0
            eof = not buf
        if pos >= len(buf) and eof:
            return
        try:
            value, end = _DECODER.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if not eof and len(buf) - pos <= max_bytes:
                more = stream.read(chunk)
                if more:
                    buf = buf[pos:] + more
                    pos = 0
                    continue
                eof = True
                continue
            reason = exc.msg
            if len(buf) - pos > max_bytes:
                reason = f"value larger than {max_bytes} bytes or malformed ({exc.msg})"
            err_line = line + buf.count("\n", pos, exc.pos)
            where = f"line {line}" + (f" (error at line {err_line})" if err_line != line else "")
            yield JsonItem(index, line, error=f"{where}: invalid JSON: {reason}")
            index += 1
            # Resynchronise at the next line, after this record's start, that opens an object.
            nxt = buf.find("\n{", pos)
            while nxt < 0 and not eof:
                more = stream.read(chunk)
                if not more:
                    eof = True
                    break
                line += buf.count("\n", pos)
                buf, pos = buf[len(buf) - 1 :] + more, 0
                nxt = buf.find("\n{")
            if nxt < 0:
                return
            line += buf.count("\n", pos, nxt + 1)
            pos = nxt + 1
            continue
        except RecursionError:
            yield JsonItem(index, line, error=f"line {line}: JSON nested too deeply")
            index += 1
            nxt = buf.find("\n{", pos)
            if nxt < 0:
                return
            line += buf.count("\n", pos, nxt + 1)
            pos = nxt + 1
            continue
        if end == len(buf) and not eof:
            # A number at the end of the buffer may go on in the next chunk.
            more = stream.read(chunk)
            if more:
                buf, pos = buf[pos:] + more, 0
                continue
            eof = True
        yield JsonItem(index, line, value=value)
        index += 1
        line += buf.count("\n", pos, end)
        pos = end
        if pos > chunk:  # drop what has been consumed
            buf, pos = buf[pos:], 0


__all__ = ["MAX_EVENT_BYTES", "JsonItem", "iter_json"]
