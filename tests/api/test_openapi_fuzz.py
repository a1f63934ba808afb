"""schemathesis against a real server: every operation, every check, authenticated, 0 failures.

The server is uvicorn in its own process on a free loopback port (SQLite in
the test's folder); schemathesis runs as its CLI does for an integrator
(`st run --checks all`), with bounded examples and a fixed seed so CI is
reproducible (`KEEPCAB_FUZZ_SEED` / `KEEPCAB_FUZZ_EXAMPLES` widen it locally).
The run's figures (operations, requests, failures by check) are printed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import create_api_key
from api.db import make_engine, make_session_factory, upgrade_database
from api.models import Role

CONFIG = Path(__file__).parent / "schemathesis" / "schemathesis.toml"
EXAMPLES = os.environ.get("KEEPCAB_FUZZ_EXAMPLES", "12")
SEED = os.environ.get("KEEPCAB_FUZZ_SEED", "20261201")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _admin_key(url: str) -> str:
    upgrade_database(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        key = create_api_key(session, Role.ADMIN, name="fuzz").plaintext
        session.commit()
    engine.dispose()
    return key


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, admin key) of a keepcab server in a child process."""
    url = f"sqlite:///{tmp_path / 'keepcab.db'}"
    key = _admin_key(url)
    port = free_port()
    env = {**os.environ, "KEEPCAB_DATABASE_URL": url}
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base, key
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become ready within 60 s")


def failures_by_check(report: dict[str, Any]) -> dict[str, int]:
    """The report groups unique failures by kind of check, each with a count."""
    return {f"{group['code']} {group['title']}": int(group["count"]) for group in report["failures"]}


def test_schemathesis_finds_no_failure_of_any_check(server: tuple[str, str], tmp_path: Path) -> None:
    """Every operation, `--checks all`, examples + coverage + fuzzing + stateful phases: 0 failures."""
    base, key = server
    report_path = tmp_path / "schemathesis.json"
    st = Path(sys.executable).parent / "st"
    command = [str(st), "--config-file", str(CONFIG), "run", base + "/openapi.json"]
    command += ["-H", f"X-API-Key: {key}", "--checks", "all", "-n", EXAMPLES, "--seed", SEED]
    command += ["--workers", "1", "--no-color", "--report", "json", "--report-json-path", str(report_path)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    figures = {
        "operations": report["operations"]["tested"],
        "requests": report["test_cases"]["generated"],
        "failures_by_check": failures_by_check(report),
        "seconds": round(report["running_time"], 1),
    }
    print("schemathesis:", json.dumps(figures))
    assert report["operations"]["tested"] == report["operations"]["total"], figures
    assert report["failures"] == [] and report["errors"] == [], run.stdout[-6000:]
    assert run.returncode == 0, run.stdout[-6000:]
