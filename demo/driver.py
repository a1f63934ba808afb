"""The demo's simulated city driving the live server through its public interfaces only.

Callers ring through the phone webhook (`/phone/events`), an operator enters
their orders (`/orders`, with the call id), cars report over the driver routes
(`/drivers/...`), and assignments reach the cars the way they reach every
console: over `/ws/console`. Time runs `speed` times as fast as the wall
clock, on the same epoch as the server's clock, so both agree on "now".
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from demo.city import DemoCustomer, Place, Town
from dispatch.geo import haversine_m
from dispatch.model import Position
from simulator.sampling import duration_sampler

log = logging.getLogger(__name__)
REPORT_EVERY_S = 1.0  # wall-clock seconds between position reports of a moving car
RUSH_GAP_S = 20.0  # simulated seconds between the opening calls
RUSH_SHARE = 0.6  # the opening rush takes this share of the cars: the room is busy, some cars free
OPERATOR_LOOKS_EVERY_S = 20.0  # simulated seconds between the operator's looks at the queue
OPERATOR_SENDS_AFTER_S = 60.0  # a caller waiting this long gets a free car from further away
AIRPORT_PATIENCE_S = 3600.0  # a traveller at the airport waits for the car they ordered


@dataclass(frozen=True, slots=True)
class DemoKeys:
    operator: str  # from the operator login, as the console gets it
    phone: str
    fleet: str  # an admin key: registers cars and reports for them


@dataclass(frozen=True, slots=True)
class DemoPlan:
    speed: float = 10.0
    epoch_s: float = 0.0
    cars: int = 10
    calls_per_hour: float = 24.0  # the mean; the rate rises and falls around it
    wave: float = 0.7  # the peak is (1 + wave) x the mean, the lull (1 - wave) x
    wave_period_s: float = 3600.0  # simulated seconds from one peak to the next
    line: str = "+7 343 200 00 00"  # the firm's number the callers dial
    abandon_before_answer: float = 0.08
    stranger_share: float = 0.2
    withheld_share: float = 0.04


@dataclass(slots=True)
class Car:
    driver_id: str
    position: Position
    order_id: str | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class DemoDriver:
    def __init__(
        self, base_url: str, keys: DemoKeys, town: Town, people: list[DemoCustomer], plan: DemoPlan
    ) -> None:
        self.base_url, self.keys, self.town, self.plan = base_url, keys, town, plan
        self.people = people
        self.rng = town.rng
        scenario = town.scenario
        self._trip_s = duration_sampler(scenario.trips.duration, self.rng)
        self._patience_s = duration_sampler(scenario.patience.wait, self.rng)
        self._speed_mps = scenario.dispatch.speed_kmh / 3.6
        self._detour = scenario.dispatch.detour_factor
        self.cars: dict[str, Car] = {}
        self.http = httpx.AsyncClient(base_url=base_url, timeout=10.0)
        self._calls = 0
        self._background: set[asyncio.Task[None]] = set()
        self.counts = {
            "calls": 0, "orders": 0, "assigned": 0, "operator_assigned": 0, "completed": 0, "gave_up": 0,
        }  # fmt: skip

    # ---- time ------------------------------------------------------------------------

    def now(self) -> float:
        return self.plan.epoch_s + (time.time() - self.plan.epoch_s) * self.plan.speed

    async def sleep(self, sim_s: float) -> None:
        await asyncio.sleep(max(0.0, sim_s) / self.plan.speed)

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # ---- the whole run ---------------------------------------------------------------

    async def run(self, wall_s: float | None = None) -> dict[str, int]:
        """Bring the fleet online, then take calls until `wall_s` wall-clock seconds passed."""
        try:
            await self._fleet_online()
            listener = self._spawn(self._listen())
            callers = self._spawn(self._ring_forever())
            operator = self._spawn(self._operate())
            await asyncio.sleep(math.inf if wall_s is None else wall_s)
            for task in (listener, callers, operator):
                task.cancel()
        finally:
            for task in list(self._background):
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            await self.http.aclose()
        return self.counts

    async def _post(self, path: str, key: str, body: dict[str, Any] | None = None) -> httpx.Response:
        response = await self.http.post(path, json=body, headers={"X-API-Key": key})
        if response.status_code >= 400:
            log.warning("%s -> %s %s", path, response.status_code, response.text[:200])
        return response

    async def _fleet_online(self) -> None:
        for index in range(self.plan.cars):
            driver_id = f"car-{index + 1:02d}"
            place = self.town.place()
            await self._post("/drivers", self.keys.fleet, {"id": driver_id, "name": f"Car {index + 1}"})
            self.cars[driver_id] = Car(driver_id, place.position)
            await self._post(
                f"/drivers/{driver_id}/online",
                self.keys.fleet,
                {"lat": place.position.lat, "lon": place.position.lon},
            )

    # ---- callers ---------------------------------------------------------------------

    def rate_per_hour(self, at_s: float) -> float:
        """Calls per simulated hour at `at_s`: a wave around the mean, so peaks queue and lulls recover."""
        phase = 2 * math.pi * (at_s - self.plan.epoch_s) / self.plan.wave_period_s
        return self.plan.calls_per_hour * (1.0 + self.plan.wave * math.sin(phase))

    async def _ring_forever(self) -> None:
        """Calls as a Poisson process of the waving rate (thinned from its peak); it opens on a short rush."""
        for _ in range(max(1, round(RUSH_SHARE * self.plan.cars))):
            self._spawn(self._one_call())
            await self.sleep(float(self.rng.exponential(RUSH_GAP_S)))
        # Then one call from the airport, beyond every car's pickup radius: it waits in the queue
        # until the operator sends a car, so every demo shows that within its first minutes.
        self._spawn(self._one_call((self.town.phone(), (self.town.airport,)), AIRPORT_PATIENCE_S))
        peak = self.plan.calls_per_hour * (1.0 + self.plan.wave)
        while True:
            await self.sleep(float(self.rng.exponential(3600.0 / peak)))
            if float(self.rng.random()) * peak < self.rate_per_hour(self.now()):
                self._spawn(self._one_call())

    async def _operate(self) -> None:
        """The operator's eye on the queue: a caller waiting long while a car is free elsewhere gets it.

        The dispatcher only gives a car an order within its pickup radius; an
        operator may send one from further away (`POST /orders/{id}/assign`).
        """
        headers = {"X-API-Key": self.keys.operator}
        while True:
            await self.sleep(OPERATOR_LOOKS_EVERY_S)
            queue = await self.http.get("/queue", headers=headers)
            free = await self.http.get("/drivers", params={"status": "free"}, headers=headers)
            if queue.status_code != 200 or free.status_code != 200 or not free.json():
                continue
            for entry in queue.json():
                if self.now() - _epoch(entry["requested_at"]) >= OPERATOR_SENDS_AFTER_S:
                    await self._send_nearest(entry, free.json())
                    break

    async def _send_nearest(self, entry: dict[str, Any], free: list[dict[str, Any]]) -> None:
        pickup = Position(float(entry["pickup_lat"]), float(entry["pickup_lon"]))
        placed = [d for d in free if d.get("lat") is not None and d.get("lon") is not None]
        if not placed:
            return
        nearest = min(placed, key=lambda d: haversine_m(pickup, Position(float(d["lat"]), float(d["lon"]))))
        body = {"driver_id": nearest["id"]}
        sent = await self._post(f"/orders/{entry['order_id']}/assign", self.keys.operator, body)
        if sent.status_code == 200:
            self.counts["operator_assigned"] += 1

    def _caller(self) -> tuple[str | None, tuple[Place, ...]]:
        draw = float(self.rng.random())
        if draw < self.plan.withheld_share:
            return None, (self.town.place(),)
        if draw < self.plan.withheld_share + self.plan.stranger_share:
            return self.town.phone(), (self.town.place(),)
        person = self.people[int(self.rng.integers(len(self.people)))]
        return person.phone, person.places

    async def _one_call(
        self, caller: tuple[str | None, tuple[Place, ...]] | None = None, patience_s: float | None = None
    ) -> None:
        """One call from ringing to an order; a given `patience_s` is a caller who never hangs up
        before answer and waits that long for the car."""
        self._calls += 1
        self.counts["calls"] += 1
        call_id = f"demo-{int(self.plan.epoch_s)}-{self._calls}"
        phone, places = caller or self._caller()
        ringing = await self._call_event("call.ringing", call_id, phone)
        logged_id = str(ringing.json().get("call_id", call_id)) if ringing.status_code == 200 else None
        if patience_s is None and float(self.rng.random()) < self.plan.abandon_before_answer:
            await self.sleep(float(self.rng.uniform(20.0, 60.0)))
            await self._call_event("call.abandoned", call_id, phone)
            return
        await self.sleep(float(self.rng.uniform(20.0, 60.0)))  # rings until an operator is free
        await self._call_event("call.answered", call_id, phone)
        await self.sleep(float(self.rng.uniform(15.0, 35.0)))  # the operator types the order
        place = places[0] if float(self.rng.random()) < 0.7 else places[-1]
        order = {
            "pickup_lat": place.position.lat,
            "pickup_lon": place.position.lon,
            "pickup_address": place.text,
        }
        if logged_id is not None:
            order["call_id"] = logged_id  # the call log's id, as the ringing card carries it
        if phone is not None:
            order["phone"] = phone
        response = await self._post("/orders", self.keys.operator, order)
        await self._call_event("call.ended", call_id, phone)
        if response.status_code == 201:
            self.counts["orders"] += 1
            self._spawn(self._patience(str(response.json()["id"]), patience_s))

    async def _call_event(self, kind: str, call_id: str, phone: str | None) -> httpx.Response:
        at = datetime.fromtimestamp(self.now(), UTC).isoformat()  # the webhook takes no numbers as times
        body: dict[str, Any] = {"event": kind, "call_id": call_id, "at": at, "to": self.plan.line}
        if phone is not None:
            body["from"] = phone
        if kind == "call.answered":
            body["operator_extension"] = "101"
        return await self._post("/phone/events", self.keys.phone, body)

    async def _patience(self, order_id: str, patience_s: float | None = None) -> None:
        """A caller still waiting when their patience runs out gives up."""
        await self.sleep(self._patience_s() if patience_s is None else patience_s)
        response = await self.http.get(f"/orders/{order_id}", headers={"X-API-Key": self.keys.operator})
        if response.status_code == 200 and response.json()["status"] == "queued":
            body = {"cause": "abandoned", "reason": "the caller gave up waiting"}
            gave_up = await self._post(f"/orders/{order_id}/cancel", self.keys.operator, body)
            if gave_up.status_code == 200:
                self.counts["gave_up"] += 1

    # ---- cars ------------------------------------------------------------------------

    async def _listen(self) -> None:
        """Assignments and cancellations, as every console hears them."""
        url = self.base_url.replace("http", "ws", 1) + "/ws/console"
        last_seq: int | None = None
        stream: str | None = None
        while True:
            try:
                async with connect(url, max_size=None) as socket:
                    hello = {
                        "type": "hello",
                        "key": self.keys.operator,
                        "last_seq": last_seq,
                        "stream": stream,
                    }
                    await socket.send(json.dumps(hello))
                    async for raw in socket:
                        parsed = json.loads(raw)
                        for message in parsed if isinstance(parsed, list) else [parsed]:
                            if message["type"] == "welcome":
                                stream = message["stream"]
                            if message["type"] in ("snapshot", "event"):
                                last_seq = message["seq"]
                            if message["type"] == "event":
                                self._on_event(message["kind"], message["data"])
                            elif message["type"] == "heartbeat" and last_seq is not None:
                                await socket.send(json.dumps({"type": "ack", "seq": last_seq}))
            except (OSError, WebSocketException):
                await asyncio.sleep(0.5)

    def _on_event(self, kind: str, data: dict[str, Any]) -> None:
        order_id = data.get("order_id")
        if kind == "order.assigned":
            car = self.cars.get(str(data.get("driver_id")))
            if car is not None and car.order_id != order_id:
                if car.task is not None and car.order_id is None:
                    car.task.cancel()  # it was on its way back to the rank
                pickup = Position(float(data["pickup_lat"]), float(data["pickup_lon"]))
                self.counts["assigned"] += 1
                car.order_id = order_id
                car.task = self._spawn(self._trip(car, pickup))
        elif kind == "order.cancelled":
            for car in self.cars.values():
                if car.order_id == order_id and car.task is not None:
                    car.task.cancel()
                    car.order_id = None

    async def _drive(self, car: Car, to: Position, at_least_s: float = 0.0) -> None:
        """Move in a straight line, at the dispatcher's speed or slower, reporting on the way."""
        start, started = car.position, self.now()
        duration_s = max(at_least_s, haversine_m(start, to) * self._detour / self._speed_mps)
        while True:
            share = 1.0 if duration_s <= 0 else min(1.0, (self.now() - started) / duration_s)
            car.position = Position(
                start.lat + (to.lat - start.lat) * share, start.lon + (to.lon - start.lon) * share
            )
            body = {"lat": car.position.lat, "lon": car.position.lon}
            await self._post(f"/drivers/{car.driver_id}/position", self.keys.fleet, body)
            if share >= 1.0:
                return
            await asyncio.sleep(REPORT_EVERY_S)

    async def _trip(self, car: Car, pickup: Position) -> None:
        await self._drive(car, pickup)
        await self._post(f"/drivers/{car.driver_id}/arrived", self.keys.fleet)
        trip_s = self._trip_s()
        await self._drive(car, self.town.place().position, at_least_s=trip_s)
        car.order_id = None
        fare = self.town.scenario.trips.fare_base + self.town.scenario.trips.fare_per_min * trip_s / 60.0
        body = {"lat": car.position.lat, "lon": car.position.lon, "fare": round(fare, 2)}
        self.counts["completed"] += 1
        await self._post(f"/drivers/{car.driver_id}/trip-completed", self.keys.fleet, body)
        if car.order_id is None:  # free: back to the rank, unless an order comes on the way
            car.task = self._spawn(self._drive(car, self.town.rank))


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
