"""A sweep's sections: one table and one plot per headline metric against the varied keys.

With `--target-peak-failure`, one sentence names the cheapest cell (fewest
car-hours on shift a day) whose busiest hour fails less often than the target,
or says that no cell in the sweep gets there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.render import Block, Bullets, Heading, Image
from simulator.report import Study
from simulator.scenario import Scenario
from simulator.sweep import HEADLINE_METRICS, PEAK, Sweep
from simulator.tables import TextTable, interval


def metric_table(sweep: Sweep, key: str, label: str, unit: str) -> TextTable:
    headers = [*sweep.keys, *sweep.policies]
    rows = [[str(values[k]) for k in sweep.keys]
            + [interval(estimates.get(policy), unit) if policy in estimates else "–"
               for policy in sweep.policies]
            for values, estimates in sweep.table_rows(key)]
    return TextTable(f"{label} against {', '.join(sweep.keys)}", headers, rows,
                     f"Means with {sweep.comparison.confidence:.0%} intervals over "
                     f"{sweep.comparison.replications} replications; every cell on the same "
                     "seeds (common random numbers).")


def target_lines(sweep: Sweep, scenario: Scenario, target: float) -> list[str]:
    """Per policy, the cheapest cell under the peak-hour failure target."""
    lines = []
    for policy in sweep.policies:
        best = sweep.cheapest_under(scenario, policy, target)
        if best is None:
            worst = min(sweep.cells(policy), key=lambda r: r.metrics[PEAK].mean)
            lines.append(f"{policy}: no cell brings the peak-hour failure rate under "
                         f"{target:.1%}; the best is {_cell(worst.params)} at "
                         f"{interval(worst.metrics[PEAK], 'share')}.")
            continue
        lines.append(f"{policy}: the smallest change under {target:.1%} is {_cell(best.params)} "
                     f"({sweep.car_hours(scenario, best.params):,.0f} car-hours a day), peak-hour "
                     f"failure rate {interval(best.metrics[PEAK], 'share')}.")
    return lines


def _cell(params: dict[str, Any]) -> str:
    return ", ".join(f"`{key}` = {value}" for key, value in params.items())


def sweep_study(sweep: Sweep, scenario: Scenario, target: float | None = None) -> Study:
    """Tables, plots and the target sentence for `write_report`."""
    blocks: list[Block] = [Heading(f"Sweep over {', '.join(sweep.keys)}")]
    if target is not None:
        blocks.append(Bullets(target_lines(sweep, scenario, target)))
    plots = {}
    for key, label, unit in HEADLINE_METRICS:
        name = f"sweep_{key.replace('.', '_')}.png"
        plots[name] = _plotter(sweep, key, label, unit)
        blocks += [Image(name, f"{label} against {sweep.keys[0]}"),
                   metric_table(sweep, key, label, unit)]
    data = {"keys": sweep.keys, "policies": sweep.policies, "target_peak_failure": target,
            "target": [] if target is None else target_lines(sweep, scenario, target)}
    return Study("sweep", blocks, plots, data=data)


def _plotter(sweep: Sweep, key: str, label: str, unit: str) -> Any:
    from simulator.study_plots import sweep_plot  # matplotlib only when writing

    return lambda path: sweep_plot(sweep, key, label, unit, Path(path))
