"""Replications over policies: seeds, ordering, worker processes and a Dask cluster."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.runner import (
    PolicySpec,
    ReplicationFailed,
    ReplicationResult,
    ReplicationTask,
    group_by_label,
    make_tasks,
    replication_seeds,
    run_replications,
)
from simulator.scenario import Scenario, load_scenario

POLICIES: list[str | PolicySpec] = ["fifo", PolicySpec("reserve", {"k": 3, "shift": 0.5}, label="reserve-k3")]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario("erlang-a")


def toy_replication(task: ReplicationTask) -> dict[str, Any]:
    """A replication that depends on everything in its task and records where it ran."""
    if task.params.get("fail_on") == task.replication:
        raise ValueError("boom")
    rng = np.random.default_rng(task.seed)
    waits = rng.exponential(task.scenario.patience.wait.mean_min, size=2000)
    return {"mean_wait": float(waits.mean()) + float(task.params.get("shift", 0.0)),
            "policy": task.policy, "pid": os.getpid()}


def _values(results: list[ReplicationResult[dict[str, Any]]]) -> list[tuple[str, int, float]]:
    return [(r.task.label, r.task.replication, r.value["mean_wait"]) for r in results]


def test_seeds_come_from_the_root_seed_alone() -> None:
    """The same root gives the same seeds, every replication its own, another root others."""
    seeds = replication_seeds(42, 5)
    assert seeds == replication_seeds(42, 5)
    assert len(set(seeds)) == 5
    assert replication_seeds(42, 3) == seeds[:3]
    assert not set(seeds) & set(replication_seeds(43, 5))


def test_every_policy_gets_the_same_seed_for_a_replication(scenario: Scenario) -> None:
    """Common random numbers: replication r of each policy shares one seed, from scenario.seed."""
    tasks = make_tasks(scenario, POLICIES, 4)
    assert [(t.label, t.replication) for t in tasks[:4]] == [
        ("fifo", 0), ("reserve-k3", 0), ("fifo", 1), ("reserve-k3", 1)]
    seeds = replication_seeds(scenario.seed, 4)
    for task in tasks:
        assert task.seed == seeds[task.replication]
    assert tasks[1].policy == "reserve" and tasks[1].params == {"k": 3, "shift": 0.5}


def test_labels_must_be_unique(scenario: Scenario) -> None:
    """Two variants of one policy need distinct labels, or their results would mix."""
    with pytest.raises(ValueError, match="unique"):
        make_tasks(scenario, ["fifo", PolicySpec("fifo")], 2)


def test_in_process_results_are_sorted_and_reported(scenario: Scenario) -> None:
    """jobs=1 runs here; results come back by policy then replication; progress counts up."""
    seen: list[tuple[int, int, str]] = []
    results = run_replications(toy_replication, scenario, POLICIES, 3, root_seed=7,
                               progress=lambda done, total, r: seen.append(
                                   (done, total, r.task.label)))
    assert [(r.task.label, r.task.replication) for r in results] == [
        ("fifo", 0), ("fifo", 1), ("fifo", 2),
        ("reserve-k3", 0), ("reserve-k3", 1), ("reserve-k3", 2)]
    assert [(done, total) for done, total, _ in seen] == [(i, 6) for i in range(1, 7)]
    assert {r.value["pid"] for r in results} == {os.getpid()}
    fifo, reserve = group_by_label(results).values()
    assert [b["mean_wait"] - a["mean_wait"] for a, b in zip(fifo, reserve, strict=True)] == (
        pytest.approx([0.5] * 3))  # same seed per replication: only the policy's shift differs


def test_parallel_processes_give_identical_results(scenario: Scenario) -> None:
    """jobs=2 runs in spawned worker processes and returns exactly what jobs=1 returns."""
    serial = run_replications(toy_replication, scenario, POLICIES, 4, root_seed=3, jobs=1)
    calls: list[int] = []
    parallel = run_replications(toy_replication, scenario, POLICIES, 4, root_seed=3, jobs=2,
                                progress=lambda done, total, r: calls.append(done))
    assert _values(parallel) == _values(serial)
    assert [r.task for r in parallel] == [r.task for r in serial]
    assert os.getpid() not in {r.value["pid"] for r in parallel}
    assert sorted(calls) == list(range(1, 9))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_replication_names_itself(scenario: Scenario, jobs: int) -> None:
    """An exception in a replication surfaces with the policy, replication and seed to rerun."""
    failing = PolicySpec("fifo", {"fail_on": 1}, label="broken")
    with pytest.raises(ReplicationFailed, match=r"'broken' replication 1 \(seed \d+\).*boom"):
        run_replications(toy_replication, scenario, [failing], 2, jobs=jobs)


def test_bad_arguments_are_refused(scenario: Scenario) -> None:
    """No replications, no policies or negative jobs are errors, not empty results."""
    with pytest.raises(ValueError, match="replications"):
        run_replications(toy_replication, scenario, ["fifo"], 0)
    with pytest.raises(ValueError, match="no policies"):
        run_replications(toy_replication, scenario, [], 2)
    with pytest.raises(ValueError, match="jobs"):
        run_replications(toy_replication, scenario, ["fifo"], 2, jobs=-1)


@given(st.permutations(range(6)))
def test_grouping_restores_replication_order(order: list[int]) -> None:
    """Whatever order results arrive in, each label's values come back by replication."""
    scenario_stub: Any = None
    results = [ReplicationResult(ReplicationTask(scenario_stub, "fifo", {}, f"p{i % 2}", i // 2, 0),
                                 (i % 2, i // 2)) for i in order]
    assert group_by_label(results) == {"p0": [(0, 0), (0, 1), (0, 2)],
                                       "p1": [(1, 0), (1, 1), (1, 2)]}


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_dask_cluster_gives_identical_results(scenario: Scenario, dask_scheduler: str) -> None:
    """On a two-process Dask LocalCluster the results equal the in-process run exactly."""
    serial = run_replications(toy_replication, scenario, POLICIES, 3, root_seed=5)
    calls: list[int] = []
    on_dask = run_replications(toy_replication, scenario, POLICIES, 3, root_seed=5,
                               scheduler=dask_scheduler,
                               progress=lambda done, total, r: calls.append(done))
    assert _values(on_dask) == _values(serial)
    assert os.getpid() not in {r.value["pid"] for r in on_dask}
    assert sorted(calls) == list(range(1, 7))


def test_a_failure_on_dask_names_the_replication(scenario: Scenario, dask_scheduler: str) -> None:
    """A replication raising on a Dask worker surfaces like a local one."""
    failing = PolicySpec("fifo", {"fail_on": 0}, label="broken")
    with pytest.raises(ReplicationFailed, match=r"'broken' replication 0 .*boom"):
        run_replications(toy_replication, scenario, [failing], 2, scheduler=dask_scheduler)
