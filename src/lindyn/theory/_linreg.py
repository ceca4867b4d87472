"""Exact gradient flow of least squares."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["LinregMoments", "linreg_flow"]


class LinregMoments(NamedTuple):
    r"""Exact mean trajectory and expected errors of least-squares gradient flow.

    Attributes:
        beta_mean: :math:`\mathbb E\,\beta(t)`, shape ``(T, d)``.
        train_loss: :math:`\mathbb E\,\frac1{2n}\|X\beta(t) - y\|^2`, shape ``(T,)``.
        test_error: :math:`\mathbb E\,\|\beta(t) - \beta^*\|^2`, shape ``(T,)`` (NaN without teacher).
    """

    beta_mean: np.ndarray
    train_loss: np.ndarray
    test_error: np.ndarray


def _phi(lam: np.ndarray, t: float) -> np.ndarray:
    r""":math:`\int_0^t e^{-\lambda s} ds = -\mathrm{expm1}(-\lambda t)/\lambda`, equal to t at λ = 0."""
    safe = np.where(lam > 0, lam, 1.0)
    return np.where(lam > 0, -np.expm1(-safe * t) / safe, t)


def linreg_flow(
    X: np.ndarray,
    y: np.ndarray,
    times: np.ndarray,
    *,
    beta0: np.ndarray | None = None,
    init_variance: float = 0.0,
    teacher: np.ndarray | None = None,
) -> LinregMoments:
    r"""Closed-form gradient flow of :math:`\mathcal L(\beta) = \frac1{2n}\|X\beta - y\|^2`.

    With :math:`H = X^\top X/n = Q\Lambda Q^\top` and :math:`b = X^\top y/n`,

    .. math::
        \beta(t) = e^{-Ht}\beta_0 + \Phi(t)\, b,\qquad
        \Phi(t) = \int_0^t e^{-Hs}\,ds = Q\,\frac{1 - e^{-\Lambda t}}{\Lambda}\,Q^\top ,

    exact also for singular :math:`H` (:math:`n < d`), where :math:`\Phi` grows linearly along
    the null space. For a random start :math:`\beta_0 \sim \mathcal N(\bar\beta_0, vI)` the expected
    errors are exact quadratic forms:
    :math:`\mathbb E\,\mathcal L = \mathcal L(\bar\beta) + \frac v2\operatorname{tr}(He^{-2Ht})`,
    :math:`\mathbb E\,\|\beta-\beta^*\|^2 = \|\bar\beta-\beta^*\|^2 + v\operatorname{tr}(e^{-2Ht})`.
    One eigendecomposition serves every time: :math:`O(d^3 + T d^2)`. (The tests check it
    against the matrix exponential of the augmented generator.)

    Args:
        X: design, ``(n, d)``.
        y: labels, ``(n,)``.
        times: ``(T,)`` flow times.
        beta0: mean initial point :math:`\bar\beta_0`; zero if None.
        init_variance: :math:`v \ge 0`.
        teacher: :math:`\beta^*` for the test error.
    """
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    n, d = X.shape
    lam, Q = np.linalg.eigh(X.T @ X / n)
    lam = np.clip(lam, 0.0, None)
    b_modes = Q.T @ (X.T @ y / n)
    start = Q.T @ (np.zeros(d) if beta0 is None else np.asarray(beta0, np.float64))
    means, train, test = [], [], []
    for t in np.asarray(times, np.float64):
        decay = np.exp(-lam * t)
        beta = Q @ (decay * start + _phi(lam, t) * b_modes)
        r = X @ beta - y
        means.append(beta)
        train.append(0.5 * r @ r / n + 0.5 * init_variance * np.sum(lam * decay**2))
        err = np.nan if teacher is None else np.sum((beta - teacher) ** 2)
        test.append(err + init_variance * np.sum(decay**2))
    return LinregMoments(np.array(means), np.array(train), np.array(test))
