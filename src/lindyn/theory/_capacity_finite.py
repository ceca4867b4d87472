r"""Storage capacity at finite width: one hidden unit exactly, and the Gaussian approximation.

The README's capacity notes §2.10 and §5.

* :math:`K = 1`: the machine is :math:`\operatorname{sign}\tilde g(\lambda)`, a perceptron
  whose allowed pre-activations for label :math:`y` form the set
  :math:`A_y = \{\lambda: y\tilde g(\lambda) > 0\}`. Gardner's RS calculation as
  :math:`q \to 1` (the entropic :math:`1/(2(1-q))` against the energetic
  :math:`-\mathbb E_y\int Dt\,d(t, A_y)^2/(2(1-q))`) gives
  :math:`\alpha_c^{-1} = \tfrac12\sum_y\int Dt\,d(t, A_y)^2`. A monotone :math:`g` crosses
  its mean once, at :math:`\theta`: a perceptron with threshold, Gardner's
  :math:`\alpha_c^{-1} = \tfrac12[F(\theta) + F(-\theta)]`,
  :math:`F(\kappa) = \int_{-\kappa}^\infty Dt\,(t+\kappa)^2 = (1+\kappa^2)\Phi(\kappa) + \kappa\varphi(\kappa)`;
  :math:`\alpha_c = 2` for a zero threshold (odd monotone units).
* :math:`K \ge 2`, Gaussian field at finite :math:`K` (heuristic, exact as :math:`K \to \infty`):
  with :math:`\tilde\kappa(C) = c_1^2C + A\rho(C)` the centred kernel,

  .. math::
      \alpha_c(K) = \max_C\min_\theta\frac2K\Big[\frac{(K-1)(1-C)}{1-\theta}
      + \frac{1+(K-1)C}{1+(K-1)\theta}\Big]
      \frac{\tilde\kappa'(1)+(K-1)\theta\,\tilde\kappa'(C)}{\tilde\kappa(1)+(K-1)\tilde\kappa(C)},

  :math:`C, \theta \in (-1/(K-1), 1)`; a linear unit gives :math:`2/K`, the perceptron's
  capacity per parameter, and :math:`\alpha_c(K) \to 2B/A`.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from scipy import optimize, special

from lindyn.theory._activations import (
    CUTOFF,
    activation,
    activation_stats,
    gaussian_mean,
)
from lindyn.theory._capacity_kernel import NonlinearKernel, nonlinear_kernel
from lindyn.theory._checks import validate

__all__ = [
    "gardner_threshold_capacity",
    "single_unit_capacity",
    "FiniteWidthCapacity",
    "finite_width_capacity",
]


def _F(kappa: float) -> float:
    return (1 + kappa**2) * float(special.ndtr(kappa)) + kappa * math.exp(
        -(kappa**2) / 2
    ) / math.sqrt(2 * math.pi)


def gardner_threshold_capacity(threshold: float = 0.0) -> float:
    r"""Capacity of a spherical perceptron :math:`\operatorname{sign}(\lambda - \theta)` on
    random labels: :math:`2/[F(\theta) + F(-\theta)]` (module docstring).

    Example:
        >>> gardner_threshold_capacity(0.0)
        2.0
    """
    return float(2.0 / (_F(threshold) + _F(-threshold)))


def _roots(centred) -> np.ndarray:
    """Sign changes of ``centred`` on :math:`[-12, 12]`, refined by Brent's method."""
    z = np.linspace(-CUTOFF, CUTOFF, 24001)
    g = centred(z)
    flips = np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)
    roots = [
        optimize.brentq(lambda x: float(centred(np.array([x]))[0]), z[i], z[i + 1], xtol=1e-14)
        for i in flips
    ]
    exact = z[np.flatnonzero(g == 0)]
    return np.unique(np.concatenate([np.asarray(roots), exact]))


def single_unit_capacity(act) -> float:
    r""":math:`K = 1`: :math:`\alpha_c^{-1} = \tfrac12\sum_y\int Dt\,d(t, A_y)^2` (module docstring).

    Example:
        >>> round(single_unit_capacity("tanh"), 12)
        2.0
    """
    a = activation(act)
    mean = activation_stats(a).mean

    def centred(z: np.ndarray) -> np.ndarray:
        return a(z) - mean

    roots = _roots(centred)
    if roots.size == 0:
        raise ValueError(f"activation {a.name!r}: g - E g does not change sign")

    def distance2(t: np.ndarray) -> np.ndarray:
        nearest = np.min(np.abs(t[..., None] - roots), axis=-1) ** 2
        inside = centred(t) > 0  # t in A_+: distance 0 for y = +1, nearest root for y = -1
        return 0.5 * nearest * (inside + ~inside)  # one of the two labels pays

    breaks = np.concatenate([roots, (roots[1:] + roots[:-1]) / 2])
    return 1.0 / gaussian_mean(distance2, tuple(breaks))


