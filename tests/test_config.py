"""Settings: environment over TOML over defaults, masked output, data directory modes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from rempart.config import create_secret_file, ensure_data_dir, load_settings, mask_url
from rempart.errors import ConfigurationError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.host == "127.0.0.1"
    assert s.data_dir == Path(".rempart")
    assert s.is_sqlite
    assert s.effective_database_url.endswith(".rempart/rempart.db")


def test_toml_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "rempart.toml"
    cfg.write_text('port = 9001\nlog_level = "debug"\n')
    monkeypatch.setenv("REMPART_LOG_LEVEL", "warning")
    s = load_settings(cfg)
    assert s.port == 9001
    assert s.log_level == "warning"


def test_config_file_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "other.toml"
    cfg.write_text("port = 9002\n")
    monkeypatch.setenv("REMPART_CONFIG_FILE", str(cfg))
    assert load_settings().port == 9002


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("port = 70000\n", "port"),
        ("nonsense = 1\n", "nonsense"),
        ("port = [\n", "configuration file"),
        ('log_level = "loud"\n', "log_level"),
    ],
)
def test_invalid_settings_are_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    cfg = tmp_path / "rempart.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        load_settings(cfg)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        load_settings(tmp_path / "absent.toml")


def test_secrets_are_masked(tmp_path: Path) -> None:
    s = load_settings(
        data_dir=tmp_path,
        database_url="postgresql://app:s3cret@db.internal:5432/rempart",
        database_admin_url="postgresql://owner:0wn3r@db.internal/rempart",
    )
    shown = s.masked()
    assert shown["database_url"] == "postgresql://app:***@db.internal:5432/rempart"
    assert "0wn3r" not in repr(shown)
    assert "s3cret" not in repr(s)
    assert "s3cret" not in str(s)


def test_mask_url_hides_non_urls_whole() -> None:
    assert mask_url("just-a-secret") == "**********"
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_data_dir_is_created_private_and_tightened(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path / "new" / "data")
    path = ensure_data_dir(s)
    assert mode(path) == 0o700
    path.chmod(0o755)
    ensure_data_dir(s)
    assert mode(path) == 0o700


def test_secret_files_are_owner_only(tmp_path: Path) -> None:
    f = tmp_path / "key"
    create_secret_file(f)
    assert mode(f) == 0o600
    f.chmod(0o644)
    create_secret_file(f)
    assert mode(f) == 0o600
