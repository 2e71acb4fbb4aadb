"""`rempart demo` (what `make demo` runs) starts a server that answers the first path."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.pg import free_port

pytestmark = pytest.mark.slow


def _rempart() -> list[str]:
    exe = shutil.which("rempart", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "rempart.cli"]


def test_demo_serves_the_first_path_with_the_printed_tokens(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "REMPART_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*_rempart(), "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(line)
            if "API documentation" in line:
                break
        text = "".join(printed)
        tokens = re.findall(r"^\s*(rmp_\S+)\s*$", text, re.MULTILINE)
        assert len(tokens) == 2, text
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        fr, uk = ({"Authorization": f"Bearer {t}"} for t in tokens)
        listed = httpx.get(f"{base}/api/v1/interactions", headers=fr, timeout=30)
        assert listed.status_code == 200
        items = listed.json()["items"]
        assert len(items) == 12
        assert {i["language"] for i in items} == {"fr"}
        assert {i["channel"] for i in items} == {"call", "chat", "email"}
        one = httpx.get(f"{base}/api/v1/interactions/{items[0]['id']}", headers=fr, timeout=30)
        assert one.status_code == 200
        assert one.json()["segments"]
        assert (
            httpx.get(
                f"{base}/api/v1/interactions/{items[0]['id']}", headers=uk, timeout=10
            ).status_code
            == 404
        )
        pushed = httpx.post(
            f"{base}/api/v1/interactions",
            headers=fr,
            timeout=30,
            json={
                "external_id": "e2e-1",
                "channel": "chat",
                "started_at": "2026-11-02T10:00:00Z",
                "segments": [{"speaker": "customer", "text": "Bonjour"}],
            },
        )
        assert pushed.status_code == 201
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