@dataclasses.dataclass(frozen=True)
class FiniteWidthCapacity:
    """:math:`\\alpha_c(K)` of the Gaussian approximation with its maximiser ``C`` (the
    hidden-unit correlation at capacity) and minimiser ``theta``."""

    K: int
    alpha_c: float
    C: float
    theta: float


def _bracket(K: int) -> tuple[float, float]:
    low = -1.0 / (K - 1)
    return low + 1e-11, 1.0 - 1e-9


def _grid_extremum(f, lo: float, hi: float, *, minimum: bool) -> tuple[float, float]:
    """``(value, argument)`` of the smallest (or largest) value of ``f`` on ``[lo, hi]``: a
    grid denser towards ``lo`` (where the correlations of a wide net sit), then Brent's
    method on the two cells around the best grid point."""
    sign = 1.0 if minimum else -1.0
    grid = lo + (hi - lo) * np.concatenate(
        [np.geomspace(1e-12, 0.1, 60), np.linspace(0.1, 1, 37)[1:]]
    )
    grid[-1] = hi
    values = np.array([sign * f(x) for x in grid])
    i = int(np.argmin(values))
    a, b = (lo if i == 0 else grid[i - 1]), grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda x: sign * f(x), bounds=(a, b), method="bounded", options={"xatol": 1e-12}
    )
    if res.fun < values[i]:
        return sign * float(res.fun), float(res.x)
    return sign * float(values[i]), float(grid[i])


def finite_width_capacity(act, K: int) -> FiniteWidthCapacity:
    """The max-min formula of the module docstring at ``K >= 2`` hidden units (built-in
    activations: computed once per process and ``K``)."""
    validate([("K", K, isinstance(K, int) and K >= 2, "an integer >= 2")])
    if isinstance(act, str):
        return _builtin_capacity(act, K)
    return _finite_width_capacity(act, K)


@functools.lru_cache(maxsize=64)
def _builtin_capacity(name: str, K: int) -> FiniteWidthCapacity:
    return _finite_width_capacity(name, K)


def _finite_width_capacity(act, K: int) -> FiniteWidthCapacity:
    a = activation(act)
    stats = activation_stats(a)
    kernel: NonlinearKernel | None = None
    if stats.nonlinear:
        from lindyn.theory._capacity import capacity_theory

        kernel = capacity_theory(act).kernel if isinstance(act, str) else nonlinear_kernel(a, stats)

    m, c1sq = K - 1, stats.c1**2
    A, B = (stats.A, stats.B) if kernel is not None else (0.0, 0.0)  # a linear unit: exactly 0

    def nonlinear(C: float) -> tuple[float, float]:
        """:math:`A\\rho(C)` and :math:`A\\rho'(C)`."""
        if kernel is None:
            return 0.0, 0.0
        return A * float(kernel.rho(C)), A * float(kernel.rho_prime(C))

    def field(C: float, rho_term: float) -> float:
        """:math:`\\tilde\\kappa(1) + (K-1)\\tilde\\kappa(C)`, written without cancellation."""
        return A + c1sq * (1 + m * C) + m * rho_term

    lo, hi = _bracket(K)

    def inner(C: float) -> tuple[float, float]:
        """:math:`\\min_\\theta` at fixed ``C`` (the kernel evaluated once per ``C``)."""
        rho_term, slope_term = nonlinear(C)
        denominator = field(C, rho_term)

        def value(theta: float) -> float:
            geometry = (m * (1 - C) / (1 - theta) + (1 + m * C) / (1 + m * theta)) * 2 / K
            return geometry * (B + c1sq * (1 + m * theta) + m * theta * slope_term) / denominator

        return _grid_extremum(value, lo, hi, minimum=True)

    def outer(C: float) -> float:
        """The inner minimum; ``-1e300`` where the output field vanishes (:math:`\\tilde\\kappa(1)
        + (K-1)\\tilde\\kappa(C) = 0`: a linear unit at :math:`C = -1/(K-1)`, 0/0)."""
        return inner(C)[0] if field(C, nonlinear(C)[0]) > 1e-3 * stats.var else -1e300

    _, C = _grid_extremum(outer, lo, hi, minimum=False)
    best, theta = inner(C)
    return FiniteWidthCapacity(K, best, C, theta)


