"""``rempart redact`` with the keyed operators: pseudonyms under a key file, and
reversible tokens through the vault."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.redact import app
from rempart.cli.vault import app as vault_app
from rempart.config import load_settings
from rempart.errors import ConfigurationError, NotFound, ValidationFailed
from rempart.redaction import Policy, redact
from rempart.redaction.keys import create_key_file, load_key_file, tenant_key
from rempart.redaction.operators import OperatorState, Pseudonym, Tokenize
from rempart.redaction.vault_tokens import VaultTokens
from rempart.storage.migrate import upgrade
from rempart.storage.open import open_database
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from rempart.vault import open_vault

runner = CliRunner()
CARD = "4111 1111 1111 1111"
EMAIL = "jean.dupont@example.com"
PSEUDONYM = re.compile(r"<EMAIL:[0-9a-f]{10}>")


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _pseudonymise(tmp_path: Path, key: Path, *extra: str, name: str = "out.txt") -> list[str]:
    src, out = tmp_path / "in.txt", tmp_path / name
    src.write_text(f"mail {EMAIL}\nécrire à {EMAIL} svp\nautre: paul.martin@example.org\n")
    code, output = _run(
        str(src), "-o", str(out), "--operator", "pseudonym", "--key-file", str(key), *extra
    )
    assert code == 0, output
    return out.read_text().splitlines()


def _email_tags(lines: list[str]) -> list[str]:
    return [m.group() for line in lines for m in PSEUDONYM.finditer(line)]


# --- pseudonyms ---------------------------------------------------------------------


def test_new_key_file_is_created_0600_and_never_replaced(tmp_path: Path) -> None:
    key = tmp_path / "tenant.key"
    _pseudonymise(tmp_path, key, "--new-key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_bytes()
    assert re.fullmatch(rb"[0-9a-f]{64}\n", first)
    code, output = _run(
        str(tmp_path / "in.txt"), "--operator", "pseudonym", "--key-file", str(key), "--new-key"
    )
    assert code == 1
    assert "already exists" in output
    assert key.read_bytes() == first


def test_same_value_same_pseudonym_within_a_key_and_across_runs(tmp_path: Path) -> None:
    key = tmp_path / "k"
    create_key_file(key)
    run1 = _email_tags(_pseudonymise(tmp_path, key, name="a.txt"))
    run2 = _email_tags(_pseudonymise(tmp_path, key, name="b.txt"))
    assert len(run1) == 3
    assert run1[0] == run1[1]  # the same address twice
    assert run1[2] != run1[0]  # another address
    assert run1 == run2
    assert EMAIL not in (tmp_path / "a.txt").read_text()


def test_other_key_or_other_tenant_gives_unrelated_pseudonyms(tmp_path: Path) -> None:
    key_a, key_b = tmp_path / "a.key", tmp_path / "b.key"
    create_key_file(key_a)
    create_key_file(key_b)
    a = _email_tags(_pseudonymise(tmp_path, key_a, name="a.txt"))
    b = _email_tags(_pseudonymise(tmp_path, key_b, name="b.txt"))
    assert a[0] != b[0]
    assert a[2] != b[2]
    t1 = _email_tags(_pseudonymise(tmp_path, key_a, "--tenant", "acme", name="t1.txt"))
    t2 = _email_tags(_pseudonymise(tmp_path, key_a, "--tenant", "globex", name="t2.txt"))
    assert t1[0] == t1[1]
    assert len({a[0], t1[0], t2[0]}) == 3


def test_pseudonyms_are_the_same_with_worker_processes(tmp_path: Path) -> None:
    key = tmp_path / "k"
    create_key_file(key)
    one = _pseudonymise(tmp_path, key, name="one.txt")
    two = _pseudonymise(tmp_path, key, "--workers", "2", name="two.txt")
    assert one == two


def test_pseudonym_without_key_file_is_refused(tmp_path: Path) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text(f"mail {EMAIL}\n")
    code, output = _run(str(src), "-o", str(out), "--operator", "pseudonym")
    assert code == 1
    assert "--key-file" in output
    assert not out.exists()


def test_missing_key_file_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text(f"mail {EMAIL}\n")
    missing = tmp_path / "nope.key"
    code, output = _run(
        str(src), "-o", str(out), "--operator", "pseudonym", "--key-file", str(missing)
    )
    assert code == 1
    assert "not found" in output
    assert "--new-key" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_key_file_readable_by_others_is_refused_without_showing_the_key(tmp_path: Path) -> None:
    key = tmp_path / "k"
    create_key_file(key)
    secret = key.read_text().strip()
    key.chmod(0o644)
    src = tmp_path / "in.txt"
    src.write_text(f"mail {EMAIL}\n")
    code, output = _run(str(src), "--operator", "pseudonym", "--key-file", str(key))
    assert code == 1
    assert "chmod 600" in output
    assert secret not in output
    assert secret[:16] not in output


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not hex at all\n", "hexadecimal"), (b"abcd\n", "shorter than 16 bytes")],
)
def test_bad_key_file_content_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    key = tmp_path / "k"
    key.write_bytes(content)
    key.chmod(0o600)
    with pytest.raises(ConfigurationError, match=message):
        load_key_file(key)


def test_unreadable_key_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dir.key").mkdir()
    with pytest.raises(ConfigurationError, match="is a directory"):
        load_key_file(tmp_path / "dir.key")
    if os.geteuid() != 0:  # root reads whatever the mode says
        key = tmp_path / "k"
        create_key_file(key)
        key.chmod(0)
        with pytest.raises(ConfigurationError, match="cannot read"):
            load_key_file(key)


def test_key_repr_never_shows_the_key(tmp_path: Path) -> None:
    key = tmp_path / "k"
    create_key_file(key)
    loaded = load_key_file(key)
    assert key.read_text().strip() not in repr(loaded)
    assert key.read_text().strip() not in repr(tenant_key(loaded, "acme"))


# --- tokenization through the vault -----------------------------------------------


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, TenantId]:
    """A migrated SQLite database with tenants 'acme' and 'globex', each with a keyring."""
    monkeypatch.setenv("REMPART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    db = open_database(load_settings(), admin=True)
    try:
        upgrade(db.engine)
        with db.platform_session() as session:
            ids = {
                slug: TenantId(create_tenant(session, slug, slug.title()).id)
                for slug in ("acme", "globex")
            }
    finally:
        db.dispose()
    for slug in ids:
        result = runner.invoke(vault_app, ["init", "--tenant", slug])
        assert result.exit_code == 0, result.output
    return ids


def _detokenizer() -> tuple[VaultTokens, object]:
    settings = load_settings()
    db = open_database(settings)
    vault = open_vault(settings, db)
    return VaultTokens(vault, actor="test", reason="check round trip"), db


TOKEN = re.compile(r"<[A-Z_]+:(?:rtk|tok)_[a-z2-7]+>")


def test_cli_tokenizes_through_the_vault_and_tokens_detokenize_back(
    tmp_path: Path, site: dict[str, TenantId]
) -> None:
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    records = [
        {"id": 1, "text": f"ma carte {CARD} et mon mail {EMAIL}"},
        {"id": 2, "text": f"encore {EMAIL}"},
    ]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    code, output = _run(
        str(src), "-o", str(out), "--format", "jsonl", "--operator", "tokenize", "--tenant", "acme"
    )
    assert code == 0, output
    lines = [json.loads(x)["text"] for x in out.read_text().splitlines()]
    assert CARD not in lines[0]
    assert EMAIL not in lines[0]
    assert EMAIL not in lines[1]
    tokens = [TOKEN.findall(line) for line in lines]
    card_token, mail_token = tokens[0]
    assert card_token.startswith("<CARD_NUMBER:tok_")  # the vault's card tokenization
    assert mail_token.startswith("<EMAIL:rtk_")
    assert tokens[1] == [mail_token]  # same value, same token
    tokens_vault, db = _detokenizer()
    try:
        tenant = site["acme"]
        assert tokens_vault.detokenize(tenant, card_token) == CARD.replace(" ", "")
        assert tokens_vault.detokenize(tenant, mail_token) == EMAIL
        # Another tenant cannot read them.
        with pytest.raises(NotFound):
            tokens_vault.detokenize(site["globex"], mail_token)
        with pytest.raises(NotFound):
            tokens_vault.detokenize(site["globex"], card_token)
        # A token moved to another label does not open.
        with pytest.raises(NotFound):
            tokens_vault.detokenize(tenant, card_token.replace("CARD_NUMBER", "EMAIL"))
    finally:
        db.dispose()  # type: ignore[attr-defined]


def test_tokens_differ_across_tenants_and_need_actor_and_reason(
    site: dict[str, TenantId],
) -> None:
    settings = load_settings()
    db = open_database(settings)
    try:
        vault = open_vault(settings, db)
        tokens = VaultTokens(vault, ttl=timedelta(days=1))
        policy = Policy(default_operator=Tokenize())
        a = redact(f"mail {EMAIL}", "fr", policy, state=OperatorState(site["acme"], vault=tokens))
        b = redact(f"mail {EMAIL}", "fr", policy, state=OperatorState(site["globex"], vault=tokens))
        assert not a.blocked
        assert not b.blocked
        assert a.text != b.text
        with pytest.raises(ValidationFailed):
            tokens.detokenize(site["acme"], a.replacements[0].replacement)
        # Redacting the tokenized text again changes nothing.
        again = redact(a.text, "fr", policy, state=OperatorState(site["acme"], vault=tokens))
        assert again.text == a.text
    finally:
        db.dispose()


def test_tokenize_needs_a_tenant_with_a_keyring(tmp_path: Path, site: dict[str, TenantId]) -> None:
    src = tmp_path / "in.txt"
    src.write_text(f"mail {EMAIL}\n")
    code, output = _run(str(src), "--operator", "tokenize")
    assert code == 1
    assert "--tenant" in output
    code, output = _run(str(src), "--operator", "tokenize", "--tenant", "nobody")
    assert code == 1
    assert "nobody" in output
    code, output = _run(str(src), "--operator", "tokenize", "--tenant", "acme", "--workers", "2")
    assert code == 1
    assert "--workers 1" in output


def test_operators_without_their_needs_fail_closed_in_the_library() -> None:
    for op in (Pseudonym(), Tokenize()):
        res = redact(f"mail {EMAIL}", "fr", Policy(default_operator=op))
        assert res.blocked
        assert EMAIL not in res.text
