"""Maximum likelihood with a covariance: minimise, then invert scipy's numerical Hessian.

The estimators here have no library fit with an interval (a zero-truncated
mixture, a censored lognormal's mean), so each states its negative
log-likelihood and gets the 95% interval from the observed information.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.differentiate import hessian
from scipy.optimize import minimize

Floats = NDArray[np.float64]


def fit_mle(neg_ll: Callable[[Floats], float], start: Floats) -> tuple[Floats, Floats]:
    """(theta, covariance of theta); a singular information matrix gives infinite variances."""
    result = minimize(neg_ll, start, method="Nelder-Mead" if len(start) == 1 else "BFGS")
    if not np.all(np.isfinite(result.x)):
        raise ValueError(f"fit did not converge: {result.message}")
    theta: Floats = np.asarray(result.x, dtype=np.float64)
    return theta, covariance(neg_ll, theta)


def covariance(neg_ll: Callable[[Floats], float], theta: Floats) -> Floats:
    """Inverse observed information at theta (a fit made elsewhere, e.g. by scipy.stats)."""

    def vectorised(points: Floats) -> Floats:
        flat = points.reshape(len(theta), -1)
        values = np.array([neg_ll(flat[:, i]) for i in range(flat.shape[1])])
        return values.reshape(points.shape[1:])

    # a low order and few refinements: an interval needs two digits, not eight
    result = hessian(vectorised, theta, initial_step=0.05, order=2, maxiter=3)
    return _invert(np.asarray(result.ddf, dtype=np.float64))


def _invert(info: Floats) -> Floats:
    try:
        cov: Floats = np.asarray(np.linalg.inv(info), dtype=np.float64)
    except np.linalg.LinAlgError:
        cov = np.full(info.shape, np.inf)
    if not np.all(np.isfinite(np.diag(cov))) or np.any(np.diag(cov) < 0):
        cov = np.full(info.shape, np.inf)
    return cov


def central_covariance(neg_ll: Callable[[Floats], float], theta: Floats, step: float = 0.02) -> Floats:
    """`covariance` by plain central differences (2 d^2 + 1 evaluations for d parameters).

    For a likelihood over tens of thousands of rows, where scipy's adaptive
    Hessian (thousands of evaluations) would cost more than the fit itself.
    """
    d = len(theta)
    eye = np.eye(d) * step
    f0 = neg_ll(theta)
    plus = np.array([neg_ll(theta + eye[i]) for i in range(d)])
    minus = np.array([neg_ll(theta - eye[i]) for i in range(d)])
    info = np.diag((plus - 2 * f0 + minus) / step**2)
    for i in range(d):
        for j in range(i + 1, d):
            pp, mm = neg_ll(theta + eye[i] + eye[j]), neg_ll(theta - eye[i] - eye[j])
            mixed = pp - plus[i] - plus[j] + 2 * f0 - minus[i] - minus[j] + mm
            info[i, j] = info[j, i] = mixed / (2 * step**2)
    return _invert(info)
