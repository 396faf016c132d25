"""Fitting logistic regressions: weighted, L2-regularised, by Newton's method (numpy only).

Used to fit the confidence model (evals/confidence_fit.py), the citation-support model
(evals/citation_support.py) and the frustration model (evals/frustration_fit.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    l2: float | Sequence[float] | np.ndarray = 1.0,
    free: Sequence[int] = (),
    iterations: int = 100,
    tolerance: float = 1e-9,
    ridge: float = 1e-8,
) -> np.ndarray:
    """One weight per column of `x` (add a column of ones for a bias).

    `l2`: the ridge penalty, one for all columns or one per column; columns in `free` are unpenalised.
    Stops after `iterations` Newton steps or when no weight moves by `tolerance`; `ridge` keeps the
    Hessian invertible when a column is constant.
    """
    n, d = x.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    penalty = np.broadcast_to(np.asarray(l2, dtype=float), (d,)).copy()
    penalty[list(free)] = 0.0
    w = np.zeros(d)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (sw * (p - y)) + penalty * w
        hessian = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(penalty + ridge)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < tolerance:
            break
    return w
