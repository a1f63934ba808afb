"""Results of `simulator.run` and `simulator.compare`, ready for JSON, CSV and pandas.

Results are data: this module imports nothing that reads them (tables, plots,
reports sit above it, an import-linter contract says so), which is why the
notebook view lives in `simulator.notebook`.

Each object keeps its replications' raw `SimulationResult`s, so an analyst in
a notebook can always go back to the draws behind an interval. Flat rows
(`rows()`) are the single source of the CSV file and of `to_dataframe()`, so
the two can never disagree.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any

from simulator.measures import (
    DAY_SERIES,
    HOUR_SERIES,
    METRIC_BY_KEY,
    METRICS,
    day_values,
    estimate,
    estimate_dict,
    hour_values,
    metric_values,
    paired,
    plain,
    plain_tree,
)
from simulator.metrics import SimulationResult
from simulator.stats import DEFAULT_CONFIDENCE, Estimate


@dataclass(frozen=True, slots=True, repr=False)
class PolicyResult:
    """One policy over its replications: every metric's mean with a confidence interval."""

    label: str
    policy: str
    runs: tuple[SimulationResult, ...]
    confidence: float = DEFAULT_CONFIDENCE
    params: dict[str, Any] = field(default_factory=dict)  # scenario keys this policy changed
    metrics: dict[str, Estimate] = field(init=False)
    days: dict[str, list[Estimate]] = field(init=False)
    hours: dict[str, list[Estimate]] = field(init=False)

    def __post_init__(self) -> None:
        if not self.runs:
            raise ValueError(f"policy {self.label!r}: no replications")
        object.__setattr__(self, "metrics", {
            m.key: estimate(metric_values(self.runs, m.key), self.confidence) for m in METRICS})
        object.__setattr__(self, "days", {
            series: [estimate(values, self.confidence) for values in day_values(self.runs, series)]
            for series in DAY_SERIES})
        object.__setattr__(self, "hours", {
            series: [estimate(values, self.confidence) for values in hour_values(self.runs, series)]
            for series in HOUR_SERIES})

    @property
    def replications(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        """Short, for notebooks: the default would print every replication's raw result."""
        lost = self.metrics["lost.share"]
        return (f"PolicyResult({self.label!r}, replications={self.replications}, "
                f"lost.share={lost.mean:.4f} ± {lost.half_width:.4f})")

    def values(self, key: str) -> list[float]:
        """The metric's per-replication values, in replication (seed) order."""
        return metric_values(self.runs, key)

    def rows(self) -> list[dict[str, Any]]:
        """One row per metric: the long format of results.csv."""
        return [_row(self.label, key, value) for key, value in self.metrics.items()]

    def day_rows(self) -> list[dict[str, Any]]:
        return [{"policy": self.label, "day": day, "series": series, **_interval(value)}
                for series, values in self.days.items() for day, value in enumerate(values)]

    def to_dict(self, runs: bool = False) -> dict[str, Any]:
        """JSON-ready (NaN and infinite bounds become null); `runs` adds every replication."""
        body: dict[str, Any] = {
            "label": self.label, "policy": self.policy, "replications": self.replications,
            "params": plain_tree(dict(self.params)), "seeds": [run.seed for run in self.runs],
            "metrics": {key: estimate_dict(value) for key, value in self.metrics.items()},
            "days": {series: [estimate_dict(value) for value in values]
                     for series, values in self.days.items()},
            "hours": {series: [estimate_dict(value) for value in values]
                      for series, values in self.hours.items()},
        }
        if runs:
            body["runs"] = [plain_tree(run.to_dict()) for run in self.runs]
        return body

    def to_dataframe(self) -> Any:
        """Metrics as a pandas DataFrame (one row per metric); needs pandas."""
        return dataframe(self.rows())


@dataclass(frozen=True, slots=True, repr=False)
class Comparison:
    """Several policies on common random numbers, each against one baseline policy."""

    scenario: str
    horizon_days: float
    warmup_days: float
    seed: int
    baseline: str
    policies: dict[str, PolicyResult]
    confidence: float = DEFAULT_CONFIDENCE
    settings: dict[str, Any] = field(default_factory=dict)  # every scenario parameter used
    currency: str = ""
    differences: dict[str, dict[str, Estimate]] = field(init=False)

    def __post_init__(self) -> None:
        if self.baseline not in self.policies:
            raise ValueError(f"baseline {self.baseline!r} is not among the policies "
                             f"{list(self.policies)}")
        base = self.policies[self.baseline]
        object.__setattr__(self, "differences", {
            label: {m.key: paired(result.values(m.key), base.values(m.key), self.confidence)
                    for m in METRICS}
            for label, result in self.policies.items() if label != self.baseline})

    @property
    def labels(self) -> list[str]:
        return list(self.policies)

    @property
    def replications(self) -> int:
        return self.policies[self.baseline].replications

    def __repr__(self) -> str:
        return (f"Comparison({self.scenario!r}, policies={self.labels}, "
                f"replications={self.replications}, baseline={self.baseline!r})")

    def difference(self, label: str, key: str) -> Estimate | None:
        """`label` minus the baseline for one metric (paired), None for the baseline itself."""
        return self.differences.get(label, {}).get(key)

    def rows(self) -> list[dict[str, Any]]:
        """One row per (policy, metric), with the paired difference to the baseline."""
        rows = []
        for label, result in self.policies.items():
            for key, value in result.metrics.items():
                diff = self.difference(label, key)
                diffs = {f"diff_{name}": number for name, number in _interval(diff).items()}
                rows.append({**_row(label, key, value), "baseline": self.baseline, **diffs})
        return rows

    def day_rows(self) -> list[dict[str, Any]]:
        return [row for result in self.policies.values() for row in result.day_rows()]

    def to_dict(self, runs: bool = False) -> dict[str, Any]:
        """JSON-ready: settings, every policy's estimates and the paired differences."""
        return {
            "scenario": self.scenario, "horizon_days": self.horizon_days,
            "warmup_days": self.warmup_days, "seed": self.seed,
            "replications": self.replications, "confidence": self.confidence,
            "baseline": self.baseline, "currency": self.currency,
            "settings": _finite_or_text(self.settings),
            "metrics": {m.key: {"label": m.label, "unit": m.unit} for m in METRICS},
            "policies": {label: result.to_dict(runs) for label, result in self.policies.items()},
            "differences": {label: {key: estimate_dict(value) for key, value in diffs.items()}
                            for label, diffs in self.differences.items()},
        }

    def setting_rows(self) -> list[tuple[str, Any]]:
        """Every scenario parameter used, as (dotted key, value), in the file's order."""
        return flatten(self.settings)

    def to_dataframe(self) -> Any:
        """Long format: one row per (policy, metric) with the difference to the baseline."""
        return dataframe(self.rows())

    def days_dataframe(self) -> Any:
        """The per-day series: one row per (policy, day, series)."""
        return dataframe(self.day_rows())


def flatten(tree: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested settings as dotted keys (`fleet.shifts[0].hours`); lists of numbers stay whole."""
    if isinstance(tree, dict):
        return [row for key, value in tree.items()
                for row in flatten(value, f"{prefix}.{key}" if prefix else key)]
    if isinstance(tree, list) and any(isinstance(item, dict) for item in tree):
        return [row for index, item in enumerate(tree) for row in flatten(item, f"{prefix}[{index}]")]
    return [(prefix, tree)]


def _finite_or_text(tree: Any) -> Any:
    """Scenario settings for JSON: an infinite patience or radius stays readable as "inf"."""
    if isinstance(tree, dict):
        return {key: _finite_or_text(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_finite_or_text(value) for value in tree]
    if isinstance(tree, float) and not math.isfinite(tree):
        return str(tree)
    return tree


def _interval(value: Estimate | None) -> dict[str, float | int | None]:
    if value is None:
        return {"mean": None, "low": None, "high": None, "n": None}
    return {"mean": plain(value.mean), "low": plain(value.low), "high": plain(value.high),
            "n": value.n}


def _row(label: str, key: str, value: Estimate) -> dict[str, Any]:
    metric = METRIC_BY_KEY[key]
    return {"policy": label, "metric": key, "description": metric.label, "unit": metric.unit,
            **_interval(value)}


def dataframe(rows: list[dict[str, Any]]) -> Any:
    """A pandas DataFrame of plain rows; a clear message when pandas is missing."""
    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        raise ImportError("to_dataframe() needs pandas, which is not installed: "
                          "pip install pandas (or use to_dict())") from None
    return pandas.DataFrame(rows)
