"""Timed transcripts: ranges to silence, and the streamed redacted WAV."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import pytest

from rempart.redaction.audio import TimeRange, Word, ranges_to_silence, write_redacted_wav


def _words(text: str, step: float = 0.5) -> list[Word]:
    return [Word(w, i * step, i * step + 0.4) for i, w in enumerate(text.split())]


def test_ranges_cover_the_words_of_a_spoken_card_number() -> None:
    words = _words("ma carte c'est quatre un un un un un un un un un un un un un un un merci")
    ranges = ranges_to_silence(words, "fr", padding=0.1)
    assert len(ranges) == 1
    r = ranges[0]
    assert r.label == "CARD_NUMBER"
    assert r.start == pytest.approx(3 * 0.5 - 0.1)
    assert r.end == pytest.approx(18 * 0.5 + 0.4 + 0.1)


def test_no_sensitive_words_no_ranges() -> None:
    assert ranges_to_silence(_words("bonjour je voudrais changer mon forfait"), "fr") == []


def _tone(path: Path, seconds: float, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<h", 1000) * int(seconds * rate))


def _samples(path: Path) -> list[int]:
    with wave.open(str(path), "rb") as r:
        data = r.readframes(r.getnframes())
    return [s[0] for s in struct.iter_unpack("<h", data)]


def test_wav_is_silenced_over_ranges_only(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    _tone(src, 2.0)
    write_redacted_wav(src, dst, [TimeRange(0.5, 1.0, "CARD_NUMBER")], chunk_frames=1000)
    s = _samples(dst)
    assert len(s) == 16000
    assert all(v == 0 for v in s[4000:8000])
    assert all(v == 1000 for v in s[:4000])
    assert all(v == 1000 for v in s[8000:])


def test_wav_beep_replaces_the_voice(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    _tone(src, 1.0)
    write_redacted_wav(src, dst, [TimeRange(0.25, 0.5, "PIN_OR_SECRET")], mode="beep")
    s = _samples(dst)
    assert 1000 not in s[2000:4000]
    assert len(set(s[2000:4000])) > 3
    assert all(v == 1000 for v in s[:2000])


def test_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    src.write_bytes(b"RIFF....not a wav")
    with pytest.raises((wave.Error, EOFError)):
        write_redacted_wav(src, dst, [])
    assert list(tmp_path.iterdir()) == [src]
