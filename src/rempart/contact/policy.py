"""A tenant's data-protection policy: what ingest keeps, how chats fail, how to redact.

Stored as JSON in ``data_policies`` (one row per tenant); a tenant without a
row gets ``DataPolicy()``, the safe default: redacted text only, no original
kept, chats fail closed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.contact.models import DataPolicyRow
from rempart.errors import ConfigurationError, ValidationFailed
from rempart.redaction import Policy
from rempart.redaction.entities import BUILTIN_ENTITIES
from rempart.storage.base import new_id
from rempart.storage.tenancy import session_tenant

Protection = Literal["redacted", "redacted+original"]
FailureMode = Literal["closed", "open"]


class DataPolicy(BaseModel):
    """What protection on ingest does for one tenant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # "redacted": only the redacted text is kept; "redacted+original": the
    # original too, encrypted under the customer's key, readable only
    # through audited unmasking.
    protection: Protection = "redacted"
    # The in-flight chat endpoint: "closed" withholds a message it could not
    # redact, "open" passes it through unredacted (and says so).
    chat_failure: FailureMode = "closed"
    # A ``rempart.redaction.Policy`` mapping (entities, operators, custom
    # patterns); empty means the built-in policy. Ingest always fails closed.
    redaction: dict[str, Any] = Field(default_factory=dict)
    # An interaction naming a queue the directory does not know: "refuse" (422;
    # need-to-know follows teams and queues, so a mistyped queue would hide the
    # interaction from its supervisors) or "create" the queue, with no team.
    unknown_queues: Literal["refuse", "create"] = "refuse"
    # Region used to read customer phone numbers written without a country code.
    phone_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")

    @field_validator("redaction")
    @classmethod
    def _valid_redaction(cls, value: dict[str, Any]) -> dict[str, Any]:
        redaction_policy(value)  # raises on a bad mapping
        return value

    @property
    def keeps_original(self) -> bool:
        return self.protection == "redacted+original"

    def redaction_policy(self) -> Policy:
        return redaction_policy(self.redaction)

    def redacted_entities(self) -> frozenset[str]:
        """The entity labels ingest redacts under this policy."""
        policy = self.redaction_policy()
        if policy.entities is not None:
            return policy.entities
        return BUILTIN_ENTITIES | {c.label for c in policy.custom}

    def audit_facts(self) -> dict[str, Any]:
        """What an audit entry records of the policy on each side of a change (no
        custom pattern, nothing personal): the detection pack reads it to see
        redaction weakened."""
        return {
            "protection": self.protection,
            "chat_failure": self.chat_failure,
            "unknown_queues": self.unknown_queues,
            "redacted_entities": sorted(self.redacted_entities()),
        }


def redaction_policy(mapping: dict[str, Any]) -> Policy:
    """The redaction policy of a mapping, with fail-closed forced on."""
    return _policy_of(_freeze(mapping))


@lru_cache(maxsize=256)
def _policy_of(frozen: str) -> Policy:
    mapping = json.loads(frozen)
    try:
        base = Policy.from_mapping(mapping) if mapping else Policy()
    except (ConfigurationError, ValueError, TypeError, KeyError) as exc:
        raise ValidationFailed(f"invalid redaction policy: {exc}") from exc
    # Ingest never stores what it could not redact, whatever the mapping says;
    # it keeps the original itself (encrypted) when the tenant's policy says so.
    return replace(base, fail_closed=True, keep_original=False)


def _freeze(mapping: dict[str, Any]) -> str:
    return json.dumps(mapping, sort_keys=True, separators=(",", ":"), default=str)


def load_policy(session: Session) -> DataPolicy:
    """The session tenant's policy (the default when none was set)."""
    row = session.scalar(select(DataPolicyRow))
    return DataPolicy() if row is None else DataPolicy.model_validate(row.body)


def save_policy(session: Session, policy: DataPolicy, *, actor: str, now: datetime) -> None:
    tenant = session_tenant(session)
    if tenant is None:
        raise ValidationFailed("no tenant in context")
    row = session.scalar(select(DataPolicyRow))
    body = policy.model_dump(mode="json")
    if row is None:
        session.add(
            DataPolicyRow(
                id=new_id(), tenant_id=tenant, body=body, updated_at=now, updated_by=actor
            )
        )
    else:
        row.body = body
        row.updated_at = now
        row.updated_by = actor
    session.flush()


__all__ = [
    "DataPolicy",
    "FailureMode",
    "Protection",
    "load_policy",
    "redaction_policy",
    "save_policy",
]
