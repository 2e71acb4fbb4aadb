"""Open the configured database: data directory, file permissions, engine, posture."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from rempart.config import Settings, create_secret_file, ensure_data_dir
from rempart.storage.database import Database
from rempart.storage.engine import normalise_url


def open_database(settings: Settings, *, admin: bool = False) -> Database:
    """The application's database (or, with ``admin``, the owner's, for migrations).

    For SQLite the data directory is created 0700 and the database file 0600
    before SQLite opens it; SQLite gives its WAL and shared-memory files the
    same mode as the database file.
    """
    ensure_data_dir(settings)
    url = settings.effective_database_url
    if admin and settings.database_admin_url is not None:
        url = settings.database_admin_url.get_secret_value()
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_secret_file(path)
    return Database.from_url(url)


__all__ = ["open_database"]
