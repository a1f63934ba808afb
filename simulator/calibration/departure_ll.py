"""The departure model's negative log-likelihood and its exact gradient.

`departures.py` states the model; this module evaluates it. The gradient
is analytic (every term is a closed form or a fixed Gauss-Legendre sum of
closed forms), so L-BFGS-B needs one evaluation per step instead of the
nine a forward-difference gradient of eight parameters costs, and the
observed information comes from differencing the gradient (2d evaluations
instead of 2d^2 + 1). Each row's log-likelihood is differentiated by the
quantities it depends on (a, b, mu, the push P, the memory M, rho, pi),
which the last step maps to theta by the chain rule.

theta = (log r, log alpha, log mu, logit rho, logit p_first, log rise,
log k_prior_trips, log memory_weeks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

if TYPE_CHECKING:
    from simulator.calibration.departures import Gaps

Floats = NDArray[np.float64]
# 8 Gauss-Legendre nodes: on the round-trip logs -log L moves by under 3e-4 against 40
# nodes, a hundredth of what an interval's end needs (12 were used before)
NODES, WEIGHTS = np.polynomial.legendre.leggauss(8)


def quadrature(gap: Floats) -> tuple[Floats, Floats]:
    """The nodes s in (0, gap) and log(weight x gap / 2), one row per censored gap."""
    s: Floats = (NODES[None, :] + 1) / 2 * gap[:, None]
    log_w: Floats = np.log(WEIGHTS)[None, :] + np.log(gap / 2)[:, None]
    return s, log_w


@dataclass(slots=True)
class _Rows:
    """Per-row partial derivatives of the log-likelihood (a, b, mu, P, M with P held)."""

    a: Floats
    b: Floats
    mu: Floats
    push: Floats
    memory: Floats


def neg_log_likelihood(theta: Floats, g: Gaps) -> tuple[float, Floats]:
    """(-log L, its gradient in theta)."""
    r, alpha, mu = np.exp(theta[:3])
    rho, p_first = expit(theta[3]), expit(theta[4])
    rise, k, memory = np.exp(theta[5:8])
    decay = np.exp(-g.pair_age / memory)
    soft = 1.0 / (1.0 + k * g.pair_completed)
    w = decay * soft
    n = len(g.gap)
    push = rise * memory * np.bincount(g.pair_unit, w, n)
    d_push_k = -rise * memory * np.bincount(g.pair_unit, w * k * g.pair_completed * soft, n)
    d_push_m = push + rise * np.bincount(g.pair_unit, w * g.pair_age, n)
    a, b = r + g.a0, alpha + g.h
    first = g.failed & g.newcomer
    pi = np.where(first, p_first, 0.0)
    ll, d, d_pi, d_rho = _observed(a, b, mu, push, memory, pi, rho, g)
    _censored(a, b, mu, push, memory, pi, rho, g, ll, d, d_pi, d_rho)
    grad = np.array(
        [
            r * d.a.sum(),
            alpha * d.b.sum(),
            mu * d.mu.sum(),
            d_rho.sum(),
            (d_pi * first).sum() * p_first * (1 - p_first),
            (d.push * push).sum(),
            (d.push * d_push_k).sum(),
            (d.push * d_push_m).sum() + memory * d.memory.sum(),
        ]
    )
    return float(-ll.sum()), -grad


def _observed(
    a: Floats, b: Floats, mu: float, push: Floats, memory: float, pi: Floats, rho: float, g: Gaps
) -> tuple[Floats, _Rows, Floats, Floats]:
    """Every row as if its next order came (the censored rows are overwritten later)."""
    gap = g.gap
    fade = np.exp(-gap / memory)
    log_ratio = np.log(b / (b + gap))
    observed = np.log(a / b) + (a + 1) * log_ratio - mu * gap - push * (1 - fade)
    stay = np.log1p(-pi)
    log_rho, log_no = np.log(rho), np.log1p(-rho)
    retry, later = g.next_retry, ~g.next_retry
    failed_later = later & g.failed
    ll = np.where(retry, stay + log_rho, stay + np.where(g.failed, log_no, 0.0) + observed)
    d = _Rows(
        a=np.where(later, 1 / a + log_ratio, 0.0),
        b=np.where(later, -1 / b + (a + 1) * (1 / b - 1 / (b + gap)), 0.0),
        mu=np.where(later, -gap, 0.0),
        push=np.where(later, -(1 - fade), 0.0),
        memory=np.where(later, push * fade * gap / memory**2, 0.0),
    )
    d_pi = -1 / (1 - pi)
    d_rho = np.where(retry, 1 - rho, 0.0) + np.where(failed_later, -rho, 0.0)
    return ll, d, d_pi, d_rho


def _censored(
    a: Floats, b: Floats, mu: float, push: Floats, memory: float, pi: Floats, rho: float,
    g: Gaps, ll: Floats, d: _Rows, d_pi: Floats, d_rho: Floats,
) -> None:  # fmt: skip
    """A last gap: gone at once (pi), or no order until the log's end, alive or having left
    at s in (0, gap) before any call (a 12-node Gauss-Legendre sum); writes rows c in place."""
    c, s = g.cens, g.nodes
    ac, bc, gap, pc, pic = a[c], b[c], g.gap[c], push[c], pi[c]
    fade = np.exp(-gap / memory)
    z0 = ac * np.log(bc / (bc + gap)) - mu * gap - pc * (1 - fade)
    dj = np.exp(-s / memory)
    hazard = mu + pc[:, None] / memory * dj
    log_ratio_s = np.log(bc[:, None] / (bc[:, None] + s))
    terms = np.log(hazard) - mu * s - pc[:, None] * (1 - dj) + ac[:, None] * log_ratio_s + g.log_w
    top = np.maximum(terms.max(axis=1), z0)  # logsumexp by hand: its exponentials are the u
    u = np.exp(terms - top[:, None])
    u0 = np.exp(z0 - top)
    total_u = u0 + u.sum(axis=1)
    none = top + np.log(total_u)
    u /= total_u[:, None]
    u0 /= total_u
    no = np.where(g.failed[c], np.log1p(-rho), 0.0)
    y = np.log1p(-pic) + no + none
    with np.errstate(divide="ignore"):
        log_pi = np.log(pic)
    total = np.logaddexp(log_pi, y)
    wy, wx = np.exp(y - total), np.exp(log_pi - total)
    ll[c] = total
    inv_b, rest = 1 / bc, 1 - u0  # the u sum to 1 - u0
    ud = u * dj
    udh, us, uds = ud / hazard, (u * s).sum(1), (ud * s).sum(1)
    sum_udh = udh.sum(1)
    d.a[c] = wy * (u0 * np.log(bc / (bc + gap)) + np.einsum("ij,ij->i", u, log_ratio_s))
    u_inv_bs = np.einsum("ij,ij->i", u, 1 / (bc[:, None] + s))
    d.b[c] = wy * ac * (u0 * (inv_b - 1 / (bc + gap)) + inv_b * rest - u_inv_bs)
    d.mu[c] = wy * (-u0 * gap + (u / hazard).sum(1) - us)
    d.push[c] = wy * (-u0 * (1 - fade) + sum_udh / memory - rest + ud.sum(1))
    dm = (np.einsum("ij,ij->i", udh, s) / memory - sum_udh) / memory**2 + uds / memory**2
    d.memory[c] = wy * pc * (u0 * fade * gap / memory**2 + dm)
    positive = pic > 0
    d_pi[c] = np.where(positive, wx / np.where(positive, pic, 1.0) - wy / (1 - pic), -wy)
    d_rho[c] = np.where(g.failed[c], -rho * wy, 0.0)
