"""A rewritten text that remembers which original characters each part came from."""

from __future__ import annotations

from bisect import bisect_right


class TextView:
    """Text built from pieces of an original text, some copied and some rewritten.

    Copied pieces map character for character; a rewritten piece (``"06"`` for
    ``"zéro six"``) maps as a whole onto the original range it replaced, so a
    span that touches any of it maps to all of it.
    """

    __slots__ = ("_copied", "_oends", "_ostarts", "_vstarts", "original", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        self.text = original
        self._vstarts: list[int] = []
        self._ostarts: list[int] = []
        self._oends: list[int] = []
        self._copied: list[bool] = []

    @property
    def is_identity(self) -> bool:
        return not self._vstarts

    @classmethod
    def build(cls, original: str, pieces: list[tuple[int, int, str | None]]) -> TextView:
        """Build from ``(orig_start, orig_end, replacement)`` pieces in order.

        ``replacement`` None copies the original characters.
        """
        view = cls(original)
        out: list[str] = []
        vpos = 0
        for ostart, oend, repl in pieces:
            piece = original[ostart:oend] if repl is None else repl
            if not piece:
                continue
            view._vstarts.append(vpos)
            view._ostarts.append(ostart)
            view._oends.append(oend)
            view._copied.append(repl is None)
            out.append(piece)
            vpos += len(piece)
        view.text = "".join(out)
        return view

    def _locate(self, vpos: int) -> int:
        return max(0, bisect_right(self._vstarts, vpos) - 1)

    def to_original(self, vstart: int, vend: int) -> tuple[int, int]:
        """Map the view range ``[vstart, vend)`` to a range of the original text."""
        if self.is_identity:
            return vstart, vend
        i = self._locate(vstart)
        if self._copied[i]:
            ostart = self._ostarts[i] + (vstart - self._vstarts[i])
        else:
            ostart = self._ostarts[i]
        j = self._locate(max(vstart, vend - 1))
        oend = self._ostarts[j] + (vend - self._vstarts[j]) if self._copied[j] else self._oends[j]
        return ostart, max(oend, ostart + 1) if ostart < len(self.original) else oend

    def is_rewritten(self, vstart: int, vend: int) -> bool:
        """True when any character of the view range comes from a rewritten piece."""
        if self.is_identity:
            return False
        i = self._locate(vstart)
        j = self._locate(max(vstart, vend - 1))
        return not all(self._copied[i : j + 1])


__all__ = ["TextView"]
