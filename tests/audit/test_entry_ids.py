"""Entry ids: UUIDv7 (RFC 9562), unique, time-ordered across batches."""

from __future__ import annotations

import time
import uuid

from rempart.audit.store import new_entry_ids


def test_entry_ids_are_version_7_uuids_with_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_entry_ids(500)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 500
    for text in ids:
        value = uuid.UUID(text)
        assert str(value) == text
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after


def test_later_batches_sort_after_earlier_ones() -> None:
    first = new_entry_ids(50)
    time.sleep(0.002)
    second = new_entry_ids(50)
    assert max(first) < min(second)
    assert new_entry_ids(0) == []


def test_entry_ids_carry_random_bits_in_every_random_field() -> None:
    """The 12 bits after the version, the variant digit's 2 and the last 60 all vary."""
    ids = new_entry_ids(500)
    assert {text[19] for text in ids} == set("89ab")
    assert len({text[15:18] for text in ids}) > 400
    assert len({text[20:] for text in ids}) == 500
