"""Redaction of personal and payment data in transcripts, chats and e-mails (FR/EN).

    >>> from rempart.redaction import detect, redact
    >>> redact("ma carte 4970 1012 3456 7899", "fr").text
    'ma carte [CARD_NUMBER]'

See ``docs/redaction.md`` for the entity taxonomy, policies and operators.
"""

from rempart.redaction.context import Context
from rempart.redaction.engine import (
    BLOCKED_TEXT,
    Engine,
    Redacted,
    RedactionError,
    Replacement,
    detect,
    redact,
)
from rempart.redaction.entities import BUILTIN_ENTITIES, Entity
from rempart.redaction.operators import (
    Keep,
    Mask,
    OperatorState,
    Pseudonym,
    PseudonymKey,
    Surrogate,
    SurrogateMap,
    Tokenize,
    TokenVault,
    TypeTag,
)
from rempart.redaction.policy import DEFAULT_POLICY, Policy
from rempart.redaction.recognizers import CustomPattern
from rempart.redaction.spans import Span

__all__ = [
    "BLOCKED_TEXT",
    "BUILTIN_ENTITIES",
    "DEFAULT_POLICY",
    "Context",
    "CustomPattern",
    "Engine",
    "Entity",
    "Keep",
    "Mask",
    "OperatorState",
    "Policy",
    "Pseudonym",
    "PseudonymKey",
    "Redacted",
    "RedactionError",
    "Replacement",
    "Span",
    "Surrogate",
    "SurrogateMap",
    "TokenVault",
    "Tokenize",
    "TypeTag",
    "detect",
    "redact",
]
