"""Closed-form queueing results the simulator must reproduce when reduced to them.

They are the simulator's ground truth: the `erlang-a` scenario switches off
space, travel and churn, and its tests compare the simulated figures with the
numbers computed here. Rates are per second (any consistent unit works; the
waits come out in the reciprocal unit).

Numerics: Erlang B is computed by its recursion (no factorials, stable for
any n); the Erlang A series and the birth-death chains are summed in log
space or with running rescaling, so loads of a few hundred servers neither
overflow nor lose digits. `birth_death_stationary` is deliberately a separate,
generic solver so that the tests check the Erlang A closed form against
something that does not share its algebra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_RESCALE_ABOVE = 1e250
_NEGLIGIBLE_LOG = -60.0  # terms below e^-60 of the largest do not change a double


@dataclass(frozen=True, slots=True)
class ErlangC:
    """M/M/n with infinite patience (requires offered load below n)."""

    p_wait: float
    mean_wait_s: float  # over all arrivals
    mean_wait_if_waiting_s: float


@dataclass(frozen=True, slots=True)
class ErlangA:
    """M/M/n+M: exponential patience with rate theta."""

    p_wait: float
    p_abandon: float
    p_abandon_if_waiting: float
    mean_wait_s: float  # over all arrivals, abandoning ones included (wait = time in queue)


@dataclass(frozen=True, slots=True)
class GuardChannel:
    """Blocking of two classes when the low class needs more than `reserved` free cars."""

    p_block_high: float
    p_block_low: float


def _check_rates(servers: int, **rates: float) -> None:
    if servers < 1:
        raise ValueError(f"servers must be >= 1, got {servers}")
    for name, rate in rates.items():
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"{name} must be a positive finite rate, got {rate}")


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of M/M/n/n with offered load a = lambda/mu (Erlang B).

    The recursion B_k = a B_{k-1} / (k + a B_{k-1}) only ever divides numbers
    of similar size, which is why it is used instead of a^n/n! sums.
    """
    if servers < 0:
        raise ValueError(f"servers must be >= 0, got {servers}")
    if offered_load < 0:
        raise ValueError(f"offered_load must be >= 0, got {offered_load}")
    blocking = 1.0
    for k in range(1, servers + 1):
        carried = offered_load * blocking
        blocking = carried / (k + carried)
    return blocking


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> ErlangC:
    """M/M/n waiting probability and mean waits; the queue must be stable (rho < 1)."""
    _check_rates(servers, arrival_rate=arrival_rate, service_rate=service_rate)
    load = arrival_rate / service_rate
    rho = load / servers
    if rho >= 1.0:
        raise ValueError(f"Erlang C needs rho < 1, got rho = {rho:.6g} (queue grows forever)")
    blocking = erlang_b(servers, load)
    p_wait = blocking / (1.0 - rho + rho * blocking)
    spare_rate = servers * service_rate - arrival_rate
    return ErlangC(p_wait=p_wait, mean_wait_s=p_wait / spare_rate,
                   mean_wait_if_waiting_s=1.0 / spare_rate)


def _erlang_a_series(x: float, y: float) -> tuple[float, float]:
    """(log A, mean j) for the weights t_j = y^j / prod_{k=1..j} (x + k), t_0 = 1.

    A = sum_j t_j is the series of Garnett et al. Using t_{j+1} (x+j+1) = y t_j
    one gets 1 - A (1 - rho) = sum_j j t_j / x, so P(Ab | W>0) = mean_j / y:
    a ratio of positive sums instead of the textbook 1/(rho A) + 1 - 1/rho,
    which cancels catastrophically at light load. Summed in log space; the
    terms rise while y > x + j and then fall faster than geometrically.
    """
    log_y = math.log(y)
    log_terms = [0.0]
    log_term = 0.0
    peak = 0.0
    j = 0
    while True:
        j += 1
        log_term += log_y - math.log(x + j)
        log_terms.append(log_term)
        peak = max(peak, log_term)
        if x + j > y and log_term < peak + _NEGLIGIBLE_LOG:
            break
    weights = [math.exp(t - peak) for t in log_terms]
    total = math.fsum(weights)
    mean_j = math.fsum(j * w for j, w in enumerate(weights)) / total
    return peak + math.log(total), mean_j


