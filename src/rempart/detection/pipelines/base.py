"""What a pipeline is to the engine: a pySigma processing pipeline plus the facts the
engine needs around it (which log sources it can serve, where an event keeps its time).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import ValueListPlaceholderTransformation
from sigma.rule import SigmaLogSource


@dataclass(frozen=True)
class Pipeline:
    """A named field and log-source mapping.

    ``build`` returns a fresh pySigma :class:`ProcessingPipeline` (pipelines keep state
    while they process a rule, so each compilation gets its own). ``unsupported`` says
    why a log source cannot be evaluated with this pipeline, or None when it can.
    """

    name: str
    build: Callable[[], ProcessingPipeline]
    unsupported: Callable[[SigmaLogSource], str | None] = lambda _ls: None
    timestamp_fields: tuple[str, ...] = ("time", "timestamp", "@timestamp")
    description: str = ""
    placeholders: Mapping[str, Sequence[str]] = field(default_factory=dict)
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Field path prefixes to try elsewhere when absent (see :class:`EventView`)."""

    def processing(self) -> ProcessingPipeline:
        """The pySigma pipeline, with the placeholder values of the ``expand`` modifier."""
        pipeline = self.build()
        if self.placeholders:
            pipeline = pipeline + ProcessingPipeline(
                name=f"{self.name} placeholders",
                items=[
                    ProcessingItem(
                        ValueListPlaceholderTransformation(include=list(self.placeholders)),
                        identifier=f"{self.name}_placeholders",
                    )
                ],
                vars={k: list(v) for k, v in self.placeholders.items()},
            )
        return pipeline

    def with_placeholders(self, values: Mapping[str, Sequence[str]]) -> Pipeline:
        """The same pipeline with values for ``%name%`` placeholders (``expand`` modifier)."""
        return dataclasses.replace(self, placeholders={**self.placeholders, **values})


def empty_pipeline() -> ProcessingPipeline:
    return ProcessingPipeline(name="none", items=[])


GENERIC = Pipeline(
    name="none",
    build=empty_pipeline,
    description="fields as written in the rules, every log source accepted",
)

__all__ = ["GENERIC", "Pipeline", "empty_pipeline"]
