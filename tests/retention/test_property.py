"""Property: after a purge, every interaction holds exactly what a simple model says it should."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.contact.media import MediaStore
from rempart.retention import DataClass, RetentionPolicy, purge, set_policy
from rempart.storage import Database
from rempart.storage.migrate import upgrade
from tests.conftest import make_tenant
from tests.retention.helpers import ACTOR, ORIGIN, State, add_interaction, clock, state

CLASSES = (DataClass.ORIGINAL, DataClass.TRANSCRIPT, DataClass.RECORDING, DataClass.METADATA)


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Path]]:
    root = tmp_path_factory.mktemp("retention-property")
    db = Database.from_url(f"sqlite:///{root / 'rempart.db'}")
    upgrade(db.engine)
    try:
        yield db, root
    finally:
        db.dispose()


@st.composite
def policies(draw: st.DrawFn) -> dict[DataClass, int]:
    """Valid policies: some classes set, narrower never longer than wider."""
    metadata = draw(st.none() | st.integers(1, 60))
    cap = metadata if metadata is not None else 60
    transcript = draw(st.none() | st.integers(1, cap))
    recording = draw(st.none() | st.integers(1, cap))
    original_cap = transcript if transcript is not None else cap
    original = draw(st.none() | st.integers(1, original_cap))
    days = {
        DataClass.METADATA: metadata,
        DataClass.TRANSCRIPT: transcript,
        DataClass.RECORDING: recording,
        DataClass.ORIGINAL: original,
    }
    return {c: d for c, d in days.items() if d is not None}


def expected(policy: RetentionPolicy, age: int) -> State:
    def due(c: DataClass) -> bool:
        days = policy.effective(c)
        return days is not None and age > days

    if due(DataClass.METADATA):
        return State(exists=False)
    transcript = not due(DataClass.TRANSCRIPT)
    original = transcript and not due(DataClass.ORIGINAL)
    recording = not due(DataClass.RECORDING)
    return State(
        exists=True,
        segments=2 if transcript else 0,
        originals=2 if original else 0,
        subject=transcript,
        subject_original=original,
        recordings=int(recording),
        media=int(recording),
    )


@settings(max_examples=20)
@given(days=policies(), ages=st.lists(st.integers(0, 70), min_size=1, max_size=6))
def test_purge_leaves_exactly_what_the_policy_keeps(
    sqlite_db: tuple[Database, Path], days: dict[DataClass, int], ages: list[int]
) -> None:
    db, root = sqlite_db
    media = MediaStore(root / f"media-{uuid.uuid4().hex}")
    ctx = make_tenant(db, "p")
    if days:
        set_policy(db, ctx, ORIGIN, days, clock=clock)
    seeded = [(age, add_interaction(db, ctx, media, age_days=age)) for age in ages]

    dry = purge(db, ctx, media, actor=ACTOR, dry_run=True, clock=clock)
    report = purge(db, ctx, media, actor=ACTOR, batch_size=2, clock=clock)

    policy = RetentionPolicy(days)
    for age, stored in seeded:
        assert state(db, ctx, media, stored) == expected(policy, age), age
    assert {c: dry.count(c).as_dict() for c in CLASSES} == {
        c: report.count(c).as_dict() for c in CLASSES
    }
