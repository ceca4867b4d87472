r"""Closed-form reductions of the deep-linear DMFT (``deep_dmft.md`` §2.6–§2.7).

In the normalisation of :mod:`lindyn.theory._deep_dmft` (spec §1): losses
:math:`\frac12(\cdot)`, the raw learning rate :math:`\eta\gamma_0^2N` on every weight, time in
steps. These are exact limits of :func:`lindyn.theory.deep_dmft`, used to test it and, for the
two-layer recursion, as its fast path:

* the lazy, infinite-width network (:func:`deep_lazy_curves`): linear regression from a
  random start with step :math:`\eta\kappa`, :math:`\kappa` the lazy NTK (:func:`deep_lazy_kernel`);
* the two-layer network (:math:`L = 1`) at :math:`\nu = \alpha = \infty` under μP
  (:func:`deep_two_layer_recursion`), exact in discrete time for any spectrum;
* its gradient flow on isotropic data (:func:`deep_two_layer_flow`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from lindyn.theory._checks import validate
from lindyn.theory._marchenko_pastur import linear_curves

__all__ = [
    "branch_scale",
    "deep_lazy_curves",
    "deep_lazy_kernel",
    "deep_two_layer_flow",
    "deep_two_layer_recursion",
]

BRANCHES = ("sqrt_depth", "constant")


def branch_scale(L: int, beta0: float, branch: str) -> float:
    r"""Residual branch scale: :math:`\beta_0/\sqrt L` (``"sqrt_depth"``, depth-μP) or :math:`\beta_0`."""
    validate([("branch", branch, branch in BRANCHES, "'sqrt_depth' or 'constant'")])
    return beta0 / math.sqrt(L) if branch == "sqrt_depth" else beta0


def deep_lazy_kernel(
    L: int, *, residual: bool = False, beta0: float = 1.0, branch: str = "sqrt_depth"
) -> float:
    r"""The lazy NTK :math:`\kappa` of an infinitely wide network along any input direction.

    Non-residual, ``L`` hidden layers: :math:`\kappa = L + 1` (one unit per weight matrix).
    Residual, ``L`` blocks with branch scale :math:`\beta` (:func:`branch_scale`):
    :math:`\kappa = 2(1+\beta^2)^L + L\beta^2(1+\beta^2)^{L-1}` (input layer, readout, blocks);
    with :math:`\beta = \beta_0/\sqrt L` it tends to :math:`(2+\beta_0^2)e^{\beta_0^2}` (§2.6).

    Example:
        >>> deep_lazy_kernel(3), round(deep_lazy_kernel(2, residual=True), 4)
        (4.0, 6.0)
    """
    validate([("L", L, L >= 1, ">= 1")])
    if not residual:
        return float(L + 1)
    growth = 1.0 + branch_scale(L, beta0, branch) ** 2
    return 2.0 * growth**L + L * (growth - 1.0) * growth ** (L - 1)


def _online_lazy(
    c: float, steps: int, batch_ratio: float, start: float, sigma: float
) -> np.ndarray:
    r""":math:`E_{t+1} = (1-c)^2E_t + c^2(E_t + \sigma^2)/\alpha_B` from :math:`E_0`."""
    E = np.empty(steps + 1)
    E[0] = start
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            E[t + 1] = (1 - c) ** 2 * E[t] + c**2 * (E[t] + sigma**2) / batch_ratio
    return E


def deep_lazy_curves(
    *,
    L: int,
    eta: float,
    steps: int,
    alpha: float = math.inf,
    sigma: float = 0.0,
    init_variance: float = 0.0,
    residual: bool = False,
    beta0: float = 1.0,
    branch: str = "sqrt_depth",
    batch_ratio: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Test and train loss of the lazy infinite-width network (§2.7, "Lazy/NTK limit").

    The kernel is frozen at :math:`K = \eta\kappa\Theta` (:func:`deep_lazy_kernel`): gradient
    descent on linear regression with step :math:`c = \eta\kappa` from
    :math:`\beta(0) \sim \mathcal N(0, v_0)` (``init_variance``; NTK parameterization:
    :math:`v_0 = 1/\bar\gamma^2`, times :math:`(1+\beta_{\rm res}^2)^L` with residual blocks).

    * :math:`\alpha = \infty`: :math:`\mathcal L(t) = \frac12\big((1-c)^{2t}(1+v_0) + \sigma^2\big)`
      (spec §6.3: :math:`\frac12(1-\eta(L+1))^{2t}`);
    * repeated data, finite :math:`\alpha`: the Marchenko–Pastur integrals of
      :func:`lindyn.theory.linear_curves` at :math:`\delta = \alpha`, teacher power
      :math:`1 + v_0`, step :math:`c/\alpha`;
    * one-pass SGD (``batch_ratio`` :math:`\alpha_B`): the scalar recursion
      :math:`E_{t+1} = (1-c)^2E_t + c^2(E_t+\sigma^2)/\alpha_B`, :math:`\mathcal L = \frac12(E + \sigma^2)`
      (train = test).

    Returns:
        ``(test_loss, train_loss)``, each ``(steps + 1,)``.

    Example:
        >>> test, _ = deep_lazy_curves(L=3, eta=0.1, steps=4)
        >>> [round(float(x), 7) for x in test]
        [0.5, 0.18, 0.0648, 0.023328, 0.0083981]
    """
    validate(
        [
            ("eta", eta, eta > 0 and math.isfinite(eta), "> 0 and finite"),
            ("steps", steps, steps >= 1, ">= 1"),
            ("alpha", alpha, alpha > 0, "> 0"),
            ("init_variance", init_variance, init_variance >= 0, ">= 0"),
            ("sigma", sigma, sigma >= 0, ">= 0"),
            ("batch_ratio", batch_ratio, batch_ratio is None or batch_ratio > 0, "None or > 0"),
        ]
    )
    c = eta * deep_lazy_kernel(L, residual=residual, beta0=beta0, branch=branch)
    start = 1.0 + init_variance
    if batch_ratio is not None:
        E = _online_lazy(c, steps, batch_ratio, start, sigma)
        test = 0.5 * (E + sigma**2)
        return test, test.copy()
    if math.isinf(alpha):
        with np.errstate(over="ignore"):
            test = 0.5 * ((1 - c) ** (2.0 * np.arange(steps + 1)) * start + sigma**2)
        return test, test.copy()
    dt = c / alpha
    train, error = linear_curves(alpha, start, sigma, dt * np.arange(steps + 1), dt=dt)
    return 0.5 * (error + sigma**2), train


