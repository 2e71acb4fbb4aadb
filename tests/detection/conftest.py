"""Session fixtures: the SigmaHQ rule set is loaded once per test session."""

from __future__ import annotations

import pytest

from rempart.detection import RuleSet, get_pipeline, load_rules
from tests.detection.helpers import SIGMA_RULE_DIRS, require_sigma_data


@pytest.fixture(scope="session")
def sigmahq_generic() -> RuleSet:
    """Every SigmaHQ rule, no field mapping (fields as written)."""
    require_sigma_data()
    return load_rules(SIGMA_RULE_DIRS)


@pytest.fixture(scope="session")
def sigmahq_windows() -> RuleSet:
    """Every SigmaHQ rule under the Windows EVTX-as-JSON pipeline."""
    require_sigma_data()
    return load_rules(SIGMA_RULE_DIRS, get_pipeline("windows"))
