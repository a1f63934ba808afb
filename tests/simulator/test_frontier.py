"""The frontier: the heads grid against fifo, its Pareto set, settings and verdicts."""

from __future__ import annotations

import json
from functools import cache

import typer
from typer.testing import CliRunner

from simulator.cli import simulate
from simulator.frontier import Frontier, frontier_specs, live_settings, pareto_labels, scenario_keys
from simulator.frontier_report import headline
from simulator.studies import frontier


@cache
def town() -> Frontier:
    """Two blends at two caps beside fifo, reject and retention: 2 replications of half a day."""
    return frontier("small-town", blends=(0.0, 1.0), caps=(300.0, 120.0), replications=2,
                    days=0.5)


def test_pareto_keeps_exactly_the_points_nothing_beats_on_both() -> None:
    """A point beaten on both figures (or on one with a tie on the other) is dropped."""
    points = [("a", 1.0, 5.0), ("b", 2.0, 3.0), ("c", 2.0, 4.0), ("d", 3.0, 3.0), ("e", 0.5, 9.0)]
    assert pareto_labels(points) == {"a", "b", "e"}
    assert pareto_labels([("x", 1.0, 1.0), ("y", 1.0, 1.0)]) == {"x", "y"}


def test_grid_runs_fifo_reject_retention_and_every_heads_cell() -> None:
    """Each (cap, blend, floor) cell is one heads spec whose keys a scenario and the server take."""
    specs = frontier_specs((0.0, 1.0), (300.0, 600.0), (None, 60.0), scenario_cap=300.0)
    assert [s.key for s in specs[:3]] == ["fifo", "reject", "retention"]
    assert len(specs) == 3 + 2 * 2 * 2 - 1  # heads b0 cap300 with the scorer's floor: retention
    cell = specs[-1]
    assert cell.params == {"heads_blend": 1.0, "dispatch.max_head_start_s": 600.0,
                           "first_order_floor_s": 60.0}
    assert live_settings(cell.name, dict(cell.params)) == {
        "KEEPCAB_POLICY": "heads", "KEEPCAB_HEADS_BLEND": "1",
        "KEEPCAB_MAX_HEAD_START_S": "600", "KEEPCAB_FIRST_ORDER_FLOOR_S": "60"}
    assert scenario_keys(cell.name, dict(cell.params)) == {
        "policies.names": ["heads"], "policies.heads_blend": 1.0,
        "dispatch.max_head_start_s": 600.0, "policies.first_order_floor_s": 60.0}
    assert live_settings("heads", {"fleet.cars": 200}) == {"KEEPCAB_POLICY": "heads"}


def test_frontier_pairs_every_point_against_fifo_and_names_the_extremes() -> None:
    """Δs are the comparison's paired differences; heads at blend 0 is retention, run for run."""
    front = town()
    by_label = {p.label: p for p in front.points}
    assert by_label["fifo"].d_lost is None and by_label["fifo"].saving == 0.0
    assert by_label["reject"].d_lost == front.comparison.difference("reject", "lost.share")
    assert "heads b0 cap300" not in by_label, "heads b0 at the scenario's cap is retention"
    assert {"heads b1 cap300", "heads b0 cap120", "heads b1 cap120"} <= set(by_label)
    assert front.fewest_customers.lost.mean == min(p.lost.mean for p in front.points)
    assert front.least_revenue.revenue.mean == min(p.revenue.mean for p in front.points)
    assert front.fewest_customers.pareto and front.least_revenue.pareto
    assert any("only 2 replications" in warning for warning in front.warnings())


def test_headline_says_no_clear_difference_when_an_interval_covers_zero() -> None:
    """Three sentences; a point whose paired interval covers zero is never called better."""
    front = town()
    lines = headline(front)
    assert len(lines) == 3 and lines[0].startswith("Fewest customers lost: ")
    assert lines[2].startswith("Goal (save at least 20%")
    for point in front.points:
        d = point.d_lost
        if d is not None and d.low <= 0 <= d.high and point is front.fewest_customers:
            assert "no clear difference from fifo" in lines[0]


def test_cli_frontier_json_carries_points_settings_and_the_pareto_set() -> None:
    """--frontier --json adds a frontier object whose Pareto points carry KEEPCAB_* settings."""
    app = typer.Typer()
    app.command()(simulate)
    result = CliRunner().invoke(app, ["small-town", "--frontier", "--blends", "1", "--caps",
                                      "120", "-r", "2", "--days", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["frontier"]
    assert data["baseline"] == "fifo" and data["pareto"]
    labels = {p["label"]: p for p in data["points"]}
    assert labels["heads b1 cap120"]["env"]["KEEPCAB_MAX_HEAD_START_S"] == "120"
    assert labels["heads b1 cap120"]["scenario_keys"]["policies.names"] == ["heads"]
