"""`keepcab demo` end to end: set-up, a real server, the simulated town driving it over HTTP."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from simulator.demo import CLI


@pytest.mark.slow
def test_the_demo_runs_a_dispatch_room_from_one_command(tmp_path: Path) -> None:
    """It prints the URL and a login, takes calls, queues and assigns orders, and stops cleanly."""
    command = [*CLI, "demo", "--port", "0", "--duration", "15", "--speed", "30", "--workdir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=170, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"running at http://127\.0\.0\.1:\d+/", done.stdout)
    assert "log in as demo / demo-password" in done.stdout
    counts = dict(re.findall(r"(\w+) (\d+)", done.stdout.strip().splitlines()[-1]))
    assert int(counts["calls"]) > 0 and int(counts["assigned"]) > 0
    with sqlite3.connect(tmp_path / "keepcab.db") as db:
        statuses = {status for (status,) in db.execute("SELECT status FROM orders WHERE source = 'api'")}
        imported = db.execute("SELECT count(*) FROM customers WHERE display_name IS NOT NULL").fetchone()[0]
        calls = db.execute("SELECT count(*) FROM calls").fetchone()[0]
        moved = db.execute("SELECT count(*) FROM drivers WHERE status != 'offline'").fetchone()[0]
    assert statuses & {"assigned", "picked_up", "completed"}
    assert imported > 0 and calls > 0 and moved > 0
