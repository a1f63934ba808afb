"""`keepcab calibrate --report DIR`: report.md, report.html and the PNG plots behind them.

One section per part of the scenario, each saying how many rows it used, so
an analyst can see both the fit and the evidence it stands on. Aggregates
only: hourly counts, densities on a coarse grid, fitted curves.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from scipy import stats

from simulator.calibration.build import Calibration

Section = tuple[str, list[str], str | None]  # title, paragraphs, plot file


def _save(fig: Figure, directory: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(directory / name, dpi=90)
    plt.close(fig)
    return name


def _demand(c: Calibration, d: Path) -> Section:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    hours = np.arange(24)
    ax.plot(hours, c.profile.weekday, "o-", label="weekday (data)")
    ax.plot(hours, c.profile.weekend, "s-", label="weekend (data)")
    mean = np.nanmean(np.concatenate([c.profile.weekday, c.profile.weekend]))
    ax.plot(hours, c.profile.overall * mean, "k--", label="fitted profile")
    ax.set(xlabel="local hour", ylabel="calls per hour", title="Demand by hour")
    ax.legend()
    pop = c.population
    text = [f"Rows used: {c.profile.rows:,} first calls (retries excluded)."]
    if pop is not None:
        text.append(
            f"Customers active at the start: {pop.customers.comment()}; "
            f"calls per week: {pop.trips_per_week_mean.comment()}; "
            f"new customers per day: {pop.new_customers_per_day.comment()}."
        )
    else:
        text.append("Too few identified customers for the population fit: defaults used.")
    return "Demand by hour and weekday", text, _save(fig, d, "demand.png")


def _space(c: Calibration, d: Path) -> Section:
    fig, ax = plt.subplots(figsize=(5, 4.5))
    xy = c.space.points
    ax.hexbin(xy[:, 0] / 1000, xy[:, 1] / 1000, gridsize=30, mincnt=5, cmap="Blues")
    zones = c.space.zones.value
    for zone in zones:
        centre = c.space.to_metres(zone["lat"], zone["lon"]) / 1000
        ax.add_patch(Circle((centre[0], centre[1]), zone["radius_m"] / 1000, fill=False, color="red"))
    ax.set(xlabel="km east", ylabel="km north", title="Pickup density (cells of >= 5) and zones")
    ax.set_aspect("equal")
    text = [
        f"Rows used: {c.log.n:,} pickups. {len(zones)} zones ({c.space.zones.source}).",
        f"Detour factor: {c.space.detour_factor.comment()}.",
    ]
    return "Pickup density and zones", text, _save(fig, d, "zones.png")


def _patience(c: Calibration, d: Path) -> Section:
    p = c.patience
    text = [
        "**Patience is the estimate the whole study is most sensitive to**: who gives up "
        "decides who fails and so who is lost. Check it first.",
        f"Rows used: {len(p.observed_min):,} abandoned (observed) and {len(p.censored_min):,} "
        "served or dropped waits (right-censored).",
    ]
    if p.km is None:
        return "Patience", [*text, p.mean_min.source], None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    grid = np.linspace(0, np.quantile(np.concatenate([p.observed_min, p.censored_min]), 0.99), 200)
    ax.step(p.km.sf.quantiles, p.km.sf.probabilities, where="post", label="Kaplan-Meier")
    mean = float(p.mean_min.value)
    if p.kind.value == "lognormal":
        sigma = float(p.sigma.value)
        fitted = stats.lognorm.sf(grid, sigma, 0, mean * np.exp(-(sigma**2) / 2))
    else:
        fitted = stats.expon.sf(grid, 0, mean)
    ax.plot(grid, fitted, "k--", label=f"{p.kind.value} fit")
    ax.set(xlabel="minutes waited", ylabel="still waiting", title="Patience")
    ax.legend()
    text.append(f"Fit: {p.kind.value}, mean {p.mean_min.comment()}.")
    return "Patience", text, _save(fig, d, "patience.png")


def _trips(c: Calibration, d: Path) -> Section:
    t = c.trips
    text = [
        f"Rows used: {len(t.duration_min):,} completed trips with pickup and end times.",
        f"Duration mean {t.mean_min.comment()}; fare = {t.fare_base.value:.2f} + "
        f"{t.fare_per_min.value:.3f} per minute.",
    ]
    if len(t.duration_min) == 0:
        return "Trips and fares", text, None
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.hist(t.duration_min, bins=40, density=True, alpha=0.6)
    grid = np.linspace(0.1, float(np.quantile(t.duration_min, 0.99)), 200)
    left.plot(
        grid,
        stats.lognorm.pdf(
            grid, float(t.sigma.value), 0, float(t.mean_min.value) * np.exp(-(float(t.sigma.value) ** 2) / 2)
        ),
        "k--",
    )
    left.set(xlabel="trip minutes", title="Trip duration")
    priced = np.isfinite(t.fare)
    right.hist2d(t.duration_min[priced], t.fare[priced], bins=40, cmin=5, cmap="Blues")
    right.plot(
        grid, float(t.fare_base.value) + float(t.fare_per_min.value) * grid, "k--", label="base + per minute"
    )
    right.set(xlabel="trip minutes", ylabel="fare", title="Fares (cells of >= 5 trips)")
    right.legend()
    return "Trips and fares", text, _save(fig, d, "trips.png")


def _fleet(c: Calibration, d: Path) -> Section:
    f = c.fleet
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(np.arange(24), f.on_duty_by_hour, alpha=0.6, label="cars on duty")
    ax.plot(np.arange(24), f.orders_by_hour, "ro-", label="orders per hour")
    ax.set(xlabel="local hour", title="Cars on duty vs orders (where the firm is short of cars)")
    ax.legend()
    text = [f"Rows used: {f.shifts.source}.", f"Cars: {f.cars.comment()}."]
    return "Fleet", text, _save(fig, d, "fleet.png")


def _churn(c: Calibration, d: Path) -> Section:
    ch = c.churn
    lines = [
        f"Rows used: {ch.rows_used:,} orders whose {ch.window_days:.0f}-day follow-up lies in the log.",
        "| prior trips | after | orders | came back | 95% interval |",
        "|---|---|---|---|---|",
    ]
    for row in ch.table:
        if row.orders:
            lines.append(
                f"| {row.group} | {row.outcome} | {row.orders:,} | {row.rate:.3f} | "
                f"{row.low:.3f}..{row.high:.3f} |"
            )
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for offset, outcome in ((-0.15, "completed"), (0.15, "failed")):
        rows = [r for r in ch.table if r.outcome == outcome]
        x = np.arange(len(rows)) + offset
        rate = np.array([r.rate for r in rows])
        err = np.array([[r.rate - r.low for r in rows], [r.high - r.rate for r in rows]])
        ax.errorbar(x, rate, yerr=np.nan_to_num(err), fmt="o", label=f"after {outcome}")
    ax.set_xticks(range(len(ch.table) // 2), [r.group for r in ch.table[::2]])
    ax.set(ylabel="came back", title="Return rate after success vs failure")
    ax.legend()
    return "Churn evidence", lines, _save(fig, d, "churn.png")


def _headline(c: Calibration) -> list[str]:
    sections = c.sections
    estimated = sum(not e.default for keys in sections.values() for e in keys.values())
    total = sum(len(keys) for keys in sections.values())
    return [
        f"From {c.log.n:,} orders, {c.log.date_range()}: {estimated} of {total} scenario keys "
        "estimated, the rest defaults (flagged in the TOML).",
        f"Patience (the study's most sensitive input): {sections['patience']['wait'].comment()}.",
    ]


def write_report(c: Calibration, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    parts = [
        _demand(c, directory),
        _space(c, directory),
        _patience(c, directory),
        _trips(c, directory),
        _fleet(c, directory),
        _churn(c, directory),
    ]
    md = ["# Calibration report", "", *_headline(c), ""]
    body = ["<h1>Calibration report</h1>", *(f"<p>{html.escape(line)}</p>" for line in _headline(c))]
    for title, text, plot in parts:
        md += [f"## {title}", "", *text, ""] + ([f"![{title}]({plot})", ""] if plot else [])
        body.append(f"<h2>{html.escape(title)}</h2>")
        body += [f"<p>{html.escape(line)}</p>" for line in text]
        if plot:
            body.append(f'<img src="{plot}" alt="{html.escape(title)}">')
    (directory / "report.md").write_text("\n".join(md), encoding="utf-8")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Calibration report</title>"
        "</head><body>" + "\n".join(body) + "</body></html>\n"
    )
    (directory / "report.html").write_text(page, encoding="utf-8")
    return sorted(directory.iterdir())
