"""Tunables of the dispatcher, with the reasons for their defaults in docs/dispatch.md."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """Tunables of the live engine; defaults are documented in docs/dispatch.md.

    `spatial=False` is zone matching: every free car can take every order and
    the car idle longest goes first (pickup radius and cells unused).
    """

    pickup_radius_m: float = 5000.0
    speed_mps: float = 8.3
    detour_factor: float = 1.3
    max_wait_s: float | None = 1200.0
    prebook_lead_s: float = 900.0
    max_head_start_s: float = 300.0
    cell_m: float = 1000.0
    spatial: bool = True

    def __post_init__(self) -> None:
        checks = {
            "pickup_radius_m": self.pickup_radius_m > 0,
            "speed_mps": 0 < self.speed_mps < math.inf,
            "detour_factor": 1.0 <= self.detour_factor < math.inf,
            "max_wait_s": self.max_wait_s is None or self.max_wait_s > 0,
            "prebook_lead_s": 0 <= self.prebook_lead_s < math.inf,
            "max_head_start_s": 0 <= self.max_head_start_s < math.inf,
            "cell_m": 0 < self.cell_m < math.inf,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"DispatchConfig.{name}: invalid value {getattr(self, name)!r}")
