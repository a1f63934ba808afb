"""Tunables of the dispatcher, with the reasons for their defaults in docs/dispatch.md."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MATCHING_MODES = ("nearest", "zone", "batch")
DEFAULT_BATCH_WINDOW_S = 5.0


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """Tunables of the live engine; defaults are documented in docs/dispatch.md.

    `spatial=False` is zone matching: every free car can take every order and
    the car idle longest goes first (pickup radius and cells unused).
    `batch_window_s` set is batch matching (spatial only): orders and free cars
    are collected for that long and assigned together (`dispatch.batch`).
    """

    pickup_radius_m: float = 5000.0
    speed_mps: float = 8.3
    detour_factor: float = 1.3
    max_wait_s: float | None = 1200.0
    prebook_lead_s: float = 900.0
    max_head_start_s: float = 300.0
    cell_m: float = 1000.0
    spatial: bool = True
    batch_window_s: float | None = None

    def __post_init__(self) -> None:
        window = self.batch_window_s
        checks = {
            "pickup_radius_m": self.pickup_radius_m > 0,
            "speed_mps": 0 < self.speed_mps < math.inf,
            "detour_factor": 1.0 <= self.detour_factor < math.inf,
            "max_wait_s": self.max_wait_s is None or self.max_wait_s > 0,
            "prebook_lead_s": 0 <= self.prebook_lead_s < math.inf,
            "max_head_start_s": 0 <= self.max_head_start_s < math.inf,
            "cell_m": 0 < self.cell_m < math.inf,
            "batch_window_s": window is None or (0 < window < math.inf and self.spatial),
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"DispatchConfig.{name}: invalid value {getattr(self, name)!r}")

    @property
    def matching(self) -> str:
        """The matching mode's name, as scenarios and live settings spell it."""
        if self.batch_window_s is not None:
            return "batch"
        return "nearest" if self.spatial else "zone"


def matching_fields(matching: str, batch_window_s: float = DEFAULT_BATCH_WINDOW_S) -> dict[str, Any]:
    """The `DispatchConfig` fields a matching mode sets.

    The one builder of the concept: the scenario's `[dispatch] matching` and the
    live server's `KEEPCAB_MATCHING` both go through it, so a mode that exists in
    one exists in the other with the same meaning.
    """
    if matching not in MATCHING_MODES:
        raise ValueError(f"unknown matching {matching!r}; choose one of {', '.join(MATCHING_MODES)}")
    return {
        "spatial": matching != "zone",
        "batch_window_s": batch_window_s if matching == "batch" else None,
    }
