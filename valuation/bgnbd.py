"""Closed forms of the BG/NBD and Gamma-Gamma models, straight from the papers.

BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way",
Marketing Science 24(2), equations (6), (10) and section 7. Gamma-Gamma: Fader,
Hardie & Lee (2005), "RFM and CLV", JMR 42(4), and Hardie's note 025. Here they
serve the population fit and the held-out calibration; the per-call score uses
the simpler alive-by-definition forms in `valuation.score`.

Notation: x repeat transactions, t_x time of the last one and T time of the end
of observation, both measured from the first transaction (weeks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, gammaln, hyp2f1

Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True, slots=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    @property
    def mean_fare(self) -> float:
        return self.p * self.gamma / (self.q - 1.0)


def _f(values: ArrayLike) -> Floats:
    return np.asarray(values, dtype=np.float64)


def bgnbd_log_likelihood(m: BgNbd, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """Per-customer log-likelihood, FHL 2005 section 7, in a log-sum-exp safe form."""
    x, t_x, T = _f(x), _f(t_x), _f(T)
    a1 = gammaln(m.r + x) - gammaln(m.r) + m.r * np.log(m.alpha)
    a2 = betaln(m.a, m.b + x) - betaln(m.a, m.b)
    a3 = -(m.r + x) * np.log(m.alpha + T)
    with np.errstate(divide="ignore"):
        a4 = np.where(
            x > 0,
            np.log(m.a) - np.log(m.b + np.maximum(x, 1.0) - 1.0)
            - (m.r + x) * np.log(m.alpha + t_x),
            -np.inf,
        )
    result: Floats = a1 + a2 + np.logaddexp(a3, a4)
    return result


def bgnbd_p_alive(m: BgNbd, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """P(still active at T | history), FHL 2005 equation (13)."""
    x, t_x, T = _f(x), _f(t_x), _f(T)
    odds = np.where(
        x > 0,
        m.a / (m.b + np.maximum(x, 1.0) - 1.0) * ((m.alpha + T) / (m.alpha + t_x)) ** (m.r + x),
        0.0,
    )
    result: Floats = 1.0 / (1.0 + odds)
    return result


def bgnbd_expected_orders(m: BgNbd, t: ArrayLike) -> Floats:
    """E[X(t)] for a customer just acquired, FHL 2005 equation (7)."""
    t = _f(t)
    z = t / (m.alpha + t)
    hyp = hyp2f1(m.r, m.b, m.a + m.b - 1.0, z)
    result: Floats = (m.a + m.b - 1.0) / (m.a - 1.0) * (
        1.0 - (m.alpha / (m.alpha + t)) ** m.r * hyp
    )
    return result


def bgnbd_conditional_expected_orders(
    m: BgNbd, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """E[orders in (T, T + t] | history], FHL 2005 equation (10)."""
    t, x, t_x, T = _f(t), _f(x), _f(t_x), _f(T)
    hyp_a, hyp_b, hyp_c = m.r + x, m.b + x, m.a + m.b + x - 1.0
    z = t / (m.alpha + T + t)
    with np.errstate(divide="ignore", over="ignore"):
        ln_hyp = np.log(hyp2f1(hyp_a, hyp_b, hyp_c, z))
        # Euler's transformation where the direct series overflows
        ln_hyp_euler = np.log(hyp2f1(hyp_c - hyp_a, hyp_c - hyp_b, hyp_c, z)) + (
            hyp_c - hyp_a - hyp_b
        ) * np.log1p(-z)
    ln_hyp = np.where(np.isinf(ln_hyp), ln_hyp_euler, ln_hyp)
    head = (m.a + m.b + x - 1.0) / (m.a - 1.0)
    body = 1.0 - np.exp(ln_hyp + (m.r + x) * np.log((m.alpha + T) / (m.alpha + T + t)))
    result: Floats = head * body * bgnbd_p_alive(m, x, t_x, T)
    return result


def bgnbd_p_no_orders(
    m: BgNbd, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """P(no order in (T, T + t] | history): gone already, or alive and silent.

    An alive customer can only leave right after an order, so silence for t weeks
    has the Gamma posterior's Laplace transform ((alpha+T)/(alpha+T+t))^(r+x).
    """
    t, x, T = _f(t), _f(x), _f(T)
    alive = bgnbd_p_alive(m, x, t_x, T)
    silent = ((m.alpha + T) / (m.alpha + T + t)) ** (m.r + x)
    result: Floats = 1.0 - alive + alive * silent
    return result


def gamma_gamma_log_likelihood(m: GammaGamma, n: ArrayLike, mean_fare: ArrayLike) -> Floats:
    """Log-density of a customer's mean fare over n trips (Hardie note 025, eq. 1a)."""
    n, mean_fare = _f(n), _f(mean_fare)
    pn = m.p * n
    result: Floats = (
        gammaln(pn + m.q) - gammaln(pn) - gammaln(m.q) + m.q * np.log(m.gamma)
        + (pn - 1.0) * np.log(mean_fare) + pn * np.log(n)
        - (pn + m.q) * np.log(m.gamma + n * mean_fare)
    )
    return result


def gamma_gamma_expected_fare(m: GammaGamma, n: ArrayLike, mean_fare: ArrayLike) -> Floats:
    """Posterior mean fare: a weighted average of the population and the customer's own mean."""
    n, mean_fare = _f(n), _f(mean_fare)
    result: Floats = m.p * (m.gamma + n * mean_fare) / (m.p * n + m.q - 1.0)
    return result
