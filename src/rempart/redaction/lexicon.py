"""Word lists shipped with the package (``data/*.txt``), loaded once on first use."""

from __future__ import annotations

from functools import cache
from importlib import resources


def _words(name: str) -> list[str]:
    text = resources.files("rempart.redaction.data").joinpath(name).read_text("utf-8")
    out: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0] if line.startswith("#") else line
        out.extend(w.casefold() for w in line.split())
    return out


@cache
def first_names() -> frozenset[str]:
    return frozenset(_words("first_names.txt"))


@cache
def ambiguous_first_names() -> frozenset[str]:
    return frozenset(_words("ambiguous_first_names.txt"))


@cache
def stopwords() -> frozenset[str]:
    return frozenset(_words("stopwords.txt"))


@cache
def street_types() -> dict[str, frozenset[str]]:
    text = resources.files("rempart.redaction.data").joinpath("street_types.txt").read_text("utf-8")
    section = ""
    out: dict[str, set[str]] = {"fr": set(), "en": set()}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("["):
            section = line.strip("[] \n")
            continue
        out.setdefault(section, set()).update(w.casefold() for w in line.split())
    return {k: frozenset(v) for k, v in out.items()}


def all_lists() -> dict[str, frozenset[str]]:
    """Every word list inside the engine (the benchmark checks its names against these)."""
    st = street_types()
    return {
        "first_names": first_names(),
        "ambiguous_first_names": ambiguous_first_names(),
        "stopwords": stopwords(),
        "street_types": st["fr"] | st["en"],
    }


__all__ = ["all_lists", "ambiguous_first_names", "first_names", "stopwords", "street_types"]
