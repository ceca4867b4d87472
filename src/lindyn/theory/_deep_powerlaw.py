r"""Power-law data in the rich regime: the loss exponents of deep linear networks.

The README's deep notes §4.6 (Bordelon & Pehlevan 2025, after Bordelon,
Atanasov & Pehlevan 2025). Data with :math:`\lambda_k = k^{-a}` and target power
:math:`\lambda_k\beta_{\star k}^2 = k^{-ab-1}`; population loss
:math:`\mathcal L = \tfrac12\sum_k\lambda_k(\beta_k - \beta_{\star k})^2`.

**The answer to the spec's open question.** With :math:`L` hidden layers (:math:`L + 1`
weight matrices) and a scalar output, gradient flow from a balanced start keeps the layers
balanced, and the end-to-end vector obeys (Arora, Cohen & Hazan 2018, Theorem 1, with
:math:`N = L + 1` factors and a row vector)

.. math::
    \dot\beta = |\beta|^{2L/(L+1)}\,\big(g + L\,\hat\beta\hat\beta^\top g\big),\qquad
    g = -\nabla_\beta\mathcal L = \Lambda(\beta_\star - \beta).

In kernel time :math:`d\tau = |\beta|^{2L/(L+1)}dt` an unlearned mode decays as
:math:`e^{-\lambda_k\tau}`, so :math:`\mathcal L \sim \tau^{-b}` and, for :math:`b < 1`,
:math:`|\beta|^2 \sim \sum_{k \le \tau^{1/a}}\beta_{\star k}^2 \sim \tau^{1-b}`; then
:math:`t \sim \tau^{(1+Lb)/(L+1)}` and

.. math::
    \mathcal L \sim t^{-\chi_L},\qquad \chi_L = \frac{(L+1)\,b}{1 + L\,b}\quad(b < 1),
    \qquad \chi_L = b\quad(b \ge 1),

against :math:`b` in the lazy regime (kernel frozen). The exponent **grows with depth**:
:math:`\chi_1 = 2b/(1+b)` is the two-layer value of the paper, and :math:`\chi_L \to 1`. The
digest's depth-independent :math:`2b/(1+b)` holds only for :math:`L = 1`. From a small random
start the conservation laws :math:`W^\ell W^{\ell\top} - W^{\ell+1\top}W^{\ell+1} = \text{const}`
keep the imbalance at the size of the start while the learned spike grows, so the same flow,
hence the same exponent, governs the rich regime at late times.

:func:`balanced_flow` integrates this flow on the mode continuum of :func:`powerlaw_modes`
(the first modes one by one, then geometric bins up to :math:`k = 10^{30}`, far beyond any
mode learned within the horizon), so that the power law is followed over ten decades of time
without the exponential cut-off of a finite mode count; ``tests/test_deep_powerlaw.py`` checks
it against the raw-weight gradient flow of finite networks and fits :math:`\chi_L`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from lindyn.theory._checks import Check, validate

__all__ = [
    "PowerLawExponents",
    "powerlaw_exponents",
    "Modes",
    "powerlaw_modes",
    "BalancedFlow",
    "balanced_flow",
    "fit_exponent",
]


def _positive(name: str, value: float) -> Check:
    return (name, value, math.isfinite(value) and value > 0, "a finite number > 0")


def _depth(L: int) -> Check:
    return ("L", L, int(L) == L and L >= 1, "an integer >= 1")


@dataclasses.dataclass(frozen=True)
class PowerLawExponents:
    """Loss exponents :math:`\\mathcal L \\sim t^{-\\chi}` on power-law data.

    Attributes:
        lazy: :math:`b` (frozen kernel).
        rich: :math:`(L+1)b/(1+Lb)` for :math:`b < 1`, else :math:`b` (module docstring).
        two_layer: :math:`2b/(1+b)` (:math:`b < 1`), the depth-independent value of the digest;
            equal to ``rich`` only at :math:`L = 1`.
    """

    lazy: float
    rich: float
    two_layer: float


def powerlaw_exponents(b: float, L: int) -> PowerLawExponents:
    """The lazy and rich loss exponents for source exponent ``b`` and ``L`` hidden layers.

    Example:
        >>> e = powerlaw_exponents(0.5, 2)
        >>> e.lazy, e.rich, round(e.two_layer, 4)
        (0.5, 0.75, 0.6667)
    """
    validate([_positive("b", b), _depth(L)])

    def rich(depth: int) -> float:
        return (depth + 1) * b / (1 + depth * b) if b < 1 else b

    return PowerLawExponents(lazy=b, rich=rich(int(L)), two_layer=rich(1))


@dataclasses.dataclass(frozen=True)
class Modes:
    r"""Modes of the population loss: eigenvalues ``lam``, teacher ``target``
    (:math:`\beta_{\star k}`) and ``weight`` (how many modes each entry stands for)."""

    lam: np.ndarray
    target: np.ndarray
    weight: np.ndarray

    def dot(self, x: np.ndarray, y: np.ndarray) -> float:
        """The inner product of the full mode space, :math:`\\sum_k w_kx_ky_k`."""
        return float(np.sum(self.weight * x * y))

    def loss(self, beta: np.ndarray) -> float:
        r""":math:`\tfrac12\sum_k w_k\lambda_k(\beta_k - \beta_{\star k})^2`."""
        e = beta - self.target
        return 0.5 * self.dot(self.lam * e, e)


def powerlaw_modes(
    a: float, b: float, *, exact: int = 1000, kmax: float = 1e30, per_decade: int = 40
) -> Modes:
    r""":math:`\lambda_k = k^{-a}`, :math:`\beta_{\star k} = \sqrt{k^{-ab-1}/\lambda_k}`: modes
    :math:`1..` ``exact`` one by one, then ``per_decade`` geometric bins per decade up to
    ``kmax``, each at its geometric centre with weight its width (a midpoint quadrature of the
    sum over modes, exact for the first ``exact``).

    Example:
        >>> m = powerlaw_modes(1.5, 0.5, exact=3, kmax=30.0, per_decade=1)
        >>> m.weight.tolist(), round(float(m.lam[0]), 3)
        ([1.0, 1.0, 1.0, 26.5], 1.0)
    """
    validate(
        [
            _positive("a", a),
            _positive("b", b),
            ("exact", exact, exact >= 1, ">= 1"),
            ("kmax", kmax, kmax > exact + 0.5, f"> exact + 1/2 = {exact + 0.5:g}"),
            ("per_decade", per_decade, per_decade >= 1, ">= 1"),
        ]
    )
    k = np.arange(1, exact + 1, dtype=np.float64)
    bins = max(1, round(per_decade * math.log10(kmax / (exact + 0.5))))
    edges = np.geomspace(exact + 0.5, kmax, bins + 1)
    k = np.concatenate([k, np.sqrt(edges[1:] * edges[:-1])])
    weight = np.concatenate([np.ones(exact), np.diff(edges)])
    lam = k**-a
    return Modes(lam, np.sqrt(k ** (-a * b - 1) / lam), weight)


@dataclasses.dataclass(frozen=True)
class BalancedFlow:
    r"""A solution of the balanced end-to-end flow.

    Attributes:
        tau: kernel time :math:`\tau`, ``(n,)`` from 0.
        t: gradient-flow time :math:`t = \int d\tau/|\beta|^{2L/(L+1)}` (``lazy``: :math:`\tau`).
        loss: population loss :math:`\mathcal L(t)`.
        norm2: :math:`|\beta|^2`.
        kernel: the kernel on unlearned modes, :math:`|\beta|^{2L/(L+1)}` (``lazy``: 1).
    """

    tau: np.ndarray
    t: np.ndarray
    loss: np.ndarray
    norm2: np.ndarray
    kernel: np.ndarray


def _implicit_step(modes: Modes, beta: np.ndarray, h: float, L: int) -> np.ndarray:
    r"""Implicit Euler over :math:`h` of :math:`\beta' = (I + L\hat u\hat u^\top)\Lambda(\beta_\star
    - \beta)` with :math:`\hat u = \beta/|\beta|` frozen: a diagonal plus rank-one system,
    solved by Sherman–Morrison in the weighted inner product."""
    lam, star = modes.lam, modes.target
    u = beta / math.sqrt(modes.dot(beta, beta)) if L else np.zeros_like(beta)
    rhs = beta + h * (lam * star + L * u * modes.dot(u, lam * star))
    d = 1.0 + h * lam
    w = lam * u
    z, v = rhs / d, u / d
    return z - v * (h * L * modes.dot(w, z)) / (1.0 + h * L * modes.dot(w, v))


def balanced_flow(
    modes: Modes,
    L: int,
    *,
    tau_max: float = 1e24,
    per_decade: int = 40,
    start: float = 1e-2,
    lazy: bool = False,
) -> BalancedFlow:
    r"""Integrate the balanced flow (module docstring) in kernel time.

    Starts from :math:`\beta = ` ``start`` :math:`\cdot\beta_{\star 1}e_1` (a small start on the
    first mode; a start spread over all modes would carry the norm of the unlearned tail).
    Steps: implicit Euler (A-stable on the stiff learned modes) on :math:`\tau \in \{0\}\cup`
    geometric points from :math:`10^{-3}` to ``tau_max``, ``per_decade`` per decade; first-order
    in the step ratio (about 6 % at 40 per decade, where exponents over decades are exact to
    :math:`10^{-3}`; the tests refine it). :math:`t` by the trapezoid rule on
    :math:`1/|\beta|^{2L/(L+1)}`. ``lazy`` freezes the kernel at 1 and drops the rank-one term:
    linear regression's gradient flow, :math:`\mathcal L \sim t^{-b}`.
    """
    validate(
        [
            _depth(L),
            ("tau_max", tau_max, tau_max > 1e-3, "> 1e-3"),
            ("per_decade", per_decade, per_decade >= 1, ">= 1"),
            _positive("start", start),
        ]
    )
    count = round(per_decade * math.log10(tau_max / 1e-3)) + 1
    tau = np.concatenate([[0.0], np.geomspace(1e-3, tau_max, count)])
    beta = np.zeros_like(modes.target)
    beta[0] = start * modes.target[0]
    power = 0.0 if lazy else L / (L + 1)
    rows = [(modes.loss(beta), modes.dot(beta, beta))]
    for h in np.diff(tau):
        beta = _implicit_step(modes, beta, float(h), 0 if lazy else int(L))
        rows.append((modes.loss(beta), modes.dot(beta, beta)))
        if not np.all(np.isfinite(beta)):
            raise FloatingPointError(f"balanced flow diverged at tau = {tau[len(rows) - 1]:.3g}")
    loss, norm2 = (np.array(c) for c in zip(*rows, strict=True))
    kernel = norm2**power
    dt = 0.5 * np.diff(tau) * (1.0 / kernel[1:] + 1.0 / kernel[:-1])
    return BalancedFlow(tau, np.concatenate([[0.0], np.cumsum(dt)]), loss, norm2, kernel)


def fit_exponent(t: np.ndarray, loss: np.ndarray, lo: float, hi: float) -> float:
    r"""Least-squares :math:`\chi` of :math:`\mathcal L \propto t^{-\chi}` over ``lo <= t <= hi``.

    Example:
        >>> t = np.geomspace(1, 1e4, 50)
        >>> round(fit_exponent(t, 3 * t**-0.75, 10, 1e3), 12)
        0.75
    """
    t, loss = np.asarray(t, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    keep = (t >= lo) & (t <= hi) & (loss > 0)
    if keep.sum() < 3:
        raise ValueError(f"fewer than 3 points with {lo:g} <= t <= {hi:g} and positive loss")
    return float(-np.polyfit(np.log(t[keep]), np.log(loss[keep]), 1)[0])
