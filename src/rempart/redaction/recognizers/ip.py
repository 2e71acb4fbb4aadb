"""IPv4 and IPv6 addresses (validated with ``ipaddress``); version numbers are not."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Final

from rempart.redaction.entities import Entity
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.spans import Span

_OCTET: Final = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_V4: Final = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)")
_V6: Final = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# What every match of ``_V4`` and of ``_V6`` contains (four numbers joined by
# dots; two colons with at most four hex digits between them), looked for first:
# these patterns open with a character class, so ``re`` jumps between digits or
# colons, where ``_V4`` and ``_V6`` open with a look-behind tried at every position.
_V4_SHAPE: Final = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
_V6_SHAPE: Final = re.compile(r":[0-9A-Fa-f]{0,4}:")
_VERSION: Final = re.compile(
    r"\b(?:version|v|build|release|firmware|ios|android)\s*$", re.IGNORECASE
)


@register
class IpRecognizer(Recognizer):
    id = "ip_address"
    entities = frozenset({Entity.IP_ADDRESS})

    def find(self, doc: Document) -> Iterable[Span]:
        text = doc.text
        if "." in text and _V4_SHAPE.search(text) is not None:
            for m in _V4.finditer(text):
                if _VERSION.search(text, max(0, m.start() - 12), m.start()):
                    continue
                span = doc.span(m.start(), m.end(), Entity.IP_ADDRESS, 0.9, self.id)
                if span:
                    yield span
        if ("::" in text or text.count(":") >= 3) and _V6_SHAPE.search(text) is not None:
            for m in _V6.finditer(text):
                candidate = m.group()
                if candidate.count(":") < 2 or sum(c.isalnum() for c in candidate) < 3:
                    continue
                try:
                    ipaddress.IPv6Address(candidate)
                except ValueError:
                    continue
                span = doc.span(m.start(), m.end(), Entity.IP_ADDRESS, 0.9, self.id)
                if span:
                    yield span


__all__ = ["IpRecognizer"]