@dataclasses.dataclass(frozen=True)
class FiniteWidthSaddle:
    """A stationary point of :math:`\\phi_K(q, C, D)` (spec §2.10) at one load.

    Attributes:
        q, C, D: same-unit overlap of two solutions, correlation of two units of one
            solution, overlap of different units of two solutions.
        status: ``"converged"`` or ``"not_converged"`` (then the fields are the last iterate,
            flagged, with its ``residual``).
        residual: the scaled gradient in the coordinates :math:`(q, KC, KD)`, the largest
            component of :math:`\\nabla\\phi_K` over the largest size of the two terms it
            balances, :math:`|\\nabla G_S| + \\alpha|\\nabla I(\\rho_K)|`, or over 1 where
            those terms are smaller (on the plane :math:`q = C = D = 0` both vanish). Its
            floor is the rounding of those terms, about :math:`10^{-14}`, at every load: the
            absolute gradient is not a usable test near :math:`q \\to 1`, where both terms
            grow like :math:`(1-q)^{-2}` (about :math:`5\\cdot 10^3` at :math:`\\alpha = 3.9`
            for :math:`z^2`) and rounding alone leaves :math:`10^{-10}`, CPU-dependent.
        message: the solver's account.
    """

    q: float
    C: float
    D: float
    status: str
    residual: float
    message: str


class _Saddle:
    """:math:`\\phi_K` and its gradient (spec §2.10) for one activation, ``K`` and ``alpha``."""

    def __init__(self, kernel: NonlinearKernel, K: int, alpha: float) -> None:
        self.kernel, self.K, self.alpha = kernel, K, alpha
        self.c1sq, self.A = kernel.stats.c1**2, kernel.stats.A

    def centred(self, x: float) -> tuple[float, float]:
        """:math:`\\tilde\\kappa(x)` and :math:`\\tilde\\kappa'(x)`."""
        rho, slope = float(self.kernel.rho(x)), float(self.kernel.rho_prime(x))
        return self.c1sq * x + self.A * rho, self.c1sq + self.A * slope

    def parts(self, q: float, C: float, D: float):
        m = self.K - 1
        L2, L4 = 1 - C - q + D, 1 + m * C - q - m * D
        (kq, dq), (_, dc), (kd, dd) = (self.centred(x) for x in (q, C, D))
        V = self.A + self.c1sq * (1 + m * C) + m * self.A * float(self.kernel.rho(C))
        return m, L2, L4, (kq + m * kd) / V, V, (dq, dc, dd)

    def value(self, q: float, C: float, D: float) -> float:
        """:math:`\\phi_K = G_S + \\alpha I(\\rho_K)`."""
        m, L2, L4, rho, _, _ = self.parts(q, C, D)
        u, s = q - D, q + m * D
        entropic = (m * (math.log(L2) + u / L2) + math.log(L4) + s / L4) / (2 * self.K)
        from lindyn.theory._capacity import gardner_energy

        return entropic + self.alpha * gardner_energy(rho)

    def gradient(self, q: float, C: float, D: float) -> np.ndarray:
        """:math:`(\\partial_q, \\partial_C, \\partial_D)\\phi_K`."""
        entropic, energetic = self.terms(q, C, D)
        return entropic - energetic

    def scaled_residual(self, q: float, C: float, D: float) -> float:
        """:math:`\\|w\\nabla\\phi_K\\|_\\infty / \\max(1, \\|w(|\\nabla G_S| +
        \\alpha|\\nabla I|)\\|_\\infty)` in the coordinates :math:`(q, KC, KD)`,
        :math:`w = (1, 1/K, 1/K)` (:class:`FiniteWidthSaddle`)."""
        entropic, energetic = self.terms(q, C, D)
        weight = np.array([1.0, 1.0 / self.K, 1.0 / self.K])
        scale = float(np.max(weight * (np.abs(entropic) + np.abs(energetic))))
        return float(np.max(weight * np.abs(entropic - energetic))) / max(scale, 1.0)

    def terms(self, q: float, C: float, D: float) -> tuple[np.ndarray, np.ndarray]:
        """The entropic and energetic parts of the gradient, :math:`\\nabla G_S` and
        :math:`-\\alpha\\nabla I(\\rho_K)`: their difference is :math:`\\nabla\\phi_K`."""
        from lindyn.theory._capacity import gardner_slope

        m, L2, L4, rho, V, (dq, dc, dd) = self.parts(q, C, D)
        u, s, K = q - D, q + m * D, self.K
        gs = np.array(
            [
                (m * u / L2**2 + s / L4**2) / (2 * K),
                m / (2 * K) * (-(L2 - u) / L2**2 + (L4 - s) / L4**2),
                m / (2 * K) * (-u / L2**2 + s / L4**2),
            ]
        )
        drho = np.array([dq / V, -rho * m * dc / V, m * dd / V])
        return gs, self.alpha * gardner_slope(rho) * drho


