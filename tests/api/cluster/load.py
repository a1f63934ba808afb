"""A dispatch room's traffic against several replicas: orders, cancels, driver reports, with retries.

Clients behave as the docs ask: an order carries an `Idempotency-Key` and is
retried (on another replica) until it gets a 201/200, a 503 is retried after
its Retry-After, and a retried cancel or driver report may find its first
attempt already applied (409). A 500 or a 503 without Retry-After fails.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.console.hub import console_kind

CENTRE = (50.06, 19.94)


@dataclass
class Load:
    key: str
    urls: Callable[[], list[str]]
    accepted: dict[str, str] = field(default_factory=dict)  # idempotency key -> order id
    latencies_s: list[float] = field(default_factory=list)
    unavailable: int = 0  # 503s seen, each with Retry-After
    retried: int = 0
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def _url(self) -> str:
        choices = self.urls()
        return choices[next(self._turn) % len(choices)]

    async def send(
        self,
        client: httpx.AsyncClient,
        path: str,
        body: dict[str, Any] | None,
        idempotency: str | None = None,
    ) -> httpx.Response | None:
        """POST until answered; None when a retry found its first attempt applied (409)."""
        headers = {"X-API-Key": self.key, **({"Idempotency-Key": idempotency} if idempotency else {})}
        attempts = 0
        while True:
            attempts += 1
            try:
                response = await client.post(self._url() + path, json=body, headers=headers)
            except httpx.TransportError:
                self.retried += 1
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 503:
                assert "Retry-After" in response.headers, response.text
                self.unavailable += 1
                await asyncio.sleep(0.1)
                continue
            assert response.status_code < 500, response.text
            if response.status_code == 409 and attempts > 1:
                return None
            return response

    async def order(self, client: httpx.AsyncClient, n: int) -> str:
        key = f"order-{n}"
        body = {"pickup_lat": CENTRE[0] + (n % 7) * 0.001, "pickup_lon": CENTRE[1], "allow_duplicate": True}
        started = time.perf_counter()
        response = await self.send(client, "/orders", body, key)
        assert response is not None and response.status_code in (200, 201), response and response.text
        self.latencies_s.append(time.perf_counter() - started)
        self.accepted[key] = order_id = str(response.json()["id"])
        return order_id

    async def drivers_online(self, client: httpx.AsyncClient, count: int) -> list[str]:
        ids = [f"car-{i}" for i in range(count)]
        for driver_id in ids:
            await self.send(client, "/drivers", {"id": driver_id})
            response = await self.send(
                client, f"/drivers/{driver_id}/online", {"lat": CENTRE[0], "lon": CENTRE[1]}
            )
            assert response is not None and response.status_code == 200, response and response.text
        return ids

    async def finish_trips(self, client: httpx.AsyncClient, driver_ids: list[str]) -> None:
        """Drivers on a job arrive and complete it, which frees them for the queue."""
        for driver_id in driver_ids:
            try:
                response = await client.get(
                    self._url() + f"/drivers/{driver_id}", headers={"X-API-Key": self.key}
                )
            except httpx.TransportError:
                continue
            if response.status_code != 200 or response.json()["status"] != "assigned":
                continue
            await self.send(client, f"/drivers/{driver_id}/arrived", None)
            await self.send(
                client, f"/drivers/{driver_id}/trip-completed", {"lat": CENTRE[0], "lon": CENTRE[1]}
            )

    async def run(
        self, client: httpx.AsyncClient, drivers: list[str], stop: asyncio.Event, start: int
    ) -> None:
        """One operator's stream: an order, every third one cancelled, trips finished in between."""
        for n in itertools.count(start, 1000):
            if stop.is_set():
                return
            order_id = await self.order(client, n)
            if n % 3 == 0:
                await self.send(
                    client, f"/orders/{order_id}/cancel", {"cause": "customer", "reason": "changed plans"}
                )
            if n % 2 == 0:
                await self.finish_trips(client, drivers)


def console_ids(entries: list[tuple[str, dict[str, str]]]) -> list[int]:
    """The numbers of the events on the stream that consoles show."""
    import json

    return [int(fields["n"]) for _, fields in entries if console_kind(json.loads(fields["e"])["k"])]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0
