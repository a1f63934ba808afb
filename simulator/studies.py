"""The two studies an analyst runs before choosing what to keep: a frontier and a sweep.

    import simulator.studies as studies
    front = studies.frontier("city", replications=8, jobs=2)
    front.pareto                      # the points no other point beats on both
    front.fewest_customers.env        # {"KEEPCAB_POLICY": "heads", ...}
    sweep = studies.sweep("city", ["fleet.cars=220,260,300"], ["fifo"], replications=5)

Both are one `compare` over many `PolicySpec`s, so they run in this process,
in worker processes or on a Dask scheduler exactly as `compare` does, and
every cell shares the replication seeds (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.api import DEFAULT_REPLICATIONS, ScenarioLike, compare, prepare_scenario
from simulator.frontier import BASELINE, DEFAULT_BLENDS, DEFAULT_CAPS, Frontier, frontier_specs
from simulator.overrides import parse_vary, with_overrides
from simulator.runner import Progress
from simulator.sweep import Sweep, sweep_specs


def frontier(scenario: ScenarioLike, *, blends: Sequence[float] = DEFAULT_BLENDS,
             caps: Sequence[float] = DEFAULT_CAPS, floors: Sequence[float | None] = (None,),
             replications: int = DEFAULT_REPLICATIONS, seed: int | None = None, jobs: int = 1,
             scheduler: str | None = None, days: float | None = None,
             progress: Progress | None = None) -> Frontier:
    """The heads family over (cap, blend, floor) beside fifo, reject and retention, vs fifo."""
    loaded = prepare_scenario(scenario, days)
    specs = frontier_specs(blends, caps, floors, loaded.dispatch.max_head_start_s)
    comparison = compare(loaded, specs, replications=replications, seed=seed, jobs=jobs,
                         scheduler=scheduler, baseline=BASELINE, progress=progress)
    return Frontier(comparison)


def sweep(scenario: ScenarioLike, varies: Sequence[str], policies: Sequence[str] | None = None, *,
          replications: int = DEFAULT_REPLICATIONS, seed: int | None = None, jobs: int = 1,
          scheduler: str | None = None, days: float | None = None,
          progress: Progress | None = None) -> Sweep:
    """Every combination of the `KEY=V1,V2,...` values for every policy; baseline: the first cell."""
    loaded = prepare_scenario(scenario, days)
    parsed = [parse_vary(spec) for spec in varies]
    if not parsed:
        raise ValueError("a sweep needs at least one --vary KEY=V1,V2,...")
    names = list(policies) if policies else loaded.policies.names
    specs = sweep_specs(parsed, names)
    for spec in specs:  # every cell must be a valid scenario before anything runs
        with_overrides(loaded, spec.params)
    comparison = compare(loaded, specs, replications=replications, seed=seed, jobs=jobs,
                         scheduler=scheduler, baseline=specs[0].key, progress=progress)
    return Sweep(comparison, [key for key, _ in parsed], names)


def parse_numbers(text: str, what: str, allow_none: bool = False) -> list[Any]:
    """`0,0.5,1` -> [0.0, 0.5, 1.0]; `none` means the scorer's own value where allowed."""
    values: list[Any] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if allow_none and part.lower() == "none":
            values.append(None)
            continue
        try:
            values.append(float(part))
        except ValueError:
            raise ValueError(f"{what}: {part!r} is not a number") from None
    if not values:
        raise ValueError(f"{what}: give at least one value")
    return values
