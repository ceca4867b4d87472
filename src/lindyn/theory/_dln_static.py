r"""Long-time fixed points of diagonal-network gradient flow (the README's dln notes §5).

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
over :math:`Z` is inaccurate for kinked proxes (spec §3). Every integrand here is invariant under
:math:`(x, \beta^*) \to (-x, -\beta^*)` (odd estimators, symmetric teacher and grid), so only the
nodes :math:`\beta^* \ge 0` are kept, the positive ones with twice their weight.

The min-:math:`Q_\alpha` unknowns :math:`(\ln g, \ln s)`: Newton's method on the s equation,
with g re-solved by Newton's method at each s, all derivatives analytic (implicit differentiation
of the prox) and every step kept inside a bracket of known signs. A cold solve takes about 20 prox
evaluations on the 31 × 1601 grid (≈ 0.1 s); :func:`dln_fixed_point_sweep` starts each α from
its neighbour (≈ 0.05 s per α, κ included).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq

from lindyn.theory._checks import Check, validate
from lindyn.theory._fixed_point import damped_fixed_point

__all__ = ["StaticPoint", "convergence_rate", "dln_fixed_point", "dln_fixed_point_sweep"]

_Z = np.linspace(-8.0, 8.0, 1601)
_WZ = np.exp(-(_Z**2) / 2) / np.sqrt(2 * np.pi) * np.gradient(_Z)
_WZ[[0, -1]] /= 2  # trapezoid end weights
_TOL = 1e-12  # max-abs residual of the min-Q_alpha equations
_PROX_STEPS = 60  # Newton budget of the prox


@dataclasses.dataclass(frozen=True)
class StaticPoint:
    r"""A long-time fixed point: limits of the test error and train loss, and the solve record.

    ``g`` (the prox parameter) and ``kappa`` (the loss rate of :func:`convergence_rate`) are set
    in the min-Q_alpha case only. ``status`` is ``"converged"`` or the solver's failure
    (``"max_iter"``, ``"stalled"``, ``"diverged"``). ``residual`` is, for min-Q_alpha,
    :math:`\max(|\mathbb E\,\eta' - \delta|, |(\sigma^2 + \mathrm{mse})/(\delta s^2) - 1|)` at
    the returned values (converged below 1e-12), else the last change of the :math:`s^2` map.
    """

    case: str
    test_error: float
    train_loss: float
    s: float
    status: str
    residual: float
    g: float = float("nan")
    kappa: float = float("nan")


@functools.lru_cache(maxsize=16)
def _teacher(rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Support points β* ≥ 0 and weights of the folded Bernoulli–Gaussian teacher (E β*² = ρ).

    The 60 Gauss–Hermite nodes are symmetric and non-zero: the 30 positive ones carry twice their
    weight. Cached, so the arrays are read-only.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    positive = nodes > 0
    folded = 2 * rho * weights[positive] / np.sqrt(2 * np.pi)
    support = np.concatenate([[0.0], nodes[positive]]), np.concatenate([[1 - rho], folded])
    for array in support:
        array.flags.writeable = False
    return support


def _grid(s: float, rho: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:math:`x = \\beta^* + sZ` on the (teacher × Z) grid, β* in the same shape, and the weights."""
    b, wb = _teacher(rho)
    x = b[:, None] + s * _Z[None, :]
    return x, np.broadcast_to(b[:, None], x.shape), wb[:, None] * _WZ[None, :]


def _expect(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], s: float, rho: float) -> float:
    """:math:`\\mathbb E f(x, \\beta^*)` with :math:`x = \\beta^* + sZ`."""
    x, b, w = _grid(s, rho)
    return float(np.sum(w * fn(x, b)))


def _soft(x: np.ndarray, theta: float) -> np.ndarray:
    return np.sign(x) * np.maximum(np.abs(x) - theta, 0.0)


