r"""Closed forms of the mixed dynamics: one aligned mode, the lazy and active optima, the phase lines.

Conventions of the README's mixed notes §1: cost :math:`\frac12\|A - Y\|_F^2`,
:math:`Y = A^* + E` with unit-variance entries of :math:`A^*` (rank :math:`K`) and of the noise
:math:`E`, :math:`\sigma^2 = d^{\gamma_{\sigma^2}}`, :math:`w = d^{\gamma_w}`,
:math:`\tau = \sigma^2 w`, errors divided by :math:`d^2`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from jax import Array

__all__ = [
    "aligned_mode",
    "lazy_optimum",
    "active_optimum",
    "phase_lines",
    "gram_vector_field",
]


def aligned_mode(y: float, tau: float, s0: float, t: np.ndarray) -> np.ndarray:
    r"""The singular value :math:`s(t)` of a mode aligned with a target singular value ``y``:
    :math:`\dot s = 2\sqrt{s^2 + \tau^2}\,(y - s)` (§2.3), in closed form.

    With :math:`v(s) = (s + \sqrt{s^2 + \tau^2})/\tau = e^{\operatorname{asinh}(s/\tau)}` and
    :math:`v_\pm = (y \pm \sqrt{y^2 + \tau^2})/\tau`,
    :math:`\frac{v - v_-}{v_+ - v} = \frac{v_0 - v_-}{v_+ - v_0}e^{2\sqrt{y^2+\tau^2}\,t}`, so
    :math:`v = (\kappa v_+ + v_-)/(1 + \kappa)` and :math:`s = \tau(v - 1/v)/2`; the rate of the
    approach is :math:`2\sqrt{y^2 + \tau^2}` (lazy :math:`2\tau`, balanced :math:`2y`).

    Args:
        y: target singular value (>= 0); tau: threshold (> 0); s0: start, below ``y``.
        t: times.
    """
    if not tau > 0:
        raise ValueError(f"tau: must be > 0, got {tau}")
    root = math.hypot(y, tau)
    v_plus, v_minus = (y + root) / tau, (y - root) / tau
    v0 = math.exp(math.asinh(s0 / tau))
    # kappa = ratio * exp(2 root t), written with its inverse so that large t stays finite
    inverse = (v_plus - v0) / (v0 - v_minus) * np.exp(-2.0 * root * np.asarray(t, dtype=float))
    v = (v_plus + inverse * v_minus) / (1.0 + inverse)
    return tau * (v - 1.0 / v) / 2.0


def lazy_optimum(sigma4w: float, c: float) -> tuple[float, float]:
    r"""Minimum test error and the step that reaches it in the lazy region (§3.3).

    There :math:`A_n \approx Y + a_n(A_0 - Y)` with :math:`a_n = (1 - 2/c)^n` (the step is
    :math:`1/(c\tau)`, the kernel :math:`2\tau`); the test error
    :math:`(1 - a)^2 + a^2(1 + \sigma^4w)` is least at :math:`a = 1/(2 + \sigma^4 w)`:

    .. math:: \min_n \mathrm{test} = \frac{1 + \sigma^4 w}{2 + \sigma^4 w},\qquad
        n^* = \frac{\ln(2 + \sigma^4 w)}{-\ln(1 - 2/c)}.
    """
    if not c > 2:
        raise ValueError(f"c: must be > 2 for a contracting lazy step, got {c}")
    return (1 + sigma4w) / (2 + sigma4w), math.log(2 + sigma4w) / -math.log(1 - 2 / c)


def active_optimum(K: int, d: int) -> float:
    r"""Minimum test error deep in the active region with small initialization (§3.3): at the
    best stopping time :math:`A \approx P_K(Y)`, the rank-:math:`K` truncation of the noisy
    matrix, whose error is the part of the unit-variance noise :math:`E` in the row and column
    spaces of the signal: :math:`2Kd - K^2` entries' worth, :math:`\approx 2K/d` once divided by
    :math:`d^2`."""
    return 2.0 * K / d


def phase_lines(d: int, K: int) -> dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]]:
    r"""The three lines of the phase diagram over :math:`(\gamma_{\sigma^2}, \gamma_w)` (§3.4):
    name -> (legend, :math:`\gamma_w` as a function of :math:`\gamma_{\sigma^2}`, or a constant).

    * active vs lazy, :math:`\gamma_{\sigma^2} + \gamma_w = 1` (:math:`\sigma^2 w = d`);
    * infinite initial noise, :math:`2\gamma_{\sigma^2} + \gamma_w = 0` (:math:`\sigma^4 w = 1`);
    * under-parameterized, :math:`\gamma_w = \ln K/\ln d` (:math:`w = K`).
    """
    return {
        "lazy": ("active vs lazy: γσ² + γw = 1", lambda g: 1.0 - np.asarray(g)),
        "noise": ("infinite init noise: 2γσ² + γw = 0", lambda g: -2.0 * np.asarray(g)),
        "rank": (
            f"under-parameterized: w = K = {K}",
            lambda g: np.full_like(np.asarray(g, dtype=float), math.log(K) / math.log(d)),
        ),
    }


def gram_vector_field(state: tuple[Array, Array, Array], Y: Array) -> tuple[Array, Array, Array]:
    r"""The exact gradient flow of :math:`\frac12\|W_2W_1 - Y\|^2` as a closed system of
    :math:`(A, C_1, C_2)` (§2.1), with :math:`G = A - Y`:

    .. math:: \dot A = -(C_2G + GC_1),\quad \dot C_1 = -(G^\top A + A^\top G),\quad
        \dot C_2 = -(GA^\top + AG^\top).

    Started on :math:`C_1 = \sqrt{A^\top A + \tau^2 I}`, :math:`C_2 = \sqrt{AA^\top + \tau^2I}` it
    stays there, and its :math:`A` is the self-consistent dynamics (the invariant manifold of
    §2.2).
    """
    A, C1, C2 = state
    G = A - Y
    return -(C2 @ G + G @ C1), -(G.T @ A + A.T @ G), -(G @ A.T + A @ G.T)
