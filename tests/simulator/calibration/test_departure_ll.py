"""The departure likelihood's analytic gradient against finite differences of its value."""

from __future__ import annotations

import math
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from api.log_source import read_csv_log
from simulator.calibration.departure_ll import neg_log_likelihood
from simulator.calibration.departures import gaps
from simulator.calibration.evidence import log_arrays
from simulator.export_log import export_logs
from simulator.scenario import load_scenario

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def river_gaps(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Every gap of a week of river-town's simulated log (history included)."""
    truth = load_scenario(HERE / "river-town.toml").model_copy(update={"horizon_days": 7.0})
    directory = tmp_path_factory.mktemp("river-week")
    export_logs(truth, ["fifo"], directory)
    source = read_csv_log(directory / "orders.csv", ZoneInfo("UTC"), "RU", directory / "drivers.csv")
    return gaps(log_arrays(source))


@pytest.mark.parametrize(
    "theta",
    [
        [0.1, 0.3, math.log(0.02), 0.2, -0.5, math.log(0.08), math.log(0.05), math.log(2.9)],
        [-0.7, -0.4, math.log(1e-4), 1.5, -3.0, math.log(0.5), math.log(2.0), math.log(0.2)],
        [1.0, 1.5, math.log(0.3), -1.0, 1.0, math.log(0.01), math.log(1e-3), math.log(20.0)],
    ],
)
def test_the_gradient_is_the_derivative_of_the_likelihood(river_gaps, theta: list[float]) -> None:  # type: ignore[no-untyped-def]
    """Each of the eight partial derivatives matches a central difference to 1e-5 relative."""
    x = np.array(theta)
    value, grad = neg_log_likelihood(x, river_gaps)
    assert math.isfinite(value)
    numeric = np.array(
        [
            (neg_log_likelihood(x + e, river_gaps)[0] - neg_log_likelihood(x - e, river_gaps)[0]) / 2e-6
            for e in np.eye(len(x)) * 1e-6
        ]
    )
    assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-3)
