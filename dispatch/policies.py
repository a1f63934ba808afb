"""Dispatch policies: who may take a scarce car, and how far ahead they stand.

A policy answers two questions and nothing else, so each one is a few lines
and the engine stays the same for all of them (Ciw's style: small policies,
one engine):

* `head_start_s(order, score)`: how many seconds earlier than the customer's
  real request the queue should treat the order as made. Always within
  [0, max_head_start_s], which is what bounds starvation.
* `may_take_car(score, free_cars)`: whether this caller may take a car while
  `free_cars` cars (including the one in question) are free. Only capacity
  reservation ever says no.

`supply_threshold` tells the engine whether that second answer depends on supply:
None for every policy but `reserve`, whose threshold is `k`. At or below it some
callers may be refused; above it everyone is admitted. The engine needs it to
keep matching at quiescence cheaply: only when the free count rises past the
threshold can an order that waits next to a free car become admissible. It also
lets the engine serve a call unscored while the count is above the threshold, so
every policy must admit everyone there (`may_take_car` True for any score).

`waits` is False only for the status quo: an order no free car can reach now is
refused at once ("sorry, no free cars").

`reads_score` is False for a policy that decides from the order alone (who
called, and when): `reject`, `fifo` and `static_vip`. The live server scores
every call that waits or is refused all the same, for the operator's screen (a
call served at once is never scored: `Dispatcher._admit`); a simulation of such a
policy may leave the valuation out (`dispatch.model.neutral_scorer`), since no
decision can change, and a `city` run under `fifo` then spends nothing on the
scoring and histories that were about a sixth of its CPU time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from dispatch.model import Order, PriorityScore, Tier


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def waits(self) -> bool: ...

    @property
    def reads_score(self) -> bool: ...

    def head_start_s(self, order: Order, score: PriorityScore) -> float: ...

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool: ...

    @property
    def supply_threshold(self) -> int | None: ...


def _clamp(head_start_s: float, cap_s: float) -> float:
    if head_start_s != head_start_s:  # NaN from a broken scorer must not poison the heap
        return 0.0
    return min(max(head_start_s, 0.0), cap_s)


@dataclass(frozen=True, slots=True)
class RejectPolicy:
    """The status quo: if no free car can reach the caller now, refuse at once."""

    name: str = "reject"
    supply_threshold: ClassVar[int | None] = None
    waits: bool = False
    reads_score: ClassVar[bool] = False

    def head_start_s(self, order: Order, score: PriorityScore) -> float:
        return 0.0

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class FifoPolicy:
    """Everyone waits in one queue in the order they called; history is ignored."""

    name: str = "fifo"
    supply_threshold: ClassVar[int | None] = None
    waits: bool = True
    reads_score: ClassVar[bool] = False

    def head_start_s(self, order: Order, score: PriorityScore) -> float:
        return 0.0

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class StaticVipPolicy:
    """A fixed list of customers gets a fixed head start (what most products offer today)."""

    vip_customer_ids: frozenset[str] = frozenset()
    vip_head_start_s: float = 300.0
    max_head_start_s: float = 300.0
    name: str = "static_vip"
    supply_threshold: ClassVar[int | None] = None
    waits: bool = True
    reads_score: ClassVar[bool] = False

    def head_start_s(self, order: Order, score: PriorityScore) -> float:
        if order.customer_id is not None and order.customer_id in self.vip_customer_ids:
            return _clamp(self.vip_head_start_s, self.max_head_start_s)
        return 0.0

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class ValuePolicy:
    """Head start proportional to the caller's expected future value alone.

    Kept as the natural comparison for `retention`: it favours big spenders
    whether or not a failure would actually lose them.
    """

    value_per_s: float = 1.0
    max_head_start_s: float = 300.0
    name: str = "value"
    supply_threshold: ClassVar[int | None] = None
    waits: bool = True
    reads_score: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not self.value_per_s > 0:
            raise ValueError(f"value_per_s must be > 0, got {self.value_per_s}")

    def head_start_s(self, order: Order, score: PriorityScore) -> float:
        return _clamp(score.value / self.value_per_s, self.max_head_start_s)

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Head start from the scorer's value at risk: what failing this order would cost.

    The scorer already turned value at risk into seconds (and applied the
    first-order floor); the policy only enforces the cap.
    """

    max_head_start_s: float = 300.0
    name: str = "retention"
    supply_threshold: ClassVar[int | None] = None
    waits: bool = True
    reads_score: ClassVar[bool] = True

    def head_start_s(self, order: Order, score: PriorityScore) -> float:
        return _clamp(score.head_start_s, self.max_head_start_s)

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class HeadsPolicy:
    """Head start from a blend of what a failure would cost in revenue and in customers.

    `blend` 0 ranks by value at risk (revenue: `value_at_risk / value_per_s`
    seconds, as `retention`), 1 by the rise in the chance of leaving that a
    failure causes (heads: `leave_rise * scale_s` seconds, so a caller whom a
    failure would surely lose earns `scale_s`), anything between is the linear
    mix of the two head starts. Callers with no completed trip get at least
    `first_order_floor_s`, VIPs the cap; the cap bounds everything.
    """

    blend: float = 1.0
    scale_s: float = 300.0
    value_per_s: float = 0.125
    first_order_floor_s: float = 180.0
    max_head_start_s: float = 300.0
    name: str = "heads"
    supply_threshold: ClassVar[int | None] = None
    waits: bool = True
    reads_score: ClassVar[bool] = True

    def __post_init__(self) -> None:
        checks = {"blend": 0.0 <= self.blend <= 1.0, "scale_s": self.scale_s >= 0,
                  "value_per_s": self.value_per_s > 0,
                  "first_order_floor_s": self.first_order_floor_s >= 0}
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"heads: invalid {key} {getattr(self, key)!r}")

    def head_start_s(self, order: Order, score: PriorityScore) -> float:
        if score.tier is Tier.VIP:
            return self.max_head_start_s
        revenue_s = score.value_at_risk / self.value_per_s
        heads_s = score.leave_rise * self.scale_s
        head = (1.0 - self.blend) * revenue_s + self.blend * heads_s
        if score.first_order:
            head = max(head, self.first_order_floor_s)
        return _clamp(head, self.max_head_start_s)

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class ReservePolicy:
    """Capacity reservation (trunk reservation / guard channels).

    While `k` or fewer cars are free, only callers whose value at risk reaches
    `min_value_at_risk` may take one; everyone else waits for supply to
    recover (or, with `waits=False`, is refused: the textbook guard-channel
    loss system). Ordering within the queue comes from `base`.
    """

    k: int = 2
    min_value_at_risk: float = 0.0
    base: Policy = field(default_factory=RetentionPolicy)
    name: str = "reserve"
    waits: bool = True
    reads_score: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.k < 0:
            raise ValueError(f"k must be >= 0, got {self.k}")

    def head_start_s(self, order: Order, score: PriorityScore) -> float:
        return self.base.head_start_s(order, score)

    def may_take_car(self, score: PriorityScore, free_cars: int) -> bool:
        return free_cars > self.k or score.value_at_risk >= self.min_value_at_risk

    @property
    def supply_threshold(self) -> int:
        """Above `k` free cars everyone may take one; at `k` or below only callers at risk."""
        return self.k


