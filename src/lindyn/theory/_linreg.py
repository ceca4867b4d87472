"""Exact gradient flow of least squares."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

__all__ = ["LinregMoments", "linreg_flow"]


class LinregMoments(NamedTuple):
    """Exact mean trajectory and expected errors of least-squares gradient flow.

    Attributes:
        beta_mean: :math:`\\mathbb E\\,\\beta(t)`, shape ``(T, d)``.
        train_loss: :math:`\\mathbb E\\,\\frac1{2n}\\|X\\beta(t) - y\\|^2`, shape ``(T,)``.
        test_error: :math:`\\mathbb E\\,\\|\\beta(t) - \\beta^*\\|^2`, shape ``(T,)`` (NaN if no teacher).
    """

    beta_mean: np.ndarray
    train_loss: np.ndarray
    test_error: np.ndarray


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

    With :math:`H = X^\top X/n` and :math:`b = X^\top y/n`,

    .. math::
        \beta(t) = e^{-Ht}\beta_0 + \Phi(t)\, b,\qquad \Phi(t) = \int_0^t e^{-Hs}\,ds ,

    both read off one matrix exponential of the augmented generator
    :math:`\begin{pmatrix}-H & b\\ 0 & 0\end{pmatrix} t` (exact also for singular :math:`H`,
    :math:`n < d`). For a random start :math:`\beta_0 \sim \mathcal N(\bar\beta_0, v I)` the
    expected errors are exact quadratic forms:
    :math:`\mathbb E\,\mathcal L = \mathcal L(\bar\beta) + \frac v2 \operatorname{tr}(e^{-Ht} H e^{-Ht})`,
    :math:`\mathbb E\,\|\beta-\beta^*\|^2 = \|\bar\beta-\beta^*\|^2 + v\operatorname{tr}(e^{-2Ht})`.

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
    H, b = X.T @ X / n, X.T @ y / n
    gen = np.zeros((d + 1, d + 1))
    gen[:d, :d], gen[:d, d] = -H, b
    mean0 = np.zeros(d) if beta0 is None else np.asarray(beta0, np.float64)
    means, train, test = [], [], []
    for t in np.asarray(times, np.float64):
        E = scipy.linalg.expm(gen * t)
        decay, beta = E[:d, :d], E[:d, :d] @ mean0 + E[:d, d]
        r = X @ beta - y
        means.append(beta)
        train.append(0.5 * r @ r / n + 0.5 * init_variance * np.trace(decay @ H @ decay))
        err = np.nan if teacher is None else np.sum((beta - teacher) ** 2)
        test.append(err + init_variance * np.sum(decay**2))
    return LinregMoments(np.array(means), np.array(train), np.array(test))
