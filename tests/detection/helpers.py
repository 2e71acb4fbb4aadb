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
    """Deterministic synthetic Rempart audit events that exercise the whole pack: reads
    (day and night), exports, chat with card numbers, login bursts, setting and role
    changes, the odd out-of-order or late event, and values that are not plain strings."""
    import random
    from datetime import UTC, datetime, timedelta

    rnd = random.Random(seed)
    t = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        t += timedelta(milliseconds=rnd.randint(1, 900))
        a = rnd.randrange(agents)
        when = t
        if rnd.random() < 0.01:  # out of order, sometimes far behind (late)
            when = t - timedelta(seconds=rnd.choice([5, 60, 3600]))
        event: dict[str, Any] = {
            "class_uid": 6003,
            "time": when.isoformat().replace("+00:00", "Z" if a % 2 else "+00:00"),
            "tenant": f"tenant-{a % 3}",
            "actor": {"user": {"uid": f"agent-{a}", "role": "agent"}},
            "src_endpoint": {"ip": f"10.0.0.{a}"},
            "outcome": "success",
        }
        r = rnd.random()
        if r < 0.55:
            event |= {
                "action": rnd.choice(["customer.read", "customer.read", "interaction.read"]),
                "activity": "read",
                "resource": {"type": "customer", "id": f"c-{rnd.randint(1, 400)}"},
            }
        elif r < 0.65:
            event |= {
                "action": "chat.message",
                "details": {
                    "text": rnd.choice(
                        ["hello", "card 4111 1111 1111 1111", "4111-1111-1111-1111 ok", "12 34"]
                    )
                },
            }
        elif r < 0.80:
            event |= {
                "action": "auth.login",
                "outcome": "failure" if rnd.random() < 0.6 else "success",
            }
        elif r < 0.88:
            event |= {"action": "interaction.export", "resource": {"type": "x", "id": "b"}}
        elif r < 0.94:
            event |= {
                "action": "setting.update",
                "details": {
                    "setting": rnd.choice(["redaction.enabled", "mfa.required", "retention"]),
                    "old_value": rnd.choice(["true", "always", True]),
                    "new_value": rnd.choice(["false", "optional", False, "never"]),
                },
            }
        elif r < 0.97:
            event |= {
                "action": rnd.choice(["role.assign", "permission.grant", "Role.Revoke"]),
                "details": {"role": "supervisor"},
            }
        else:
            event |= {
                "action": rnd.choice(["interaction.unmask", "customer.UNMASK"]),
                "details": {"data_class": rnd.choice(["pan", "PAN", "phone", ["pan", "x"]])},
            }
        if rnd.random() < 0.01:
            event["actor"] = {"user.uid": f"agent-{a}"}  # a dotted key
        out.append(event)
    return out