def _reserve(
    k: int = 2,
    min_value_at_risk: float = 0.0,
    base: str = "retention",
    max_head_start_s: float = 300.0,
    waits: bool = True,
    **base_params: Any,
) -> ReservePolicy:
    inner = make_policy(base, max_head_start_s=max_head_start_s, **base_params)
    return ReservePolicy(k=k, min_value_at_risk=min_value_at_risk, base=inner, waits=waits)


def _static_vip(
    vip_customer_ids: Iterable[str] = (),
    head_start_s: float = 300.0,
    max_head_start_s: float = 300.0,
) -> StaticVipPolicy:
    return StaticVipPolicy(frozenset(vip_customer_ids), head_start_s, max_head_start_s)


def _drop_cap(factory: Callable[[], Policy]) -> Callable[..., Policy]:
    def build(max_head_start_s: float = 300.0) -> Policy:
        return factory()

    return build


_FACTORIES: dict[str, Callable[..., Policy]] = {
    "reject": _drop_cap(RejectPolicy),
    "fifo": _drop_cap(FifoPolicy),
    "static_vip": _static_vip,
    "value": ValuePolicy,
    "retention": RetentionPolicy,
    "heads": HeadsPolicy,
    "reserve": _reserve,
}

POLICY_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def make_policy(name: str, **params: Any) -> Policy:
    """Build a policy by name; unknown names and parameters fail with a message naming them."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(
            f"unknown policy {name!r}; choose one of {', '.join(POLICY_NAMES)}"
        ) from None
    try:
        return factory(**params)
    except TypeError as error:
        raise ValueError(f"policy {name!r}: bad parameters {sorted(params)}: {error}") from None
