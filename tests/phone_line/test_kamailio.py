"""The phone line end to end: SIPp callers -> Kamailio (docs/kamailio/kamailio.cfg) -> keepcab -> routing.

Calls come from numbers in several formats (national, international,
withheld, invalid); some are answered and hung up after a moment, others
are abandoned while ringing. The test checks keepcab's call log, what the
operators' consoles saw, and where Kamailio sent each call, and it prints
ring-to-card latency: from the INVITE leaving the caller to the ringing
card reaching a console.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from api.db import make_engine, make_session_factory
from api.models import Call, CallOutcome
from tests.api.console.server import CENTRE, Server, next_message, serve
from tests.conftest import require_service
from tests.phone_line.sip import DESTINATIONS, Line, missing_tools, phone_line, read_trace

pytestmark = pytest.mark.slow
REGULAR, AT_RISK, ACTIVE = "+79123456789", "+79123456781", "+79123456782"
# national, international, withheld, invalid, unknown; three rounds, for a latency sample
ANSWERED = ["89123456789", "+79123456781", "+79123456782", "anonymous", "12", "+79120000000"] * 3
HUNG_UP = ["89123456781", "+79123456789", "anonymous", "8912"] * 3
EXPECTED_ROUTE = {"89123456789": "operator", "+79123456789": "operator", "+79123456781": "vip_queue",
                  "89123456781": "vip_queue", "+79123456782": "active_order"}  # fmt: skip
KNOWN = set(EXPECTED_ROUTE)


async def _firm(server: Server) -> None:
    """A regular with a past, a caller the firm just failed, and one whose car is on its way."""
    regular = await server.order(pickup_address="Lenina 5", phone=REGULAR)
    await server.post(f"/orders/{regular}/cancel", {"cause": "customer"})
    failed = await server.order(CENTRE[0] + 0.01, CENTRE[1], pickup_address="Mira 1", phone=AT_RISK)
    await server.post(f"/orders/{failed}/cancel", {"cause": "no_car"})
    await server.order(CENTRE[0] + 0.02, CENTRE[1], pickup_address="Repina 2", phone=ACTIVE)


async def _watch(server: Server, calls: int, deadline_s: float) -> list[tuple[float, dict[str, Any]]]:
    """A console's call events with their receipt time, until every call has rung and ended."""
    console = await server.console()
    await next_message(console)
    await next_message(console)
    seen: list[tuple[float, dict[str, Any]]] = []
    ended: set[str] = set()
    rung: set[str] = set()
    deadline = time.monotonic() + deadline_s
    try:
        while (len(rung) < calls or not rung <= ended) and time.monotonic() < deadline:
            message = await next_message(console, timeout_s=deadline - time.monotonic())
            if message["type"] == "event" and message["kind"].startswith("call."):
                seen.append((time.time(), message))
                call_id = message["data"]["call_id"]
                if message["kind"] == "call.ringing":
                    rung.add(call_id)
                elif message["kind"] in ("call.ended", "call.abandoned"):
                    ended.add(call_id)
    finally:
        await console.close()
    return seen


async def _place_calls(line: Line) -> None:
    runs = [
        await asyncio.create_subprocess_exec(*line.callers("uac_answered.xml", "answered", ANSWERED)),
        await asyncio.create_subprocess_exec(*line.callers("uac_hangs_up.xml", "hung_up", HUNG_UP)),
    ]
    codes = [await asyncio.wait_for(run.wait(), 90) for run in runs]
    assert codes == [0, 0], "a SIPp caller failed: see answered.err / hung_up.err in " + str(line.folder)


def _invites(line: Line, name: str) -> dict[str, float]:
    """Call-ID -> when the caller first sent its INVITE, in the order the calls were placed."""
    sent: dict[str, float] = {}
    for m in read_trace(line.trace(name)):
        if m.sent and m.first_line.startswith("INVITE"):
            sent.setdefault(m.header("Call-ID") or "", m.at)
    return sent


def _routed(line: Line) -> dict[str, tuple[str, str | None]]:
    """Call-ID -> (destination that received the INVITE, its X-Keepcab-Route)."""
    routed = {}
    for name in DESTINATIONS:
        for m in read_trace(line.trace(name)):
            if not m.sent and m.first_line.startswith("INVITE"):
                routed[m.header("Call-ID") or ""] = (name, m.header("X-Keepcab-Route"))
    return routed


