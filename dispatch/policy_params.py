"""One builder for every policy: a name and its settings -> a `Policy`, in both shells.

The live server reads the settings from `KEEPCAB_*` variables, the simulator
from a scenario's `[policies]` section; both copy the fields of
`PolicyParams` under the same names (`KEEPCAB_RESERVE_K` is `reserve_k`) and
call `build_policy`, so a policy run in the simulator is the policy the live
server runs with the same numbers (issue 10: the live `reserve` used to be
built with another threshold and no way to set `k`).

What is not a setting but a fact of the shell goes in `PolicyContext`: the
engine's head-start cap, the VIP list, and the scorer's own scale (its
value-at-risk-per-second `c` and first-order floor), which `None` settings
fall back to, so `heads` with blend 0 and no overrides ranks as `retention`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from dispatch.policies import Policy, make_policy


@dataclass(frozen=True, slots=True)
class PolicyParams:
    """Every policy parameter a firm may set; names match settings and scenario keys."""

    vip_head_start_s: float = 300.0  # static_vip: head start of a listed customer
    value_per_s: float | None = None  # value: currency of expected value per second
    reserve_k: int = 2  # reserve: cars kept back while this many or fewer are free
    reserve_min_value_at_risk: float = 1.0  # reserve: value at risk that may take a kept car
    reserve_base: str = "retention"  # reserve: the policy that orders the queue
    reserve_waits: bool = True  # reserve: False refuses instead of queueing
    heads_blend: float = 1.0  # heads: 0 ranks by value at risk, 1 by the rise in leaving
    heads_scale_s: float | None = None  # heads: seconds for a rise of 1 in leaving (None: cap)
    heads_value_per_s: float | None = None  # heads: value at risk per second (None: scorer's)
    first_order_floor_s: float | None = None  # heads: newcomers' least head start (None: scorer's)


POLICY_PARAM_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PolicyParams))


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """What the shell knows that no policy setting says."""

    max_head_start_s: float = 300.0  # the engine's cap (DispatchConfig.max_head_start_s)
    vip_customer_ids: frozenset[str] = frozenset()
    risk_value_per_s: float = 0.125  # the scorer's c (ValuationParams.value_per_s)
    first_order_floor_s: float = 180.0  # the scorer's floor (ValuationParams.effective_floor_s)
    value_per_s: float = 1.0  # the value policy's scale when the setting is None


def build_policy(name: str, params: PolicyParams = PolicyParams(),
                 context: PolicyContext = PolicyContext()) -> Policy:
    """The named policy with its settings; unknown names fail naming the choices."""
    base = params.reserve_base if name == "reserve" else name
    kwargs = _base_kwargs(base, params, context)
    if name == "reserve":
        kwargs.update(k=params.reserve_k, min_value_at_risk=params.reserve_min_value_at_risk,
                      base=base, waits=params.reserve_waits)
    return make_policy(name, **kwargs)


def _base_kwargs(base: str, params: PolicyParams, context: PolicyContext) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"max_head_start_s": context.max_head_start_s}
    if base == "static_vip":
        kwargs.update(vip_customer_ids=context.vip_customer_ids,
                      head_start_s=params.vip_head_start_s)
    elif base == "value":
        kwargs.update(value_per_s=_or(params.value_per_s, context.value_per_s))
    elif base == "heads":
        kwargs.update(blend=params.heads_blend,
                      scale_s=_or(params.heads_scale_s, context.max_head_start_s),
                      value_per_s=_or(params.heads_value_per_s, context.risk_value_per_s),
                      first_order_floor_s=min(_or(params.first_order_floor_s,
                                                  context.first_order_floor_s),
                                              context.max_head_start_s))
    return kwargs


def _or(value: float | None, fallback: float) -> float:
    return fallback if value is None else value
