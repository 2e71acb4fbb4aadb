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
