"""Scan streams of JSON events with an engine: matches out, problems reported, nothing lost.

Events are numbered from 0 across all inputs, in order, counting every JSON value (a
value that is not an object, or cannot be decoded, still takes its number, so the
numbers always point at the input). Each problem (invalid JSON, not an object, nested too
deeply, a regex over its budget) is yielded with that number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from rempart.detection.engine import Detection, DetectionEngine
from rempart.detection.errors import DetectionError
from rempart.detection.jsonstream import iter_json


@dataclass(frozen=True)
class ScanMatch:
    index: int
    detection: Detection


@dataclass(frozen=True)
class ScanProblem:
    index: int
    source: str
    message: str


def scan_streams(
    engine: DetectionEngine, streams: Iterable[tuple[str, IO[str]]]
) -> Iterator[ScanMatch | ScanProblem]:
    """Run ``engine.process`` over every JSON value of every (name, stream)."""
    offset = 0
    for name, stream in streams:
        last = -1
        for item in iter_json(stream):
            index = offset + item.index
            last = item.index
            if item.error is not None:
                yield ScanProblem(index, name, item.error)
                continue
            if not isinstance(item.value, dict):
                yield ScanProblem(
                    index,
                    name,
                    f"line {item.line}: an event must be a JSON object, "
                    f"not {type(item.value).__name__}",
                )
                continue
            seen = engine.problem_count
            try:
                detections = engine.process(item.value, index)
            except DetectionError as exc:
                yield ScanProblem(index, name, f"line {item.line}: {exc}")
                continue
            for detection in detections:
                yield ScanMatch(index, detection)
            if engine.problem_count != seen:
                for problem in list(engine.problems)[seen - engine.problem_count :]:
                    yield ScanProblem(
                        index, name, f"line {item.line}: rule {problem.rule_id}: {problem.message}"
                    )
        offset += last + 1


__all__ = ["ScanMatch", "ScanProblem", "scan_streams"]
