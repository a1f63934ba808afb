"""The customers: who calls how often, who is on the VIP list, who leaves and when.

Churn is a pair of competing risks, so that every departure has a cause:
a base hazard no policy can change, and after each failure an extra hazard
`rise * 2^(-s / half_life)` that fades with the time `s` since that failure
(an exponentially weighted memory of experiences; Knox & van Oest 2014:
failures push customers away, the push fades, and prior purchases soften it
durably). The softening scales one failure's whole rise by
`1 / (1 + completed_before / prior_trips_halving)`, fixed when it happens, so
the hazard keeps its shape and its integral only changes by that factor. Each
failure's departure time is drawn once, in closed form, when the failure
happens: the customer leaves at the earliest of all drawn times. Departures
need no events: a departed customer simply makes no further calls.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter

import numpy as np

from simulator.kernel import BufferedDraws
from simulator.scenario import Churn, Demand

WEEK_S = 7 * 86_400.0
YEAR_S = 365.25 * 86_400.0
SEGMENTS = ("new", "occasional", "regular")
BASE, FAILURE = "base", "failure"


class Customer:
    """One caller; mutable, touched on every call, so slotted and plain."""

    __slots__ = ("completed", "customer_id", "depart_at", "depart_cause", "index", "joined_at",
                 "orders", "rate_per_s", "segment", "vip")

    def __init__(self, index: int, rate_per_s: float, segment: str, joined_at: float,
                 depart_at: float) -> None:
        self.index = index
        self.customer_id = f"u{index}"
        self.rate_per_s = rate_per_s
        self.segment = segment
        self.vip = False
        self.joined_at = joined_at
        self.depart_at = depart_at
        self.depart_cause = BASE
        self.orders = 0
        self.completed = 0

    def gone_by(self, at: float) -> bool:
        return self.depart_at <= at

    def leave_by(self, at: float, cause: str) -> None:
        """Bring the departure forward to `at` if that is earlier than already drawn."""
        if at < self.depart_at:
            self.depart_at = at
            self.depart_cause = cause


@dataclass(frozen=True, slots=True)
class ChurnModel:
    """The scenario's churn section in per-second units, with the closed-form draws."""

    base_rate_per_s: float
    rise_per_s: float
    memory_s: float  # mean life of a failure's memory: half-life / ln 2
    first_failure_leave_probability: float
    prior_trips_halving: float = math.inf  # inf: prior trips do not soften a failure

    @classmethod
    def from_scenario(cls, churn: Churn) -> ChurnModel:
        return cls(base_rate_per_s=churn.base_departures_per_year / YEAR_S,
                   rise_per_s=churn.rise_per_failure_per_week / WEEK_S,
                   memory_s=churn.memory_half_life_days * 86_400.0 / math.log(2.0),
                   first_failure_leave_probability=churn.first_failure_leave_probability,
                   prior_trips_halving=churn.prior_trips_halving)

    def base_departure_at(self, joined_at: float, exponential: float) -> float:
        if self.base_rate_per_s == 0.0:
            return math.inf
        return joined_at + exponential / self.base_rate_per_s

    def base_departures_at(self, joined_at: float, exponentials: np.ndarray) -> np.ndarray:
        """`base_departure_at` of each draw, at once: the same IEEE division and sum per
        element (tests/simulator/test_population.py compares them bit for bit)."""
        if self.base_rate_per_s == 0.0:
            return np.full(exponentials.shape, math.inf)
        return joined_at + exponentials / self.base_rate_per_s

    def softening(self, completed_before: int) -> float:
        """The share of a failure's rise that reaches a customer with this many trips behind them.

        Hyperbolic rather than exponential in the count: it never reaches
        zero, so even a long-standing regular can be driven away by enough
        failures close together. Exactly 1.0 when switched off or for a
        customer with no trip, so that case draws bit for bit as before.
        """
        if completed_before <= 0 or math.isinf(self.prior_trips_halving):
            return 1.0
        return 1.0 / (1.0 + completed_before / self.prior_trips_halving)

    def failure_departure_delay_s(self, exponential: float, completed_before: int = 0) -> float:
        """Delay until a failure makes the customer leave, or infinity if it never does.

        The extra hazard integrates to rise * f * memory * (1 - e^(-s / memory))
        with f the softening, which is bounded: with probability
        exp(-rise * f * memory) the failure is eventually forgiven. Inverting
        the integral at an Exp(1) draw gives the delay exactly.
        """
        total = self.rise_per_s * self.softening(completed_before) * self.memory_s
        if exponential >= total:
            return math.inf
        return -self.memory_s * math.log1p(-exponential / total)

    def p_leave_after_failure(self, completed_before: int = 0) -> float:
        """P(one failure ever makes the customer leave), first-failure probability aside."""
        return -math.expm1(-self.rise_per_s * self.softening(completed_before) * self.memory_s)

    @property
    def p_leave_per_failure(self) -> float:
        return self.p_leave_after_failure(0)