def _hyperbolic_prox(x: np.ndarray, g: float, alpha: float) -> np.ndarray:
    """:math:`\\arg\\min_b \\frac g2 (b-x)^2 + Q_\\alpha(b)` via :math:`b = \\alpha^2\\sinh 2H`.

    The prox is odd; for :math:`x \\ge 0`, :math:`f(H) = g\\alpha^2\\sinh 2H + H - gx` is increasing
    and convex on :math:`H \\ge 0` with its root below :math:`gx/(1 + 2g\\alpha^2)` (as
    :math:`\\sinh 2H \\ge 2H`) and below :math:`\\frac12\\mathrm{asinh}(x/\\alpha^2)` (where
    :math:`f = H`). Newton's method started at the smaller bound decreases monotonically to the
    root; it stops after a step below :math:`10^{-13}(1 + H)`, which (quadratic convergence) leaves
    the iterate exact to rounding: at most 8 steps for α in [1e-4, 10] and g in [1e-3, 1e4].
    """
    ax, ga2 = np.abs(x), g * alpha**2
    H = np.minimum(g * ax / (1 + 2 * ga2), 0.5 * np.arcsinh(ax / alpha**2))
    for _ in range(_PROX_STEPS):
        step = (ga2 * np.sinh(2 * H) + H - g * ax) / (2 * ga2 * np.cosh(2 * H) + 1)
        H = H - step
        if not np.any(np.abs(step) > 1e-13 * (1 + H)):  # NaN passes through
            return np.sign(x) * alpha**2 * np.sinh(2 * H)
    raise RuntimeError(f"hyperbolic prox: Newton not converged in {_PROX_STEPS} steps")


def _curvature(eta: np.ndarray, alpha: float) -> np.ndarray:
    """:math:`Q_\\alpha''(\\eta) = 1/(2\\sqrt{\\eta^2 + \\alpha^4})`."""
    return 0.5 / np.sqrt(eta**2 + alpha**4)


class _Moments(NamedTuple):
    """The min-Q_alpha equations at one (ln g, ln s)."""

    residual: np.ndarray  # (F_1, F_2)
    jacobian: np.ndarray  # d(F_1, F_2) / d(ln g, ln s)
    mse: float
    D: np.ndarray  # 2 sqrt(eta^2 + alpha^4) = 1 / Q_alpha''(eta) on the grid
    w: np.ndarray  # its quadrature weights


def _q_alpha_moments(
    log_g: float, log_s: float, delta: float, alpha: float, rho: float, sigma: float
) -> _Moments:
    r"""Residuals and Jacobian of the min-:math:`Q_\alpha` equations in :math:`(\ln g, \ln s)`.

    :math:`F_1 = \mathbb E\,\eta' - \delta` and the relative
    :math:`F_2 = (\sigma^2 + \mathbb E(\eta - \beta^*)^2)/(\delta s^2) - 1` (s → 0 in noiseless
    exact recovery), with :math:`\eta' = g/(g + q_2)`, :math:`q_2 = Q_\alpha''(\eta)` and
    :math:`Q_\alpha''' = -4\eta q_2^3`. Differentiating :math:`g(\eta - x) + Q_\alpha'(\eta) = 0`
    gives :math:`\partial_{\ln g}\eta = g(x - \eta)/(g + q_2)`, :math:`\partial_{\ln s}\eta = gsZ/(g + q_2)`
    and :math:`d\eta' = g(q_2\, d\ln g + 4\eta q_2^3\, d\eta)/(g + q_2)^2`.
    """
    g, s = np.exp(log_g), np.exp(log_s)
    x, b, w = _grid(s, rho)
    eta = _hyperbolic_prox(x, g, alpha)
    q2 = _curvature(eta, alpha)
    err = eta - b
    mse = float(np.sum(w * err**2))
    deta = g * np.stack([x - eta, x - b]) / (g + q2)  # d eta / d(ln g, ln s)
    dslope = g * (q2 * np.array([1.0, 0.0])[:, None, None] + 4 * eta * q2**3 * deta) / (g + q2) ** 2
    ratio = (sigma**2 + mse) / (delta * s**2)
    dratio = 2 * np.sum(w * err * deta, axis=(1, 2)) / (delta * s**2) - np.array([0.0, 2 * ratio])
    residual = np.array([np.sum(w * g / (g + q2)) - delta, ratio - 1])
    return _Moments(residual, np.stack([np.sum(w * dslope, axis=(1, 2)), dratio]), mse, 1 / q2, w)


