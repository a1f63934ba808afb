"""The --out files: data consistent with the results, a report that shows who pays, real PNGs."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import matplotlib.image
import pytest
import typer
from typer.testing import CliRunner

from simulator.api import compare
from simulator.cli import simulate
from simulator.overrides import with_overrides
from simulator.plots import PLOTS
from simulator.population import SEGMENTS
from simulator.report import report_blocks, write_report
from simulator.results import Comparison
from simulator.runner import PolicySpec
from simulator.scenario import load_scenario
from simulator.tables import TextTable


@cache
def town() -> Comparison:
    return compare("small-town", ["fifo", "retention", "reserve"], replications=3, days=2)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report")
    write_report(town(), directory)
    return directory


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def test_every_file_is_written(out: Path) -> None:
    """JSON, both CSVs, Markdown, HTML and one PNG per plot, none empty."""
    names = {"results.json", "results.csv", "days.csv", "report.md", "report.html", *PLOTS}
    assert names <= {path.name for path in out.iterdir()}
    for name in names:
        assert (out / name).stat().st_size > 0, name


def test_plots_are_real_images(out: Path) -> None:
    """Each PNG decodes to a picture of a sensible size."""
    for name in PLOTS:
        pixels = matplotlib.image.imread(out / name)
        height, width = pixels.shape[:2]
        assert width >= 800 and height >= 400, name


def test_csv_rows_are_the_results_and_agree_with_the_json(out: Path) -> None:
    """results.csv holds one row per (policy, metric) with the same numbers as results.json."""
    body = json.loads((out / "results.json").read_text())
    with (out / "results.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(town().rows())
    for row in rows:
        stored = body["policies"][row["policy"]]["metrics"][row["metric"]]
        for field in ("mean", "low", "high"):
            expected = stored[field]
            found = _number(row[field])
            assert (found is None) == (expected is None)
            if found is not None:
                assert found == pytest.approx(expected, rel=1e-12)
        if row["policy"] != "fifo":
            diff = body["differences"][row["policy"]][row["metric"]]["mean"]
            found = _number(row["diff_mean"])
            assert found == pytest.approx(diff) if diff is not None else found is None


def test_json_keeps_every_replication(out: Path) -> None:
    """results.json carries each run, so any figure can be recomputed from the draws."""
    body = json.loads((out / "results.json").read_text())
    runs = body["policies"]["retention"]["runs"]
    assert len(runs) == 3
    mean = sum(run["lost"]["share"] for run in runs) / 3
    assert body["policies"]["retention"]["metrics"]["lost.share"]["mean"] == pytest.approx(mean)


def test_days_csv_agrees_with_the_per_day_series(out: Path) -> None:
    """days.csv has, per policy and day, the mean of each daily series."""
    with (out / "days.csv").open(newline="") as file:
        rows = [r for r in csv.DictReader(file) if r["series"] == "lost_customers"]
    assert len(rows) == 3 * 2
    for row in rows:
        day = town().policies[row["policy"]].days["lost_customers"][int(row["day"])]
        assert float(row["mean"]) == pytest.approx(day.mean)


def test_the_report_puts_who_pays_right_after_the_headline(out: Path) -> None:
    """Both documents show who pays, per segment and policy, before the lost-customer detail."""
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert text.index("Headline") < text.index("Who pays") < text.index("Lost customers by")
        assert "retention vs fifo: gain:" in text and "reserve vs fifo: gain:" in text
        for segment in SEGMENTS:
            assert segment in text
        for plot in PLOTS:
            assert plot in text


def test_report_html_is_escaped_and_self_contained(out: Path) -> None:
    """HTML tables and images, no raw Markdown left over, images referenced relatively."""
    text = (out / "report.html").read_text()
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert text.count("<table>") == sum(isinstance(b, TextTable) for b in report_blocks(town()))
    assert '<img src="who_pays.png"' in text
    assert "|---" not in text and "`" not in text


def test_cli_out_writes_the_report(tmp_path: Path) -> None:
    """`keepcab simulate ... --out DIR` writes the files and still prints the tables."""
    app = typer.Typer()
    app.command()(simulate)
    result = CliRunner().invoke(app, ["small-town", "--policies", "fifo,reserve", "-r", "2",
                                      "--days", "1", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    body = json.loads((tmp_path / "run" / "results.json").read_text())
    assert body["replications"] == 2 and body["policies"]["reserve"]["replications"] == 2
    assert (tmp_path / "run" / "report.html").exists()
    assert "Lost customers per policy" in result.stdout


def test_every_scenario_parameter_used_is_in_results_json_and_the_report(tmp_path: Path) -> None:
    """A fleet changed to 7 cars, the currency and a policy's own key appear in both files."""
    town = with_overrides(load_scenario("small-town"), {"fleet.cars": 7, "currency": "PLN"})
    comparison = compare(town, ["fifo", PolicySpec("heads", {"heads_blend": 0.5}, "heads-half")],
                         replications=1, days=0.5)
    write_report(comparison, tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert saved["settings"]["fleet"]["cars"] == 7 and saved["currency"] == "PLN"
    assert saved["policies"]["heads-half"]["params"] == {"heads_blend": 0.5}
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "`fleet.cars` = 7" in report and "Money is in PLN" in report
    assert "`fleet.shifts[2].start_h`" in report and "`heads_blend` = 0.5" in report
    assert "Queue by segment and class" in report and "P(wait)" in report
    assert "Fleet view (fifo): where the firm is short of cars" in report
    assert len(saved["policies"]["fifo"]["hours"]["cars_on_duty"]) == 24
