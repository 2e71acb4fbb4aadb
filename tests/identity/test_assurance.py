"""Assurance levels from acr / amr / acrs, and the RFC 9470 step-up decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rempart.identity.assurance import (
    AssuranceMapping,
    Level,
    StepUpRequired,
    assess,
    check_assurance,
    level_from_amr,
)

DEFAULT = AssuranceMapping.from_config(None)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amr", "level"),
    [
        ([], Level.UNKNOWN),
        (["pwd"], Level.SINGLE_FACTOR),
        (["otp"], Level.SINGLE_FACTOR),
        (["pwd", "pin"], Level.SINGLE_FACTOR),  # two knowledge factors are one kind
        (["pwd", "otp"], Level.MULTI_FACTOR),
        (["pwd", "fpt"], Level.MULTI_FACTOR),
        (["mfa"], Level.MULTI_FACTOR),
        (["pwd", "ngcmfa"], Level.MULTI_FACTOR),
        (["hwk"], Level.PHISHING_RESISTANT),
        (["fido", "mfa"], Level.PHISHING_RESISTANT),
        (["unknown-method"], Level.SINGLE_FACTOR),
    ],
)
def test_amr_values_map_to_levels(amr: list[str], level: Level) -> None:
    assert level_from_amr(amr) == level


@pytest.mark.parametrize(
    ("acr", "level"),
    [
        ("urn:okta:loa:1fa:any", Level.SINGLE_FACTOR),
        ("urn:okta:loa:2fa:any", Level.MULTI_FACTOR),
        ("phrh", Level.PHISHING_RESISTANT),
        ("2", Level.MULTI_FACTOR),  # Keycloak level of authentication
        ("something-unmapped", Level.UNKNOWN),
    ],
)
def test_acr_values_map_to_levels(acr: str, level: Level) -> None:
    assert assess(DEFAULT, acr=acr, amr=[]) == level


def test_entra_acrs_count_only_when_mapped() -> None:
    mapping = AssuranceMapping.from_config({"acrs": {"c1": 2, "c3": 3}})
    assert assess(mapping, acr=None, amr=["pwd"], acrs=["c1"]) == Level.MULTI_FACTOR
    assert assess(mapping, acr=None, amr=["pwd"], acrs=["c3", "c1"]) == Level.PHISHING_RESISTANT
    assert assess(mapping, acr=None, amr=["pwd"], acrs=["c9"]) == Level.SINGLE_FACTOR
    assert assess(mapping, acr=None, amr=["pwd"], acrs="c1") == Level.SINGLE_FACTOR


def test_the_highest_claim_wins_but_a_weak_acr_does_not_lower_amr() -> None:
    assert assess(DEFAULT, acr="urn:okta:loa:1fa:any", amr=["pwd", "otp"]) == Level.MULTI_FACTOR


@pytest.mark.parametrize("config", [{"acr": {"x": 4}}, {"acrs": {"c1": -1}}, {"acr": {"x": "2"}}])
def test_mapping_with_unknown_levels_is_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="0-3"):
        AssuranceMapping.from_config(config)


def test_step_up_when_too_weak_or_too_old() -> None:
    fresh = NOW - timedelta(minutes=1)
    check_assurance(
        level=2, auth_time=fresh, required=Level.MULTI_FACTOR,
        max_age=timedelta(minutes=15), now=NOW, mapping=DEFAULT,
    )  # fmt: skip
    with pytest.raises(StepUpRequired) as weak:
        check_assurance(
            level=1, auth_time=fresh, required=Level.MULTI_FACTOR,
            max_age=timedelta(minutes=15), now=NOW, mapping=DEFAULT,
        )  # fmt: skip
    challenge = weak.value.challenge()
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert 'acr_values="urn:rempart:loa:2"' in challenge
    assert 'max_age="900"' in challenge
    assert weak.value.status == 401
    with pytest.raises(StepUpRequired):
        check_assurance(
            level=3, auth_time=NOW - timedelta(minutes=16), required=Level.MULTI_FACTOR,
            max_age=timedelta(minutes=15), now=NOW, mapping=DEFAULT,
        )  # fmt: skip