def _log_g_bounds(log_s: float, delta: float, alpha: float, rho: float) -> tuple[float, float]:
    """Bracket of ln g solving :math:`F_1 = 0` at fixed s.

    :math:`\\eta' = g/(g + Q_\\alpha''(\\eta))` increases with g pointwise, and
    :math:`Q_\\alpha''(\\eta)` lies between :math:`1/(2\\sqrt{x^2 + \\alpha^4})` (as
    :math:`|\\eta| \\le |x|`) and :math:`1/(2\\alpha^2)`, so
    :math:`\\delta/(2\\mathbb E\\sqrt{x^2 + \\alpha^4}) \\le g \\le \\delta/(2\\alpha^2(1 - \\delta))`.
    """
    scale = _expect(lambda x, b: np.sqrt(x**2 + alpha**4), np.exp(log_s), rho)
    return np.log(delta / (2 * scale)), np.log(delta / (2 * alpha**2 * (1 - delta)))


def _bracketed_newton(
    fun: Callable[[float], tuple[float, float]],
    x: float,
    lo: float,
    hi: float,
    tol: float,
    max_iter: int = 100,
) -> tuple[float, str]:
    """Zero of an increasing f, ``(f(x), f'(x)) = fun(x)``, known to lie in [lo, hi] (may be ±inf).

    Newton steps capped at 1; one leaving the shrinking bracket is replaced by bisection (the
    bracket is then finite). Returns the last point evaluated and ``"converged"`` (|f| < tol),
    ``"max_iter"``, ``"stalled"`` (bracket down to rounding) or ``"diverged"`` (non-finite f).
    """
    last = x
    for _ in range(max_iter):
        f, slope = fun(x)
        if not np.isfinite(f):
            return x, "diverged"
        if abs(f) < tol:
            return x, "converged"
        lo, hi = (x, hi) if f < 0 else (lo, x)
        if hi - lo <= 1e-15 * (1 + abs(x)):
            return x, "stalled"
        step = float(np.clip(-f / slope, -1.0, 1.0)) if slope > 0 else float(np.sign(-f))
        last, x = x, (x + step if lo < x + step < hi else (lo + hi) / 2)
    return last, "max_iter"


def _solve_q_alpha(
    moments: Callable[[float, float], _Moments],
    start: tuple[float, float],
    log_g_bounds: Callable[[float], tuple[float, float]],
    log_s_min: float,
) -> tuple[float, float, str]:
    r"""(ln g, ln s, status) by Newton on :math:`\varphi(\ln s) = F_2(\ln g(s), \ln s)`.

    :math:`\ln g(s)` solves :math:`F_1 = 0` at fixed s, starting on the tangent
    :math:`d\ln g/d\ln s = -\partial_{\ln s}F_1/\partial_{\ln g}F_1` of the previous solve;
    :math:`\varphi' = \partial_{\ln s}F_2 + \partial_{\ln g}F_2\, d\ln g/d\ln s`. φ ≥ 0 at
    ``log_s_min`` (:math:`s^2 = \sigma^2/\delta`) and the steps in ln s, at most 1, stay inside
    the bracket of known signs, so they cannot run away where φ is flat (noiseless recovery,
    where :math:`\mathrm{mse} \propto s^2` over decades of s).
    """
    log_g, anchor, tangent = start[0], start[1], 0.0

    def minus_phi(log_s: float) -> tuple[float, float]:
        nonlocal log_g, anchor, tangent
        lo, hi = log_g_bounds(log_s)
        guess = float(np.clip(log_g + tangent * (log_s - anchor), lo, hi))

        def first(y: float) -> tuple[float, float]:
            at = moments(y, log_s)
            return at.residual[0], at.jacobian[0, 0]

        log_g, _ = _bracketed_newton(first, guess, lo, hi, _TOL / 10)
        F, J = moments(log_g, log_s)[:2]
        anchor, tangent = log_s, -J[0, 1] / J[0, 0]
        return -F[1], -(J[1, 1] + J[1, 0] * tangent)

    _, status = _bracketed_newton(minus_phi, start[1], log_s_min, np.inf, _TOL)
    return log_g, anchor, status


