"""What `keepcab simulate --frontier` and `--vary` run and print (the CLI stays one command).

Kept apart from `simulator.cli` so that the command's module only parses and
prints; a study returns its comparison (for the standard tables and files), its
report sections, and the few lines and tables a terminal shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.api import prepare_scenario
from simulator.frontier_report import frontier_study, frontier_table, headline, settings_table
from simulator.report import Study
from simulator.results import Comparison
from simulator.runner import Progress
from simulator.studies import frontier, parse_numbers, sweep
from simulator.sweep import HEADLINE_METRICS
from simulator.sweep_report import metric_table, sweep_study, target_lines
from simulator.tables import TextTable


@dataclass(frozen=True, slots=True)
class StudyRequest:
    frontier: bool = False
    blends: str = "0,0.25,0.5,0.75,1"
    caps: str = "300,600"
    floors: str = "none"
    vary: list[str] = field(default_factory=list)
    target_peak_failure: float | None = None

    @property
    def wanted(self) -> bool:
        return self.frontier or bool(self.vary)


@dataclass(frozen=True, slots=True)
class StudyOutput:
    comparison: Comparison
    study: Study
    lines: list[str]
    tables: list[TextTable]


def run_study(request: StudyRequest, scenario: str, policies: list[str] | None, *,
              replications: int, seed: int | None, jobs: int, scheduler: str | None,
              days: float | None, progress: Progress) -> StudyOutput:
    """Run the frontier or the sweep the options ask for."""
    if request.frontier and request.vary:
        raise ValueError("--frontier and --vary are separate studies: run one at a time")
    if request.frontier:
        front = frontier(scenario, blends=parse_numbers(request.blends, "--blends"),
                         caps=parse_numbers(request.caps, "--caps"),
                         floors=parse_numbers(request.floors, "--floors", allow_none=True),
                         replications=replications, seed=seed, jobs=jobs, scheduler=scheduler,
                         days=days, progress=progress)
        return StudyOutput(front.comparison, frontier_study(front),
                           headline(front) + [f"warning: {w}" for w in front.warnings()],
                           [frontier_table(front), settings_table(front)])
    loaded = prepare_scenario(scenario, days)
    result = sweep(loaded, request.vary, policies, replications=replications, seed=seed,
                   jobs=jobs, scheduler=scheduler, progress=progress)
    target = request.target_peak_failure
    lines = [] if target is None else target_lines(result, loaded, target)
    return StudyOutput(result.comparison, sweep_study(result, loaded, target), lines,
                       [metric_table(result, *metric) for metric in HEADLINE_METRICS[:4]])
