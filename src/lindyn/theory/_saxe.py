"""Exact mode-by-mode learning in two-layer linear networks (Saxe, McClelland & Ganguli 2014)."""

from __future__ import annotations

import numpy as np

__all__ = ["saxe_mode", "saxe_half_time"]


def saxe_mode(s: np.ndarray, a0: float | np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""Strength :math:`u(t)` of a mode with target singular value :math:`s`.

    For :math:`\mathcal L = \frac12\|W_2W_1 - \Sigma_{yx}\|_F^2` (whitened inputs), a balanced
    aligned start :math:`W_1 = R\sqrt{a_0}V^\top`, :math:`W_2 = U\sqrt{a_0}R^\top` stays aligned and
    every mode obeys :math:`\dot u = 2u(s - u)` (Saxe et al. 2014, eq. (6) with :math:`\tau = 1`):

    .. math:: u(t) = \frac{s\,a_0\,e^{2st}}{s - a_0 + a_0 e^{2st}} .

    A mode with :math:`s = 0` decays as :math:`a_0/(1 + 2a_0 t)`.

    Args:
        s: target singular values, shape ``(k,)``.
        a0: initial strength(s) (> 0).
        t: times, shape ``(T,)``.

    Returns:
        Array ``(T, k)``.
    """
    s = np.asarray(s, np.float64)[None, :]
    a0 = np.broadcast_to(np.asarray(a0, np.float64), s.shape)
    t = np.asarray(t, np.float64)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        growth = np.exp(-2.0 * s * t)  # the form with e^{-2st} never overflows
        learned = s * a0 / (a0 + (s - a0) * growth)
    return np.where(s > 0, learned, a0 / (1.0 + 2.0 * a0 * t))


def saxe_half_time(s: np.ndarray, a0: float) -> np.ndarray:
    r"""Time at which :math:`u = s/2`.

    .. math:: t_{1/2} = \frac{1}{2s}\ln\frac{s - a_0}{a_0} \approx \frac1{2s}\ln\frac{s}{a_0}.
    """
    s = np.asarray(s, np.float64)
    return np.log((s - a0) / a0) / (2.0 * s)