def call_rates_per_s(demand: Demand, count: int, rng: np.random.Generator) -> np.ndarray:
    """Heterogeneous call rates: Gamma with the scenario's mean and shape (BG/NBD's lambda)."""
    mean_per_s = demand.trips_per_week_mean / WEEK_S
    if math.isinf(demand.trips_per_week_shape):
        return np.full(count, mean_per_s)
    shape = demand.trips_per_week_shape
    return rng.gamma(shape, mean_per_s / shape, count)


def initial_customers(demand: Demand, churn: ChurnModel,
                      rng: np.random.Generator) -> list[Customer]:
    """The customer base at time 0, segmented by true call rate, the most frequent on the VIP list."""
    rates = call_rates_per_s(demand, demand.customers, rng)
    departures = churn.base_departures_at(0.0, rng.standard_exponential(demand.customers))
    regular = (rates >= demand.regular_min_trips_per_week / WEEK_S).tolist()
    # Built by `map` over Python numbers (`tolist`): iterating the arrays made a numpy
    # scalar per value, whose comparisons and float() cost several times a float's.
    customers = list(map(Customer, range(demand.customers), rates.tolist(),
                         map(("occasional", "regular").__getitem__, regular), repeat(0.0),
                         departures.tolist()))
    vip_count = round(demand.vip_share * demand.customers)
    for index in np.argsort(-rates, kind="stable")[:vip_count].tolist():
        customers[index].vip = True
    return customers


def rates_of(customers: list[Customer]) -> np.ndarray:
    """The customers' call rates as an array, read without a Python loop."""
    return np.fromiter(map(attrgetter("rate_per_s"), customers), np.float64, len(customers))


@dataclass(frozen=True, slots=True)
class PastTrips:
    """Completed trips before time 0, sorted by owner (customer index) then time (s, < 0)."""

    owners: np.ndarray
    times: np.ndarray


def seed_past_trips(customers: list[Customer], history_weeks: float,
                    rng: np.random.Generator) -> PastTrips:
    """Give every initial customer the trips they completed before time 0: trips at their
    own rate over a tenure uniform in [0, history_weeks].

    This is the world's truth (churn reads it: a customer without a trip is
    a newcomer), so it is drawn whatever the scoring, and the valuation's
    histories are folded from these same trips.
    """
    if history_weeks <= 0 or not customers:
        return PastTrips(np.zeros(0, dtype=np.int64), np.zeros(0))
    rates = rates_of(customers)
    tenure_s = rng.uniform(0.0, history_weeks * WEEK_S, len(customers))
    counts = rng.poisson(rates * tenure_s)
    owners = np.repeat(np.arange(len(customers)), counts)
    times = -rng.uniform(0.0, 1.0, owners.size) * tenure_s[owners]
    for customer, count in zip(customers, counts.tolist(), strict=True):
        customer.orders = customer.completed = count  # their next order is not a first one
    return PastTrips(owners, sort_within_owners(times, counts))


