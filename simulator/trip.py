"""An order in flight, as the simulator sees it: what the core does not know about it."""

from __future__ import annotations

import math

from dispatch.model import FailureCause, Order, Position
from simulator.kernel import EventHandle
from simulator.metrics import ABANDONED, EXPIRED, REFUSED_BY_POLICY, REFUSED_NO_CAR
from simulator.population import Customer

FAILURE_CAUSE = {ABANDONED: FailureCause.ABANDONED, EXPIRED: FailureCause.NO_CAR,
                 REFUSED_NO_CAR: FailureCause.NO_CAR,
                 REFUSED_BY_POLICY: FailureCause.REJECTED_BY_POLICY}
"""The valuation's failure cause for each simulated failure outcome."""


Request = tuple[Position, Position, float, float]
"""What a call asks for and how it would go (pickup, drop-off, patience, trip length): drawn
at the call, used as it happens."""


class Trip:
    """An order in flight, with the simulation's private knowledge about it."""

    __slots__ = ("abandon", "arrival", "assigned_at", "customer", "driver_id", "duration_s",
                 "first", "order", "patience_s", "picked_up_at", "queued", "retry")

    def __init__(self, order: Order, customer: Customer, patience_s: float, duration_s: float,
                 first: bool, retry: bool) -> None:
        self.order = order
        self.customer = customer
        self.first = first
        self.retry = retry
        self.queued = False
        self.driver_id = ""
        self.assigned_at = math.nan
        self.picked_up_at = math.nan
        self.patience_s = patience_s
        self.duration_s = duration_s
        self.abandon: EventHandle | None = None
        self.arrival: EventHandle | None = None
