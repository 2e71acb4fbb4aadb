"""A throwaway SoftHSM2 token for the PKCS#11 provider's tests and benchmarks."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LIBRARY_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/*/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
SO_PIN = "so-pin-0000"
USER_PIN = "user-pin-1234"


@dataclass(frozen=True)
class SoftHsm:
    library: str
    token_label: str
    user_pin: str
    conf: Path


def softhsm_library() -> str | None:
    for pattern in LIBRARY_CANDIDATES:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def missing_reason() -> str | None:
    if shutil.which("softhsm2-util") is None or softhsm_library() is None:
        return "SoftHSM2 is not installed (scripts/install-system-deps.sh installs it)"
    return None


def init_token(directory: Path, label: str = "rempart-test") -> SoftHsm:
    """Create a token in ``directory`` (SOFTHSM2_CONF is set for this process)."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
        "slots.removable = false\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    util = shutil.which("softhsm2-util") or "softhsm2-util"
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", USER_PIN],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    library = softhsm_library()
    if library is None:  # pragma: no cover - checked by missing_reason
        raise RuntimeError("SoftHSM2 library not found")
    return SoftHsm(library, label, USER_PIN, conf)
