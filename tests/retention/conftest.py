from __future__ import annotations

from pathlib import Path

import pytest

from rempart.contact.media import MediaStore


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    """The real media store, in the test's directory."""
    return MediaStore(tmp_path / "media")
