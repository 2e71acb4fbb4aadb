"""Per-tenant redaction policies: which entities, which operator for each, and what to
do with the original and with failures. Built from configuration (a TOML table or
a JSON object), never from code in the tenant's hands.

Example (``rempart.toml`` or a tenant's settings)::

    entities = ["CARD_NUMBER", "IBAN", "PERSON", "CUSTOMER_ACCOUNT"]
    keep_original = true            # original goes to encrypted storage only
    fail_closed = true
    [operators]
    default = { kind = "tag" }
    CARD_NUMBER = { kind = "mask", keep_last = 4 }
    PERSON = { kind = "surrogate" }
    [[custom]]
    label = "CUSTOMER_ACCOUNT"
    pattern = "CL-?\\\\d{8}"
    context = ["numéro client", "customer number"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rempart.errors import ConfigurationError
from rempart.redaction.entities import BUILTIN_ENTITIES
from rempart.redaction.operators import Operator, TypeTag, make_operator
from rempart.redaction.recognizers.custom import DEFAULT_TIMEOUT_MS, CustomPattern


@dataclass(frozen=True)
class Policy:
    """How one tenant redacts. Defaults are the safe choice."""

    entities: frozenset[str] | None = None  # None: every known entity
    operators: Mapping[str, Operator] = field(default_factory=dict)
    default_operator: Operator = field(default_factory=TypeTag)
    keep_original: bool = False
    fail_closed: bool = True
    min_score: float = 0.5
    custom: tuple[CustomPattern, ...] = ()
    max_chars: int = 64 * 1024 * 1024

    def operator_for(self, label: str) -> Operator:
        return self.operators.get(label, self.default_operator)

    def wants(self, label: str) -> bool:
        return self.entities is None or label in self.entities

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        """Build a policy from configuration, refusing anything unknown."""
        known = {
            "entities",
            "operators",
            "keep_original",
            "fail_closed",
            "min_score",
            "custom",
            "max_chars",
        }
        unknown = set(data) - known
        if unknown:
            raise ConfigurationError(f"unknown policy settings: {', '.join(sorted(unknown))}")
        custom = tuple(_custom(c) for c in data.get("custom", ()))
        labels = BUILTIN_ENTITIES | {c.label for c in custom}
        entities = data.get("entities")
        if entities is not None:
            bad = set(entities) - labels
            if bad:
                raise ConfigurationError(f"unknown entities in policy: {', '.join(sorted(bad))}")
            entities = frozenset(entities)
        ops: dict[str, Operator] = {}
        default: Operator = TypeTag()
        for label, spec in dict(data.get("operators", {})).items():
            if not isinstance(spec, Mapping) or "kind" not in spec:
                raise ConfigurationError(f"operator for {label} needs a 'kind'")
            options = {k: v for k, v in spec.items() if k != "kind"}
            op = make_operator(str(spec["kind"]), **options)
            if label == "default":
                default = op
            elif label not in labels:
                raise ConfigurationError(f"operator for unknown entity {label}")
            else:
                ops[label] = op
        min_score = float(data.get("min_score", 0.5))
        if not 0.0 <= min_score <= 1.0:
            raise ConfigurationError("min_score must lie between 0 and 1")
        return cls(
            entities=entities,
            operators=ops,
            default_operator=default,
            keep_original=bool(data.get("keep_original", False)),
            fail_closed=bool(data.get("fail_closed", True)),
            min_score=min_score,
            custom=custom,
            max_chars=int(data.get("max_chars", 64 * 1024 * 1024)),
        )


def _custom(spec: Any) -> CustomPattern:
    if not isinstance(spec, Mapping):
        raise ConfigurationError("each custom entity is a table")
    allowed = {
        "label",
        "pattern",
        "context",
        "context_required",
        "checksum",
        "ignore_case",
        "spoken",
        "score",
        "window",
        "timeout_ms",
    }
    unknown = set(spec) - allowed
    if unknown:
        raise ConfigurationError(f"unknown custom entity settings: {', '.join(sorted(unknown))}")
    if spec.get("checksum", "none") not in ("none", "luhn", "mod97"):
        raise ConfigurationError("checksum must be none, luhn or mod97")
    try:
        return CustomPattern(
            label=str(spec["label"]),
            pattern=str(spec["pattern"]),
            context=tuple(str(c) for c in spec.get("context", ())),
            context_required=bool(spec.get("context_required", False)),
            checksum=spec.get("checksum", "none"),
            ignore_case=bool(spec.get("ignore_case", True)),
            spoken=bool(spec.get("spoken", True)),
            score=float(spec.get("score", 0.8)),
            window=int(spec.get("window", 60)),
            timeout_ms=int(spec.get("timeout_ms", DEFAULT_TIMEOUT_MS)),
        )
    except KeyError as exc:
        raise ConfigurationError(f"custom entity is missing {exc}") from exc


DEFAULT_POLICY = Policy()

__all__ = ["DEFAULT_POLICY", "Policy"]