def _start(theory, K: int, alpha: float) -> tuple[float, float, float]:
    """The default start of :func:`finite_width_saddle` (its docstring)."""
    q0 = theory.overlap(min(alpha, 0.999 * theory.alpha_c))
    stats = theory.kernel.stats
    if stats.c1**2 <= 1e-12 * stats.A:  # no linear part: C = D = 0 is exactly stationary
        return (q0, 0.0, 0.0)
    sum_vector = min(theory.sum_vector(alpha, K), 0.5)
    if q0 > 0:  # broken phase: units aligned one to one, D = -q/(K-1) (spec §2.10)
        return (q0, (sum_vector - 1) / (K - 1), -q0 / (K - 1))
    delta = sum_vector / (2 * K)  # symmetric phase: q = D, S^a.S^b/(NK) = Kq about |S|^2/(2NK)
    return (delta, (sum_vector - 1) / (K - 1), delta)


def finite_width_saddle(
    act,
    K: int,
    alpha: float,
    *,
    start: tuple[float, float, float] | None = None,
    tol: float = 1e-10,
) -> FiniteWidthSaddle:
    """Solve :math:`\\nabla\\phi_K = 0` (Powell's hybrid method in :math:`q`,
    :math:`\\ln(1 + (K-1)C)` and :math:`\\ln\\lambda_4`).

    The default start is the spec's: :math:`q = q_\\infty(\\alpha)`,
    :math:`1 + (K-1)C = \\pi A/(K\\alpha c_1^2)` (at most 1/2), :math:`D = -q/(K-1)`; in
    the symmetric phase :math:`q = D`. An activation without linear part (:math:`c_1 = 0`,
    e.g. :math:`z^2`) starts at :math:`C = D = 0` instead: there
    :math:`\\tilde\\kappa'(0) = c_1^2 = 0` and :math:`\\partial_C G_S = \\partial_D G_S = 0`
    at :math:`C = D = 0`, so the plane :math:`C = D = 0` is exactly stationary, and on it
    :math:`\\phi_K = \\phi_\\infty` (the entropic term is :math:`K`-independent and
    :math:`\\rho_K = \\rho(q)`): :math:`q = q_\\infty(\\alpha)` at every :math:`K`. The spec's
    start :math:`1 + (K-1)C \\approx 1/(K\\alpha)` leads such units to the corner
    :math:`C = -1/(K-1)`, :math:`D = -q/(K-1)`, where :math:`\\phi_K \\to -\\infty` like
    :math:`\\ln\\lambda_4`: a runaway, not a saddle point. A solve whose scaled gradient
    (:attr:`FiniteWidthSaddle.residual`) stays above ``tol`` returns
    ``status="not_converged"`` with its residual.
    """
    from lindyn.theory._capacity import capacity_theory

    validate(
        [
            ("K", K, isinstance(K, int) and K >= 2, "an integer >= 2"),
            ("alpha", alpha, math.isfinite(alpha) and alpha > 0, "a finite number > 0"),
        ]
    )
    theory = capacity_theory(act)
    saddle = _Saddle(theory.kernel, K, alpha)
    start = _start(theory, K, alpha) if start is None else start

    m = K - 1

    def point(x: np.ndarray) -> tuple[float, float, float]:
        """``(q, a, b)`` -> ``(q, C, D)`` with :math:`a = \\ln(1 + (K-1)C)` and
        :math:`b = \\ln\\lambda_4`: the solver stays inside the domain (spec §2.10)."""
        q, a, b = x
        return q, (math.exp(a) - 1) / m, (math.exp(a) - q - math.exp(b)) / m

    def equations(x: np.ndarray) -> np.ndarray:
        """The gradient in ``(q, a, b)`` (chain rule): zero exactly where it is in (q, C, D)."""
        q, C, D = point(x)
        if not (1 - C - q + D > 0 and abs(q) < 1 and 0 <= saddle.parts(q, C, D)[3] < 1):
            return np.full(3, 1e6)  # outside the domain: lambda_2 <= 0 or rho_K outside [0, 1)
        gq, gC, gD = saddle.gradient(q, C, D)
        ea, eb = math.exp(x[1]), math.exp(x[2])
        return np.array([gq - gD / m, (gC + gD) * ea / m, -gD * eb / m])

    q0, C0, D0 = start
    lam4 = 1 + m * C0 - q0 - m * D0
    x0 = np.array([q0, math.log(1 + m * C0), math.log(lam4)])
    sol = optimize.root(equations, x0, method="hybr", options={"xtol": 1e-14})
    q, C, D = point(sol.x)
    residual = saddle.scaled_residual(q, C, D)
    ok = residual < tol and bool(np.all(np.isfinite(sol.x)))
    status = "converged" if ok else "not_converged"
    message = f"{status}: residual {residual:.2e} after {sol.nfev} evaluations ({sol.message})"
    return FiniteWidthSaddle(float(q), float(C), float(D), status, residual, message)