def erlang_a(servers: int, arrival_rate: float, service_rate: float,
             patience_rate: float) -> ErlangA:
    """M/M/n+M by Garnett, Mandelbaum & Reiman (2002), in overflow-safe form.

    P(W>0) = A B / (1 + (A-1) B) is rewritten as 1 / (1 + (1-B)/(A B)) so a
    huge A (heavily overloaded systems) and a tiny B do not meet in a product;
    P(Ab | W>0) comes from `_erlang_a_series` without cancellation.
    """
    _check_rates(servers, arrival_rate=arrival_rate, service_rate=service_rate,
                 patience_rate=patience_rate)
    x = servers * service_rate / patience_rate
    y = arrival_rate / patience_rate
    log_a, mean_j = _erlang_a_series(x, y)
    blocking = erlang_b(servers, arrival_rate / service_rate)
    ratio = (1.0 - blocking) * math.exp(-log_a) / blocking if blocking > 0 else math.inf
    p_wait = 1.0 / (1.0 + ratio)
    p_abandon_if_waiting = mean_j / y
    p_abandon = p_abandon_if_waiting * p_wait
    return ErlangA(p_wait=p_wait, p_abandon=p_abandon,
                   p_abandon_if_waiting=p_abandon_if_waiting,
                   mean_wait_s=p_abandon / patience_rate)


def birth_death_stationary(birth_rates: Sequence[float],
                           death_rates: Sequence[float]) -> list[float]:
    """Stationary distribution of a finite birth-death chain on states 0..K.

    `birth_rates[k]` leads from k to k+1 (K entries), `death_rates[k]` from
    k+1 to k (K entries). Products are rescaled as they grow instead of taken
    in logs: each state then carries only ~k rounding errors, ~1e-13 for
    chains of a few hundred states.
    """
    if len(birth_rates) != len(death_rates):
        raise ValueError("birth_rates and death_rates must have the same length")
    weights = [1.0]
    for birth, death in zip(birth_rates, death_rates, strict=True):
        if death <= 0:
            raise ValueError("death rates must be positive")
        weight = weights[-1] * birth / death
        if weight > _RESCALE_ABOVE:
            weights = [w / _RESCALE_ABOVE for w in weights]
            weight /= _RESCALE_ABOVE
        weights.append(weight)
    total = math.fsum(weights)
    return [w / total for w in weights]


def erlang_a_by_chain(servers: int, arrival_rate: float, service_rate: float,
                      patience_rate: float) -> ErlangA:
    """Erlang A from the truncated birth-death chain of the number in system.

    Independent of `erlang_a`'s algebra (PASTA plus Little's law), used to
    test it; truncation stops once the chain's tail is below double precision.
    """
    _check_rates(servers, arrival_rate=arrival_rate, service_rate=service_rate,
                 patience_rate=patience_rate)
    births: list[float] = []
    deaths: list[float] = []
    log_weight = 0.0
    queue_peak = -math.inf  # the tail must be negligible next to the waiting states, not the total
    k = 0
    while True:
        k += 1
        death = min(k, servers) * service_rate + max(k - servers, 0) * patience_rate
        births.append(arrival_rate)
        deaths.append(death)
        log_weight += math.log(arrival_rate / death)
        if k >= servers:
            queue_peak = max(queue_peak, log_weight)
            if death > arrival_rate and log_weight < queue_peak + _NEGLIGIBLE_LOG:
                break
    probs = birth_death_stationary(births, deaths)
    p_wait = math.fsum(probs[servers:])
    mean_queue = math.fsum((k - servers) * p for k, p in enumerate(probs) if k > servers)
    mean_wait = mean_queue / arrival_rate
    p_abandon = patience_rate * mean_wait
    return ErlangA(p_wait=p_wait, p_abandon=p_abandon,
                   p_abandon_if_waiting=p_abandon / p_wait if p_wait > 0 else 0.0,
                   mean_wait_s=mean_wait)


def guard_channel(servers: int, reserved: int, high_rate: float, low_rate: float,
                  service_rate: float) -> GuardChannel:
    """Trunk reservation without waiting room: low calls need more than `reserved` free cars.

    The number of busy cars is a birth-death chain whose birth rate drops
    from high+low to high once only `reserved` cars are free; a high call is
    lost only when every car is busy. reserved = 0 is Erlang B for the sum.
    """
    _check_rates(servers, high_rate=high_rate, service_rate=service_rate)
    if low_rate < 0:
        raise ValueError(f"low_rate must be >= 0, got {low_rate}")
    if not 0 <= reserved <= servers:
        raise ValueError(f"reserved must be in [0, {servers}], got {reserved}")
    births = [high_rate + low_rate if busy < servers - reserved else high_rate
              for busy in range(servers)]
    deaths = [(busy + 1) * service_rate for busy in range(servers)]
    probs = birth_death_stationary(births, deaths)
    return GuardChannel(p_block_high=probs[servers],
                        p_block_low=math.fsum(probs[servers - reserved:]))
