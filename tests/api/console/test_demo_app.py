"""The demo's clock: one function the dispatcher reads, running `speed` times as fast from an epoch."""

from __future__ import annotations

import pytest

from api.console import demo_app
from api.console.demo_app import ScaledClock, create_demo_app


def test_the_scaled_clock_starts_at_its_epoch_and_runs_speed_times_as_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ten wall seconds after the epoch, a 10x clock says a hundred seconds have passed."""
    wall = [1_000.0]
    monkeypatch.setattr(demo_app.time, "time", lambda: wall[0])
    clock = ScaledClock(epoch_s=1_000.0, speed=10.0)
    assert clock() == 1_000.0
    wall[0] = 1_010.0
    assert clock() == 1_100.0


def test_the_demo_app_reads_its_speed_and_epoch_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """KEEPCAB_DEMO_SPEED reaches the console (for ticking waits) and the dispatcher's clock."""
    monkeypatch.setenv("KEEPCAB_DEMO_SPEED", "7.5")
    monkeypatch.setenv("KEEPCAB_DEMO_EPOCH", "1000")
    app = create_demo_app()
    assert app.state.clock_speed == 7.5
    assert app.state.console_clock == ScaledClock(1_000.0, 7.5)
