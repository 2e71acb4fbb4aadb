"""Operators: what replaces a sensitive span.

- :class:`TypeTag` ``[CARD_NUMBER]``
- :class:`Mask` ``************4242`` (keep the first/last N characters)
- :class:`Pseudonym` ``<PERSON:3f9a0c1d2b>``: HMAC-SHA256 under the tenant's key, so the
  same value gives the same pseudonym within a tenant and unrelated ones across tenants
- :class:`Surrogate` ``<PERSON_1>``: numbered per conversation, consistent within it
- :class:`Tokenize`: reversible tokens issued by a :class:`TokenVault` (``rempart.vault``
  implements it; this module only defines the interface)
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rempart.errors import ConfigurationError
from rempart.redaction.entities import DIGIT_ENTITIES, Entity
from rempart.types import TenantId


def normalize_value(label: str, value: str) -> str:
    """The form of a value that pseudonyms and surrogates compare."""
    if label in DIGIT_ENTITIES or label in (Entity.IBAN, Entity.CARD_NUMBER):
        compact = "".join(c for c in value if c.isalnum()).upper()
        return compact or value
    return " ".join(value.casefold().split())


class PseudonymKey:
    """A tenant's pseudonym key (at least 16 bytes); never shown in reprs or logs."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ConfigurationError("pseudonym key must be at least 16 bytes")
        self._key = bytes(key)

    def digest(self, message: bytes) -> bytes:
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "PseudonymKey(**********)"


class SurrogateMap:
    """Per-conversation numbering of values, bounded (least recently used forgotten)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._map: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._next: dict[str, int] = {}

    def number(self, label: str, value: str) -> int:
        key = (label, normalize_value(label, value))
        n = self._map.get(key)
        if n is None:
            n = self._next.get(label, 0) + 1
            self._next[label] = n
            self._map[key] = n
            if len(self._map) > self.max_entries:
                self._map.popitem(last=False)
        else:
            self._map.move_to_end(key)
        return n

    def __len__(self) -> int:
        return len(self._map)


@runtime_checkable
class TokenVault(Protocol):
    """Reversible tokenization, implemented by ``rempart.vault``.

    ``tokenize`` must return the same token for the same (tenant, label, value)
    and a token that cannot be mistaken for the value; ``detokenize`` needs the
    vault's own authorization checks.
    """

    def tokenize(self, tenant: TenantId, label: str, value: str) -> str: ...

    def detokenize(self, tenant: TenantId, token: str) -> str: ...


@dataclass
class OperatorState:
    """What operators may need besides the value: the tenant and conversation state."""

    tenant: TenantId | None = None
    key: PseudonymKey | None = None
    surrogates: SurrogateMap | None = None
    vault: TokenVault | None = None


class Operator(Protocol):
    def apply(self, label: str, value: str, state: OperatorState) -> str: ...


@dataclass(frozen=True, slots=True)
class TypeTag:
    template: str = "[{label}]"

    def apply(self, label: str, value: str, state: OperatorState) -> str:
        return self.template.format(label=label)


@dataclass(frozen=True, slots=True)
class Mask:
    char: str = "*"
    keep_first: int = 0
    keep_last: int = 0

    def __post_init__(self) -> None:
        if len(self.char) != 1 or self.keep_first < 0 or self.keep_last < 0:
            raise ConfigurationError("mask: one character and non-negative keep counts")

    def apply(self, label: str, value: str, state: OperatorState) -> str:
        chars = [c for c in value if c.isalnum()]
        n = len(chars)
        keep = self.keep_first + self.keep_last
        if n == 0:
            return self.char * max(2, len(value))
        # Never keep so much that most of the value shows.
        if keep * 2 > n:
            return self.char * max(2, n)
        head = "".join(chars[: self.keep_first])
        tail = "".join(chars[n - self.keep_last :]) if self.keep_last else ""
        middle = max(2, n - keep)
        return head + self.char * middle + tail


@dataclass(frozen=True, slots=True)
class Pseudonym:
    length: int = 10

    def apply(self, label: str, value: str, state: OperatorState) -> str:
        if state.key is None:
            raise ConfigurationError("pseudonym operator needs the tenant's pseudonym key")
        msg = f"{label}\x00{normalize_value(label, value)}".encode()
        return f"<{label}:{state.key.digest(msg).hex()[: self.length]}>"


@dataclass(frozen=True, slots=True)
class Surrogate:
    def apply(self, label: str, value: str, state: OperatorState) -> str:
        if state.surrogates is None:
            state.surrogates = SurrogateMap()
        return f"<{label}_{state.surrogates.number(label, value)}>"


@dataclass(frozen=True, slots=True)
class Tokenize:
    def apply(self, label: str, value: str, state: OperatorState) -> str:
        if state.vault is None or state.tenant is None:
            raise ConfigurationError("tokenize operator needs a vault and a tenant")
        return state.vault.tokenize(state.tenant, label, value)


@dataclass(frozen=True, slots=True)
class Keep:
    """Leave the value as it is (for entities a tenant only wants reported)."""

    def apply(self, label: str, value: str, state: OperatorState) -> str:
        return value


@dataclass
class _Registry:
    kinds: dict[str, type] = field(
        default_factory=lambda: {
            "tag": TypeTag,
            "mask": Mask,
            "pseudonym": Pseudonym,
            "surrogate": Surrogate,
            "tokenize": Tokenize,
            "keep": Keep,
        }
    )


OPERATOR_KINDS: dict[str, type] = _Registry().kinds


def make_operator(kind: str, **options: object) -> Operator:
    """An operator from its configuration name and options (``mask``, keep_last=4)."""
    cls = OPERATOR_KINDS.get(kind)
    if cls is None:
        raise ConfigurationError(f"unknown operator {kind!r}")
    try:
        op: Operator = cls(**options)
    except TypeError as exc:
        raise ConfigurationError(f"invalid options for operator {kind!r}: {exc}") from exc
    return op


__all__ = [
    "OPERATOR_KINDS",
    "Keep",
    "Mask",
    "Operator",
    "OperatorState",
    "Pseudonym",
    "PseudonymKey",
    "Surrogate",
    "SurrogateMap",
    "TokenVault",
    "Tokenize",
    "TypeTag",
    "make_operator",
    "normalize_value",
]
