"""The writer watchdog: a command that holds the single writer too long makes /readyz 503 and is
named in the log (a real server; the slow command is a dispatcher query the test holds)."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from api.live.commands import Apply, OrderIntake, SubmitOrder
from api.live.watchdog import WriterWatch, describe
from dispatch import commands as c
from dispatch.engine import Dispatcher
from dispatch.model import Position
from tests.api.console.server import CENTRE, Server, serve


async def _ready(server: Server) -> tuple[int, dict[str, str]]:
    reply = await server.client.get("/readyz")
    return reply.status_code, reply.json()["checks"]


async def _until(server: Server, status: int) -> dict[str, str]:
    for _ in range(200):  # up to 10 s on a loaded machine
        code, checks = await _ready(server)
        if code == status:
            return checks
        await asyncio.sleep(0.05)
    raise AssertionError(f"/readyz never answered {status}: {checks}")


async def test_a_command_holding_the_writer_makes_readyz_503_and_is_named_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While one command holds the writer past writer_stall_s, /readyz is 503 naming it, an order
    behind it waits, and the log names it once; once it lets go, the order is created and ready."""
    caplog.set_level(logging.WARNING, logger="api.live.watchdog")
    release = threading.Event()

    def a_very_slow_report(dispatcher: Dispatcher) -> int:
        release.wait(30)
        return dispatcher.queue_length

    async for server in serve(f"sqlite:///{tmp_path / 'keepcab.db'}", writer_stall_s=0.3):
        assert (await _ready(server))[0] == 200
        slow = asyncio.create_task(server.app.state.service.read(a_very_slow_report))
        order = {"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1]}
        behind = asyncio.create_task(server.post("/orders", order))
        try:
            checks = await _until(server, 503)
            assert "a_very_slow_report" in checks["writer"] and checks["store"] == "ok"
            await asyncio.sleep(0.5)  # the watchdog looks several more times: still one line
            assert not behind.done()
        finally:
            release.set()
        assert await slow == 0
        assert (await behind).status_code == 201
        assert (await _until(server, 200))["writer"] == "ok"
    stalled = [r.getMessage() for r in caplog.records if "stalled" in r.getMessage()]
    assert len(stalled) == 1 and "read" in stalled[0] and "a_very_slow_report" in stalled[0]
    assert any("free again" in r.getMessage() for r in caplog.records)


def test_a_short_command_is_never_a_stall() -> None:
    """Under the limit nothing is reported; over it, the name and how long (a hand-moved clock)."""
    now = [0.0]
    watch = WriterWatch(5.0, clock=lambda: now[0])
    assert watch.stalled() is None
    with watch.holding("TickIfDue"):
        now[0] = 4.9
        assert watch.stalled() is None
        now[0] = 5.5
        stall = watch.stalled()
        assert stall is not None and (stall.command, stall.held_s) == ("TickIfDue", 5.5)
    assert watch.stalled() is None


def test_command_names_carry_ids_and_actors_but_no_personal_data() -> None:
    """An order's phone, name and address never reach the log line that names it."""
    intake = OrderIntake(Position(*CENTRE), "Floriańska 3", phone="+79123456789", customer_name="Ivan")
    submitted = describe(SubmitOrder(intake, "operator:olga"))
    assert submitted == "SubmitOrder by operator:olga"
    moved = describe(Apply(c.DriverMoved("d1", Position(*CENTRE)), "driver:d1"))
    assert moved == "DriverMoved(driver_id='d1') by driver:d1"


def test_a_command_relayed_to_the_leader_is_named_by_what_it_carries() -> None:
    """In scale-out every command reaches the leader's writer wrapped (`Once`): the stall log
    must still say which command held the writer, not the wrapper's name."""
    from api.cluster.leader import Once

    relayed = Once("r1-42", Apply(c.DriverMoved("d1", Position(*CENTRE)), "driver:d1"))
    assert describe(relayed) == "DriverMoved(driver_id='d1') by driver:d1, relayed as r1-42"
