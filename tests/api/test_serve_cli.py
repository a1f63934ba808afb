"""`keepcab serve`: one command starts a ready server on a database that did not exist."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.test_app import ROOT, free_port


def test_serve_migrates_a_new_database_and_becomes_ready(tmp_path: Path) -> None:
    """A fresh SQLite path: schema created, /readyz 200, and it stops on SIGTERM."""
    port = free_port()
    env = {**os.environ, "KEEPCAB_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    command = [
        sys.executable,
        "-c",
        "from api.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        status = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200, (
            process.stderr.read().decode() if process.poll() is not None else status
        )  # type: ignore[union-attr]
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal after a clean stop
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
