"""`keepcab simulate`: tables, --json, --print-scenario and input errors (exit code 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from simulator.cli import simulate
from simulator.scenario import bundled_scenarios, load_scenario, parse_scenario, read_scenario_text

app = typer.Typer()
app.command()(simulate)
runner = CliRunner()
QUICK = ["--policies", "fifo,reserve", "--replications", "2", "--days", "1"]


def test_simulate_prints_the_summary_and_who_pays_tables() -> None:
    """A run ends with exit 0 and both tables on standard output."""
    result = runner.invoke(app, ["small-town", *QUICK])
    assert result.exit_code == 0, result.output
    assert "Lost customers per policy" in result.stdout
    assert "Who pays: change against fifo by segment" in result.stdout
    assert "reserve" in result.stdout and "occasional" in result.stdout


def test_json_prints_exactly_one_json_object() -> None:
    """--json: standard output parses as one object holding every policy and the differences."""
    result = runner.invoke(app, ["small-town", *QUICK, "--json", "--seed", "5"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body["policies"]) == {"fifo", "reserve"}
    assert body["seed"] == 5 and body["replications"] == 2 and body["horizon_days"] == 1
    assert "lost.occasional.share_to_failures" in body["differences"]["reserve"]


@pytest.mark.parametrize("name", bundled_scenarios())
def test_print_scenario_round_trips_through_the_loader(name: str) -> None:
    """The printed TOML is the bundled file and loads back into the same scenario."""
    result = runner.invoke(app, ["--print-scenario", name])
    assert result.exit_code == 0, result.output
    assert result.stdout == read_scenario_text(name)[0]
    assert parse_scenario(result.stdout, f"{name}.toml") == load_scenario(name)


def _bad_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = read_scenario_text("small-town")[0]
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("cars = 9", "cars = 0", "bad.toml: fleet.cars: must be > 0"),
    ("cars = 9", "cras = 15", "bad.toml: fleet.cras: unknown key"),
    ("cars = 9", "cars = = 15", "bad.toml: invalid TOML"),
])
def test_a_bad_scenario_names_file_and_key_and_exits_2(tmp_path: Path, old: str, new: str,
                                                       message: str) -> None:
    """A mistake in the TOML gives `file: key: problem` on stderr, exit code 2, no traceback."""
    result = runner.invoke(app, [str(_bad_copy(tmp_path, old, new)), *QUICK])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


@pytest.mark.parametrize(("args", "message"), [
    (["no-such-town"], "no-such-town: no such scenario file"),
    (["small-town", "--policies", "fifo,vip"], "unknown policy 'vip'"),
    (["small-town", "--policies", "fifo", "--baseline", "reject"], "baseline 'reject'"),
    (["--print-scenario", "atlantis"], "atlantis: not a bundled scenario"),
    ([], "give a SCENARIO"),
])
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    """Unknown scenarios, policies and baselines are usage errors, not crashes."""
    result = runner.invoke(app, [*args, "--replications", "1", "--days", "1"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_keepcab_mounts_simulate_from_the_entry_point() -> None:
    """The installed `keepcab` command has `simulate` (registered under keepcab.commands)."""
    keepcab = shutil.which("keepcab")
    if keepcab is None:
        pytest.skip("keepcab is not installed in this environment (pip install -e .)")
    done = subprocess.run([keepcab, "simulate", "--print-scenario", "small-town"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert parse_scenario(done.stdout) == load_scenario("small-town")


def test_scheduler_runs_on_a_dask_cluster_with_the_same_results() -> None:
    """--scheduler ADDRESS sends the replications to Dask; the results equal a local run."""
    distributed = pytest.importorskip("distributed")
    args = ["small-town", *QUICK, "--json"]
    local = runner.invoke(app, args)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = runner.invoke(app, [*args, "--scheduler", cluster.scheduler_address])
    assert on_dask.exit_code == 0, on_dask.output
    assert json.loads(on_dask.stdout) == json.loads(local.stdout)
