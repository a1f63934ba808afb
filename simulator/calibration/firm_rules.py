"""The firm's own dispatch rules for a calibrated scenario's `[dispatch]`.

A log shows what happened under the firm's rules, never the rules themselves:
how far a car may be sent, when the dispatcher gives up on an order, the
head-start cap, the matching mode. Left at the scenario's defaults they
decide the answer: calibrated from `city`'s log with the default 5 km pickup
radius instead of the firm's 3 km, `reject` came out *ahead* of `fifo`
(-0.04 pts lost customers) where the truth has it 0.21 pts behind; with the
firm's rules it came out +0.17 pts [+0.13, +0.21] behind, as in the truth.

So `keepcab calibrate` reads the rules where the live server reads them
(`KEEPCAB_*` and `.env`, through the `keepcab.firm_settings` entry point:
the simulator may not import `api`), and each key's comment names the
setting it came from, or says the setting was not set where calibrate ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points

from dispatch.config import DispatchConfig
from simulator.calibration.evidence import Estimate
from simulator.scenario import Dispatch

# scenario key -> the live setting it comes from (one builder each way: Dispatch.from_config)
SETTING_OF = {
    "pickup_radius_m": "pickup_radius_m",
    "speed_kmh": "speed_mps",
    "max_wait_min": "max_wait_s",
    "max_head_start_s": "max_head_start_s",
    "cell_m": "cell_m",
    "matching": "matching",
    "batch_window_s": "batch_window_s",
    "detour_factor": "detour_factor",
}


@dataclass(frozen=True, slots=True)
class FirmRules:
    """The live server's dispatch configuration and which of its settings were set explicitly."""

    config: DispatchConfig
    set_explicitly: frozenset[str]


def read_firm_rules() -> FirmRules:
    """The rules of the live server as configured where this runs; ValueError names a bad setting."""
    for entry in entry_points(group="keepcab.firm_settings"):
        if entry.name == "dispatch":
            config, explicit = entry.load()()
            return FirmRules(config, frozenset(explicit))
    raise LookupError("no keepcab.firm_settings entry point 'dispatch' is installed")


def dispatch_section(rules: FirmRules | None, detour: Estimate) -> dict[str, Estimate]:
    """`[dispatch]`: each key the firm's setting, or the flagged default when it was not set."""
    config = rules.config if rules is not None else DispatchConfig()
    explicit = rules.set_explicitly if rules is not None else frozenset()
    values = Dispatch.from_config(config).model_dump()
    section: dict[str, Estimate] = {}
    for key, setting in SETTING_OF.items():
        if key == "batch_window_s" and config.matching != "batch":
            continue
        name = f"KEEPCAB_{setting.upper()}"
        if key == "detour_factor" and not detour.default:
            section[key] = detour  # measured in the log: trip times against straight-line distance
        elif setting in explicit:
            section[key] = Estimate(values[key], f"the firm's setting {name} (a rule, not in any log)")
        else:
            why = f"the firm's rule; {name} was not set where calibrate ran: set it, or edit this"
            section[key] = Estimate.fallback(values[key], why)
    return section
