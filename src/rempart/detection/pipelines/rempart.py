"""Rempart pipeline: the contact-center rules over Rempart's own audit events.

Rules use short flat field names (``actor``, ``action``, ``resource_type``...); this
pipeline maps them to where the audit event keeps them, OCSF-aligned (``actor.user.uid``,
``resource.type``, ``src_endpoint.ip``...): when the schema moves, only :data:`FIELDS`
changes, not the rules. ``docs/detection.md`` lists the fields, and the known gap: these
paths predate the audit log's settled entries (``api.operation``, ``status``,
``resources[]``, ``unmapped.details``...) and are not yet aligned with them.
"""

from __future__ import annotations

from typing import Final

from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation
from sigma.rule import SigmaLogSource

from rempart.detection.pipelines.base import Pipeline

PRODUCT: Final = "rempart"

# Rule field -> audit event path. Fields not listed are read as written.
FIELDS: Final[dict[str | None, str | list[str]]] = {
    "time": "time",
    "class_uid": "class_uid",
    "activity": "activity",
    "action": "action",
    "tenant": "tenant",
    "actor": "actor.user.uid",
    "actor_role": "actor.user.role",
    "resource_type": "resource.type",
    "resource_id": "resource.id",
    "outcome": "outcome",
    "src_ip": "src_endpoint.ip",
    "session": "actor.session.uid",
    "setting": "details.setting",
    "old_value": "details.old_value",
    "new_value": "details.new_value",
    "data_class": "details.data_class",
    "reason": "details.reason",
    "role": "details.role",
    "text": "details.text",
    "records": "details.records",
}


def build() -> ProcessingPipeline:
    return ProcessingPipeline(
        name="Rempart audit events",
        priority=20,
        items=[
            ProcessingItem(
                FieldMappingTransformation(mapping=FIELDS),
                identifier="rempart_audit_fields",
            )
        ],
    )


def unsupported(logsource: SigmaLogSource) -> str | None:
    if logsource.product != PRODUCT:
        return f"log source product {logsource.product!r} is not {PRODUCT!r}"
    return None


REMPART = Pipeline(
    name="rempart",
    build=build,
    unsupported=unsupported,
    timestamp_fields=("time",),
    description="Rempart audit events (OCSF-aligned), product: rempart",
)

__all__ = ["FIELDS", "REMPART", "build", "unsupported"]
