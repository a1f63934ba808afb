"""The operator's commands: a priority overridden, a pre-booking moved, a car chosen by hand.

Each is a base of `Dispatcher` (over `DriverSide`), as the driver side is, so that the
state machine stays in one object (the simulator drives the same commands as the live
server) while each part's code stays in its own module. Each validates before it
mutates, as every handler does.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from dispatch.commands import AssignManually, OverridePriority, RescheduleOrder
from dispatch.decisions import Decision, OrderRescheduled, PriorityOverridden
from dispatch.drivers import DriverSide
from dispatch.errors import DriverBusy, InvalidCommand, InvalidTransition
from dispatch.model import DriverStatus, OrderStatus
from dispatch.state import RELEASE, LiveDriver, LiveOrder

# Enum members bound once: looking one up on its class costs ~120 ns on Python 3.11.
FREE, QUEUED, SCHEDULED = (DriverStatus.FREE, OrderStatus.QUEUED, OrderStatus.SCHEDULED)


class OperatorSide(DriverSide):
    """The operator commands' handlers; the order side is `Dispatcher`'s."""

    if TYPE_CHECKING:  # Dispatcher's own, used here

        def _admit(self, live: LiveOrder, now: float) -> list[Decision]: ...

        def _assign(
            self, live: LiveOrder, driver: LiveDriver, now: float, *, manual: bool, dist_m: float = -1.0
        ) -> list[Decision]: ...

    def _override(self, command: OverridePriority, now: float) -> list[Decision]:
        live = self._order(command.order_id)
        cap = self.config.max_head_start_s
        if not 0 <= command.head_start_s <= cap:
            raise InvalidCommand(f"head_start_s must be within [0, {cap}], got {command.head_start_s}")
        if not command.reason.strip():
            raise InvalidCommand("reason is required for a priority override")
        if live.status not in (QUEUED, SCHEDULED):
            raise InvalidTransition(f"order {command.order_id!r} is {live.status}, not waiting")
        old = live.head_start_s
        live.override_s = live.head_start_s = command.head_start_s
        effective_at = live.order.due_at - command.head_start_s
        if live.status is QUEUED and live.held_for is None:
            effective_at = self._match.waiting.reprioritise(command.order_id, command.head_start_s)
        return [
            PriorityOverridden(command.order_id, old, command.head_start_s, effective_at, command.reason, now)
        ]

    def _reschedule(self, command: RescheduleOrder, now: float) -> list[Decision]:
        """Move a pre-booking before its release; a release time already past releases it now.

        The old release timer goes stale (`_timer_is_live` compares `release_at`); a timer
        that happens to fall at the new time too is harmless, since a released order is
        no longer SCHEDULED when the second one surfaces.
        """
        live = self._order(command.order_id)
        if live.status is not SCHEDULED:
            raise InvalidTransition(f"order {command.order_id!r} is {live.status}, not a waiting pre-booking")
        if not math.isfinite(command.pickup_at):
            raise InvalidCommand(f"pickup_at must be finite, got {command.pickup_at!r}")
        live.order = replace(live.order, pickup_at=command.pickup_at, pickup=command.pickup)
        live.release_at = command.pickup_at - self.config.prebook_lead_s
        moved = OrderRescheduled(live.order, live.release_at, now)
        if live.release_at <= now:
            return [moved, *self._admit(live, now)]
        self._timers.add(live.release_at, RELEASE, command.order_id)
        return [moved]

    def _assign_manually(self, command: AssignManually, now: float) -> list[Decision]:
        live = self._order(command.order_id)
        driver = self._driver(command.driver_id)
        if live.status not in (QUEUED, SCHEDULED):
            raise InvalidTransition(f"order {command.order_id!r} is {live.status}, not waiting")
        if driver.status is not FREE:
            raise DriverBusy(driver.driver_id, driver.status)
        self._leave_queue(live)
        return self._assign(live, driver, now, manual=True)
