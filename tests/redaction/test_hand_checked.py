"""Known-answer vectors: a hand-written, hand-checked sample of each channel and language.

``vectors/hand_checked.jsonl`` holds texts with gold spans (``n*`` ids are hard
negatives with none). Each gold entity must be covered and nothing else redacted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rempart.redaction import detect

VECTORS = [
    json.loads(line)
    for line in (Path(__file__).parent / "vectors" / "hand_checked.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_hand_checked_vector(vector: dict[str, Any]) -> None:
    text = vector["text"]
    got = [(s.start, s.end, str(s.label)) for s in detect(text, vector["lang"])]
    assert got == [tuple(s) for s in vector["spans"]], [text[s:e] for s, e, _ in got]