def _two_layer_step(
    state: tuple[np.ndarray, float, np.ndarray], v: np.ndarray, a: float
) -> tuple[np.ndarray, float, np.ndarray]:
    r"""One step of :math:`(Q, q, b)` with the gradient direction ``v`` and :math:`a = \eta\gamma_0`:

    .. math::
        Q' = Q + \tfrac aD(bv^\top + vb^\top) + \tfrac{a^2}{D}q\,vv^\top,\quad
        q' = q + \tfrac{2a}{D}b\cdot v + \tfrac{a^2}{D}v^\top Qv,\quad
        b' = b + a(Q + q)v + \tfrac{a^2}{D}(b\cdot v)\,v .
    """
    Q, q, b = state
    D = v.size
    Qv, bv = Q @ v, b @ v
    Q = Q + (a / D) * (np.outer(b, v) + np.outer(v, b)) + (a**2 / D) * q * np.outer(v, v)
    return (
        Q,
        q + (2 * a / D) * bv + (a**2 / D) * (v @ Qv),
        b + a * (Qv + q * v) + (a**2 / D) * bv * v,
    )


def deep_two_layer_recursion(
    *,
    gamma0: float,
    eta: float,
    steps: int,
    sigma: float = 0.0,
    spectrum: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    r"""Test loss of the two-layer linear network (:math:`L = 1`) at :math:`\nu = \alpha = \infty`, μP.

    Exact in discrete time (§2.7; the weight-space recursion of the ":math:`L = 1`, any
    :math:`\Lambda`" item, written in the :math:`\frac1D\sum_k` normalisation of §2.5). With
    :math:`Q = W^{0\top}W^0/N`, :math:`q = |w|^2/N`, :math:`b = \sqrt D\,W^{0\top}w/N = \gamma_0\beta`
    from :math:`Q = I`, :math:`q = 1`, :math:`b = 0`, the population gradient direction
    :math:`v = \Lambda(\beta_\star - \beta)` with :math:`\beta_{\star k} = \sqrt{b_k}`, and the
    update of :func:`_two_layer_step`:
    :math:`\mathcal L(t) = \frac12\big(\frac1D\sum_k\lambda_k(\beta_{\star k} - \beta_k)^2 + \sigma^2\big)`.
    Isotropic data (one mode) is the 3-variable recursion :math:`(p, q, m) = (Q, q, b)` of §2.7.
    Cost :math:`O(D^2)` per step.

    Args:
        gamma0: richness :math:`\gamma_0 > 0`; eta: learning rate; steps: ``T``.
        sigma: label noise (adds :math:`\sigma^2/2`; it does not move a population gradient).
        spectrum: ``(lam, b)`` of ``D`` modes, or ``None`` for isotropic data.

    Returns:
        ``(steps + 1,)`` test loss (= train loss).

    Example:
        >>> loss = deep_two_layer_recursion(gamma0=1.0, eta=0.2, steps=10)
        >>> round(float(loss[1]), 6), f"{loss[10]:.4e}"
        (0.18, '3.4870e-07')
    """
    validate([("gamma0", gamma0, gamma0 > 0, "> 0"), ("steps", steps, steps >= 1, ">= 1")])
    lam, b_star = (np.ones(1), np.ones(1)) if spectrum is None else map(np.asarray, spectrum)
    target = np.sqrt(b_star)
    state = (np.eye(lam.size), 1.0, np.zeros(lam.size))
    loss = np.empty(steps + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            e = target - state[2] / gamma0
            loss[t] = 0.5 * (np.mean(lam * e**2) + sigma**2)
            if t < steps:
                state = _two_layer_step(state, lam * e, eta * gamma0)
    return loss


def deep_two_layer_flow(gamma0: float, times: np.ndarray, *, sigma: float = 0.0) -> np.ndarray:
    r"""Test loss of the two-layer network's gradient flow, :math:`\nu = \alpha = \infty`, isotropic.

    Along the teacher :math:`\dot\beta = 2(1-\beta)\sqrt{1+\gamma_0^2\beta^2}` from
    :math:`\beta = 0` (time :math:`t = \eta\times` steps), solved in closed form (§2.7):

    .. math::
        t(\beta) = \frac{1}{2s}\ln\frac{1 + \gamma_0^2\beta + s\sqrt{1+\gamma_0^2\beta^2}}{(1-\beta)(1+s)},
        \qquad s = \sqrt{1+\gamma_0^2},

    inverted for :math:`u = 1-\beta` by bracketing :math:`\ln u` (no loss of precision as
    :math:`\beta \to 1`); :math:`\mathcal L = \frac12(u^2 + \sigma^2)`.

    Example:
        >>> loss = deep_two_layer_flow(1.0, [0.5, 1.0])
        >>> [round(1 - float(np.sqrt(2 * x)), 5) for x in loss]
        [0.66186, 0.90659]
    """
    validate([("gamma0", gamma0, gamma0 > 0, "> 0")])
    times = np.asarray(times, np.float64)
    if np.any(times < 0) or not np.all(np.isfinite(times)):
        raise ValueError("times: must be finite and >= 0")
    s = math.sqrt(1 + gamma0**2)

    def gap(log_u: float, t: float) -> float:
        beta = -math.expm1(log_u)
        top = 1 + gamma0**2 * beta + s * math.sqrt(1 + (gamma0 * beta) ** 2)
        return math.log(top / (1 + s)) - log_u - 2 * s * t

    def log_u(t: float) -> float:
        if t == 0:
            return 0.0
        low = -(2 * s * t + math.log(1 + s) + 1)
        return brentq(gap, low, 0.0, args=(t,), xtol=1e-15, rtol=1e-15)

    u = np.exp([log_u(float(t)) for t in times.ravel()]).reshape(times.shape)
    return 0.5 * (u**2 + sigma**2)
