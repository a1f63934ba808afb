"""Cars moving on the console map.

The dispatcher decides nothing when a busy car reports its position, so no
decision (and no bus event) says it moved. The hub therefore reads the
drivers' positions from the dispatcher once a second and numbers one
`driver.moved` event with those that changed, like any other console event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from api.live.service import DispatcherService, StoreUnavailable
from dispatch.engine import Dispatcher
from dispatch.model import DriverView

from .hub import ConsoleHub
from .state import driver_json

log = logging.getLogger(__name__)
INTERVAL_S = 1.0


def _drivers(dispatcher: Dispatcher) -> list[DriverView]:
    return dispatcher.drivers()


async def watch_positions(
    service: DispatcherService, hub: ConsoleHub, clock: Callable[[], float], interval_s: float = INTERVAL_S
) -> None:
    seen: dict[str, DriverView] = {}
    while True:
        await asyncio.sleep(interval_s)
        try:
            drivers = await service.read(_drivers)
        except StoreUnavailable:
            continue
        except Exception:
            log.exception("reading driver positions failed")
            continue
        moved = [view for view in drivers if seen.get(view.driver_id) != view]
        seen = {view.driver_id: view for view in drivers}
        if moved:
            hub.publish("driver.moved", clock(), {"drivers": [driver_json(view) for view in moved]})
