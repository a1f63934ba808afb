"""`keepcab demo` end to end: set-up, a real server, the simulated town driving it over HTTP."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from demo.cli import CLI
from demo.country import COUNTRIES


@pytest.mark.slow
def test_the_demo_runs_a_dispatch_room_that_breathes(tmp_path: Path) -> None:
    """It prints the URL and a login, takes calls, assigns orders and completes trips, and within
    its first demo minutes its operator sends a car to the airport caller no car is near; it
    stops cleanly."""
    command = [*CLI, "demo", "--port", "0", "--duration", "45", "--speed", "40", "--cars", "8",
               "--calls-per-hour", "20", "--workdir", str(tmp_path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"running at http://127\.0\.0\.1:\d+/", done.stdout)
    assert "log in as demo / demo-password" in done.stdout
    counts = dict(re.findall(r"(\w+) (\d+)", done.stdout.strip().splitlines()[-1]))
    assert int(counts["calls"]) > 0 and int(counts["assigned"]) > 0 and int(counts["completed"]) > 0
    assert int(counts["operator_assigned"]) >= 1
    with sqlite3.connect(tmp_path / "keepcab.db") as db:
        statuses = {status for (status,) in db.execute("SELECT status FROM orders WHERE source = 'api'")}
        imported = db.execute("SELECT count(*) FROM customers WHERE display_name IS NOT NULL").fetchone()[0]
        calls = db.execute("SELECT count(*) FROM calls").fetchone()[0]
        moved = db.execute("SELECT count(*) FROM drivers WHERE status != 'offline'").fetchone()[0]
        airports = [country.airport for country in COUNTRIES.values()]
        airport = db.execute(
            f"SELECT status FROM orders WHERE pickup_address IN ({','.join('?' * len(airports))})", airports
        ).fetchall()
        from_queue = db.execute(
            "SELECT count(*) FROM order_events a JOIN order_events q ON q.order_id = a.order_id"
            " WHERE a.kind = 'assigned' AND json_extract(a.payload, '$.manual') = 1"
            " AND q.kind = 'queued' AND q.at <= a.at"
        ).fetchone()[0]
    assert statuses & {"assigned", "picked_up", "completed"}
    assert imported > 0 and calls > 0 and moved > 0
    assert from_queue >= 1
    assert [status for (status,) in airport] in (["assigned"], ["picked_up"], ["completed"])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_for(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared in {path}:\n{path.read_text() if path.exists() else ''}")


WRAPPER = """
import signal, subprocess, sys, time
ignore_sigint = sys.argv[2] == "background"  # what a shell does for `keepcab demo &`
preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
out = open(sys.argv[1], "w")
demo = subprocess.Popen(sys.argv[3:], stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec)
print(demo.pid, flush=True)
time.sleep(3600)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ending", "started"),
    [("SIGINT", "foreground"), ("SIGTERM", "foreground"), ("SIGHUP", "foreground"),
     ("parent dies", "foreground"), ("SIGTERM", "background")],
)  # fmt: skip
def test_every_way_the_demo_ends_stops_its_server_and_removes_its_folder(
    tmp_path: Path, ending: str, started: str
) -> None:
    """The demo's uvicorn server and its temporary folder are gone after Ctrl-C, `kill -TERM`,
    a closed terminal (SIGHUP) and the death of the process that started it (SIGKILL of the parent);
    also `kill -TERM` of a demo started in the background, whose SIGINT a shell ignores."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    log = tmp_path / "demo.log"
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONUNBUFFERED": "1"}
    command = [*CLI, "demo", "--port", "0", "--speed", "20"]
    parent = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, str(log), started, *command],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert parent.stdout is not None
    demo = int(parent.stdout.readline())
    try:
        _wait_for(log, "running at", 180)
        servers = _children(demo)
        assert servers and list(temp.glob("keepcab-demo-*")), log.read_text()
        if ending == "parent dies":
            parent.kill()
        else:
            os.kill(demo, getattr(signal, ending))
        deadline = time.monotonic() + 30
        while (_alive(demo) or any(map(_alive, servers))) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(demo), log.read_text()
        assert not [pid for pid in servers if _alive(pid)], "the demo's server outlived it"
        assert list(temp.glob("keepcab-demo-*")) == [], log.read_text()
    finally:
        for pid in [demo, *_children(demo)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait()
