"""Per-policy estimates, paired differences and their JSON and DataFrame forms."""

from __future__ import annotations

import json
import math
import sys
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.api import compare
from simulator.measures import METRICS, estimate, paired
from simulator.results import Comparison, PolicyResult
from simulator.stats import mean_ci, paired_difference


@cache
def town() -> Comparison:
    """Two policies, three replications of two measured days of the small town."""
    return compare("small-town", ["fifo", "reserve"], replications=3, days=2)


def test_every_metric_is_the_t_interval_of_its_per_replication_values() -> None:
    """A policy's estimate is mean_ci over the replications' own figures, metric by metric."""
    result = town().policies["reserve"]
    for metric in METRICS:
        values = [v for v in result.values(metric.key) if math.isfinite(v)]
        if not values:
            continue
        expected = mean_ci(values)
        assert result.metrics[metric.key].mean == pytest.approx(expected.mean), metric.key
        assert result.metrics[metric.key].half_width == pytest.approx(expected.half_width)


def test_lost_shares_split_into_failures_and_base_churn() -> None:
    """Lost = lost after failures + base churn, per replication and segment, and match the run."""
    result = town().policies["fifo"]
    for prefix in ("lost", "lost.new", "lost.occasional", "lost.regular"):
        for total, failures, base in zip(result.values(f"{prefix}.share"),
                                         result.values(f"{prefix}.share_to_failures"),
                                         result.values(f"{prefix}.share_base"), strict=True):
            assert total == pytest.approx(failures + base)
    assert result.values("lost.share") == [run.lost.share for run in result.runs]
    assert result.values("first_order_failure_rate") == [
        run.first_order_failure_rate for run in result.runs]


def test_differences_are_paired_against_the_baseline() -> None:
    """Each Δ is paired_difference of per-replication values; the baseline has none."""
    comparison = town()
    assert comparison.baseline == "fifo"
    assert comparison.difference("fifo", "lost.share") is None
    reserve, fifo = comparison.policies["reserve"], comparison.policies["fifo"]
    expected = paired_difference(reserve.values("orders.failure_rate"),
                                 fifo.values("orders.failure_rate"))
    found = comparison.difference("reserve", "orders.failure_rate")
    assert found is not None
    assert (found.mean, found.half_width) == pytest.approx((expected.mean, expected.half_width))


def test_replications_share_seeds_across_policies() -> None:
    """Common random numbers: replication r of every policy ran on the same seed."""
    comparison = town()
    assert ([run.seed for run in comparison.policies["fifo"].runs]
            == [run.seed for run in comparison.policies["reserve"].runs])
    assert len({run.seed for run in comparison.policies["fifo"].runs}) == 3


@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(math.nan)), min_size=1, max_size=8))
def test_missing_values_are_left_out_not_counted_as_zero(values: list[float]) -> None:
    """A replication without the figure (NaN) drops out of the interval; n says how many remain."""
    kept = [v for v in values if not math.isnan(v)]
    found = estimate(values)
    assert found.n == len(kept)
    if kept:
        assert found.mean == pytest.approx(sum(kept) / len(kept), abs=1e-6)
    else:
        assert math.isnan(found.mean)


def test_paired_difference_uses_only_complete_pairs() -> None:
    """A pair with a missing side is dropped; the rest are differenced pairwise."""
    found = paired([1.0, math.nan, 5.0, 4.0], [0.0, 2.0, math.nan, 1.0])
    assert (found.n, found.mean) == (2, pytest.approx(2.0))


def test_to_dict_is_strict_json_even_with_one_replication() -> None:
    """With one replication intervals are unbounded: JSON gets null, never Infinity or NaN."""
    single = compare("small-town", ["fifo"], replications=1, days=1)
    body = json.loads(json.dumps(single.to_dict(runs=True), allow_nan=False))
    lost = body["policies"]["fifo"]["metrics"]["lost.share"]
    assert lost["low"] is None and lost["high"] is None and lost["n"] == 1
    assert len(body["policies"]["fifo"]["runs"]) == 1
    assert body["differences"] == {}


def test_comparison_to_dict_holds_settings_estimates_and_differences() -> None:
    """The JSON form names the scenario, baseline, metric units and every policy's figures."""
    body = town().to_dict()
    assert (body["scenario"], body["baseline"], body["replications"]) == ("small-town", "fifo", 3)
    assert body["horizon_days"] == 2
    assert body["metrics"]["wait.regular.p90_s"]["unit"] == "s"
    assert set(body["policies"]) == {"fifo", "reserve"}
    assert set(body["differences"]) == {"reserve"}
    reserve = town().policies["reserve"].metrics["revenue"]
    assert body["policies"]["reserve"]["metrics"]["revenue"]["mean"] == pytest.approx(reserve.mean)
    assert len(body["policies"]["fifo"]["days"]["lost_customers"]) == 2


def test_to_dataframe_has_one_row_per_policy_and_metric() -> None:
    """The DataFrame is the rows: policy, metric, interval, and the difference to the baseline."""
    pytest.importorskip("pandas")
    frame = town().to_dataframe()
    assert len(frame) == 2 * len(METRICS)
    row = frame[(frame.policy == "reserve") & (frame.metric == "lost.share")].iloc[0]
    diff = town().difference("reserve", "lost.share")
    assert diff is not None and row["diff_mean"] == pytest.approx(diff.mean)
    assert town().days_dataframe().series.nunique() == 5
    assert len(town().policies["fifo"].to_dataframe()) == len(METRICS)


def test_to_dataframe_without_pandas_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pandas the error names the missing package instead of an AttributeError."""
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        town().to_dataframe()


def test_a_baseline_must_be_one_of_the_policies() -> None:
    """Differencing against a policy that did not run is refused with its name."""
    policies = town().policies
    with pytest.raises(ValueError, match="'retention' is not among"):
        Comparison("small-town", 2, 2, 7, "retention", dict(policies))
    with pytest.raises(ValueError, match="no replications"):
        PolicyResult("fifo", "fifo", ())


def test_notebooks_get_a_short_repr_and_html_tables() -> None:
    """repr stays one line (not every raw run); _repr_html_ shows headline and who-pays tables."""
    comparison = town()
    assert repr(comparison) == ("Comparison('small-town', policies=['fifo', 'reserve'], "
                                "replications=3, baseline='fifo')")
    assert repr(comparison.policies["fifo"]).startswith("PolicyResult('fifo', replications=3, ")
    shown = comparison._repr_html_()
    assert shown.count("<table>") == 2 and "Who pays" in shown


def test_queue_figures_per_segment_and_class_are_the_runs_own_counts() -> None:
    """P(wait), mean queue wait and abandonment per segment and VIP class, replication by
    replication, equal the run's order summaries, and are rows of the CSV form."""
    result = town().policies["reserve"]
    for group in ("new", "occasional", "regular", "vip", "other"):
        for run, p_wait, wait, abandoned in zip(result.runs, result.values(f"orders.{group}.p_wait"),
                                                result.values(f"orders.{group}.mean_queue_wait_s"),
                                                result.values(f"orders.{group}.abandonment"),
                                                strict=True):
            orders = (run.orders_by_class if group in ("vip", "other") else run.orders_by_segment)[group]
            if not orders.placed:
                continue
            assert p_wait == orders.queued / orders.placed
            assert abandoned == orders.failed_by_cause["abandoned"] / orders.placed
            assert wait == orders.mean_queue_wait_s
    keys = {row["metric"] for row in town().rows()}
    assert {"orders.vip.p_wait", "orders.new.abandonment", "orders.mean_queue_wait_s"} <= keys
