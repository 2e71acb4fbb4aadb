"""Recognizers, one module per family, registered by id (a duplicate id is an error)."""

from rempart.redaction.recognizers import (  # noqa: F401 - importing registers them
    address,
    cards,
    dates,
    digit_runs,
    email,
    iban,
    ip,
    national_id,
    person,
    secrets,
)
from rempart.redaction.recognizers.base import (
    Document,
    DuplicateRecognizerError,
    Recognizer,
    check_unique,
    register,
    registered,
)
from rempart.redaction.recognizers.custom import CustomPattern, PatternRecognizer


def default_recognizers() -> list[Recognizer]:
    """One instance of every registered recognizer."""
    return [cls() for cls in registered().values()]


__all__ = [
    "CustomPattern",
    "Document",
    "DuplicateRecognizerError",
    "PatternRecognizer",
    "Recognizer",
    "check_unique",
    "default_recognizers",
    "register",
    "registered",
]
