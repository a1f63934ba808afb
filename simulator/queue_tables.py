"""Tables of the queue itself: who waits, how long, who gives up, and when in the day.

The call-centre figures (P(wait), mean queue wait, abandonment) per segment and
VIP class show what priority does to each group's queue, which the headline
averages hide; the fleet view shows, hour by hour, failures and the queue next
to the cars on duty, so a dispatch manager sees where the firm is short of cars.
"""

from __future__ import annotations

from simulator.metrics import CLASSES
from simulator.population import SEGMENTS
from simulator.results import Comparison
from simulator.tables import TextTable, interval


def queue_table(comparison: Comparison) -> TextTable:
    """P(wait), mean queue wait and abandonment per segment and class, for every policy."""
    headers = ["policy", "group", "P(wait)", "mean queue wait", "abandoned",
               f"Δ abandoned vs {comparison.baseline}"]
    rows = []
    for label, result in comparison.policies.items():
        for group in ("", *SEGMENTS, *CLASSES):
            key = f"orders.{group}." if group else "orders."
            diff = comparison.difference(label, f"{key}abandonment")
            rows.append([label, group or "all",
                         interval(result.metrics[f"{key}p_wait"], "share"),
                         interval(result.metrics[f"{key}mean_queue_wait_s"], "s"),
                         interval(result.metrics[f"{key}abandonment"], "share"),
                         interval(diff, "share", signed=True)])
    return TextTable("Queue by segment and class: who waits, how long, who gives up", headers, rows,
                     "P(wait): orders that had to queue. Mean queue wait: over all orders, until "
                     "a car was assigned or the order failed. Classes: vip = the firm's static "
                     "VIP list, other = everyone else.")


def fleet_view_table(comparison: Comparison) -> TextTable:
    """Hour by hour: cars on duty, orders, and the baseline's failures and queue."""
    hours = comparison.policies[comparison.baseline].hours
    if not hours.get("placed"):
        return TextTable("Fleet view", ["hour"], [], "no hourly data in these results")
    rows = [[f"{hour:02d}:00", f"{hours['cars_on_duty'][hour].mean:.0f}",
             f"{hours['placed'][hour].mean:.1f}", interval(hours["failed"][hour], "count"),
             f"{hours['failed'][hour].mean / max(hours['placed'][hour].mean, 1e-9):.1%}",
             interval(hours["queue_length"][hour], "count")]
            for hour in range(24)]
    return TextTable(f"Fleet view ({comparison.baseline}): where the firm is short of cars",
                     ["hour", "cars on duty", "orders / day", "failed / day", "failed share",
                      "orders waiting (mean)"], rows,
                     "Per measured day, by the hour the order was placed; the queue is the "
                     "time-averaged number of orders waiting for a car in that hour.")
