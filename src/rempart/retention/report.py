"""What a purge reports: counts per data class, per batch and per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from rempart.retention.classes import PURGE_ORDER, DataClass

AUDIT_NOTE: Final = (
    "audit entries older than the audit duration are pruned, not deleted: their content "
    "goes, their leaf hash and place in the Merkle log stay (proofs and checkpoints hold)"
)


@dataclass(slots=True)
class ClassCounts:
    """What one class removed (or, in a dry run, would remove)."""

    interactions: int = 0
    segments: int = 0
    recordings: int = 0

    def add(self, other: ClassCounts) -> None:
        self.interactions += other.interactions
        self.segments += other.segments
        self.recordings += other.recordings

    def as_dict(self) -> dict[str, int]:
        return {
            "interactions": self.interactions,
            "segments": self.segments,
            "recordings": self.recordings,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> ClassCounts:
        return cls(
            int(value.get("interactions", 0)),
            int(value.get("segments", 0)),
            int(value.get("recordings", 0)),
        )


@dataclass(frozen=True, slots=True)
class BatchDone:
    """One committed batch (handed to ``on_batch`` after its commit)."""

    run_id: str
    data_class: DataClass
    number: int
    counts: ClassCounts


@dataclass(slots=True)
class PurgeReport:
    """The outcome of a purge (or a dry run) of one tenant."""

    tenant_id: str
    dry_run: bool
    as_of: datetime
    run_id: str | None = None
    resumed: bool = False
    held: bool = False
    batches: int = 0
    cutoffs: dict[DataClass, datetime] = field(default_factory=dict)
    counts: dict[DataClass, ClassCounts] = field(default_factory=dict)
    # Audit entries pruned (or, in a dry run, due to be): ``rempart.audit.prune``.
    audit_pruned: int = 0

    @property
    def not_configured(self) -> list[DataClass]:
        return [c for c in PURGE_ORDER if c not in self.cutoffs]

    def count(self, data_class: DataClass) -> ClassCounts:
        return self.counts.get(data_class, ClassCounts())

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "dry_run": self.dry_run,
            "as_of": self.as_of.isoformat(),
            "run_id": self.run_id,
            "resumed": self.resumed,
            "held": self.held,
            "batches": self.batches,
            "classes": [
                {
                    "data_class": c.value,
                    "cutoff": self.cutoffs[c].isoformat() if c in self.cutoffs else None,
                    **self.count(c).as_dict(),
                }
                for c in PURGE_ORDER
            ],
            "audit": {
                "cutoff": self.cutoffs[DataClass.AUDIT].isoformat()
                if DataClass.AUDIT in self.cutoffs
                else None,
                "pruned": self.audit_pruned,
                "note": AUDIT_NOTE,
            },
        }


__all__ = ["AUDIT_NOTE", "BatchDone", "ClassCounts", "PurgeReport"]
