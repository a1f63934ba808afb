"""The frontier's sections: headline sentences, the Pareto table, settings to copy, who pays.

An analyst reads three sentences (fewest customers lost, least revenue lost, the
goal) and then a table of every point against fifo; a manager copies the
`KEEPCAB_*` line of the point chosen. "No clear difference" is said whenever
a paired interval covers zero, so a saving inside the noise is never sold as one.
"""

from __future__ import annotations

from typing import Any

from simulator.frontier import GOAL_LOST_SLACK, GOAL_SAVING, Frontier, FrontierPoint
from simulator.render import Block, Bullets, Heading, Image, Paragraph
from simulator.report import Study
from simulator.stats import Estimate
from simulator.tables import TextTable, interval, who_pays_lines, who_pays_matrix


def _clear(diff: Estimate | None, fewer: str, more: str) -> str:
    if diff is None:
        return "the baseline"
    if diff.n > 1 and diff.low <= 0 <= diff.high:
        return "no clear difference from fifo"
    return fewer if diff.mean < 0 else more


def describe(point: FrontierPoint, currency: str) -> str:
    """Δ lost customers and Δ lost future revenue against fifo, with intervals and verdicts."""
    if point.d_lost is None:
        return f"`{point.label}` is the baseline"
    lost = _clear(point.d_lost, "clearly fewer customers lost", "clearly more customers lost")
    money = _clear(point.d_revenue, "clearly less future revenue lost",
                   "clearly more future revenue lost")
    return (f"`{point.label}`: Δ lost customers {interval(point.d_lost, 'share', True)} vs fifo "
            f"({lost}); Δ lost future revenue {interval(point.d_revenue, 'money', True)} "
            f"{currency} ({money}; {point.saving:+.0%} of fifo's saved)")


def _who_pays(frontier: Frontier, point: FrontierPoint) -> str:
    lines = who_pays_lines(frontier.comparison, [point.label])
    return lines[0].split(": ", 1)[1] if lines else "it is the baseline."


def headline(frontier: Frontier) -> list[str]:
    """One sentence each: fewest customers lost, least revenue lost, and the goal."""
    currency = frontier.comparison.currency
    few, rich = frontier.fewest_customers, frontier.least_revenue
    lines = [f"Fewest customers lost: {describe(few, currency)}. Who pays: {_who_pays(frontier, few)}",
             f"Least future revenue lost: {describe(rich, currency)}. Who pays: "
             f"{_who_pays(frontier, rich)}"]
    goal = frontier.goal()
    rule = (f"save at least {GOAL_SAVING:.0%} of fifo's lost future revenue while losing no more "
            f"customers (upper end of Δ lost at most +{GOAL_LOST_SLACK * 100:.2f} pts)")
    if goal is not None:
        unsure = goal.d_revenue is not None and goal.d_revenue.n > 1 and goal.d_revenue.high >= 0
        caveat = (" The saving is a mean: its paired interval still covers zero, so it is not "
                  "established at these replications.") if unsure else ""
        lines.append(f"Goal ({rule}): met on the means by {describe(goal, currency)}.{caveat}")
    else:
        best = frontier.best_saving_within_customers()
        found = describe(best, currency) if best else "no point keeps customers within the slack"
        lines.append(f"Goal ({rule}): not met in this model; the best saving within the "
                     f"customer slack is {found}.")
    return lines


def frontier_table(frontier: Frontier) -> TextTable:
    headers = ["point", "", "lost", "Δ lost vs fifo", "lost future revenue",
               "Δ lost future revenue", "saved"]
    rows = []
    for p in sorted(frontier.points, key=lambda p: (not p.pareto, p.lost.mean)):
        mark = "★ Pareto" if p.pareto else ""
        mark = {"fifo": "baseline", "reject": "status quo"}.get(p.label, "") or mark
        rows.append([p.label, mark, interval(p.lost, "share"),
                     interval(p.d_lost, "share", True), interval(p.revenue, "money"),
                     interval(p.d_revenue, "money", True),
                     "" if p.d_revenue is None else f"{p.saving:+.0%}"])
    return TextTable("The frontier: every point against fifo", headers, rows,
                     f"★: no other point loses both fewer customers and less future revenue "
                     f"(means). Δ are paired {frontier.comparison.confidence:.0%} intervals "
                     f"over {frontier.comparison.replications} replications; money in "
                     f"{frontier.comparison.currency}.")


def settings_table(frontier: Frontier) -> TextTable:
    rows = [[p.label, " ".join(f"{k}={v}" for k, v in p.env.items()),
             "; ".join(f"{k} = {_toml(v)}" for k, v in p.keys.items())] for p in frontier.pareto]
    return TextTable("Settings of the Pareto points", ["point", "live server", "scenario keys"],
                     rows, "The live scorer's scale (valuation value_per_s) is fitted from the "
                     "firm's log; the simulation fits it at time 0 by the same rule.")


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value).lower() if isinstance(value, bool) else f"{value:g}"


def frontier_study(frontier: Frontier) -> Study:
    """The frontier's sections, plot and data for `write_report`."""
    from simulator.study_plots import frontier_plot  # matplotlib only when writing

    pareto = [p.label for p in frontier.pareto]
    blocks: list[Block] = [
        Heading("Frontier headline"), Bullets(headline(frontier)),
        *([Paragraph("Warning: " + " ".join(frontier.warnings()))] if frontier.warnings() else []),
        Image("frontier.png", "Lost customers against lost future revenue, Pareto set joined"),
        frontier_table(frontier), settings_table(frontier),
        Heading("Who pays, Pareto point by point"),
        Bullets(who_pays_lines(frontier.comparison, pareto)),
        who_pays_matrix(frontier.comparison, compact=False, labels=pareto),
    ]
    return Study("frontier", blocks, {"frontier.png": lambda out: frontier_plot(frontier, out)},
                 data=frontier.to_dict())
