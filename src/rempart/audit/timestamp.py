"""RFC 3161 time-stamps for checkpoints, through the ``openssl ts`` command.

A time-stamp token proves a checkpoint existed at a time vouched for by an
authority outside the platform. ``OpenSSLTimestampAuthority`` runs a local
authority (tests, air-gapped sites; a remote TSA client would implement the
same ``Timestamper`` protocol); ``verify_timestamp`` checks a response
against the data and the authority's CA, as an auditor would with
``openssl ts -verify``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rempart.audit.errors import CheckpointError
from rempart.errors import ConfigurationError


def _openssl(binary: str) -> str:
    found = shutil.which(binary)
    if found is None:
        raise ConfigurationError(f"{binary} not found: RFC 3161 time-stamps need OpenSSL")
    return found


def _run(args: list[str], what: str) -> None:
    # Arguments are paths we created and fixed option names: no shell, no user text.
    result = subprocess.run(args, capture_output=True, check=False, timeout=30)  # noqa: S603
    if result.returncode != 0:
        raise CheckpointError(f"{what} failed")


class OpenSSLTimestampAuthority:
    """A local RFC 3161 authority: ``openssl ts -reply`` with a key, a certificate, a config."""

    def __init__(
        self,
        *,
        config: Path,
        key: Path,
        cert: Path,
        chain: Path | None = None,
        section: str = "tsa_config1",
        openssl: str = "openssl",
    ) -> None:
        self.config, self.key, self.cert, self.chain = config, key, cert, chain
        self.section = section
        self.openssl = openssl

    def timestamp(self, data: bytes) -> bytes:
        """A DER ``TimeStampResp`` for ``data`` (SHA-256 imprint, signer cert included)."""
        binary = _openssl(self.openssl)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "data").write_bytes(data)
            _run(
                [binary, "ts", "-query", "-data", str(work / "data"), "-sha256", "-cert",
                 "-out", str(work / "req.tsq")],
                "time-stamp query",
            )  # fmt: skip
            args = [
                binary, "ts", "-reply", "-config", str(self.config), "-section", self.section,
                "-queryfile", str(work / "req.tsq"), "-inkey", str(self.key),
                "-signer", str(self.cert), "-out", str(work / "resp.tsr"),
            ]  # fmt: skip
            if self.chain is not None:
                args += ["-chain", str(self.chain)]
            _run(args, "time-stamp reply")
            return (work / "resp.tsr").read_bytes()


def verify_timestamp(
    response: bytes,
    data: bytes,
    *,
    ca_file: Path,
    untrusted: Path | None = None,
    openssl: str = "openssl",
) -> None:
    """Raise ``CheckpointError`` unless ``response`` time-stamps exactly ``data`` under the CA."""
    binary = _openssl(openssl)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data").write_bytes(data)
        (work / "resp.tsr").write_bytes(response)
        args = [
            binary, "ts", "-verify", "-data", str(work / "data"), "-in", str(work / "resp.tsr"),
            "-CAfile", str(ca_file),
        ]  # fmt: skip
        if untrusted is not None:
            args += ["-untrusted", str(untrusted)]
        _run(args, "time-stamp verification")


__all__ = ["OpenSSLTimestampAuthority", "verify_timestamp"]
