"""Customer histories kept from simulated outcomes, and the scorers that read them.

The simulator plays the firm's order log: each outcome is folded into the
caller's `valuation.history.CustomerHistory` when it happens, and the real
`valuation.scorer.make_scorer` reads those histories whenever the dispatcher
asks, so priority reflects the simulated past. At time 0 the customer base
gets a synthetic past (`population.seed_past_trips`: completed trips at the
customer's true rate over a random tenure), folded into histories with
vectorised sums equal to folding the trips one by one, because 40,000
customers with dozens of trips each would otherwise take seconds before the
first call.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from operator import attrgetter, is_

import numpy as np

from dispatch.model import NEUTRAL_SCORE, FailureCause, PriorityScore, Scorer, Tier
from simulator.population import WEEK_S, Customer, PastTrips, seed_past_trips
from valuation.fit import fit_value_per_s, weighted_percentile
from valuation.history import (
    NO_HISTORY,
    CustomerHistory,
    HistoryArrays,
    failure_severity,
    half_lives_s,
    record_outcome,
)
from valuation.params import ValuationParams
from valuation.score import score_many
from valuation.scorer import make_scorer


class HistoryBook:
    """Histories by customer id, each brought up to date when it is read.

    Most simulated calls are served at once and never scored (`Dispatcher._admit`),
    so most outcomes would be folded into a history nobody reads again before the run
    ends. An outcome is therefore only noted, in order, and a customer's notes are
    folded (`record_outcome`, as `record_completed` / `record_failed` with the book's
    params would, one by one, as they happened) the moment their history is read: by
    the scorer, or by `histories`. The records are those an immediate fold would make,
    bit for bit. The half-lives in seconds are worked out once per params.
    """

    __slots__ = ("_folded", "_long_s", "_params", "_past", "_pending", "_short_s")

    def __init__(self, params: ValuationParams) -> None:
        self._folded: dict[str, CustomerHistory] = {}
        self._pending: defaultdict[str, list[tuple[float, float, FailureCause | None]]] = (
            defaultdict(list))  # only ever appended to, popped or emptied
        self._past: tuple[HistoryArrays, list[CustomerHistory]] | None = None
        self.params = params

    @property
    def params(self) -> ValuationParams:
        return self._params

    @params.setter
    def params(self, params: ValuationParams) -> None:
        """The set-up replaces the params once calibrated; the half-lives follow them, and
        outcomes noted before are folded under the params they were noted under."""
        if self._pending:
            self.histories  # noqa: B018 - folds every note
        self._params = params
        self._long_s, self._short_s = half_lives_s(params)

    @property
    def histories(self) -> dict[str, CustomerHistory]:
        """Every history, up to date: the notes of everyone are folded first."""
        pending = self._pending
        while pending:
            customer_id, outcomes = pending.popitem()
            self._fold(customer_id, outcomes)
        return self._folded

    def history(self, customer_id: str) -> CustomerHistory | None:
        """One customer's history, up to date (the scorer's lookup); None if never seen."""
        outcomes = self._pending.pop(customer_id, None)
        if outcomes is None:
            return self._folded.get(customer_id)
        return self._fold(customer_id, outcomes)

    def completed(self, customer_id: str, at: float, fare: float) -> None:
        self._pending[customer_id].append((at, fare, None))

    def failed(self, customer_id: str, at: float, cause: FailureCause) -> None:
        self._pending[customer_id].append((at, 0.0, cause))

    def _fold(self, customer_id: str, outcomes: list[tuple[float, float, FailureCause | None]]
              ) -> CustomerHistory:
        h = self._folded.get(customer_id, NO_HISTORY)
        long_s, short_s, params = self._long_s, self._short_s, self._params
        for at, fare, cause in outcomes:
            if cause is None:
                h = record_outcome(h, at, long_s, short_s, 1, 0, fare, 0.0)
            else:
                h = record_outcome(h, at, long_s, short_s, 0, 1, 0.0, failure_severity(cause, params))
        self._folded[customer_id] = h
        return h

    def scorer(self, vip_ids: frozenset[str]) -> Scorer:
        """The real scorer over these histories, without the operator's reason line: no
        simulated decision is shown to an operator, and no row reads it."""
        return make_scorer(self.history, self.params, vip_ids, explain=False)

    def calibrated(self, now: float, percentile: float = 95.0) -> tuple[ValuationParams, float]:
        """(params with c fitted, value per second for the `value` policy) from current histories.

        Both follow issue 3's rule: the given percentile of callers, weighted by
        how often they call, reaches the head-start cap. Returns the inputs
        unchanged when nobody has a history yet.
        """
        if not self.histories or self.params.max_head_start_s <= 0:
            return self.params, self.params.value_per_s
        scores = score_many(self._arrays(), now, self.params)
        weights = scores.orders_per_week
        value_per_s = fit_value_per_s(scores.value_at_risk, weights, self.params, percentile)
        value_pivot = weighted_percentile(scores.value, weights, percentile)
        return (replace(self.params, value_per_s=value_per_s),
                max(value_pivot, 1e-12) / self.params.max_head_start_s)

    def seed(self, customers: list[Customer], history_weeks: float, mean_fare: float,
             rng: np.random.Generator) -> None:
        """Give every customer a past of completed trips ending before time 0."""
        self.record_past(customers, seed_past_trips(customers, history_weeks, rng), mean_fare)

    def record_past(self, customers: list[Customer], past: PastTrips, mean_fare: float) -> None:
        """The histories the firm's log would hold for these past trips.

        Their arrays are kept for the first calibration, which would otherwise
        read them back out of 40,000 records (a quarter of the city's set-up).
        """
        owners, arrays = _fold_completed(past.owners, past.times, mean_fare, self.params)
        histories = arrays.rows()
        ids = map(attrgetter("customer_id"), map(customers.__getitem__, owners))
        self._folded.update(zip(ids, histories, strict=True))
        self._past = (arrays, histories)

    def _arrays(self) -> HistoryArrays:
        """All histories as arrays: those `record_past` built, read once, if the book still
        holds exactly the records built from them, in their order; else read from the records."""
        past, self._past = self._past, None
        if past is not None:
            arrays, histories = past
            if len(histories) == len(self.histories) and all(
                    map(is_, self.histories.values(), histories)):
                return arrays
        return HistoryArrays.from_histories(list(self.histories.values()))


def _fold_completed(owners: np.ndarray, times: np.ndarray, fare: float,
                    params: ValuationParams) -> tuple[list[int], HistoryArrays]:
    """The owners with trips, and the histories `record_completed` would build for them trip by
    trip, in closed form and as arrays (the calibration reads arrays).

    For trips at t_1 < ... < t_n all decayed to t_n with w_j = 2^(-(t_n - t_j)/half-life):
    repeat_orders = sum_{j>=2} w_j, fare_count = sum w_j, fare_sum = fare * sum w_j.
    """
    if owners.size == 0:
        return [], HistoryArrays.zeros(0)
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    ends = np.r_[starts[1:], owners.size] - 1
    last = times[ends]
    half_life_s = params.value_half_life_weeks * WEEK_S
    weights = np.exp2(-(np.repeat(last, ends - starts + 1) - times) / half_life_s)
    weight_sums = np.add.reduceat(weights, starts)
    counts = (ends - starts + 1).astype(np.int64)
    arrays = replace(  # one array per field, none shared: score_many may compute in place
        HistoryArrays.zeros(starts.size), orders=counts, completed=counts.copy(),
        first_seen_at=times[starts], last_event_at=last,
        repeat_orders=weight_sums - weights[starts], fare_sum=fare * weight_sums,
        fare_count=weight_sums)
    return owners[starts].tolist(), arrays


def vip_class_scorer(vip_ids: frozenset[str], head_start_s: float) -> Scorer:
    """Two classes and nothing else: the scorer of the textbook reductions.

    VIPs get the full head start and a value at risk of 1 (so `reserve` lets
    them take reserved cars); everyone else is neutral. With it the simulator
    is a two-class priority queue whose exact answers are known.
    """
    vip_score = PriorityScore(head_start_s=head_start_s, tier=Tier.VIP, reason="VIP class",
                              value=1.0, value_at_risk=1.0)

    def scorer(customer_id: str | None, now: float) -> PriorityScore:
        return vip_score if customer_id in vip_ids else NEUTRAL_SCORE

    return scorer