def _min_q_alpha(
    delta: float, alpha: float, rho: float, sigma: float, start: tuple[float, float] | None = None
) -> StaticPoint:
    r"""Solve the min-Q_alpha equations from ``start`` = (ln g, ln s), else from a cold start.

    The cold start is the "nothing learned" :math:`s^2 = (\sigma^2 + \rho)/\delta` with g at its
    upper bound (the min-ℓ2 value); a failed warm start is retried cold. ``status`` is
    ``"converged"`` only if both residuals at the returned point are below 1e-12.
    """
    moments = functools.lru_cache(maxsize=4)(
        functools.partial(_q_alpha_moments, delta=delta, alpha=alpha, rho=rho, sigma=sigma)
    )
    bounds = functools.partial(_log_g_bounds, delta=delta, alpha=alpha, rho=rho)
    log_s_min = np.log(sigma / np.sqrt(delta)) if sigma > 0 else -np.inf  # there F_2 >= 0
    warm = start is not None
    if start is None:
        log_s0 = 0.5 * np.log((sigma**2 + rho) / delta)
        start = (bounds(log_s0)[1], log_s0)
    log_g, log_s, status = _solve_q_alpha(moments, start, bounds, log_s_min)
    if warm and status != "converged":
        return _min_q_alpha(delta, alpha, rho, sigma)
    at = moments(log_g, log_s)
    residual = float(np.max(np.abs(at.residual)))
    if residual >= _TOL and status == "converged":
        status = "stalled"  # the inner g solve failed
    kappa = _spectral_edge(at.D, at.w, delta) if np.isfinite(residual) else np.nan
    g, s = float(np.exp(log_g)), float(np.exp(log_s))
    return StaticPoint("min_Q_alpha", at.mse, 0.0, s, status, residual, g, kappa)


def _spectral_edge(D: np.ndarray, w: np.ndarray, delta: float) -> float:
    r""":math:`\kappa = \max_{m > 0}\{-1/m + \mathbb E[D/(1 + \delta D m)]\}` for D on the grid (weights w).

    Stationarity is :math:`\psi(m) = \delta\,\mathbb E[(Dm/(1 + \delta Dm))^2] = 1`, with ψ
    increasing from 0 to :math:`1/\delta > 1`: a unique maximiser, between the constant-D roots
    :math:`m = 1/(c\sqrt\delta(1 - \sqrt\delta))` at :math:`c = \max D` and :math:`c = \min D`
    (widened by 2 against rounding).
    """
    c = np.sqrt(delta) * (1 - np.sqrt(delta))
    psi = lambda m: delta * np.sum(w * (D * m / (1 + delta * D * m)) ** 2) - 1  # noqa: E731
    m = brentq(psi, 0.5 / (c * D.max()), 2 / (c * D.min()))
    return float(-1 / m + np.sum(w * D / (1 + delta * D * m)))


def _common_checks(delta: float, rho: float, sigma: float, lam: float = 0.0) -> tuple[Check, ...]:
    return (
        ("delta", delta, delta > 0, "> 0"),
        ("delta", delta, lam > 0 or delta != 1, "!= 1 when lam = 0 (interpolation threshold)"),
        ("rho", rho, 0 < rho <= 1, "in (0, 1]"),
        ("sigma", sigma, sigma >= 0, ">= 0"),
    )


def dln_fixed_point(
    delta: float, alpha: float, *, lam: float = 0.0, rho: float = 0.2, sigma: float = 0.1
) -> StaticPoint:
    """The t → ∞ limit of gradient flow on the diagonal network (module docstring).

    ``alpha = 0`` with ``lam = 0``, ``delta < 1`` gives basis pursuit, ``alpha = inf`` min-ℓ2.
    Results are cached per argument tuple.
    """
    validate(
        (
            *_common_checks(delta, rho, sigma, lam),
            ("alpha", alpha, alpha >= 0, ">= 0"),
            ("lam", lam, lam >= 0, ">= 0"),
        )
    )
    return _cached_fixed_point(float(delta), float(alpha), float(lam), float(rho), float(sigma))


