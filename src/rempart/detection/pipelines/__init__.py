"""Field and log-source mappings, as pySigma processing pipelines, by name."""

from __future__ import annotations

from rempart.detection.errors import DetectionError
from rempart.detection.pipelines.base import GENERIC, Pipeline
from rempart.detection.pipelines.rempart import REMPART
from rempart.detection.pipelines.windows import WINDOWS

PIPELINES: dict[str, Pipeline] = {p.name: p for p in (GENERIC, WINDOWS, REMPART)}


def get_pipeline(name: str | None) -> Pipeline:
    """The pipeline called ``name`` (None or "none": no mapping)."""
    key = name or "none"
    try:
        return PIPELINES[key]
    except KeyError:
        known = ", ".join(sorted(PIPELINES))
        raise DetectionError(f"unknown pipeline {name!r} (known: {known})") from None


__all__ = ["GENERIC", "PIPELINES", "REMPART", "WINDOWS", "Pipeline", "get_pipeline"]
