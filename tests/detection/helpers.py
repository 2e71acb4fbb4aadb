"""Helpers shared by the detection tests: compile a detection, find the shared data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from sigma.rule import SigmaRule

from rempart.detection.compiler import CompiledRule, compile_rule
from rempart.detection.event import EventView
from rempart.detection.loader import ensure_modifier_aliases
from rempart.detection.pipelines import GENERIC

REPO_ROOT = Path(__file__).resolve().parents[2]
SIGMA_DATA = REPO_ROOT.parent / "shared" / "data" / "sigma"
SIGMA_RULE_DIRS = [
    SIGMA_DATA / d for d in ("rules", "rules-emerging-threats", "rules-threat-hunting")
]
VECTORS = Path(__file__).parent / "vectors"


def require_sigma_data() -> Path:
    if not (SIGMA_DATA / "rules").is_dir():
        pytest.skip(f"SigmaHQ test data absent: expected it at {SIGMA_DATA}")
    return SIGMA_DATA


def load_vectors(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((VECTORS / name).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise TypeError(f"{name}: expected a list of cases")
    return data


def sigma_rule(
    detection: Mapping[str, Any], placeholders: Mapping[str, Sequence[str]] | None = None
) -> SigmaRule:
    """A pySigma rule around ``detection``, processed by the generic pipeline."""
    ensure_modifier_aliases()
    rule = SigmaRule.from_dict(
        {
            "title": "test rule",
            "id": "00000000-0000-4000-8000-000000000000",
            "logsource": {"product": "test"},
            "detection": dict(detection),
        }
    )
    pipeline = GENERIC.with_placeholders(placeholders) if placeholders else GENERIC
    pipeline.processing().apply(rule)
    return rule


def compile_detection(
    detection: Mapping[str, Any], placeholders: Mapping[str, Sequence[str]] | None = None
) -> CompiledRule:
    return compile_rule(sigma_rule(detection, placeholders))


def matches(rule: CompiledRule, event: Mapping[str, Any]) -> bool:
    return rule.predicate(EventView(event))


def rule_yaml(detection: str, **extra: str) -> str:
    """A whole rule document around a ``detection:`` block given as YAML text."""
    head = "\n".join(f"{k}: {v}" for k, v in extra.items())
    return (
        "title: t\nid: 11111111-1111-4111-8111-111111111111\n"
        f"{head}\nlogsource:\n    product: test\ndetection:\n{detection}"
    )


def audit_stream(n: int, seed: int = 11, agents: int = 12) -> list[dict[str, Any]]:
    """Deterministic audit log entries that exercise the whole pack: the synthetic
    traffic of ``rempart.detection.synthetic`` (reads day and night, chat redactions
    with card numbers, sign-in bursts from a few addresses, exports, unmasks, role and
    policy changes) with a few agents and addresses so that the correlations fire, 1%
    of the acts out of order (some late), and now and then a value the encoder never
    writes (an upper-case action, a numeric status, no tenant, a dotted key)."""
    from datetime import UTC, datetime

    from rempart.detection.synthetic import Traffic, audit_events, entries

    traffic = Traffic(
        seed=seed,
        start=datetime(2026, 3, 2, 5, 30, tzinfo=UTC),
        tenants=3,
        agents=agents,
        interactions=400,
        step_ms=(1, 900),
        disorder=0.01,
        addresses=6,
    )
    out = list(entries(audit_events(traffic, n)))
    for i, entry in enumerate(out):
        if i % 97 == 13:
            entry["api"]["operation"] = entry["api"]["operation"].upper()
        elif i % 131 == 17:
            entry["status"] = entry["status_id"]
        elif i % 151 == 19:
            del entry["metadata"]["tenant_uid"]
        elif i % 173 == 23:
            entry["actor"] = {"user.uid": entry["actor"]["user"]["uid"]}  # a dotted key
        elif i % 199 == 29:
            entry["resources"].append({"type": "recording", "uid": "r-1"})  # two resources
    return out


def logged_detections(db: Any, ctx: Any) -> list[tuple[str, dict[str, Any]]]:
    """The contact-center pack over a tenant's audit log as stored (its canonical
    entries, in log order): each detection's rule title and the entry that raised it.
    What a SIEM forwarder or ``rempart detect scan`` on an export would see."""
    import json

    from sqlalchemy import select

    from rempart.audit import AuditRecord
    from rempart.detection import DetectionEngine, contact_center_rules, get_pipeline, load_rules

    with db.tenant_session(ctx) as session:
        stmt = select(AuditRecord.entry).where(AuditRecord.seq.is_not(None))
        stored = [json.loads(e) for e in session.scalars(stmt.order_by(AuditRecord.seq)) if e]
    engine = DetectionEngine(load_rules([contact_center_rules()], get_pipeline("rempart")))
    return [(d.rule_title, e) for i, e in enumerate(stored) for d in engine.process(e, i)]
