"""simulator.run and simulator.compare: the notebook entry points."""

from __future__ import annotations

import json

import pytest

import simulator
from simulator.api import policy_specs, prepare_scenario, replicate, with_policy_params
from simulator.replication import run_replication
from simulator.runner import PolicySpec, ReplicationTask, replication_seeds
from simulator.scenario import load_scenario


def test_run_accepts_a_name_and_gives_every_metric_an_interval() -> None:
    """run('small-town', policy) returns one policy's estimates over the replications."""
    result = simulator.run("small-town", "retention", replications=2, days=1)
    assert (result.label, result.policy, result.replications) == ("retention", "retention", 2)
    assert result.metrics["lost.share"].n == 2
    assert result.metrics["orders.placed"].mean > 0
    root_seed = load_scenario("small-town").seed
    assert [run.seed for run in result.runs] == replication_seeds(root_seed, 2)


def test_run_is_compare_with_one_policy() -> None:
    """The single-policy result equals that policy's part of a comparison with the same seeds."""
    alone = simulator.run("small-town", "fifo", replications=2, days=1, seed=11)
    together = simulator.compare("small-town", ["fifo", "reserve"], replications=2, days=1, seed=11)
    assert alone.to_dict() == together.policies["fifo"].to_dict()


def test_a_replication_is_the_plain_run_on_its_seed() -> None:
    """Each replication equals run_replication on the seed the runner derived for it."""
    scenario = prepare_scenario("small-town", days=1)
    result = simulator.run(scenario, "value", replications=2, seed=5)
    seeds = replication_seeds(5, 2)
    for run, seed in zip(result.runs, seeds, strict=True):
        assert run.to_dict() == run_replication(scenario, "value", seed).to_dict()


def test_same_seed_same_results_other_seed_other_results() -> None:
    """A comparison is a function of its seed, bit for bit."""
    first = simulator.compare("small-town", ["fifo", "reserve"], replications=2, days=1, seed=3)
    again = simulator.compare("small-town", ["fifo", "reserve"], replications=2, days=1, seed=3)
    other = simulator.compare("small-town", ["fifo", "reserve"], replications=2, days=1, seed=4)
    assert json.dumps(first.to_dict(runs=True)) == json.dumps(again.to_dict(runs=True))
    assert first.to_dict()["policies"] != other.to_dict()["policies"]


def test_worker_processes_give_the_same_results() -> None:
    """jobs=2 (spawned processes importing simulator.api.replicate) equals jobs=1."""
    here = simulator.compare("small-town", ["fifo", "reserve"], replications=2, days=1)
    there = simulator.compare("small-town", ["fifo", "reserve"], replications=2, days=1, jobs=2)
    assert json.dumps(here.to_dict(runs=True)) == json.dumps(there.to_dict(runs=True))


def test_policies_default_to_the_scenario_and_the_baseline_to_fifo() -> None:
    """Without a list the scenario's [policies] names run; fifo is the baseline when present."""
    scenario = prepare_scenario("small-town", days=1)
    scenario = with_policy_params(scenario, {"names": ["reject", "reserve", "fifo"]})
    comparison = simulator.compare(scenario, replications=2)
    assert comparison.labels == ["reject", "reserve", "fifo"]
    assert comparison.baseline == "fifo"
    chosen = simulator.compare(scenario, ["reject", "reserve"], replications=2, baseline="reserve")
    assert chosen.baseline == "reserve" and set(chosen.differences) == {"reject"}
    assert simulator.compare(scenario, ["reserve", "reject"], replications=2).baseline == "reserve"


def test_days_replace_the_measured_horizon() -> None:
    """days=N measures N days (the per-day series has N entries); days must be positive."""
    result = simulator.run("small-town", "fifo", replications=2, days=3)
    assert len(result.days["placed"]) == 3
    with pytest.raises(ValueError, match="days must be > 0"):
        prepare_scenario("small-town", days=0)


def test_bad_policies_and_baselines_fail_before_anything_runs() -> None:
    """Unknown policy names, policy parameters and baselines are refused with their names."""
    with pytest.raises(ValueError, match="unknown policy 'vip'; choose from reject, fifo"):
        policy_specs(["fifo", "vip"])
    with pytest.raises(ValueError, match="reserve_kk"):
        policy_specs([PolicySpec("reserve", {"reserve_kk": 4})])
    with pytest.raises(ValueError, match="baseline 'retention' is not among"):
        simulator.compare("small-town", ["fifo"], replications=1, days=1, baseline="retention")
    with pytest.raises(simulator.ScenarioError, match="no such scenario file"):
        simulator.compare("no-such-town", ["fifo"])


def test_policy_variants_override_the_scenarios_policy_section() -> None:
    """A PolicySpec's params replace [policies] keys for its replications only, under its label."""
    scenario = prepare_scenario("small-town", days=1)
    task = ReplicationTask(scenario, "reserve", {"reserve_k": 4}, "reserve-k4", 0, 9)
    assert with_policy_params(scenario, task.params).policies.reserve_k == 4
    assert scenario.policies.reserve_k == 1
    assert replicate(task).to_dict() == run_replication(
        with_policy_params(scenario, {"reserve_k": 4}), "reserve", 9).to_dict()
    comparison = simulator.compare(scenario, ["reserve", PolicySpec("reserve", {"reserve_k": 4},
                                                                   "reserve-k4")], replications=2)
    assert comparison.labels == ["reserve", "reserve-k4"]
    assert comparison.policies["reserve-k4"].policy == "reserve"
