"""Large, empty, binary and odd Unicode input: no crash, no hang."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from rempart.redaction import detect, redact


def test_empty_and_whitespace_input() -> None:
    assert detect("", "fr") == []
    assert redact("   ", "en").text == "   "


def test_binary_garbage_decoded_with_replacement() -> None:
    text = os.urandom(20_000).decode("utf-8", errors="replace")
    out = redact(text, "fr")
    assert not out.blocked


def test_a_long_single_line_is_processed_in_linear_time() -> None:
    line = (
        "bonjour je m'appelle Zorvan et ma carte est 4111 1111 1111 1111, "
        "commande 123456789, 12 rue des Lilas 75011 Paris. "
    ) * 5_000  # ~600 kB
    spans = detect(line, "fr")
    assert len([s for s in spans if s.label == "CARD_NUMBER"]) == 5_000


def test_a_long_run_of_digits_and_number_words() -> None:
    assert isinstance(detect("1 " * 20_000, "fr"), list)
    assert isinstance(detect("un deux " * 10_000, "fr"), list)


ATHERIS_HARNESS = textwrap.dedent(
    """
    import sys
    import atheris
    with atheris.instrument_imports():
        from rempart.redaction import detect, redact

    def one(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        text = fdp.ConsumeUnicodeNoSurrogates(400)
        lang = ("fr", "en", None)[fdp.ConsumeIntInRange(0, 2)]
        spans = detect(text, lang)
        for s in spans:
            if not (0 <= s.start < s.end <= len(text)):
                raise RuntimeError("offset outside the text")
        once = redact(text, lang).text
        if redact(once, lang).text != once:
            raise RuntimeError("not idempotent")

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
    """
)


def test_short_atheris_fuzz_run(tmp_path: object) -> None:
    pytest.importorskip("atheris")
    proc = subprocess.run(
        [sys.executable, "-c", ATHERIS_HARNESS, "-runs=3000", "-seed=1"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