def sort_within_owners(times: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`times[np.lexsort((times, owners))]` for `owners = np.repeat(arange, counts)`, in place.

    The owners are already grouped, so only each owner's few times need sorting:
    a sort per slice, about 25 ms over the city's 830,000 past trips and 29,000
    owners with more than one, against the lexsort's 250 ms over all of them.
    Only the values are returned, and they are those of the lexsort in any sort
    order: each time is -u * tenure with u and tenure >= 0, so there is no NaN and
    no +0.0, and times that compare equal have the same bits
    (tests/simulator/test_population.py compares the two).
    """
    ends = np.cumsum(counts)
    several = np.flatnonzero(counts > 1)
    for start, end in zip((ends - counts)[several].tolist(), ends[several].tolist(), strict=True):
        times[start:end].sort()
    return times


PICK_CHUNK = 64  # calls answered at once: a newcomer drops at most this many answers


class Callers:
    """Who places the next call: all customers' calls as one Poisson stream.

    The superposition of the customers' Poisson processes is a Poisson
    process at the summed rate, whose every call comes from customer i with
    probability rate_i / total. So the model keeps one pending call event
    instead of one per customer (a heap of tens of thousands of entries),
    picks the caller by bisecting a running sum of rates, and simply drops a
    call picked for a customer who has already left (exact thinning).

    `next_caller` answers `PICK_CHUNK` calls at once: numpy's `searchsorted` over
    the running sums, for the stream's next uniforms as they lie in its buffer, is
    `bisect_right` element by element (tests/simulator/test_population.py), and a
    newcomer, who changes the total, drops the answers not yet used. One bisection
    of 40,000 sums per call was about 2.5% of a `city` run and 6% of `erlang-a`.
    """

    __slots__ = ("_customers", "_draws", "_picks", "_sums", "_uniforms", "total_rate_per_s")

    def __init__(self, customers: list[Customer], uniforms: BufferedDraws | None = None) -> None:
        count = len(customers)
        self._customers = list(customers)
        self._sums = np.zeros(max(1024, 2 * count))  # running sums of rates, grown
        # `add` one by one, at once: numpy's cumulative sum adds in order, left to right,
        # exactly as the running total does (tests/simulator/test_population.py).
        np.cumsum(rates_of(customers), out=self._sums[:count])
        # Read once a call, so an attribute (a property would cost a Python frame); only
        # `add` changes it.
        self.total_rate_per_s = float(self._sums[count - 1]) if count else 0.0
        self._draws = uniforms
        self._uniforms = [] if uniforms is None else uniforms.buffer  # always that one list
        self._picks: list[int] = []  # callers of the buffer's last uniforms, the next one last

    def add(self, customer: Customer) -> None:
        count = len(self._customers)
        if count == len(self._sums):
            self._sums = np.concatenate([self._sums, np.zeros(count)])
        self.total_rate_per_s += customer.rate_per_s
        self._sums[count] = self.total_rate_per_s
        self._customers.append(customer)
        self._picks.clear()  # answered for the old total

    def pick(self, uniform: float) -> Customer:
        """The caller for a uniform draw in [0, 1): `bisect_right`, the reference `next_caller`
        is tested against."""
        count = len(self._customers)
        index = bisect_right(self._sums, uniform * self.total_rate_per_s, 0, count)
        return self._customers[min(index, count - 1)]

    def next_caller(self) -> Customer:
        """`pick` of the uniform stream's next draw, the stream consumed as `pick` would."""
        picks = self._picks
        if not picks:
            self._pick_chunk()
        self._uniforms.pop()
        return self._customers[picks.pop()]

    def _pick_chunk(self) -> None:
        if self._draws is None:
            raise ValueError("next_caller needs the callers' uniform stream")
        uniforms = self._uniforms
        if not uniforms:
            uniforms.append(self._draws.next())  # refilled as a draw would, then put back
        count = len(self._customers)
        scaled = np.array(uniforms[-PICK_CHUNK:]) * self.total_rate_per_s
        index = np.searchsorted(self._sums[:count], scaled, side="right")
        self._picks[:] = np.minimum(index, count - 1).tolist()