def dln_fixed_point_sweep(
    delta: float, alphas: Sequence[float] | np.ndarray, *, rho: float = 0.2, sigma: float = 0.1
) -> list[StaticPoint]:
    r""":func:`dln_fixed_point` at λ = 0 for many initialisation scales, in the order given.

    For δ < 1 and 0 < α < ∞ the limit is the min-:math:`Q_\alpha` interpolator (spec §5.1 (iii)):
    the unknowns :math:`(g, s)` solve

    .. math:: \mathbb E\,\eta'(x) = \delta, \qquad
        s^2 = \frac{\sigma^2 + \mathbb E(\eta(x) - \beta^*)^2}{\delta}, \qquad
        \eta = \mathrm{prox}_{Q_\alpha/g}, \quad x = \beta^* + sZ,

    and each point carries the rate ``kappa`` of :func:`convergence_rate` (spec §5.3). The α are
    solved in increasing order, each Newton solve starting from its neighbour's :math:`(\ln g, \ln s)`
    (a cold start where that fails), so a sweep costs a few hundredths of a second per α. Its
    values agree with :func:`dln_fixed_point` to the solver tolerance (residual below 1e-12).
    ``alpha = 0`` (basis pursuit), ``alpha = inf`` (min-ℓ2) and δ > 1 (least squares) are
    delegated to :func:`dln_fixed_point`.
    """
    values = np.asarray(alphas, dtype=float)
    validate(
        (
            *_common_checks(delta, rho, sigma),
            ("alphas", alphas, values.ndim == 1 and values.size > 0, "a non-empty 1-D sequence"),
            ("alphas", alphas, bool(np.all(values >= 0)), ">= 0 (inf allowed)"),
        )
    )
    solved: dict[float, StaticPoint] = {}
    start = None
    for alpha in np.unique(values):
        if delta < 1 and 0 < alpha < np.inf:
            point = _min_q_alpha(float(delta), float(alpha), float(rho), float(sigma), start)
            converged = point.status == "converged"
            start = (np.log(point.g), np.log(point.s)) if converged else None
        else:
            point = dln_fixed_point(delta, float(alpha), rho=rho, sigma=sigma)
        solved[float(alpha)] = point
    return [solved[float(alpha)] for alpha in values]


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
        s = float(np.sqrt((sigma**2 + mse) / delta))
        return StaticPoint("min_l2", mse, 0.0, s, "converged", 0.0)
    if alpha == 0:
        return _basis_pursuit(delta, rho, sigma)
    return _min_q_alpha(delta, alpha, rho, sigma)


def _solve_s(step: Callable[[float], float], s2: float) -> tuple[float, str, float]:
    """Iterate the s^2 map to its fixed point; returns (s^2, status, residual)."""
    res = damped_fixed_point(
        lambda v: np.asarray(step(float(v))), np.asarray(s2), damping=1.0, tol=1e-10, max_iter=500
    )
    return float(res.value), res.status, res.residual


def _basis_pursuit(delta: float, rho: float, sigma: float) -> StaticPoint:
    def step(s2: float) -> float:
        s = np.sqrt(s2)
        theta = brentq(
            lambda th: _expect(lambda x, b: np.abs(x) > th, s, rho) - delta, 1e-12, 50 * s
        )
        mse = _expect(lambda x, b: (_soft(x, theta) - b) ** 2, s, rho)
        return (sigma**2 + mse) / delta

    s2, status, residual = _solve_s(step, (sigma**2 + rho) / delta)
    return StaticPoint(
        "basis_pursuit", delta * s2 - sigma**2, 0.0, float(np.sqrt(s2)), status, residual
    )


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
    return StaticPoint("lasso", mse, train, float(np.sqrt(s2)), status, residual)


def convergence_rate(delta: float, alpha: float, *, rho: float = 0.2, sigma: float = 0.1) -> float:
    r"""Asymptotic rate :math:`\kappa(\alpha)` of the train loss, :math:`\mathcal L \approx e^{-2\kappa t}` (§5.3).

    The lower spectral edge of :math:`XDX^\top` with :math:`D = 2\sqrt{\eta(x)^2 + \alpha^4}` at the
    min-:math:`Q_\alpha` fixed point (λ = 0, δ < 1), by the Marchenko–Pastur–Silverstein equation:

    .. math:: \kappa = \max_{m > 0}\Big\{-\frac1m + \mathbb E\Big[\frac{D}{1 + \delta D m}\Big]\Big\}.

    A constant :math:`D = c` gives :math:`c(1 - \sqrt\delta)^2`. The maximiser is the unique root of
    :math:`\delta\,\mathbb E[(Dm/(1 + \delta Dm))^2] = 1`, found with the fixed point and stored as
    :attr:`StaticPoint.kappa` (so :func:`dln_fixed_point_sweep` gives κ for many α at once).
    Raises :class:`RuntimeError` if the fixed point did not converge.
    """
    validate(
        (
            ("delta", delta, 0 < delta < 1, "in (0, 1) (lam = 0 interpolation regime)"),
            ("alpha", alpha, 0 < alpha < np.inf, "in (0, inf)"),
        )
    )
    point = dln_fixed_point(delta, alpha, rho=rho, sigma=sigma)
    if point.status != "converged":
        raise RuntimeError(
            f"convergence_rate: fixed point {point.status}, residual {point.residual}"
        )
    return point.kappa
