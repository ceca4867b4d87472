r"""Long-time fixed points of diagonal-network gradient flow (``shared/theory/dln_dmft.md`` §5).

Scalar state-evolution problems in the conventions of :mod:`lindyn.experiments.dln`. With
:math:`x = \beta^* + sZ`, :math:`Z \sim \mathcal N(0, 1)` and a separable estimator :math:`\eta(x)`:
:math:`\mathrm{mse} = \mathbb E(\eta(x) - \beta^*)^2` is the limit of the test error and
:math:`s^2 = (\sigma^2 + \mathrm{mse})/\delta`.

* λ > 0: Lasso, :math:`\eta = \mathrm{soft}(x;\lambda/\gamma)`,
  :math:`\gamma = \delta - \mathbb P(|x| > \lambda/\gamma)`;
* λ = 0, δ > 1: least squares, :math:`\mathrm{mse} = \sigma^2/(\delta - 1)`;
* λ = 0, δ < 1: the minimum-:math:`Q_\alpha` interpolator (hyperbolic entropy),
  :math:`\eta = \mathrm{prox}_{Q_\alpha/g}`, :math:`\delta = \mathbb E\,\eta'(x)`; its α → 0 limit is basis
  pursuit (soft threshold with :math:`\delta = \mathbb P(|x| > \theta)`).

Expectations over :math:`Z` use a fine trapezoid grid (1601 points on [-8, 8]) and over the
Gaussian part of the Bernoulli–Gaussian teacher Gauss–Hermite (60 nodes): plain Gauss–Hermite
over :math:`Z` is inaccurate for kinked proxes (spec §3).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from lindyn.theory._fixed_point import damped_fixed_point

__all__ = ["StaticPoint", "dln_fixed_point", "convergence_rate"]

_Z = np.linspace(-8.0, 8.0, 1601)
_WZ = np.exp(-(_Z**2) / 2) / np.sqrt(2 * np.pi) * np.gradient(_Z)
_WZ[[0, -1]] /= 2  # trapezoid end weights


@dataclasses.dataclass(frozen=True)
class StaticPoint:
    """A long-time fixed point: limits of the test error and train loss, and the solve record."""

    case: str
    test_error: float
    train_loss: float
    s: float
    status: str
    residual: float
    g: float = float("nan")  # the prox parameter of the min-Q_alpha case


def _teacher(rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Support points and weights of the Bernoulli–Gaussian teacher (E beta*^2 = rho)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / np.sqrt(2 * np.pi)
    return np.concatenate([[0.0], nodes]), np.concatenate([[1 - rho], rho * weights])


def _expect(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], s: float, rho: float) -> float:
    """:math:`\\mathbb E f(x, \\beta^*)` with :math:`x = \\beta^* + sZ`."""
    b, wb = _teacher(rho)
    x = b[:, None] + s * _Z[None, :]
    return float(np.sum(wb[:, None] * _WZ[None, :] * fn(x, np.broadcast_to(b[:, None], x.shape))))


def _soft(x: np.ndarray, theta: float) -> np.ndarray:
    return np.sign(x) * np.maximum(np.abs(x) - theta, 0.0)


def _hyperbolic_prox(x: np.ndarray, g: float, alpha: float) -> np.ndarray:
    """:math:`\\arg\\min_b \\frac g2 (b-x)^2 + Q_\\alpha(b)` via :math:`b = \\alpha^2\\sinh 2H`.

    :math:`f(H) = g\\alpha^2\\sinh 2H + H - gx` is increasing, with its root between 0 and
    :math:`\\mathrm{sign}(x)\\min(g|x|, \\frac12\\mathrm{asinh}(|x|/\\alpha^2))`: 30 bisections,
    then Newton steps kept inside the bracket.
    """
    edge = np.sign(x) * np.minimum(g * np.abs(x), 0.5 * np.arcsinh(np.abs(x) / alpha**2))
    lo, hi = np.minimum(0.0, edge), np.maximum(0.0, edge)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(30):
            mid = (lo + hi) / 2
            positive = g * alpha**2 * np.sinh(2 * mid) + mid - g * x > 0
            hi, lo = np.where(positive, mid, hi), np.where(positive, lo, mid)
        H = (lo + hi) / 2
        for _ in range(4):
            f = g * alpha**2 * np.sinh(2 * H) + H - g * x
            newton = H - f / (2 * g * alpha**2 * np.cosh(2 * H) + 1)
            H = np.where(np.isfinite(newton), np.clip(newton, lo, hi), H)
    return alpha**2 * np.sinh(2 * H)


def _prox_parameter(s: float, delta: float, alpha: float, rho: float) -> float:
    """The g with :math:`\\mathbb E\\,\\eta'(x) = \\delta`, :math:`\\eta' = g/(g + Q_\\alpha''(\\eta))`."""

    def slope(log_g: float) -> float:
        g = np.exp(log_g)
        q2 = lambda x: 0.5 / np.sqrt(_hyperbolic_prox(x, g, alpha) ** 2 + alpha**4)  # noqa: E731
        return _expect(lambda x, b: g / (g + q2(x)), s, rho) - delta

    return float(np.exp(brentq(slope, -40.0, 40.0)))


def _solve_s(step: Callable[[float], float], s2: float) -> tuple[float, str, float]:
    """Iterate the s^2 map to its fixed point; returns (s^2, status, residual)."""
    res = damped_fixed_point(
        lambda v: np.asarray(step(float(v))), np.asarray(s2), damping=1.0, tol=1e-10, max_iter=500
    )
    return float(res.value), res.status, res.residual


def dln_fixed_point(
    delta: float, alpha: float, *, lam: float = 0.0, rho: float = 0.2, sigma: float = 0.1
) -> StaticPoint:
    """The t → ∞ limit of gradient flow on the diagonal network (module docstring).

    ``alpha = 0`` with ``lam = 0``, ``delta < 1`` gives basis pursuit, ``alpha = inf`` min-ℓ2.
    Results are cached per argument tuple (the solve takes seconds).
    """
    checks = (
        ("delta", delta, delta > 0, "> 0"),
        ("alpha", alpha, alpha >= 0, ">= 0"),
        ("lam", lam, lam >= 0, ">= 0"),
        ("rho", rho, 0 < rho <= 1, "in (0, 1]"),
        ("sigma", sigma, sigma >= 0, ">= 0"),
    )
    for name, value, ok, allowed in checks:
        if not ok:
            raise ValueError(f"{name}: must be {allowed}, got {value!r}")
    return _cached_fixed_point(float(delta), float(alpha), float(lam), float(rho), float(sigma))


@functools.lru_cache(maxsize=256)
def _cached_fixed_point(
    delta: float, alpha: float, lam: float, rho: float, sigma: float
) -> StaticPoint:
    if lam > 0:
        return _lasso(delta, lam, rho, sigma)
    if delta > 1:
        mse = sigma**2 / (delta - 1)
        return StaticPoint("ols", mse, 0.5 * sigma**2 * (1 - 1 / delta), np.nan, "converged", 0.0)
    if np.isinf(alpha):
        mse = (1 - delta) * rho + delta * sigma**2 / (1 - delta)
        return StaticPoint("min_l2", mse, 0.0, np.sqrt((sigma**2 + mse) / delta), "converged", 0.0)
    return _interpolator(delta, alpha, rho, sigma)


def _interpolator(delta: float, alpha: float, rho: float, sigma: float) -> StaticPoint:
    if alpha == 0:

        def estimator(s: float) -> Callable[[np.ndarray], np.ndarray]:
            theta = brentq(
                lambda th: _expect(lambda x, b: np.abs(x) > th, s, rho) - delta, 1e-12, 50 * s
            )
            return lambda x: _soft(x, theta)

        case = "basis_pursuit"
    else:

        def estimator(s: float) -> Callable[[np.ndarray], np.ndarray]:
            g = _prox_parameter(s, delta, alpha, rho)
            return lambda x: _hyperbolic_prox(x, g, alpha)

        case = "min_Q_alpha"

    def step(s2: float) -> float:
        eta = estimator(np.sqrt(s2))
        mse = _expect(lambda x, b: (eta(x) - b) ** 2, np.sqrt(s2), rho)
        return (sigma**2 + mse) / delta

    s2, status, residual = _solve_s(step, (sigma**2 + rho) / delta)
    mse = delta * s2 - sigma**2
    g = _prox_parameter(np.sqrt(s2), delta, alpha, rho) if alpha > 0 else float("nan")
    return StaticPoint(case, mse, 0.0, np.sqrt(s2), status, residual, g)


def _lasso(delta: float, lam: float, rho: float, sigma: float) -> StaticPoint:
    def gamma_of(s: float) -> float:
        return brentq(
            lambda gm: gm - delta + _expect(lambda x, b: np.abs(x) > lam / gm, s, rho), 1e-9, delta
        )

    def step(s2: float) -> float:
        s = np.sqrt(s2)
        gm = gamma_of(s)
        mse = _expect(lambda x, b: (_soft(x, lam / gm) - b) ** 2, s, rho)
        return (sigma**2 + mse) / delta

    s2, status, residual = _solve_s(step, (sigma**2 + rho) / delta)
    mse = delta * s2 - sigma**2
    gm = gamma_of(np.sqrt(s2))
    train = 0.5 * (sigma**2 + mse) * (gm / delta) ** 2
    return StaticPoint("lasso", mse, train, np.sqrt(s2), status, residual)


def convergence_rate(delta: float, alpha: float, *, rho: float = 0.2, sigma: float = 0.1) -> float:
    r"""Asymptotic rate :math:`\kappa(\alpha)` of the train loss, :math:`\mathcal L \approx e^{-2\kappa t}` (§5.3).

    The lower spectral edge of :math:`XDX^\top` with :math:`D = 2\sqrt{\eta(x)^2 + \alpha^4}` at the
    min-:math:`Q_\alpha` fixed point (λ = 0, δ < 1), by the Marchenko–Pastur–Silverstein equation:

    .. math:: \kappa = \max_{m > 0}\Big\{-\frac1m + \mathbb E\Big[\frac{D}{1 + \delta D m}\Big]\Big\}.

    A constant :math:`D = c` gives :math:`c(1 - \sqrt\delta)^2`.
    """
    if not (0 < delta < 1 and alpha > 0):
        raise ValueError("convergence_rate: needs 0 < delta < 1 and alpha > 0 (lambda = 0)")
    point = dln_fixed_point(delta, alpha, rho=rho, sigma=sigma)
    D = lambda x: 2 * np.sqrt(_hyperbolic_prox(x, point.g, alpha) ** 2 + alpha**4)  # noqa: E731

    def negative(log_m: float) -> float:
        m = np.exp(log_m)
        return 1 / m - _expect(lambda x, b: D(x) / (1 + delta * D(x) * m), point.s, rho)

    best = minimize_scalar(
        negative, bounds=(-15.0, 15.0), method="bounded", options={"xatol": 1e-10}
    )
    return float(-best.fun)
