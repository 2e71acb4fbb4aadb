"""Authentication assurance: the IdP's ``acr``/``amr``/``acrs`` claims mapped to levels.

Levels are ordered: 0 unknown, 1 one factor, 2 several factors, 3 phishing
resistant. Okta and Keycloak say it with ``acr`` (and RFC 8176 ``amr``
values); Entra ID with ``acrs`` (authentication context class ids). Each
tenant's provider configuration maps its own values; the defaults below
cover the common vocabularies. The level of a login is the highest any of
the three claims justifies.

Sensitive actions ask for a level and a maximum authentication age; when
the session falls short the caller gets ``StepUpRequired`` carrying the
RFC 9470 challenge (``insufficient_user_authentication`` with ``acr_values``
and ``max_age``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from rempart.errors import AuthenticationFailed


class Level(IntEnum):
    UNKNOWN = 0
    SINGLE_FACTOR = 1
    MULTI_FACTOR = 2
    PHISHING_RESISTANT = 3


DEFAULT_ACR_LEVELS: dict[str, int] = {
    # Okta
    "urn:okta:loa:1fa:any": 1,
    "urn:okta:loa:1fa:pwd": 1,
    "urn:okta:loa:2fa:any": 2,
    "urn:okta:loa:2fa:any:ifpossible": 1,
    "phr": 3,
    "phrh": 3,
    # Keycloak's default level-of-authentication names
    "0": 0,
    "1": 1,
    "2": 2,
    "3": 3,
    # Generic
    "urn:rempart:loa:1": 1,
    "urn:rempart:loa:2": 2,
    "urn:rempart:loa:3": 3,
    "http://schemas.openid.net/pape/policies/2007/06/multi-factor": 2,
    "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant": 3,
}
# RFC 8176 method values (plus Entra ID's), by what each proves.
KNOWLEDGE = frozenset({"pwd", "pin", "kba"})
POSSESSION = frozenset({"otp", "sms", "tel", "swk", "hwk", "sc", "pop", "rsa", "ngcmfa"})
INHERENCE = frozenset({"face", "fpt", "iris", "retina", "vbm", "user"})
PHISHING_RESISTANT_METHODS = frozenset({"hwk", "sc", "fido", "wia"})
MULTI_FACTOR_MARKERS = frozenset({"mfa", "mca", "ngcmfa"})
# The acr value Rempart asks for at each level when stepping up.
DEFAULT_REQUEST_ACR: dict[int, str] = {1: "urn:rempart:loa:1", 2: "urn:rempart:loa:2", 3: "phr"}


@dataclass(frozen=True, slots=True)
class AssuranceMapping:
    """One provider's vocabulary: acr and acrs values to levels, and what to request."""

    acr_levels: Mapping[str, int]
    acrs_levels: Mapping[str, int]
    request_acr: Mapping[int, str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> AssuranceMapping:
        config = config or {}
        acr = {**DEFAULT_ACR_LEVELS, **dict(config.get("acr", {}))}
        acrs = dict(config.get("acrs", {}))
        request = {
            **DEFAULT_REQUEST_ACR,
            **{int(k): v for k, v in config.get("request", {}).items()},
        }
        for name, table in (("acr", acr), ("acrs", acrs)):
            for key, level in table.items():
                if not isinstance(key, str) or level not in tuple(Level):
                    raise ValueError(f"assurance mapping {name}: level of {key!r} must be 0-3")
        return cls(acr_levels=acr, acrs_levels=acrs, request_acr=request)

    def to_config(self) -> dict[str, Any]:
        return {
            "acr": {k: v for k, v in self.acr_levels.items() if DEFAULT_ACR_LEVELS.get(k) != v},
            "acrs": dict(self.acrs_levels),
            "request": {str(k): v for k, v in self.request_acr.items()},
        }


def level_from_amr(amr: Iterable[str]) -> Level:
    """What the authentication methods alone justify."""
    methods = {m.lower() for m in amr}
    if not methods:
        return Level.UNKNOWN
    if methods & PHISHING_RESISTANT_METHODS:
        return Level.PHISHING_RESISTANT
    kinds = sum(1 for group in (KNOWLEDGE, POSSESSION, INHERENCE) if methods & group)
    if methods & MULTI_FACTOR_MARKERS or kinds >= 2:
        return Level.MULTI_FACTOR
    return Level.SINGLE_FACTOR


def assess(
    mapping: AssuranceMapping, *, acr: str | None, amr: Iterable[str], acrs: Any = None
) -> Level:
    """The level a login reached: the highest that acr, amr or acrs justifies."""
    level = level_from_amr(amr)
    if acr is not None:
        level = max(level, Level(mapping.acr_levels.get(acr, 0)))
    if isinstance(acrs, list):
        for value in acrs:
            if isinstance(value, str):
                level = max(level, Level(mapping.acrs_levels.get(value, 0)))
    return level


class StepUpRequired(AuthenticationFailed):
    """The session's authentication is too weak or too old for this action (RFC 9470)."""

    title = "Stronger authentication required"
    slug = "insufficient-user-authentication"

    def __init__(self, required: Level, max_age: timedelta | None, acr_value: str | None) -> None:
        super().__init__(
            "this action needs a more recent or stronger authentication",
            required_level=int(required),
            max_age=None if max_age is None else int(max_age.total_seconds()),
            acr_values=acr_value,
        )
        self.required = required
        self.max_age = max_age
        self.acr_value = acr_value

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value of RFC 9470, section 3."""
        parts = ['Bearer error="insufficient_user_authentication"']
        parts.append('error_description="A different authentication level is required"')
        if self.acr_value:
            parts.append(f'acr_values="{self.acr_value}"')
        if self.max_age is not None:
            parts.append(f'max_age="{int(self.max_age.total_seconds())}"')
        return ", ".join(parts)


def check_assurance(
    *,
    level: int,
    auth_time: datetime,
    required: Level,
    max_age: timedelta | None,
    now: datetime,
    mapping: AssuranceMapping,
) -> None:
    """Raise ``StepUpRequired`` unless the session's level and auth time suffice."""
    too_weak = level < required
    too_old = max_age is not None and now - auth_time > max_age
    if too_weak or too_old:
        raise StepUpRequired(required, max_age, mapping.request_acr.get(int(required)))


__all__ = [
    "DEFAULT_ACR_LEVELS",
    "AssuranceMapping",
    "Level",
    "StepUpRequired",
    "assess",
    "check_assurance",
    "level_from_amr",
]
