"""The app `keepcab demo` runs: the ordinary app on a clock that runs `KEEPCAB_DEMO_SPEED` times fast.

Run with `uvicorn api.console.demo_app:create_demo_app --factory`. The
dispatcher's `now` still comes from one clock function, the one passed to
`create_app`: simulated seconds since `KEEPCAB_DEMO_EPOCH` (a unix time shared
with the demo's simulated city, so both sides agree on what time it is).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from fastapi import FastAPI

from api.app import create_app


@dataclass(frozen=True, slots=True)
class ScaledClock:
    """Unix time that advances `speed` times as fast as the wall clock from `epoch_s` on."""

    epoch_s: float
    speed: float

    def __call__(self) -> float:
        return self.epoch_s + (time.time() - self.epoch_s) * self.speed


def create_demo_app() -> FastAPI:
    speed = float(os.environ.get("KEEPCAB_DEMO_SPEED", "1"))
    epoch_s = float(os.environ.get("KEEPCAB_DEMO_EPOCH", str(time.time())))
    app = create_app(clock=ScaledClock(epoch_s, speed), migrate=True)
    app.state.clock_speed = speed
    return app
