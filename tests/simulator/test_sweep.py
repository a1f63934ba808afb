"""Sweeps: every combination on common random numbers, tables, plots, the target cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from simulator.cli import simulate
from simulator.scenario import load_scenario
from simulator.studies import sweep
from simulator.sweep import sweep_specs
from simulator.sweep_report import target_lines

app = typer.Typer()
app.command()(simulate)


def test_every_combination_for_every_policy() -> None:
    """Two keys of 2 and 3 values for two policies: 12 cells, each labelled by its values."""
    specs = sweep_specs([("fleet.cars", [5, 9]), ("dispatch.pickup_radius_m", [1, 2, 3])],
                        ["fifo", "heads"])
    assert len(specs) == 12 and specs[0].key == "fifo fleet.cars=5 dispatch.pickup_radius_m=1"
    assert specs[-1].params == {"fleet.cars": 9, "dispatch.pickup_radius_m": 3}
    with pytest.raises(ValueError, match="varied twice"):
        sweep_specs([("fleet.cars", [1]), ("fleet.cars", [2])], ["fifo"])


def test_more_cars_fail_fewer_orders_and_the_target_names_the_cheapest_cell(tmp_path: Path) -> None:
    """On shared seeds 3 cars fail more than 20; the target names the smallest fleet under it."""
    result = CliRunner().invoke(app, ["small-town", "--vary", "fleet.cars=3,20", "-p", "fifo",
                                      "-r", "2", "--days", "0.5", "--target-peak-failure", "0.5",
                                      "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    peak = {p["params"]["fleet.cars"]: p["metrics"]["orders.peak_hour_failure_rate"]["mean"]
            for p in saved["policies"].values()}
    failed = {p["params"]["fleet.cars"]: p["metrics"]["orders.failure_rate"]["mean"]
              for p in saved["policies"].values()}
    assert failed[3] > failed[20] and peak[3] > peak[20]
    meeting = min(cars for cars, rate in peak.items() if rate < 0.5)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "Sweep over fleet.cars" in report and (tmp_path / "sweep_lost_share.png").is_file()
    assert f"fifo: the smallest change under 50.0% is `fleet.cars` = {meeting} " in report
    assert saved["sweep"]["target"] and saved["sweep"]["keys"] == ["fleet.cars"]


def test_no_cell_under_an_impossible_target_is_said_so() -> None:
    """A target no cell meets gets the best cell and its rate, not a pretend answer."""
    done = sweep("small-town", ["fleet.cars=3"], ["fifo"], replications=1, days=0.25)
    assert done.cheapest_under(load_scenario("small-town"), "fifo", 0.0) is None
    (line,) = target_lines(done, load_scenario("small-town"), 0.0)
    assert line.startswith("fifo: no cell brings the peak-hour failure rate under 0.0%")


def test_a_sweep_runs_on_a_dask_local_cluster_with_the_same_results() -> None:
    """--vary with --scheduler gives the figures of a local run (same seeds)."""
    distributed = pytest.importorskip("distributed")
    args = ["small-town", "--vary", "fleet.cars=6,9", "-p", "fifo", "-r", "2", "--days", "0.5",
            "--json"]
    local = CliRunner().invoke(app, args)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = CliRunner().invoke(app, [*args, "--scheduler", cluster.scheduler_address])
    assert on_dask.exit_code == 0, on_dask.output
    assert on_dask.stdout == local.stdout


def test_a_bad_vary_key_exits_2_naming_it() -> None:
    """An unknown key is refused before anything runs."""
    result = CliRunner().invoke(app, ["small-town", "--vary", "fleet.wheels=1,2", "-r", "1"])
    assert result.exit_code == 2 and "fleet.wheels: unknown key" in result.output
