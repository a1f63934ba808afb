"""The notebook API: `simulator.run` for one policy, `simulator.compare` for several.

    import simulator
    result = simulator.compare("city", ["fifo", "retention"], replications=10, jobs=2)
    result.to_dataframe()            # one row per (policy, metric), paired difference to fifo
    result.policies["retention"].metrics["lost.share"]   # Estimate(mean, low, high, ...)

Both accept a bundled scenario name, a TOML path or a `Scenario` object.
Replication r of every policy runs on the same seed (common random numbers),
so the paired differences are much tighter than the policies' own intervals.
Variants of one policy are `PolicySpec`s whose params override keys of the
scenario's `[policies]` section: `PolicySpec("reserve", {"reserve_k": 5},
label="reserve-k5")`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatch.policies import POLICY_NAMES
from simulator.metrics import SimulationResult
from simulator.notebook import ShownComparison
from simulator.overrides import with_overrides
from simulator.replication import run_replication
from simulator.results import Comparison, PolicyResult
from simulator.runner import (
    PolicySpec,
    Progress,
    ReplicationTask,
    group_by_label,
    run_replications,
)
from simulator.scenario import Policies, Scenario, load_scenario
from simulator.stats import DEFAULT_CONFIDENCE

DEFAULT_REPLICATIONS = 5
ScenarioLike = Scenario | str | Path
PolicyLike = str | PolicySpec


def replicate(task: ReplicationTask) -> SimulationResult:
    """One replication; module-level so that spawned workers and Dask can import it."""
    return run_replication(with_policy_params(task.scenario, task.params), task.policy, task.seed)


def with_policy_params(scenario: Scenario, params: Mapping[str, Any]) -> Scenario:
    """The scenario with keys overridden (bare keys are `[policies]` keys), validated."""
    return with_overrides(scenario, params)


def prepare_scenario(scenario: ScenarioLike, days: float | None = None) -> Scenario:
    """Load by name or path if needed; `days` replaces the measured horizon."""
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if days is None:
        return loaded
    if not days > 0:
        raise ValueError(f"days must be > 0, got {days}")
    return loaded.model_copy(update={"horizon_days": float(days)})


def policy_specs(policies: Sequence[PolicyLike],
                 scenario: Scenario | None = None) -> list[PolicySpec]:
    """Specs for the given names or specs; an unknown name or key fails before anything runs."""
    specs = [PolicySpec(p) if isinstance(p, str) else p for p in policies]
    if not specs:
        raise ValueError("no policies to run")
    for spec in specs:
        if spec.name not in POLICY_NAMES:
            raise ValueError(f"unknown policy {spec.name!r}; choose from {', '.join(POLICY_NAMES)}")
        if spec.params and scenario is not None:
            with_overrides(scenario, spec.params)  # unknown or invalid keys fail here
        elif spec.params:
            Policies.model_validate(dict(spec.params))
    return specs


def compare(scenario: ScenarioLike, policies: Sequence[PolicyLike] | None = None, *,
            replications: int = DEFAULT_REPLICATIONS, seed: int | None = None, jobs: int = 1,
            scheduler: str | None = None, days: float | None = None, baseline: str | None = None,
            confidence: float = DEFAULT_CONFIDENCE,
            progress: Progress | None = None) -> Comparison:
    """Run every policy `replications` times on common random numbers and compare them.

    `policies` defaults to the scenario's `[policies] names`; `baseline` (the
    policy every other is differenced against) to `fifo` if it is run, else
    the first. `seed` replaces the scenario's root seed. `jobs`: worker
    processes (0: one per core); `scheduler`: a Dask scheduler address.
    """
    loaded = prepare_scenario(scenario, days)
    specs = policy_specs(list(policies) if policies else loaded.policies.names, loaded)
    labels = [spec.key for spec in specs]
    chosen = baseline or ("fifo" if "fifo" in labels else labels[0])
    if chosen not in labels:
        raise ValueError(f"baseline {chosen!r} is not among the policies run: {', '.join(labels)}")
    root_seed = loaded.seed if seed is None else seed
    finished = run_replications(replicate, loaded, specs, replications, root_seed=root_seed,
                                jobs=jobs, scheduler=scheduler, progress=progress)
    grouped = group_by_label(finished)
    return ShownComparison(
        scenario=loaded.name, horizon_days=loaded.horizon_days, warmup_days=loaded.warmup_days,
        seed=root_seed, baseline=chosen, confidence=confidence,
        settings=loaded.model_dump(mode="json"), currency=loaded.currency,
        policies={spec.key: PolicyResult(spec.key, spec.name, tuple(grouped[spec.key]), confidence,
                                         dict(spec.params))
                  for spec in specs})


def run(scenario: ScenarioLike, policy: PolicyLike = "retention", *,
        replications: int = DEFAULT_REPLICATIONS, seed: int | None = None, jobs: int = 1,
        scheduler: str | None = None, days: float | None = None,
        confidence: float = DEFAULT_CONFIDENCE, progress: Progress | None = None) -> PolicyResult:
    """One policy over `replications` seeded replications, every metric with its interval."""
    comparison = compare(scenario, [policy], replications=replications, seed=seed, jobs=jobs,
                         scheduler=scheduler, days=days, confidence=confidence, progress=progress)
    return comparison.policies[comparison.baseline]