async def test_calls_through_kamailio_are_recognised_logged_shown_and_routed(tmp_path: Path) -> None:
    """Thirty calls through a real Kamailio: every one is in the call log with its outcome (those
    hung up while ringing are abandoned), known numbers in any format are recognised, every console
    card appears and leaves, and Kamailio sends each call where keepcab's route_hint says."""
    missing = missing_tools()
    if missing:
        require_service(" and ".join(missing), FileNotFoundError("apt-get install kamailio sip-tester"))
    url = f"sqlite:///{tmp_path / 'keepcab.db'}"
    async for server in serve(url):
        await _firm(server)
        with phone_line(tmp_path) as line:
            line.start_destinations()
            line.start_proxy(server.base_url, server.phone_key)
            await asyncio.sleep(1.0)  # Kamailio binds its socket and forks its workers
            watching = asyncio.create_task(_watch(server, len(ANSWERED) + len(HUNG_UP), 120))
            await asyncio.sleep(0.2)
            await _place_calls(line)
            seen = await watching
        sent = {**_invites(line, "answered"), **_invites(line, "hung_up")}
        answered = dict(zip(_invites(line, "answered"), ANSWERED, strict=True))
        hung_up = dict(zip(_invites(line, "hung_up"), HUNG_UP, strict=True))
        routed = _routed(line)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        log = {call.external_id.split(":", 1)[1]: call for call in session.exec(select(Call))}
    engine.dispose()
    _check_call_log(log, answered, hung_up)
    _check_routing(routed, {**answered, **hung_up})
    _check_cards_and_report_latency(seen, sent, {**answered, **hung_up})


def _check_call_log(log: dict[str, Call], answered: dict[str, str], hung_up: dict[str, str]) -> None:
    """One row per call; hung up while ringing: abandoned; answered: status enquiry for the caller
    whose car is coming, "other" for the rest; known numbers in any format carry their customer."""
    assert set(log) == set(answered) | set(hung_up), "every call placed is in keepcab's call log, once"
    assert {log[c].outcome for c in hung_up} == {CallOutcome.ABANDONED.value}
    assert all(log[c].answered_at is None for c in hung_up)
    assert Counter(log[c].outcome for c in answered) == {
        CallOutcome.OTHER.value: ANSWERED.count("+79123456782") * 5,
        CallOutcome.STATUS_ENQUIRY.value: ANSWERED.count("+79123456782"),
    }
    for call_id, number in {**answered, **hung_up}.items():
        assert (log[call_id].customer_id is not None) == (number in KNOWN), number


def _check_routing(routed: dict[str, tuple[str, str | None]], numbers: dict[str, str]) -> None:
    assert set(routed) == set(numbers), "every INVITE reached one destination"
    for call_id, number in numbers.items():
        expected = EXPECTED_ROUTE.get(number, "operator")
        assert routed[call_id] == (expected, expected), (number, routed[call_id])


def _check_cards_and_report_latency(
    seen: list[tuple[float, dict[str, Any]]], sent: dict[str, float], numbers: dict[str, str]
) -> None:
    cards: dict[str, dict[str, Any]] = {}
    latency_s = []
    for received_at, message in seen:
        call_id = message["data"]["call_id"].split(":", 1)[1]
        if message["kind"] == "call.ringing":
            cards[call_id] = message["data"]
            latency_s.append(received_at - sent[call_id])
            assert message["data"]["known"] == (numbers[call_id] in KNOWN), numbers[call_id]
        elif message["kind"] in ("call.ended", "call.abandoned"):
            cards.pop(call_id, None)
    assert len(latency_s) == len(numbers) and cards == {}, "every card appeared and left"
    figures = {
        "calls_placed": len(numbers),
        "recognised": sum(numbers[c] in KNOWN for c in numbers),
        "routed": len(numbers),
        "ring_to_card_p50_ms": round(statistics.median(latency_s) * 1000, 1),
        "ring_to_card_p99_ms": round(sorted(latency_s)[max(0, round(0.99 * (len(latency_s) - 1)))] * 1000, 1),
    }
    print("phone line through Kamailio: " + json.dumps(figures))
