"""The two-class Erlang A model and its reference simulators, for bench/simulator.py.

M/M/n+M with two classes: high-class callers are served before low-class
ones (no pre-emption), first come first served within a class, and every
caller abandons when their exponential patience runs out before a car comes.
Three independent implementations: a bare heapq loop written for this model
only (the speed ceiling), SimPy (`PriorityResource`, `req | timeout`) and
Ciw (priority classes, reneging distributions). The first two read the same
pre-drawn customers, so they must agree customer by customer.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Model:
    """The erlang-a scenario's numbers, per second."""

    servers: int
    arrival_rate: float
    service_mean_s: float
    patience_mean_s: float
    high_share: float

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Model:
        demand = scenario.demand
        calls_per_s = demand.customers * demand.trips_per_week_mean / (7 * 86_400.0)
        return cls(scenario.fleet.cars, calls_per_s, scenario.trips.duration.mean_min * 60.0,
                   scenario.patience.wait.mean_min * 60.0, demand.vip_share)


@dataclass(frozen=True, slots=True)
class Customers:
    """Pre-drawn customers in arrival order, as Python lists (what a hot loop reads fastest)."""

    arrival_at: list[float]
    high: list[bool]
    patience_s: list[float]
    service_s: list[float]


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Resolved customers in arrival order: class, abandoned or served, waited or not."""

    high: np.ndarray[Any, Any]
    abandoned: np.ndarray[Any, Any]
    waited: np.ndarray[Any, Any]

    @classmethod
    def of(cls, rows: list[tuple[float, bool, bool, bool]]) -> Outcomes:
        rows.sort(key=lambda row: row[0])
        table = np.array([row[1:] for row in rows], dtype=bool).reshape(-1, 3)
        return cls(table[:, 0], table[:, 1], table[:, 2])

    @property
    def model_events(self) -> int:
        served = int((~self.abandoned).sum())
        return len(self.abandoned) + 2 * served + int(self.abandoned.sum())


def draw_customers(model: Model, count: int, seed: int) -> Customers:
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / model.arrival_rate, count)
    return Customers(np.cumsum(gaps).tolist(), (rng.random(count) < model.high_share).tolist(),
                     rng.exponential(model.patience_mean_s, count).tolist(),
                     rng.exponential(model.service_mean_s, count).tolist())


def run_bare(model: Model, c: Customers) -> Outcomes:
    """Arrivals chained one ahead, lazy abandonment (a started customer ignores its timer)."""
    arrival_at, high, patience_s, service_s = c.arrival_at, c.high, c.patience_s, c.service_s
    count = len(arrival_at)
    started, abandoned, waited = [False] * count, [False] * count, [False] * count
    queues: tuple[deque[int], deque[int]] = (deque(), deque())
    heap: list[tuple[float, int, int, int]] = [(arrival_at[0], 0, 0, 0)]
    push, pop, free, seq = heapq.heappush, heapq.heappop, model.servers, 0
    while heap:
        now, _, kind, i = pop(heap)
        if kind == 0:  # arrival
            if i + 1 < count:
                seq += 1
                push(heap, (arrival_at[i + 1], seq, 0, i + 1))
            seq += 1
            if free:
                free -= 1
                started[i] = True
                push(heap, (now + service_s[i], seq, 1, i))
            else:
                waited[i] = True
                queues[0 if high[i] else 1].append(i)
                push(heap, (now + patience_s[i], seq, 2, i))
        elif kind == 1:  # departure: the longest-waiting high customer first, then low
            j = _next_waiting(queues, abandoned)
            if j < 0:
                free += 1
            else:
                started[j] = True
                seq += 1
                push(heap, (now + service_s[j], seq, 1, j))
        elif not started[i]:  # patience ran out while still waiting
            abandoned[i] = True
    return Outcomes(np.array(high), np.array(abandoned), np.array(waited))


def _next_waiting(queues: tuple[deque[int], deque[int]], abandoned: list[bool]) -> int:
    for queue in queues:
        while queue:
            j = queue.popleft()
            if not abandoned[j]:
                return j
    return -1


def run_simpy(model: Model, c: Customers) -> Outcomes:
    import simpy

    env = simpy.Environment()
    cars = simpy.PriorityResource(env, capacity=model.servers)
    count = len(c.arrival_at)
    abandoned, waited = [False] * count, [False] * count

    def customer(i: int) -> Any:
        with cars.request(priority=0 if c.high[i] else 1) as request:
            waited[i] = not request.triggered
            result = yield request | env.timeout(c.patience_s[i])
            if request in result:
                yield env.timeout(c.service_s[i])
            else:
                abandoned[i] = True

    def source() -> Any:
        previous = 0.0
        for i, at in enumerate(c.arrival_at):
            yield env.timeout(at - previous)
            previous = at
            env.process(customer(i))

    env.process(source())
    env.run()
    return Outcomes(np.array(c.high), np.array(abandoned), np.array(waited))


def run_ciw(model: Model, count: int, seed: int) -> Outcomes:
    """Ciw draws its own numbers; it runs for the time `count` arrivals take on average."""
    import ciw

    rates = {"high": model.arrival_rate * model.high_share,
             "low": model.arrival_rate * (1.0 - model.high_share)}
    network = ciw.create_network(
        arrival_distributions={k: [ciw.dists.Exponential(rate)] for k, rate in rates.items()},
        service_distributions={k: [ciw.dists.Exponential(1.0 / model.service_mean_s)]
                               for k in rates},
        reneging_time_distributions={k: [ciw.dists.Exponential(1.0 / model.patience_mean_s)]
                                     for k in rates},
        priority_classes={"high": 0, "low": 1},
        number_of_servers=[model.servers])
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(count / model.arrival_rate)
    records = simulation.get_all_records()
    return Outcomes.of([(r.arrival_date, r.customer_class == "high", r.record_type == "renege",
                         r.waiting_time > 0) for r in records])
