"""`keepcab simulate`: compare dispatch policies on a scenario from the command line.

Mounted on the `keepcab` root through the `keepcab.commands` entry point
(the `api` package may not import the simulator). Standard output carries
only results (the summary tables, or with `--json` exactly one JSON object),
so it can be piped; the progress bar and errors go to standard error. A
mistake in the analyst's input (a scenario key, a policy name) exits with
code 2 and one line per problem naming the file and key, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.api import DEFAULT_REPLICATIONS, compare
from simulator.results import Comparison
from simulator.runner import ReplicationResult
from simulator.scenario import ScenarioError, bundled_scenarios, read_scenario_text
from simulator.study_cli import StudyOutput, StudyRequest, run_study
from simulator.tables import TextTable, summary_table, who_pays_matrix

USAGE_ERROR = 2
PIPED_WIDTH = 160

ScenarioArg = Annotated[str | None, typer.Argument(
    help=f"Bundled scenario ({', '.join(bundled_scenarios())}) or a TOML file.",
    show_default=False)]
PoliciesOpt = Annotated[str | None, typer.Option(
    "--policies", "-p", help="Comma-separated: reject,fifo,static_vip,value,retention,reserve. "
    "Default: the scenario's \\[policies] names.")]
ReplicationsOpt = Annotated[int, typer.Option("--replications", "-r", min=1,
                                              help="Replications per policy.")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=0,
                                      help="Worker processes (0: one per core).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    help="Dask scheduler address (tcp://host:8786); needs the `cluster` extra.")]
SeedOpt = Annotated[int | None, typer.Option(help="Root seed (default: the scenario's seed).")]
DaysOpt = Annotated[float | None, typer.Option(help="Measured days (default: the scenario's).")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write results.json, results.csv, report.md, report.html and plots here.")]
BaselineOpt = Annotated[str | None, typer.Option(
    help="Policy to difference against (default: fifo if run, else the first).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")]
ExportLogOpt = Annotated[Path | None, typer.Option(
    "--export-log", help="Also write orders.csv and drivers.csv (the import format) of one "
    "replication of each policy here, for `keepcab calibrate` (docs/calibrate.md).")]
PrintOpt = Annotated[str | None, typer.Option(
    "--print-scenario", metavar="NAME", help="Print a bundled scenario's TOML to copy and edit.")]
FrontierOpt = Annotated[bool, typer.Option(
    "--frontier", help="Run the heads family over a grid (--blends x --caps x --floors) beside "
    "fifo, reject and retention; report the Pareto set against fifo and its KEEPCAB_* settings.")]
BlendsOpt = Annotated[str, typer.Option(help="Frontier blends: 0 ranks by value at risk, 1 by "
                                        "the rise in the chance of leaving.")]
CapsOpt = Annotated[str, typer.Option(help="Frontier head-start caps in seconds.")]
FloorsOpt = Annotated[str, typer.Option(
    help="Frontier first-order floors in seconds; none: the valuation's floor.")]
VaryOpt = Annotated[list[str] | None, typer.Option(
    "--vary", metavar="KEY=V1,V2", help="Sweep a scenario key (repeatable; every combination), "
    "e.g. fleet.cars=220,260,300 or fleet.shifts[1].hours=9,10.")]
TargetOpt = Annotated[float | None, typer.Option(
    "--target-peak-failure", min=0.0, max=1.0,
    help="With --vary: name the cheapest cell whose busiest hour fails less than this share.")]


def simulate(scenario: ScenarioArg = None, policies: PoliciesOpt = None,
             replications: ReplicationsOpt = DEFAULT_REPLICATIONS, jobs: JobsOpt = 1,
             scheduler: SchedulerOpt = None, seed: SeedOpt = None, days: DaysOpt = None,
             out: OutOpt = None, baseline: BaselineOpt = None, json_: JsonOpt = False,
             print_scenario: PrintOpt = None, export_log: ExportLogOpt = None,
             frontier: FrontierOpt = False, blends: BlendsOpt = "0,0.25,0.5,0.75,1",
             caps: CapsOpt = "300,600", floors: FloorsOpt = "none", vary: VaryOpt = None,
             target_peak_failure: TargetOpt = None) -> None:
    """Simulate dispatch policies on a scenario: lost customers, who pays, waits, revenue."""
    errors = Console(stderr=True)
    if print_scenario is not None:
        _print_scenario(print_scenario, errors)
        return
    if scenario is None:
        _fail(errors, ["give a SCENARIO (bundled name or TOML file) or --print-scenario NAME; "
                       f"bundled: {', '.join(bundled_scenarios())}"])
    names = [name.strip() for name in policies.split(",") if name.strip()] if policies else None
    request = StudyRequest(frontier, blends, caps, floors, vary or [], target_peak_failure)
    if request.wanted and export_log is not None:
        _fail(errors, ["--export-log writes the logs of plain policies: run it without "
                       "--frontier or --vary"])
    output: StudyOutput | None = None
    try:
        with _ProgressBar(errors) as progress:
            if request.wanted:
                output = run_study(request, scenario, names, replications=replications, seed=seed,
                                   jobs=jobs, scheduler=scheduler, days=days, progress=progress)
                comparison = output.comparison
            else:
                comparison = compare(scenario, names, replications=replications, seed=seed,
                                     jobs=jobs, scheduler=scheduler, days=days, baseline=baseline,
                                     progress=progress)
    except ScenarioError as error:
        _fail(errors, error.problems)
    except RuntimeError as error:  # a replication that raised, or a missing optional extra
        errors.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    except ValueError as error:
        _fail(errors, [str(error)])
    except KeyboardInterrupt:  # Ctrl-C: the workers are already stopped; no traceback
        errors.print("interrupted", highlight=False)
        raise typer.Exit(130) from None
    _emit(comparison, out, json_, errors, output)
    if export_log is not None:
        _export_log(scenario, list(comparison.policies), export_log, days, seed, errors)


def _export_log(scenario: str, policies: list[str], directory: Path, days: float | None,
                seed: int | None, errors: Console) -> None:
    from simulator.api import prepare_scenario
    from simulator.export_log import EPOCH, export_logs

    written = export_logs(prepare_scenario(scenario, days), policies, directory, seed)
    errors.print(f"wrote {len(written)} log files to {directory}", highlight=False)
    # Rows before the simulated start are the histories seeded at time 0: customers alive then,
    # none of whom could leave earlier, so a window over them misreads the population.
    errors.print(
        f"rows before {EPOCH.date()} are the seeded histories; calibrate with "
        f"--since {EPOCH.date()} (docs/calibrate.md)",
        highlight=False,
    )


def _emit(comparison: Comparison, out: Path | None, as_json: bool, errors: Console,
          output: StudyOutput | None = None) -> None:
    if out is not None:
        from simulator.report import write_report  # matplotlib only when a report is wanted

        written = write_report(comparison, out, output.study if output else None)
        errors.print(f"wrote {', '.join(path.name for path in written)} to {out}", highlight=False)
    if as_json:
        data = comparison.to_dict()
        if output is not None:
            data[output.study.name] = output.study.data
        typer.echo(json.dumps(data, allow_nan=False))
        return
    console = Console()
    if not console.is_terminal:  # piped to a file or a pager: never truncate a column
        console = Console(width=max(console.width, PIPED_WIDTH))
    for line in output.lines if output else []:
        console.print(f"- {line}", highlight=False, markup=False)
    tables = output.tables if output else []
    for table in (*tables, summary_table(comparison, compact=True), who_pays_matrix(comparison)):
        console.print(_rich_table(table))
        console.print(table.note, style="dim", highlight=False)
    if out is None:
        console.print("Waits, causes, segments and plots: add --out DIR for the full report.",
                      style="dim", highlight=False)


def _print_scenario(name: str, errors: Console) -> None:
    if name not in bundled_scenarios():
        _fail(errors, [f"{name}: not a bundled scenario (bundled: "
                       f"{', '.join(bundled_scenarios())})"])
    typer.echo(read_scenario_text(name)[0], nl=False)


def _fail(errors: Console, problems: list[str]) -> NoReturn:
    for problem in problems:
        errors.print(f"[red]error:[/red] {problem}", highlight=False, markup=True)
    raise typer.Exit(USAGE_ERROR)


def _rich_table(table: TextTable) -> Table:
    shown = Table(title=table.title, title_justify="left", header_style="bold")
    for index, header in enumerate(table.headers):
        shown.add_column(header, justify="left" if index == 0 else "right")
    for row in table.rows:
        shown.add_row(*row)
    return shown


class _ProgressBar:
    """A rich bar on standard error, advanced by the runner's progress callback."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(TextColumn("[bold]simulating[/bold] {task.description}"),
                             BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=console, transient=True, disable=not console.is_terminal)
        self._task = self._bar.add_task("", total=None)

    def __enter__(self) -> _ProgressBar:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def __call__(self, done: int, total: int, result: ReplicationResult[object]) -> None:
        task = result.task
        self._bar.update(self._task, completed=done, total=total,
                         description=f"{task.label} #{task.replication + 1}")
