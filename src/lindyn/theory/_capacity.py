r"""Storage capacity of fully connected two-layer networks, replica symmetric, :math:`K \to \infty`.

The README's capacity notes §2.6–§2.9 (Nishiyama & Ohzeki, arXiv:2404.13404; the spec
re-derives the replica calculation, §0). Committee output
:math:`\operatorname{sign}(K^{-1/2}\sum_k\tilde g(\mathbf w_k\cdot\mathbf x/\sqrt N))`,
:math:`\tilde g = g - \mathbb Eg`, spherical :math:`|\mathbf w_k|^2 = N`, random labels, load
per parameter :math:`\alpha = P/(NK)`. With :math:`q` the same-unit overlap of two solutions
(the permutation-symmetry-breaking order parameter; :math:`q = 0` is the symmetric phase):

.. math::
    \phi(q;\alpha) = \tfrac12\ln(1-q) + \frac{q}{2(1-q)} + \alpha I(\rho(q)),\qquad
    I(\rho) = \int Dt\,\ln\Phi\Big(t\sqrt{\tfrac{\rho}{1-\rho}}\Big),

:math:`\rho` the normalised non-linear kernel (:mod:`lindyn.theory._capacity_kernel`). The
RS solution is the global minimum of :math:`\phi` over :math:`q \in [0, 1)` (§2.7); its
stationary branch is explicit, :math:`\alpha(q) = q/(2(1-q)^2\rho'(q)J(\rho(q)))` with
:math:`J = -I'`. Results:

* capacity (:math:`q \to 1`, §2.9): :math:`\alpha_c = 2\rho'(1) = 2B/A`;
* transition (§2.8): with :math:`c_2 = \mathbb Eg'' \ne 0` continuous at
  :math:`\alpha_{\rm PSB} = \lim_{q\to0}\alpha(q) = \pi A/(2c_2^2)`; with :math:`c_2 = 0`
  discontinuous: the branch appears at the spinodal :math:`\min_q\alpha(q)` and wins at the
  crossing :math:`\phi(q^*;\alpha(q^*)) = -\alpha\ln2`, where :math:`q` jumps to :math:`q^*`;
* division of labour (§2.6): hidden units anticorrelate, :math:`KC \to -1`, and the sum
  vector keeps :math:`|\mathbf S|^2/(NK) \simeq \pi A/(K\alpha c_1^2)` in the symmetric phase.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from scipy import optimize, special

from lindyn.theory._activations import activation, activation_stats, gaussian_mean
from lindyn.theory._capacity_kernel import NonlinearKernel, nonlinear_kernel
from lindyn.theory._checks import validate

__all__ = [
    "gardner_energy",
    "gardner_slope",
    "CapacityTheory",
    "capacity_theory",
    "Transition",
    "TABLE_ACTIVATIONS",
    "capacity_row",
]

TABLE_ACTIVATIONS = ("relu", "erf", "tanh", "quadratic", "sigmoid", "gelu", "silu", "softplus")

C2_ZERO = 1e-9  # |c2| / sqrt(A) below this: an odd activation (no quadratic Hermite part)


def _shift(rho: float) -> float:
    return math.sqrt(rho / (1.0 - rho))


def gardner_energy(rho: float) -> float:
    r""":math:`I(\rho) = \int Dt\,\ln\Phi(t\sqrt{\rho/(1-\rho)})` (``log_ndtr``; split at 0).

    Example:
        >>> round(gardner_energy(0.5), 12), round(gardner_energy(0.0), 12) == -round(math.log(2), 12)
        (-1.0, True)
    """
    s = _shift(rho)
    return gaussian_mean(lambda t: special.log_ndtr(s * t))


def gardner_slope(rho: float) -> float:
    r""":math:`J(\rho) = -I'(\rho) = \frac{1}{2(1-\rho)^2}\int Dt\,R(st)[st + R(st)]`,
    :math:`R(x) = \varphi(x)/\Phi(x)`, :math:`s = \sqrt{\rho/(1-\rho)}`.

    Example:
        >>> round(gardner_slope(0.0) * math.pi, 12)
        1.0
    """
    s = _shift(rho)

    def integrand(t: np.ndarray) -> np.ndarray:
        x = s * t
        r = np.exp(-0.5 * x * x - special.log_ndtr(x)) / math.sqrt(2 * math.pi)
        return r * (x + r)

    return gaussian_mean(integrand) / (2.0 * (1.0 - rho) ** 2)


@dataclasses.dataclass(frozen=True)
class Transition:
    """The permutation-symmetry-breaking transition.

    Attributes:
        kind: ``"continuous"`` or ``"discontinuous"``.
        alpha: the load where the broken phase becomes the RS solution.
        q: the overlap just after it (0 when continuous).
        spinodal: where the broken branch first exists (discontinuous only; else NaN).
        q_spinodal: its overlap (NaN when continuous).
        residual: the crossing's :math:`|\\phi + \\alpha\\ln2|` (0 when continuous).
    """

    kind: str
    alpha: float
    q: float
    spinodal: float = math.nan
    q_spinodal: float = math.nan
    residual: float = 0.0


@dataclasses.dataclass(frozen=True)
class CapacityTheory:
    """The :math:`K \\to \\infty` RS theory of one activation (module docstring)."""

    kernel: NonlinearKernel

    @property
    def stats(self):
        return self.kernel.stats

    @property
    def alpha_c(self) -> float:
        """:math:`2B/A`, the :math:`q \\to 1` limit of the branch (spec §2.9)."""
        return 2.0 * float(self.kernel.rho_prime(1.0))

    def free_entropy(self, q: float, alpha: float) -> float:
        """:math:`\\phi(q;\\alpha)` per parameter."""
        if q == 0.0:
            return -alpha * math.log(2.0)
        rho = float(self.kernel.rho(q))
        entropic = 0.5 * math.log1p(-q) + q / (2.0 * (1.0 - q))
        return entropic + alpha * gardner_energy(rho)

    def branch_alpha(self, q: float) -> float:
        """:math:`\\alpha(q)` of the stationary branch, :math:`0 < q < 1`."""
        rho = float(self.kernel.rho(q))
        slope = float(self.kernel.rho_prime(q))
        return q / (2.0 * (1.0 - q) ** 2 * slope * gardner_slope(rho))

    def _gap(self, q: float) -> float:
        """:math:`\\phi(q;\\alpha(q)) + \\alpha(q)\\ln2` on the branch."""
        a = self.branch_alpha(q)
        return self.free_entropy(q, a) + a * math.log(2.0)

    def transition(self) -> Transition:
        """Continuous at :math:`\\pi A/(2c_2^2)` when :math:`c_2 \\ne 0`, else the spinodal
        and the free-entropy crossing on the upper branch (spec §2.8)."""
        s = self.stats
        if abs(s.c2) > C2_ZERO * math.sqrt(s.A):
            return Transition("continuous", math.pi * s.A / (2.0 * s.c2**2), 0.0)
        grid = np.linspace(0.02, 0.98, 49)
        alphas = np.array([self.branch_alpha(q) for q in grid])
        i = int(np.argmin(alphas))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        sp = optimize.minimize_scalar(
            self.branch_alpha, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
        )
        upper = grid[grid > sp.x]
        gaps = np.array([self._gap(q) for q in upper])
        j = int(np.flatnonzero(gaps < 0)[0])
        q_star = optimize.brentq(self._gap, upper[j - 1] if j else sp.x, upper[j], xtol=1e-12)
        return Transition(
            "discontinuous",
            self.branch_alpha(q_star),
            q_star,
            float(sp.fun),
            float(sp.x),
            abs(self._gap(q_star)),
        )

    def overlap(self, alpha: float) -> float:
        """:math:`q(\\alpha)`: the global minimiser of :math:`\\phi(\\cdot;\\alpha)` on [0, 1)."""
        validate(
            [("alpha", alpha, 0 < alpha < self.alpha_c, f"in (0, alpha_c = {self.alpha_c:.6g})")]
        )
        grid = 1.0 - np.geomspace(1.0, 1e-6, 121)[:-1]
        grid[0] = 0.0
        values = np.array([self.free_entropy(q, alpha) for q in grid])
        i = int(np.argmin(values))
        if i == 0:
            return 0.0
        res = optimize.minimize_scalar(
            lambda q: self.free_entropy(q, alpha),
            bounds=(grid[i - 1], grid[min(i + 1, grid.size - 1)]),
            method="bounded",
            options={"xatol": 1e-12},
        )
        return float(res.x) if res.fun < -alpha * math.log(2.0) else 0.0

    def sum_vector(self, alpha: float, K: int) -> float:
        """:math:`|\\mathbf S|^2/(NK) \\simeq \\pi A/(K\\alpha c_1^2)`, the division of labour of
        the symmetric phase (spec §2.6(3); large :math:`K`)."""
        return math.pi * self.stats.A / (K * alpha * self.stats.c1**2)


def capacity_theory(act) -> CapacityTheory:
    """The :math:`K \\to \\infty` RS theory of ``act`` (a name, a function or an Activation);
    the built-ins are tabulated once per process."""
    if isinstance(act, str):
        return _builtin_theory(act)
    a = activation(act)
    return CapacityTheory(nonlinear_kernel(a, activation_stats(a)))


@functools.cache
def _builtin_theory(name: str) -> CapacityTheory:
    a = activation(name)
    return CapacityTheory(nonlinear_kernel(a, activation_stats(a)))


def capacity_row(act) -> dict[str, object]:
    """One row of ``lindyn capacity-table``: ``activation``, ``alpha_c``, ``transition`` (the
    PSB load), ``kind`` and, for a discontinuous transition, ``spinodal``."""
    theory = capacity_theory(act)
    t = theory.transition()
    row: dict[str, object] = {
        "activation": theory.kernel.activation.name,
        "alpha_c": theory.alpha_c,
        "transition": t.alpha,
        "kind": t.kind,
    }
    if t.kind == "discontinuous":
        row["spinodal"] = t.spinodal
    return row
