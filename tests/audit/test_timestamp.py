"""RFC 3161 time-stamps on checkpoints, from a local ``openssl ts`` authority."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rempart.audit import export_log, issue_checkpoint, verify_lines
from rempart.audit.anchor import DirectoryAnchor
from rempart.audit.errors import CheckpointError
from rempart.audit.note import Ed25519Signer, NoteVerifier
from rempart.audit.timestamp import OpenSSLTimestampAuthority, verify_timestamp
from rempart.storage import Database, TenantContext
from tests.audit.conftest import fill

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> tuple[OpenSSLTimestampAuthority, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: RFC 3161 tests need `openssl ts`")
    d = tmp_path_factory.mktemp("tsa")
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Test TSA Root",
        cwd=d,
    )  # fmt: skip
    (d / "tsa.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Test TSA", cwd=d,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tsa.pem", "-days", "2", "-extfile", "tsa.ext", cwd=d,
    )  # fmt: skip
    (d / "serial").write_text("01\n")
    (d / "tsa.cnf").write_text(TSA_CONFIG.format(dir=d))
    authority = OpenSSLTimestampAuthority(
        config=d / "tsa.cnf", key=d / "tsa.key", cert=d / "tsa.pem"
    )
    return authority, d / "ca.pem"


def test_a_checkpoint_carries_a_verifiable_rfc3161_token(
    db: Database,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    tsa: tuple[OpenSSLTimestampAuthority, Path],
    tmp_path: Path,
) -> None:
    authority, ca = tsa
    fill(db, tenant_a, 3)
    anchor = DirectoryAnchor(tmp_path / "anchor")
    with db.tenant_session(tenant_a) as session:
        cp = issue_checkpoint(session, signer, timestamper=authority, anchors=[anchor])
    assert cp.timestamp_token is not None
    verify_timestamp(cp.timestamp_token, cp.note.encode(), ca_file=ca)
    published = anchor.path_for(cp)
    assert published.read_text() == cp.note
    assert published.with_suffix(".tsr").read_bytes() == cp.timestamp_token
    with pytest.raises(CheckpointError):
        verify_timestamp(cp.timestamp_token, cp.note.replace("\n3\n", "\n4\n").encode(), ca_file=ca)


def test_a_token_from_another_authority_is_refused(
    tsa: tuple[OpenSSLTimestampAuthority, Path], tmp_path: Path
) -> None:
    authority, _ca = tsa
    token = authority.timestamp(b"checkpoint")
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "other.key", "-out", "other.pem", "-days", "1", "-subj", "/CN=Other",
        cwd=tmp_path,
    )  # fmt: skip
    with pytest.raises(CheckpointError):
        verify_timestamp(token, b"checkpoint", ca_file=tmp_path / "other.pem")


def test_the_directory_anchor_refuses_a_second_checkpoint_of_one_size(
    signer: Ed25519Signer, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from rempart.audit import SignedCheckpoint
    from rempart.audit.errors import LogStateError

    anchor = DirectoryAnchor(tmp_path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = SignedCheckpoint("rempart/audit/x", 5, b"\x01" * 32, "note one\n", now)
    anchor.publish(first)
    anchor.publish(first)  # idempotent
    with pytest.raises(LogStateError, match="fork"):
        anchor.publish(SignedCheckpoint("rempart/audit/x", 5, b"\x02" * 32, "note two\n", now))
    assert (tmp_path / "rempart_audit_x" / "latest.checkpoint").read_text() == "note one\n"


def test_the_verifier_checks_time_stamps_in_an_export(
    db: Database,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    verifier: NoteVerifier,
    tsa: tuple[OpenSSLTimestampAuthority, Path],
) -> None:
    authority, ca = tsa
    fill(db, tenant_a, 4)
    with db.tenant_session(tenant_a) as session:
        note = issue_checkpoint(session, signer, timestamper=authority).note
    out = io.StringIO()
    with db.tenant_session(tenant_a) as session:
        export_log(session, out)
    lines = out.getvalue().splitlines(keepends=True)

    def check(token: bytes, data: bytes) -> None:
        verify_timestamp(token, data, ca_file=ca)

    assert verify_lines(lines, note, verifier, check_timestamp=check).ok
    last = json.loads(lines[-1])
    token = bytearray(base64.b64decode(last["timestamp_token"]))
    token[-10] ^= 0xFF
    last["timestamp_token"] = base64.b64encode(bytes(token)).decode()
    lines[-1] = json.dumps(last) + "\n"
    report = verify_lines(lines, note, verifier, check_timestamp=check)
    assert not report.ok
    assert report.problem is not None
    assert report.problem.kind == "bad-timestamp"
