"""Bad and thin sources: clear errors where nothing can be estimated, flagged defaults elsewhere."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dispatch.config import DispatchConfig, matching_fields
from simulator.calibration.cli import calibrate
from simulator.calibration.toml_out import toml_value
from simulator.scenario import Dispatch, load_scenario

app = typer.Typer()
app.command()(calibrate)
runner = CliRunner()
HEADER = "phone,requested_at,outcome,fare,pickup_lat,pickup_lon\n"


def _week_without_failures(path: Path) -> Path:
    rows = [
        f"+7912{i % 40:07d},2026-01-{5 + i % 7:02d}T{8 + i % 12:02d}:{i % 60:02d}:00,completed,"
        f"{5 + i % 9}.50,50.{10 + i % 30:03d},20.{i % 50:03d}"
        for i in range(400)
    ]
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_an_empty_log_is_a_clear_error(tmp_path: Path) -> None:
    """An empty file exits 2 naming the file, as the importer would."""
    empty = tmp_path / "orders.csv"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, [str(empty), "--out", str(tmp_path / "out.toml")])
    assert result.exit_code == 2
    assert f"{empty}:1:file: empty file" in result.output


def test_a_header_only_log_says_nothing_can_be_estimated(tmp_path: Path) -> None:
    """Valid header, no rows: an error, no TOML."""
    path = tmp_path / "orders.csv"
    path.write_text(HEADER, encoding="utf-8")
    result = runner.invoke(app, [str(path), "--out", str(tmp_path / "out.toml")])
    assert result.exit_code == 2 and "nothing can be estimated" in result.output
    assert not (tmp_path / "out.toml").exists()


def test_a_bad_row_is_reported_by_file_line_and_column(tmp_path: Path) -> None:
    """The importer's rules and the extended columns' both give file:line:column: problem."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "phone,requested_at,outcome,fare,pickup_lat,pickup_lon,ended_at\n"
        "+79120000001,2026-01-05T08:00,completed,5,50.1,20.0,2026-01-05T07:00\n"
        "+79120000002,2026-01-05T09:00,teleported,5,50.1,20.0,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, [str(path), "--out", str(tmp_path / "out.toml")])
    assert result.exit_code == 2
    assert f"{path}:2:ended_at: before requested_at" in result.output
    assert f"{path}:3:outcome:" in result.output


