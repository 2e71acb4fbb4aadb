"""The recognizer registry and the package's public face."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

import rempart.redaction as redaction
from rempart.redaction.recognizers import (
    CustomPattern,
    Document,
    DuplicateRecognizerError,
    PatternRecognizer,
    Recognizer,
    check_unique,
    default_recognizers,
    register,
    registered,
)
from rempart.redaction.spans import Span


def test_every_exported_name_exists() -> None:
    for name in redaction.__all__:
        assert hasattr(redaction, name), name


def test_registry_has_one_recognizer_per_family() -> None:
    ids = set(registered())
    assert {
        "digit_runs",
        "iban",
        "fr_nir",
        "gb_nino",
        "email",
        "ip_address",
        "secrets",
        "date_of_birth",
        "person",
        "address",
        "card_expiry",
        "card_cvv",
    } <= ids


def test_registering_a_duplicate_id_is_an_error() -> None:
    class Again(Recognizer):
        id = "iban"

        def find(self, doc: Document) -> Iterable[Span]:
            return []

    with pytest.raises(DuplicateRecognizerError):
        register(Again)


def test_two_custom_patterns_with_the_same_label_are_refused() -> None:
    spec = CustomPattern(label="ACCOUNT", pattern=r"A\d+")
    with pytest.raises(DuplicateRecognizerError):
        check_unique([*default_recognizers(), PatternRecognizer(spec), PatternRecognizer(spec)])
