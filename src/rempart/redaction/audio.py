"""Redacted audio: time ranges to silence from a timed transcript, and a WAV writer
that streams through the file (silence or a beep over each range) without loading it.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rempart.redaction.context import EMPTY_CONTEXT, Context
from rempart.redaction.engine import engine_for
from rempart.redaction.policy import DEFAULT_POLICY, Policy
from rempart.redaction.spans import Span


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its start and end time in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: float
    end: float
    label: str


def transcript_text(words: Sequence[Word]) -> tuple[str, list[tuple[int, int]]]:
    """The words joined by spaces, and each word's character range in that text."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos = 0
    for w in words:
        if parts:
            pos += 1
        offsets.append((pos, pos + len(w.text)))
        parts.append(w.text)
        pos += len(w.text)
    return " ".join(parts), offsets


def ranges_to_silence(
    words: Sequence[Word],
    lang: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    padding: float = 0.1,
    context: Context = EMPTY_CONTEXT,
) -> list[TimeRange]:
    """Time ranges covering every word that falls in a sensitive span, padded, merged."""
    if padding < 0:
        raise ValueError("padding must be >= 0")
    text, offsets = transcript_text(words)
    spans = engine_for(policy).detect(text, lang, context, policy.entities, policy.min_score)
    return _ranges(words, offsets, spans, padding)


def _ranges(
    words: Sequence[Word], offsets: list[tuple[int, int]], spans: list[Span], padding: float
) -> list[TimeRange]:
    raw: list[TimeRange] = []
    i = 0
    for span in spans:
        while i < len(offsets) and offsets[i][1] <= span.start:
            i += 1
        hit: list[int] = []
        k = i
        while k < len(offsets) and offsets[k][0] < span.end:
            hit.append(k)
            k += 1
        if hit:
            start = max(0.0, min(words[k].start for k in hit) - padding)
            end = max(words[k].end for k in hit) + padding
            raw.append(TimeRange(start, end, span.label))
    raw.sort(key=lambda r: r.start)
    merged: list[TimeRange] = []
    for r in raw:
        if merged and r.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = TimeRange(last.start, max(last.end, r.end), last.label)
        else:
            merged.append(r)
    return merged


def _silence(sampwidth: int, nframes: int, nchannels: int) -> bytes:
    unit = b"\x80" if sampwidth == 1 else b"\x00" * sampwidth
    return unit * (nframes * nchannels)


def _beep(
    sampwidth: int, nchannels: int, rate: int, first_frame: int, nframes: int, freq: float
) -> bytes:
    amp = 0.3 * ((1 << (8 * sampwidth - 1)) - 1)
    out = bytearray()
    for f in range(first_frame, first_frame + nframes):
        v = int(amp * math.sin(2 * math.pi * freq * f / rate))
        if sampwidth == 1:
            sample = bytes([v + 128])
        elif sampwidth == 3:
            sample = (v & 0xFFFFFF).to_bytes(3, "little")
        else:
            sample = struct.pack("<h" if sampwidth == 2 else "<i", v)
        out += sample * nchannels
    return bytes(out)


def write_redacted_wav(
    src: str | Path,
    dst: str | Path,
    ranges: Sequence[TimeRange],
    mode: Literal["silence", "beep"] = "silence",
    beep_hz: float = 1000.0,
    chunk_frames: int = 65_536,
) -> None:
    """Copy ``src`` to ``dst`` with each range silenced or beeped, chunk by chunk.

    Writes to a temporary file beside ``dst`` and renames it, so a failure leaves
    no partial output.
    """
    dst = Path(dst)
    fd, tmp = tempfile.mkstemp(prefix=".redact-", suffix=".wav", dir=dst.parent or Path("."))
    os.close(fd)
    try:
        with wave.open(str(src), "rb") as r, wave.open(tmp, "wb") as w:
            nch, sw, rate = r.getnchannels(), r.getsampwidth(), r.getframerate()
            w.setnchannels(nch)
            w.setsampwidth(sw)
            w.setframerate(rate)
            frames = [(int(t.start * rate), math.ceil(t.end * rate)) for t in ranges]
            pos = 0
            while True:
                data = r.readframes(chunk_frames)
                if not data:
                    break
                n = len(data) // (sw * nch)
                buf = bytearray(data)
                for a, b in frames:
                    lo, hi = max(a, pos), min(b, pos + n)
                    if lo >= hi:
                        continue
                    count = hi - lo
                    fill = (
                        _silence(sw, count, nch)
                        if mode == "silence"
                        else _beep(sw, nch, rate, lo, count, beep_hz)
                    )
                    off = (lo - pos) * sw * nch
                    buf[off : off + len(fill)] = fill
                w.writeframes(bytes(buf))
                pos += n
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["TimeRange", "Word", "ranges_to_silence", "transcript_text", "write_redacted_wav"]