def test_a_week_without_failures_drop_offs_or_driver_data_flags_defaults(tmp_path: Path) -> None:
    """The plain import format over one week: patience, churn, fleet and detour are defaults, flagged."""
    out = tmp_path / "out.toml"
    result = runner.invoke(
        app,
        [
            str(_week_without_failures(tmp_path / "orders.csv")),
            "--out",
            str(out),
            "--report",
            str(tmp_path / "report"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = {line.split(" = ")[0]: line for line in out.read_text().splitlines() if " = " in line}
    for key in ("wait", "cars", "detour_factor", "rise_per_failure_per_week", "retry_probability"):
        assert "not identifiable from this log: default (see docs)" in lines[key], lines[key]
    assert "default" not in lines["hourly_profile"] and "default" not in lines["south"]
    assert (tmp_path / "report" / "report.html").exists()
    assert "most sensitive" in (tmp_path / "report" / "report.md").read_text()


@pytest.mark.slow  # a year of small-town history goes through the export and the valuation fit
def test_simulate_export_log_writes_the_import_format_that_calibrate_reads(tmp_path: Path) -> None:
    """`keepcab simulate --export-log` writes orders.csv and drivers.csv per policy; calibrate takes them."""
    from simulator.cli import simulate

    sim = typer.Typer()
    sim.command()(simulate)
    logs = tmp_path / "logs"
    result = runner.invoke(
        sim,
        [
            "small-town",
            "--policies",
            "fifo,reject",
            "--replications",
            "1",
            "--days",
            "1",
            "--export-log",
            str(logs),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "calibrate with --since 2026-01-05" in " ".join(result.output.split())
    header = (logs / "reject" / "orders.csv").read_text().splitlines()[0].split(",")
    assert {"phone", "requested_at", "outcome", "customer_id", "ended_at", "driver_id"} <= set(header)
    assert (logs / "fifo" / "drivers.csv").read_text().startswith("driver_id,online_at,offline_at")
    out = tmp_path / "town.toml"
    done = runner.invoke(
        app,
        [
            str(logs / "fifo" / "orders.csv"),
            "--drivers",
            str(logs / "fifo" / "drivers.csv"),
            "--since",
            "2026-01-05",
            "--out",
            str(out),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "cars = 9  # 9, drivers seen" in out.read_text()
    # Without --since the window starts in the seeded past, where no population is steady: the
    # fit read 5.6e-07 customers active (95% 0..inf) and wrote `customers = 0`; now it says so.
    unsteady = tmp_path / "unsteady.toml"
    logs_fifo = [str(logs / "fifo" / "orders.csv"), "--drivers", str(logs / "fifo" / "drivers.csv")]
    assert runner.invoke(app, [*logs_fifo, "--out", str(unsteady)]).exit_code == 0
    customers = next(line for line in unsteady.read_text().splitlines() if line.startswith("customers = "))
    assert "not identifiable from this log" in customers and "--since" in customers, customers


@pytest.mark.parametrize("value", [6.81457433930864e-08, 3.2e-4, -5e-9, 1.25e-12])
def test_a_small_fitted_value_is_written_as_itself_not_zero(value: float) -> None:
    """A BG/NBD dropout fitted at 6.8e-08 was written `a = 0.0`, which the scenario then refused."""
    written = float(toml_value(value))
    assert written != 0.0 and math.isclose(written, value, rel_tol=1e-5)


def test_larger_values_keep_six_decimals() -> None:
    assert toml_value(49.9931234567) == "49.993123" and toml_value(0.0) == "0.0"


@pytest.mark.parametrize(
    "config",
    [
        DispatchConfig(),
        DispatchConfig(pickup_radius_m=3000.0, speed_mps=9.0, max_wait_s=None, max_head_start_s=600.0),
        DispatchConfig(cell_m=500.0, detour_factor=1.5, **matching_fields("batch", 4.0)),
        DispatchConfig(**matching_fields("zone")),
    ],
)
def test_a_live_dispatch_config_becomes_a_scenario_section_that_builds_it_again(
    config: DispatchConfig,
) -> None:
    again = Dispatch.from_config(config).config()
    assert again.speed_mps == pytest.approx(config.speed_mps)  # through km/h and back
    same_speed = dataclasses.replace(again, speed_mps=config.speed_mps, prebook_lead_s=config.prebook_lead_s)
    assert same_speed == config


def test_the_firms_dispatch_settings_become_the_scenarios_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log holds no pickup radius: it comes from KEEPCAB_* as the live server reads it, named in
    its comment; a rule not set where calibrate ran is the flagged default."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("KEEPCAB_PICKUP_RADIUS_M", "3000")
    monkeypatch.setenv("KEEPCAB_MAX_WAIT_S", "900")
    out = tmp_path / "out.toml"
    orders = _week_without_failures(tmp_path / "orders.csv")
    assert runner.invoke(app, [str(orders), "--out", str(out)]).exit_code == 0
    lines = {line.split(" = ")[0]: line for line in out.read_text().splitlines() if " = " in line}
    assert lines["pickup_radius_m"].startswith("pickup_radius_m = 3000.0  #")
    assert "KEEPCAB_PICKUP_RADIUS_M" in lines["pickup_radius_m"] and "default" not in lines["pickup_radius_m"]
    assert lines["max_wait_min"].startswith("max_wait_min = 15.0")
    cap = lines["max_head_start_s"]
    assert "not identifiable" in cap and "KEEPCAB_MAX_HEAD_START_S" in cap
    rules = load_scenario(out).dispatch.config()
    assert (rules.pickup_radius_m, rules.max_wait_s) == (3000.0, 900.0)


def test_a_bad_firm_setting_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEPCAB_PICKUP_RADIUS_M", "-5")
    orders = _week_without_failures(tmp_path / "o.csv")
    result = runner.invoke(app, [str(orders), "--out", str(tmp_path / "x.toml")])
    assert result.exit_code == 2 and "pickup_radius_m" in result.output
    assert not (tmp_path / "x.toml").exists()
