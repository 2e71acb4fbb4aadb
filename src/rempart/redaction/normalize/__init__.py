"""Normalisers: rewrite spoken forms into canonical text with a map back to the original."""

from rempart.redaction.normalize.emails import find_dictated_emails
from rempart.redaction.normalize.numbers import number_view
from rempart.redaction.normalize.view import TextView

__all__ = ["TextView", "find_dictated_emails", "number_view"]
