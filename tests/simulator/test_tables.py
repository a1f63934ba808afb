"""Table cells in analysts' units, and the who-pays verdicts drawn from paired intervals."""

from __future__ import annotations

import math
from functools import cache

import pytest

from simulator.api import compare, prepare_scenario
from simulator.population import SEGMENTS
from simulator.results import Comparison
from simulator.stats import Estimate
from simulator.tables import (
    headline_lines,
    interval,
    money_table,
    number,
    summary_table,
    waits_table,
    who_pays_lines,
    who_pays_matrix,
    who_pays_table,
)


def _estimate(mean: float, half: float, n: int = 5) -> Estimate:
    return Estimate(mean, mean - half, mean + half, half, 1.0, n, 0.95)


@cache
def crowded_town() -> Comparison:
    """Seven cars for the small town: short of cars, so policies move failures around."""
    scenario = prepare_scenario("small-town", days=2)
    scenario = scenario.model_copy(update={"fleet": scenario.fleet.model_copy(update={"cars": 7})})
    return compare(scenario, ["reject", "fifo", "reserve"], replications=3)


@pytest.mark.parametrize(("value", "unit", "signed", "shown"), [
    (0.01234, "share", False, "1.23%"),
    (0.01234, "share", True, "+1.23 pp"),
    (-0.5, "share", True, "-50.00 pp"),
    (754.0, "s", False, "12.6 min"),
    (-90.0, "s", True, "-1.5 min"),
    (123456.7, "money", False, "123,457"),
    (23.25, "count", False, "23.2"),
    (2036.0, "count", False, "2,036"),
    (math.nan, "share", False, "–"),
])
def test_numbers_read_in_analysts_units(value: float, unit: str, signed: bool,
                                        shown: str) -> None:
    """Shares as %, differences of shares as percentage points, seconds as minutes."""
    assert number(value, unit, signed) == shown


def test_intervals_show_bounds_or_half_width_and_admit_ignorance() -> None:
    """Full form `mean [low, high]`, compact `mean±half`; one replication shows the mean only."""
    assert interval(_estimate(0.02, 0.005), "share") == "2.00% [1.50, 2.50]"
    assert interval(_estimate(0.02, 0.005), "share", compact=True) == "2.00±0.50"
    assert interval(_estimate(-60.0, 30.0), "s", signed=True) == "-1.0 min [-1.5, -0.5]"
    single = Estimate(0.02, -math.inf, math.inf, math.inf, math.nan, 1, 0.95)
    assert interval(single, "share") == "2.00%"
    assert interval(None, "share") == "baseline"


def test_tables_have_a_cell_for_every_header() -> None:
    """Every row of every table is as wide as its header, one row per policy (and segment)."""
    comparison = crowded_town()
    tables = [summary_table(comparison), summary_table(comparison, compact=True),
              who_pays_table(comparison), who_pays_matrix(comparison), waits_table(comparison),
              money_table(comparison)]
    for table in tables:
        assert all(len(row) == len(table.headers) for row in table.rows), table.title
    assert [row[0] for row in summary_table(comparison).rows] == ["reject", "fifo", "reserve"]
    assert [row[0] for row in who_pays_matrix(comparison).rows] == ["reject", "reserve"]
    assert len(who_pays_table(comparison).rows) == 3 * len(SEGMENTS)


def test_who_pays_names_only_segments_whose_interval_excludes_zero() -> None:
    """A segment pays when its failed orders clearly rise (or, failures unclear, its waits rise)."""
    comparison = crowded_town()
    for line in who_pays_lines(comparison):
        label = line.split(" vs ")[0]
        paying = line.split("Pay: ")[1]
        for segment in SEGMENTS:
            failures = comparison.difference(label, f"orders.{segment}.failure_rate")
            waits = comparison.difference(label, f"wait.{segment}.p90_s")
            assert failures is not None and waits is not None
            clearly_up = failures.low > 0 or (failures.low <= 0 <= failures.high and waits.low > 0)
            assert (f"{segment} (failed" in paying) == clearly_up, (line, segment)


def test_refusing_when_no_car_is_free_makes_someone_pay() -> None:
    """Short of cars, the status quo `reject` raises some segment's failed orders against fifo."""
    line = next(line for line in who_pays_lines(crowded_town()) if line.startswith("reject"))
    assert "Pay: nobody clearly" not in line


def test_unsigned_intervals_are_cut_at_zero_but_differences_are_not() -> None:
    """A share's interval never shows a negative bound; a difference's may."""
    assert interval(_estimate(0.01, 0.03), "share") == "1.00% [0.00, 4.00]"
    assert interval(_estimate(0.01, 0.03), "share", signed=True) == "+1.00 pp [-2.00, +4.00]"


def test_headline_says_whether_each_policy_loses_clearly_more_or_fewer() -> None:
    """One line per policy; each non-baseline line judges its paired Δ lost against fifo."""
    comparison = crowded_town()
    lines = headline_lines(comparison)
    assert [line.split(":")[0] for line in lines] == comparison.labels
    for label, line in zip(comparison.labels, lines, strict=True):
        diff = comparison.difference(label, "lost.share")
        if diff is None:
            assert "Δ lost" not in line
        elif diff.low > 0:
            assert "clearly more than fifo" in line
        elif diff.high < 0:
            assert "clearly fewer than fifo" in line
        else:
            assert "no clear difference from fifo" in line
