"""One random tampering of an export's lines, drawn by hypothesis (shared by the verifier's
property tests)."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st


def tamper(data: st.DataObject, lines: list[str], *, first: int = 0) -> str:
    """The export's text after one drawn change: a flipped bit (valid UTF-8 only: invalid
    UTF-8 is tested apart), a truncation, or a line from ``first`` on deleted, duplicated
    or swapped with another."""
    text = "".join(lines)
    kind = data.draw(st.sampled_from(["flip", "delete", "duplicate", "swap", "truncate"]))
    if kind == "flip":
        raw = bytearray(text.encode())
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] ^= 1 << data.draw(st.integers(0, 7))
        decoded = raw.decode("utf-8", errors="replace")
        assume("\ufffd" not in decoded)
        return decoded
    if kind == "truncate":
        return text[: data.draw(st.integers(0, len(text) - 1))]
    changed = list(lines)
    i = data.draw(st.integers(first, len(changed) - 1))
    if kind == "delete":
        del changed[i]
    elif kind == "duplicate":
        changed.insert(data.draw(st.integers(first, len(changed))), changed[i])
    else:
        j = data.draw(st.integers(first, len(changed) - 1))
        changed[i], changed[j] = changed[j], changed[i]
    return "".join(changed)
