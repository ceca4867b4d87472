r"""The normalised non-linear kernel :math:`\rho(q)` of an activation (capacity spec §2.5).

:math:`\rho(q) = \kappa_{\rm nl}(q)/\kappa_{\rm nl}(1)`, with
:math:`\kappa_{\rm nl}'(s) = \mathbb E[g'(u)g'(v)]_{{\rm corr}=s} - c_1^2`. In the variable
:math:`x = \sqrt{1-s}` the integrand :math:`f(x) = 2x\,\kappa_{\rm nl}'(1-x^2)/A` is smooth
even for kinked activations (ReLU: :math:`\arcsin(1-x^2)` is analytic in :math:`x`, while
:math:`\arcsin s` has a square-root singularity at :math:`s = 1`), so a Chebyshev interpolant
of :math:`f` on :math:`x \in [0, 1]` is integrated exactly:

.. math::
    1 - \rho(q) = \int_0^{\sqrt{1-q}} f(x)\,dx,\qquad \rho'(q) = \frac{\kappa_{\rm nl}'(q)}{A},

which keeps :math:`1 - \rho` free of cancellation as :math:`q \to 1` (spec §2.11 step 3). The
exact normalisation :math:`n = \int_0^1 f = 1` holds to the quadrature's accuracy; its error
:math:`|n - 1|` is the ``residual``, the check of the quadrature. Every value is the ratio
:math:`[P(t) - P(-1)]/[P(1) - P(-1)]` of differences of one antiderivative :math:`P` of the
interpolant, evaluated by the same code path at the ends, so that :math:`\rho(0) = 0` and
:math:`\rho(1) = 1` hold exactly by construction, whatever the rounding of the Chebyshev sums
on a given CPU (a ratio :math:`a/a` and a difference :math:`a - a` are exact in IEEE arithmetic): a
trivial saddle point :math:`q = C = D = 0` (an activation without linear part) is then exactly
stationary and inside the domain :math:`\rho_K \ge 0`, instead of :math:`10^{-14}` outside it.
Negative correlations (the finite-width theory needs :math:`\rho` at :math:`C \ge -1/(K-1)`)
use :math:`y = \sqrt{1+s}` in the same way: :math:`\rho(s) = -\int_{\sqrt{1+s}}^1 2y\,\kappa_{\rm nl}'(y^2-1)\,dy/A`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.polynomial import chebyshev as cheb

from lindyn.theory._activations import Activation, ActivationStats, activation, derivative_kernel

__all__ = ["NonlinearKernel", "nonlinear_kernel"]

DEGREE = 80


@dataclasses.dataclass(frozen=True)
class NonlinearKernel:
    """:math:`\\rho` of one activation: Chebyshev coefficients of :math:`f(x)` (module
    docstring) and of its antiderivative vanishing at :math:`x = 0`, on :math:`x \\in [0, 1]`."""

    activation: Activation
    stats: ActivationStats
    f: np.ndarray
    F: np.ndarray
    h: np.ndarray
    H: np.ndarray
    norm: float
    F_low: float

    @property
    def residual(self) -> float:
        """:math:`|n - 1|`, with :math:`n = \\int_0^1 f\\,dx` of the interpolant."""
        return abs(self.norm - 1.0)

    def _x(self, q: np.ndarray) -> np.ndarray:
        return 2.0 * np.sqrt(np.clip(1.0 - np.asarray(q, dtype=np.float64), 0.0, 1.0)) - 1.0

    def one_minus_rho(self, q: np.ndarray) -> np.ndarray:
        """:math:`1 - \\rho(q)` for ``q`` in [0, 1]."""
        return 0.5 * (_antiderivative(self._x(q), self.F) - self.F_low) / self.norm

    def rho(self, q: np.ndarray) -> np.ndarray:
        """:math:`\\rho(q) = \\kappa_{\\rm nl}(q)/A` for ``q`` in [-1, 1]."""
        q = np.asarray(q, dtype=np.float64)
        y = 2.0 * np.sqrt(np.clip(1.0 + q, 0.0, 1.0)) - 1.0
        top = _antiderivative(np.ones_like(y), self.H)
        negative = -0.5 * (top - _antiderivative(y, self.H)) / self.norm
        return np.where(q >= 0, 1.0 - self.one_minus_rho(np.maximum(q, 0.0)), negative)

    def rho_prime(self, q: np.ndarray) -> np.ndarray:
        """:math:`\\rho'(q) = \\kappa_{\\rm nl}'(q)/A` for ``q`` in [-1, 1]: :math:`f(x)/(2x)`
        from the interpolant (and its mirror for :math:`q < 0`); at :math:`q = 1`
        (:math:`x = 0`) the limit :math:`B/A`."""
        q = np.asarray(q, dtype=np.float64)
        x = np.sqrt(np.clip(1.0 - q, 0.0, 1.0))
        y = np.sqrt(np.clip(1.0 + q, 0.0, 1.0))
        positive = cheb.chebval(2.0 * x - 1.0, self.f) / (2.0 * np.where(x > 1e-8, x, 1.0))
        negative = cheb.chebval(2.0 * y - 1.0, self.h) / (2.0 * np.where(y > 1e-8, y, 1.0))
        top = np.where(x > 1e-8, positive, self.stats.B / self.stats.A)
        return np.where(q >= 0, top, negative) / self.norm


def _antiderivative(t: np.ndarray, P: np.ndarray) -> np.ndarray:
    """The Chebyshev series ``P`` at ``t``: the one evaluation used for the values and for
    the end points that normalise them (module docstring)."""
    return cheb.chebval(np.asarray(t, dtype=np.float64), P)


def nonlinear_kernel(act, stats: ActivationStats) -> NonlinearKernel:
    """Tabulate :math:`\\rho` of ``act`` (statistics ``stats``) on :data:`DEGREE` + 1
    Chebyshev points."""
    a = activation(act)
    if not stats.nonlinear:
        raise ValueError(
            f"activation {a.name!r}: no non-linear part (Var g - (E g')^2 = {stats.A:.3g}); "
            "a linear unit stores nothing beyond the perceptron"
        )
    t = np.cos(np.pi * (np.arange(DEGREE + 1) + 0.5) / (DEGREE + 1))  # Chebyshev points
    x = 0.5 * (t + 1.0)

    def fit(s: np.ndarray) -> np.ndarray:
        values = 2.0 * x * (derivative_kernel(a, s) - stats.c1**2) / stats.A
        return cheb.chebfit(t, values, DEGREE)

    f = fit(1.0 - x**2)
    F = cheb.chebint(f, lbnd=-1.0)  # in t; dx = dt/2, hence the 1/2 in one_minus_rho
    h = fit(x**2 - 1.0)
    H = cheb.chebint(h, lbnd=-1.0)
    low, high = (float(_antiderivative(np.array(end), F)) for end in (-1.0, 1.0))
    return NonlinearKernel(a, stats, f, F, h, H, 0.5 * (high - low), low)
