"""The calibrated scenario as TOML text, one comment per key saying where its number came from.

Written by hand rather than by a TOML library because none of the stdlib's
or the usual writers keep comments; the text is parsed back with the
simulator's own `parse_scenario` before it is returned, so what is written
always loads.
"""

from __future__ import annotations

import math
from typing import Any

from simulator.calibration.build import Calibration
from simulator.calibration.evidence import Estimate
from simulator.scenario import parse_scenario


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value != 0 and abs(value) < 1e-3:  # six decimals would write a fitted 6.8e-08 as 0.0
            return repr(float(f"{value:.6g}"))
        return repr(float(round(value, 6)))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_value(float(value))


def _comment(text: str) -> str:
    return " ".join(text.split())


def _key(name: str, estimate: Estimate) -> list[str]:
    value = estimate.value
    if isinstance(value, list) and value and isinstance(value[0], dict):
        lines = [f"# {name}: {_comment(estimate.comment())}", f"{name} = [  # {len(value)} entries"]
        lines += [f"    {toml_value(item)},  # {_comment(_item_note(item))}" for item in value]
        return [*lines, "]"]
    return [f"{name} = {toml_value(value)}  # {_comment(estimate.comment())}"]


def _item_note(item: dict[str, Any]) -> str:
    if "share" in item:
        return f"share {item['share']:.3g} of drivers"
    return f"weight {item.get('weight', 0):.3g} of pickups"


def scenario_toml(calibration: Calibration) -> str:
    lines = [
        "# Calibrated by `keepcab calibrate` from the firm's own order log (docs/calibrate.md).",
        "# Each comment: the estimate, its 95% interval where one exists, and its source;",
        "# 'not identifiable from this log: default (see docs)' where the log cannot say.",
        "# Aggregates only: no number, name, address or single customer's point.",
    ]
    for section, keys in calibration.sections.items():
        if section:
            lines += ["", f"[{section}]"]
        for name, estimate in keys.items():
            lines += _key(name, estimate)
    text = "\n".join(lines) + "\n"
    parse_scenario(text, "calibrated.toml")
    return text
