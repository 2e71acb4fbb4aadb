"""Sigma detection: rules parsed by pySigma, compiled to Python predicates, with correlation.

Typical use::

    from rempart.detection import DetectionEngine, load_rules, get_pipeline

    ruleset = load_rules(["rules/"], get_pipeline("windows"))
    print(ruleset.summary())          # loaded N of M rules ..., failures with file:line
    engine = DetectionEngine(ruleset)
    for detection in engine.process(event):
        ...

See ``docs/detection.md``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from rempart.detection.compiler import CompiledRule, compile_rule
from rempart.detection.correlation import CompiledCorrelation, CorrelationAlert
from rempart.detection.engine import Detection, DetectionEngine, Problem, RuleStats
from rempart.detection.errors import (
    DetectionError,
    EventError,
    Location,
    RegexTimeout,
    RuleError,
)
from rempart.detection.event import EventView
from rempart.detection.pipelines import PIPELINES, Pipeline, get_pipeline
from rempart.detection.regression import RegressionResult, run_regression
from rempart.detection.ruleset import RuleSet, SkippedRule, load_rules
from rempart.detection.scan import ScanMatch, ScanProblem, scan_streams


def contact_center_rules() -> Path:
    """The folder of the contact-center rule pack shipped with Rempart."""
    return Path(str(files("rempart.detection") / "rules"))


__all__ = [
    "PIPELINES",
    "CompiledCorrelation",
    "CompiledRule",
    "CorrelationAlert",
    "Detection",
    "DetectionEngine",
    "DetectionError",
    "EventError",
    "EventView",
    "Location",
    "Pipeline",
    "Problem",
    "RegexTimeout",
    "RegressionResult",
    "RuleError",
    "RuleSet",
    "RuleStats",
    "ScanMatch",
    "ScanProblem",
    "SkippedRule",
    "compile_rule",
    "contact_center_rules",
    "get_pipeline",
    "load_rules",
    "run_regression",
    "scan_streams",
]
