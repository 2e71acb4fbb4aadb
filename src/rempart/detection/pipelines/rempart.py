"""Rempart pipeline: the contact-center rules over the entries of Rempart's audit log.

Rules use short flat names (``actor``, ``action``, ``resource_id``, ``details.fields``...);
this pipeline maps them to where an audit entry keeps them. The entries are the OCSF
objects that ``rempart.audit.schema.to_ocsf`` writes and the Merkle log hashes: the
action in ``api.operation``, the outcome in ``status``, the resource in the list
``resources[]``, the tenant in ``metadata.tenant_uid``, the time in ``time`` (epoch
milliseconds), and the free-form details and the two sides of a change, masked, under
``unmapped``. When the schema moves, only :data:`FIELDS` and :data:`PREFIXES` change,
not the rules. ``docs/detection.md`` lists them.
"""

from __future__ import annotations

from typing import Final

from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    FieldMappingTransformation,
    FieldPrefixMappingTransformation,
)
from sigma.rule import SigmaLogSource

from rempart.detection.pipelines.base import Pipeline

PRODUCT: Final = "rempart"

# Rule field -> audit entry path. Fields not listed (and not under a prefix below) are
# read as written, so a rule may also name an entry path directly (``class_uid``).
FIELDS: Final[dict[str | None, str | list[str]]] = {
    "time": "time",
    "action": "api.operation",
    "outcome": "status",
    "reason": "status_detail",
    "tenant": "metadata.tenant_uid",
    "request_id": "metadata.correlation_uid",
    "actor": "actor.user.uid",
    "actor_type": "actor.user.type",
    "resource_type": "resources.type",
    "resource_id": "resources.uid",
    "src_ip": "src_endpoint.ip",
    "user_agent": "http_request.user_agent",
}

# Rule field prefix -> audit entry prefix: the act's details, and a change's two sides.
PREFIXES: Final[dict[str | None, str | list[str]]] = {
    "details.": "unmapped.details.",
    "before.": "unmapped.change.before.",
    "after.": "unmapped.change.after.",
}


def build() -> ProcessingPipeline:
    return ProcessingPipeline(
        name="Rempart audit entries",
        priority=20,
        items=[
            ProcessingItem(
                FieldMappingTransformation(mapping=FIELDS),
                identifier="rempart_audit_fields",
            ),
            ProcessingItem(
                FieldPrefixMappingTransformation(mapping=PREFIXES),
                identifier="rempart_audit_prefixes",
            ),
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
    description="Rempart audit log entries (OCSF, rempart.audit.schema), product: rempart",
)

__all__ = ["FIELDS", "PREFIXES", "REMPART", "build", "unsupported"]
