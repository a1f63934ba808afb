"""Replications of several policies, in this process, in worker processes or on Dask.

Every replication is a pure function of its `ReplicationTask` (scenario,
policy, seed), so where and in which order it runs cannot change its result:
seeds are fixed before anything is scheduled, from one root seed through
numpy's `SeedSequence`, and results are put back in (policy, replication)
order whatever order they finish in. Replication r of every policy gets the
same seed, which is what gives the common random numbers that
`simulator.stats.paired_difference` relies on.

Worker processes are started with the "spawn" method on every platform: a
forked child would inherit the parent's threads and locks (a progress bar's
refresh thread, a Dask client's event loop) in whatever state they were in.
The price is the spawn-safe pattern: `replicate` must be a module-level
function and its module importable without side effects, and a script that
calls `run_replications` with jobs > 1 must do so under
`if __name__ == "__main__":`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from typing import Any, Generic, TypeVar

import numpy as np

from simulator.scenario import Scenario

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A policy to compare: a dispatch policy name, its parameters, and a unique label.

    The label tells two variants of one policy apart (`reserve-k2`,
    `reserve-k4`); it defaults to the name.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def key(self) -> str:
        return self.label or self.name


@dataclass(frozen=True, slots=True)
class ReplicationTask:
    """Everything one replication may depend on; picklable, sent to a worker as is.

    Use `seed`, not `scenario.seed`: the scenario's seed is the root the
    replication seeds were derived from.
    """

    scenario: Scenario
    policy: str
    params: Mapping[str, Any]
    label: str
    replication: int
    seed: int


@dataclass(frozen=True, slots=True)
class ReplicationResult(Generic[R]):
    task: ReplicationTask
    value: R


Progress = Callable[[int, int, ReplicationResult[Any]], None]
"""Called in the calling process as each replication finishes: (done, total, result)."""


class ReplicationFailed(RuntimeError):
    """A replication raised; the message names the policy, replication and seed to rerun it."""


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """One independent 64-bit seed per replication index, the same for every policy."""
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    children = np.random.SeedSequence(root_seed).spawn(replications)
    return [int(child.generate_state(1, np.uint64)[0]) for child in children]


def make_tasks(scenario: Scenario, policies: Sequence[str | PolicySpec], replications: int,
               root_seed: int | None = None) -> list[ReplicationTask]:
    """Tasks in submission order: replication by replication, every policy within one.

    Interleaving policies means paired results arrive close together, so a
    run stopped early still has complete pairs.
    """
    specs = [PolicySpec(p) if isinstance(p, str) else p for p in policies]
    if not specs:
        raise ValueError("no policies to run")
    keys = [spec.key for spec in specs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"policy labels must be unique, got {keys}")
    seeds = replication_seeds(scenario.seed if root_seed is None else root_seed, replications)
    return [ReplicationTask(scenario, spec.name, dict(spec.params), spec.key, r, seed)
            for r, seed in enumerate(seeds) for spec in specs]


def run_replications(replicate: Callable[[ReplicationTask], R], scenario: Scenario,
                     policies: Sequence[str | PolicySpec], replications: int, *,
                     root_seed: int | None = None, jobs: int = 1, scheduler: str | None = None,
                     progress: Progress | None = None) -> list[ReplicationResult[R]]:
    """Run every (policy, replication) pair; results sorted by policy (as given), then replication.

    `jobs`: 1 runs here, n > 1 in n spawned processes, 0 in one process per
    CPU core. `scheduler`: the address of a running Dask distributed
    scheduler (extra `cluster`); `jobs` is then ignored.
    """
    tasks = make_tasks(scenario, policies, replications, root_seed)
    finished: list[ReplicationResult[R] | None] = [None] * len(tasks)

    def record(index: int, value: R) -> None:
        result = ReplicationResult(tasks[index], value)
        finished[index] = result
        if progress is not None:
            progress(sum(r is not None for r in finished), len(tasks), result)

    if scheduler is not None:
        _run_on_dask(replicate, tasks, scheduler, record)
    elif _workers(jobs, len(tasks)) == 1:
        for index, task in enumerate(tasks):
            record(index, _result_of(partial(replicate, task), task))
    else:
        _run_in_processes(replicate, tasks, _workers(jobs, len(tasks)), record)
    order = {spec: i for i, spec in enumerate(dict.fromkeys(t.label for t in tasks))}
    done = [result for result in finished if result is not None]
    return sorted(done, key=lambda res: (order[res.task.label], res.task.replication))


def group_by_label(results: Iterable[ReplicationResult[R]]) -> dict[str, list[R]]:
    """Values per policy label, in replication order (ready for the paired statistics)."""
    grouped: dict[str, list[tuple[int, R]]] = {}
    for result in results:
        grouped.setdefault(result.task.label, []).append((result.task.replication, result.value))
    return {label: [value for _, value in sorted(pairs, key=lambda pair: pair[0])]
            for label, pairs in grouped.items()}


def _workers(jobs: int, tasks: int) -> int:
    if jobs < 0:
        raise ValueError(f"jobs must be >= 0 (0: one per CPU core), got {jobs}")
    wanted = jobs if jobs > 0 else os.cpu_count() or 1
    return max(1, min(wanted, tasks))


def _describe(task: ReplicationTask) -> str:
    return f"policy {task.label!r} replication {task.replication} (seed {task.seed})"


def _run_in_processes(replicate: Callable[[ReplicationTask], R], tasks: list[ReplicationTask],
                      workers: int, record: Callable[[int, R], None]) -> None:
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: dict[Future[R], int] = {pool.submit(replicate, task): index
                                         for index, task in enumerate(tasks)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    record(index, _result_of(future.result, tasks[index]))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _result_of(get: Callable[[], R], task: ReplicationTask) -> R:
    """The replication's value, or a failure that says which replication to rerun."""
    try:
        return get()
    except Exception as error:
        raise ReplicationFailed(f"{_describe(task)} failed: {error!r}") from error


def _run_on_dask(replicate: Callable[[ReplicationTask], R], tasks: list[ReplicationTask],
                 scheduler: str, record: Callable[[int, R], None]) -> None:
    try:  # imported by name: distributed is an optional extra and only partly typed
        distributed = importlib.import_module("distributed")
    except ImportError as error:
        raise RuntimeError("running on a Dask scheduler needs the cluster extra: "
                           "pip install 'keepcab[cluster]'") from error
    with distributed.Client(scheduler, set_as_default=False) as client:
        futures = {client.submit(replicate, task, pure=False): index
                   for index, task in enumerate(tasks)}
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                index = futures[future]
                record(index, _result_of(future.result, tasks[index]))
        except BaseException:
            client.cancel(list(futures))
            raise
