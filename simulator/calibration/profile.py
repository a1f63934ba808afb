"""95% profile-likelihood intervals for a fit with an exact gradient.

A Wald interval (estimate +- 1.96 standard errors from the curvature at the
optimum) is only honest where the log-likelihood is close to quadratic on
the scale it is built on. Near a bound (base departures that a 21-day log
barely sees) or along a ridge (a push's height against its time course) it
is not: the curvature can claim four orders of magnitude of knowledge or
none. The profile interval is the set of values x of one parameter whose
best fit, the others re-optimised, is within chi2(1, 0.95) / 2 = 1.92 of
the maximum (Venzon & Moolgavkar 1988; Pawitan, "In All Likelihood", 2001,
ch. 3). Each end is found by `scipy.optimize.brentq` on the signed root
deviance, which is nearly linear in x, starting from the Wald end; an end
the profile never reaches before the search range's bound is that bound
(the data cannot exclude it), and the caller reports it as 0 or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq, minimize

Floats = NDArray[np.float64]
FunGrad = Callable[[Floats], tuple[float, Floats]]
Z95 = 1.959963984540054
GTOL = 1e-3  # |d(-log L)/d theta| at a converged fit (1e-2 left profile points short of their optimum)
TOLERANCE = 0.1  # of the root deviance at an end: the level is then 95% +- 1 point


def minimise(
    fun: FunGrad, start: Floats, bounds: list[tuple[float, float]], fixed: dict[int, float]
) -> Floats:
    """L-BFGS-B with the exact gradient over the parameters not in `fixed`."""
    free = [i for i in range(len(start)) if i not in fixed]
    full = np.array(start, dtype=np.float64)
    for i, x in fixed.items():
        full[i] = x
    if not free:
        return full

    def partial(z: Floats) -> tuple[float, Floats]:
        full[free] = z
        value, grad = fun(full)
        return value, grad[free]

    z0 = np.clip(full[free], [bounds[i][0] for i in free], [bounds[i][1] for i in free])
    # stop on the gradient, not on a small step in -log L: along a ridge the steps are small
    # long before the optimum, and an unconverged profile point would narrow an interval
    result = minimize(
        partial,
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=[bounds[i] for i in free],
        options={"ftol": 1e-14, "gtol": GTOL, "maxiter": 500},
    )
    full[free] = result.x
    return full.copy()


def gradient_covariance(
    fun: FunGrad, theta: Floats, step: float = 1e-3, free: list[int] | None = None
) -> Floats:
    """Inverse observed information by central differences of the exact gradient (2d
    evaluations); parameters not in `free` are held (zero variance, conditional on them)."""
    d = len(theta)
    idx = list(range(d)) if free is None else free
    info = np.empty((len(idx), len(idx)))
    for row, i in enumerate(idx):
        e = np.zeros(d)
        e[i] = step
        info[row] = (fun(theta + e)[1][idx] - fun(theta - e)[1][idx]) / (2 * step)
    info = (info + info.T) / 2
    cov = np.zeros((d, d))
    try:
        inner = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        inner = np.full(info.shape, np.inf)
    if not np.all(np.isfinite(np.diag(inner))) or np.any(np.diag(inner) <= 0):
        inner = np.full(info.shape, np.inf)
    cov[np.ix_(idx, idx)] = inner
    return cov


def profile_interval(
    fun: FunGrad, theta: Floats, bounds: list[tuple[float, float]], i: int, cov: Floats,
    fixed: dict[int, float] | None = None,
) -> tuple[float, float]:  # fmt: skip
    """The 95% profile-likelihood interval of theta[i] on theta's own scale."""
    best = fun(theta)[0]
    held = dict(fixed or {})
    se = math.sqrt(cov[i, i]) if np.isfinite(cov[i, i]) and cov[i, i] > 0 else 1.0
    slope = (
        cov[:, i] / cov[i, i] if np.all(np.isfinite(cov[:, i])) and cov[i, i] > 0 else np.zeros(len(theta))
    )
    seen: dict[float, float] = {}  # brentq asks again for its bracket's ends
    fits: dict[float, Floats] = {float(theta[i]): theta}

    def root(x: float) -> float:
        if x not in seen:
            near = min(fits, key=lambda y: abs(y - x))  # the optimum moves along the ridge:
            shifted = fits[near] + slope * (x - near)  # start from the nearest one found, shifted,
            tries = [minimise(fun, start, bounds, {**held, i: x}) for start in (shifted, theta)]
            # and from the optimum: either can land in a worse basin (scipy 1.17's L-BFGS-B
            # did, at 31 above the true deviance); each fit's -log L is evaluated once
            value, fit = min(((fun(t)[0], t) for t in tries), key=lambda pair: pair[0])
            fits[x] = fit
            seen[x] = math.sqrt(max(2 * (value - best), 0.0)) - Z95
        return seen[x]

    low = _end(root, float(theta[i]), -1.0, min(Z95 * se, 4.0), bounds[i][0])
    return low, _end(root, float(theta[i]), 1.0, min(Z95 * se, 4.0), bounds[i][1])


def _end(root: Callable[[float], float], centre: float, side: float, step: float, bound: float) -> float:
    """Walk out from the centre (the Wald end first, then extrapolating the root deviance,
    which is nearly linear) until it passes 1.96, then brentq between the last two points;
    the bound if it never does."""
    inner, inner_value, outer = centre, -Z95, centre + side * max(step, 0.05)
    for _ in range(10):
        if side * (outer - bound) >= 0:
            outer = bound
        value = root(outer)
        if abs(value) < TOLERANCE:
            return outer
        if value > 0:
            a, b = sorted((inner, outer))
            return float(brentq(lambda x: root(x) if abs(root(x)) >= TOLERANCE else 0.0, a, b, xtol=0.05))
        if outer == bound:
            return bound
        slope = (value - inner_value) / (outer - inner)
        jump = -value / slope if side * slope > 0 else 4 * (outer - centre)
        inner, inner_value = outer, value
        outer += float(
            np.clip(jump * 1.1, side * 0.05, 4 * (outer - centre))
            if side > 0
            else np.clip(jump * 1.1, 4 * (outer - centre), -0.05)
        )
    return bound
