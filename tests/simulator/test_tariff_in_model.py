"""The simulator charges completed trips with the firm's tariff, kilometres included."""

from __future__ import annotations

from simulator.metrics import COMPLETED
from simulator.replication import simulate_model
from simulator.scenario import Scenario, load_scenario


def _fares(per_km: float) -> list[float]:
    raw = load_scenario("small-town").model_dump()
    raw["horizon_days"], raw["warmup_days"] = 0.5, 0.0
    raw["trips"]["fare_per_km"] = per_km
    model = simulate_model(Scenario.model_validate(raw), "fifo")
    return [row.fare for row in model.rows if row.outcome == COMPLETED]


def test_a_price_per_km_raises_every_fare_on_the_same_trips() -> None:
    """Common random numbers: the same trips complete; each costs more by its road distance, some by
    more than others (trips differ in length), and without per-km pricing nothing changes."""
    flat, priced = _fares(0.0), _fares(2.0)
    assert flat and len(flat) == len(priced)
    rises = [b - a for a, b in zip(flat, priced, strict=True)]
    assert min(rises) >= 0 and max(rises) > min(rises) + 0.5
    assert _fares(0.0) == flat
