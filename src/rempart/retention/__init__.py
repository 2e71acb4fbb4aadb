"""Retention: per-tenant durations per data class, legal holds, and the purge that applies them.

A library: the CLI (``rempart retention``) and the server's scheduler call
it, never the reverse. See ``docs/retention.md``.
"""

from rempart.retention.classes import AUDIT_MIN_DAYS, MAX_DAYS, MIN_DAYS, PURGE_ORDER, DataClass
from rempart.retention.holds import HoldScope, list_holds, place_hold, release_hold
from rempart.retention.media import MediaEraser, media_eraser
from rempart.retention.models import LegalHold, PurgeRun, RetentionPolicyRow
from rempart.retention.policy import (
    RetentionPolicy,
    load_policy,
    parse_class,
    set_policy,
    validate,
)
from rempart.retention.purge import (
    AUDIT_NOTE,
    DEFAULT_BATCH_SIZE,
    BatchDone,
    ClassCounts,
    PurgeReport,
    purge,
)
from rempart.retention.scheduler import PurgeAllResult, RetentionScheduler, purge_all

__all__ = [
    "AUDIT_MIN_DAYS",
    "AUDIT_NOTE",
    "DEFAULT_BATCH_SIZE",
    "MAX_DAYS",
    "MIN_DAYS",
    "PURGE_ORDER",
    "BatchDone",
    "ClassCounts",
    "DataClass",
    "HoldScope",
    "LegalHold",
    "MediaEraser",
    "PurgeAllResult",
    "PurgeReport",
    "PurgeRun",
    "RetentionPolicy",
    "RetentionPolicyRow",
    "RetentionScheduler",
    "list_holds",
    "load_policy",
    "media_eraser",
    "parse_class",
    "place_hold",
    "purge",
    "purge_all",
    "release_hold",
    "set_policy",
    "validate",
]
