"""The package's public face is what ``__all__`` says."""

from __future__ import annotations

import rempart.detection as detection


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in detection.__all__:
        assert hasattr(detection, name), name
    public = {
        n
        for n, v in vars(detection).items()
        if not n.startswith("_") and getattr(v, "__module__", "").startswith("rempart.detection")
    }
    assert public <= set(detection.__all__)
