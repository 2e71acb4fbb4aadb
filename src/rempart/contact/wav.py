"""A streaming filter for PCM WAV uploads: checks the RIFF/WAVE structure as the bytes
arrive and silences time ranges, without ever holding more than the header.

Only uncompressed PCM is accepted (format 1, or WAVE_FORMAT_EXTENSIBLE with the
PCM sub-format; 8, 16, 24 or 32 bits): silencing a time range means
overwriting its samples, which needs one fixed-size frame per sample instant.
Compressed audio (MP3, Opus, A-law/µ-law in WAV, ...) would have to be decoded
and re-encoded, which Rempart does not do.

The output is canonical: the RIFF header, the ``fmt`` chunk as received and
the ``data`` chunk; every other chunk (``LIST``/``INFO``, ``bext``, ``fact``...,
which can carry names or notes about the call) is dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from rempart.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

FORMAT_PCM: Final = 0x0001
FORMAT_EXTENSIBLE: Final = 0xFFFE
# KSDATAFORMAT_SUBTYPE_PCM, 00000001-0000-0010-8000-00aa00389b71, as stored in the file.
_PCM_SUBFORMAT: Final = bytes.fromhex("0100000000001000800000aa00389b71")
SAMPLE_BITS: Final = frozenset({8, 16, 24, 32})
MAX_CHANNELS: Final = 16
MAX_SAMPLE_RATE: Final = 384_000
# Chunks before the audio data are buffered whole; more than this is not a call recording.
MAX_HEADER_BYTES: Final = 1024 * 1024
_UNKNOWN_SIZE: Final = 0xFFFFFFFF

Range = tuple[int, int | None]
"""A time range in ms from the start of the audio; ``None`` as end means "to the end"."""


class MalformedWav(BadRequest):
    title = "Malformed WAV file"
    slug = "malformed-wav"


class TruncatedUpload(BadRequest):
    title = "Truncated upload"
    slug = "truncated-upload"


class UnsupportedAudio(UnsupportedMediaType):
    title = "Unsupported audio format"
    slug = "unsupported-audio"


@dataclass(frozen=True, slots=True)
class WavFormat:
    channels: int
    sample_rate: int
    bits: int
    block_align: int

    @property
    def silence(self) -> bytes:
        """One byte of silence: 8-bit WAV is unsigned (midpoint 0x80), wider is signed."""
        return b"\x80" if self.bits == 8 else b"\x00"

    def byte_offset(self, ms: int, *, round_up: bool) -> int:
        """Offset in the data chunk of the frame at ``ms`` (rounded outwards)."""
        scaled = ms * self.sample_rate
        frame = -(-scaled // 1000) if round_up else scaled // 1000
        return frame * self.block_align


@dataclass(frozen=True, slots=True)
class WavSummary:
    format: WavFormat
    data_bytes: int
    received_bytes: int
    stored_bytes: int

    @property
    def duration_ms(self) -> int:
        frames = self.data_bytes // self.format.block_align
        return frames * 1000 // self.format.sample_rate


def _byte_ranges(ranges: Sequence[Range], fmt: WavFormat, data_bytes: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start_ms, end_ms in ranges:
        lo = min(fmt.byte_offset(max(start_ms, 0), round_up=False), data_bytes)
        hi = data_bytes if end_ms is None else fmt.byte_offset(end_ms, round_up=True)
        hi = min(hi, data_bytes)
        if lo < hi:
            spans.append((lo, hi))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _masked(block: bytes, pos: int, spans: list[tuple[int, int]], fill: bytes) -> bytes:
    end = pos + len(block)
    buf: bytearray | None = None
    for lo, hi in spans:
        if lo >= end:
            break
        a, b = max(lo, pos), min(hi, end)
        if a < b:
            if buf is None:
                buf = bytearray(block)
            buf[a - pos : b - pos] = fill * (b - a)
    return block if buf is None else bytes(buf)


def _parse_fmt(body: bytes) -> WavFormat:
    if len(body) < 16:
        raise MalformedWav("the fmt chunk is shorter than 16 bytes")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == FORMAT_EXTENSIBLE:
        if len(body) < 40 or body[24:40] != _PCM_SUBFORMAT:
            raise UnsupportedAudio(
                "only PCM WAV is accepted: this WAVE_FORMAT_EXTENSIBLE file is not PCM"
            )
    elif tag != FORMAT_PCM:
        raise UnsupportedAudio(
            f"only PCM WAV is accepted (format tag 1), not format tag {tag}: "
            "silencing sensitive spans overwrites samples, which compressed audio does not allow"
        )
    if bits not in SAMPLE_BITS:
        raise UnsupportedAudio(f"only 8, 16, 24 or 32-bit PCM is accepted, not {bits}-bit")
    if not 1 <= channels <= MAX_CHANNELS:
        raise MalformedWav(f"channel count must be 1 to {MAX_CHANNELS}")
    if not 1 <= rate <= MAX_SAMPLE_RATE:
        raise MalformedWav(f"sample rate must be 1 to {MAX_SAMPLE_RATE} Hz")
    if block_align != channels * bits // 8:
        raise MalformedWav("block align does not match channels and sample width")
    return WavFormat(channels=channels, sample_rate=rate, bits=bits, block_align=block_align)


class WavFilter:
    """Feed the bytes of an uploaded WAV file; get back the stored original and the rendition.

    ``feed`` returns ``(original, redacted)``: the original has every ``pauses``
    range zeroed (audio that must never be stored); the redacted rendition has
    the ``silences`` ranges zeroed as well. ``finish`` checks that the file was
    complete. Errors: ``UnsupportedAudio`` (415), ``PayloadTooLarge`` (413),
    ``MalformedWav`` and ``TruncatedUpload`` (400).
    """

    def __init__(
        self, *, pauses: Sequence[Range], silences: Sequence[Range], max_bytes: int
    ) -> None:
        self._pauses = list(pauses)
        self._silences = list(silences)
        self._max_bytes = max_bytes
        self._head = bytearray()
        self._scan = 12  # where the next chunk header starts in ``_head``
        self._seen = 0
        self._riff_end: int | None = None
        self._fmt: WavFormat | None = None
        self._fmt_chunk = b""
        self._data_bytes = 0
        self._data_pos = 0
        self._in_data = False
        self._done_data = False
        self._stored = 0
        self._pause_spans: list[tuple[int, int]] = []
        self._redact_spans: list[tuple[int, int]] = []

    @property
    def format(self) -> WavFormat | None:
        return self._fmt

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        if not data:
            return b"", b""
        self._seen += len(data)
        if self._riff_end is not None and self._seen > self._riff_end:
            raise MalformedWav("the body is longer than its RIFF header says")
        if self._done_data:
            return b"", b""
        if self._in_data:
            return self._data(data)
        self._head += data
        return self._header()

    def _header(self) -> tuple[bytes, bytes]:
        head = self._head
        if len(head) >= 4 and head[:4] != b"RIFF":
            raise UnsupportedAudio("the body is not a RIFF/WAVE file")
        if len(head) < 12:
            return b"", b""
        if head[8:12] != b"WAVE":
            raise UnsupportedAudio("the body is a RIFF file but not WAVE audio")
        if self._riff_end is None:
            (riff_size,) = struct.unpack_from("<I", head, 4)
            if riff_size == _UNKNOWN_SIZE or riff_size < 4:
                raise MalformedWav("the RIFF header does not give the file's size")
            self._riff_end = riff_size + 8
            if self._riff_end > self._max_bytes:
                raise PayloadTooLarge(f"the WAV file is larger than {self._max_bytes} bytes")
            if self._seen > self._riff_end:
                raise MalformedWav("the body is longer than its RIFF header says")
        offset = self._scan
        while len(head) >= offset + 8:
            cid = bytes(head[offset : offset + 4])
            (size,) = struct.unpack_from("<I", head, offset + 4)
            body_at = offset + 8
            if cid == b"data":
                return self._start_data(size, body_at)
            if body_at + size > self._riff_end:
                raise MalformedWav("a chunk runs past the end of the RIFF file")
            if len(head) < body_at + size:
                break
            if cid == b"fmt ":
                if self._fmt is not None:
                    raise MalformedWav("the file has two fmt chunks")
                self._fmt = _parse_fmt(bytes(head[body_at : body_at + size]))
                self._fmt_chunk = bytes(head[offset : body_at + size]) + (b"\x00" * (size & 1))
            offset = body_at + size + (size & 1)
            self._scan = offset
        if len(head) > MAX_HEADER_BYTES:
            raise MalformedWav(f"more than {MAX_HEADER_BYTES} bytes before the audio data")
        return b"", b""

    def _start_data(self, size: int, body_at: int) -> tuple[bytes, bytes]:
        fmt = self._fmt
        if fmt is None:
            raise MalformedWav("the fmt chunk must come before the data chunk")
        if self._riff_end is None or size == _UNKNOWN_SIZE or body_at + size > self._riff_end:
            raise MalformedWav("the data chunk runs past the end of the RIFF file")
        if size % fmt.block_align:
            raise MalformedWav("the data chunk is not a whole number of audio frames")
        self._data_bytes = size
        self._pause_spans = _byte_ranges(self._pauses, fmt, size)
        self._redact_spans = _byte_ranges(self._pauses + self._silences, fmt, size)
        riff_size = 4 + len(self._fmt_chunk) + 8 + size + (size & 1)
        header = (
            (b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + self._fmt_chunk)
            + b"data"
            + struct.pack("<I", size)
        )
        rest = bytes(self._head[body_at:])
        self._head = bytearray()
        self._in_data = True
        self._stored = len(header)
        original, redacted = self._data(rest)
        return header + original, header + redacted

    def _data(self, data: bytes) -> tuple[bytes, bytes]:
        fmt = self._fmt
        if fmt is None:  # pragma: no cover - _in_data implies a format
            raise MalformedWav("no fmt chunk")
        take = min(len(data), self._data_bytes - self._data_pos)
        block = data[:take]
        original = _masked(block, self._data_pos, self._pause_spans, fmt.silence)
        redacted = _masked(original, self._data_pos, self._redact_spans, fmt.silence)
        self._data_pos += take
        if self._data_pos == self._data_bytes:
            self._done_data = True
            self._in_data = False
            if self._data_bytes & 1:
                original += b"\x00"
                redacted += b"\x00"
        self._stored += len(original)
        return original, redacted

    def finish(self) -> WavSummary:
        """The summary of a complete file; ``TruncatedUpload`` if it ended early."""
        if self._riff_end is None or self._seen < self._riff_end:
            expected = "" if self._riff_end is None else f" of {self._riff_end}"
            raise TruncatedUpload(
                f"the upload ended after {self._seen}{expected} bytes of the WAV file"
            )
        if self._fmt is None or not self._done_data:
            raise MalformedWav("the WAV file has no complete data chunk")
        return WavSummary(
            format=self._fmt,
            data_bytes=self._data_bytes,
            received_bytes=self._seen,
            stored_bytes=self._stored,
        )


__all__ = [
    "MAX_HEADER_BYTES",
    "MalformedWav",
    "Range",
    "TruncatedUpload",
    "UnsupportedAudio",
    "WavFilter",
    "WavFormat",
    "WavSummary",
]
