r"""Learning timescales of diagonal networks (the README's dln notes §4).

Conventions of :mod:`lindyn.experiments.dln`. Per coordinate, exactly,
:math:`\beta = \alpha_t^2\sinh 2H` with :math:`\dot H = h` and :math:`\alpha_t = \alpha e^{-\lambda t}`.

* **Lazy phase** (large :math:`\alpha`, time :math:`\sim\alpha^{-2}`): :math:`\varphi \approx 2\alpha^2`, so
  the network is least squares run at speed :math:`2\alpha^2`:
  :math:`\beta_{\rm lazy}(t) = \beta_{\rm LS}(2\alpha^2 t)`, a Marchenko–Pastur closed form
  (:func:`lazy_curves`), ending at the minimum-ℓ2 interpolator (δ < 1) or OLS (δ > 1).
* **Rich phase** (λ > 0): weight decay shrinks the effective scale until
  :math:`\alpha_t^2 \sim |\beta| = O(1)`, at :math:`t_{\rm rich} \approx \ln\alpha/\lambda`
  (:func:`rich_time`); in :math:`t - \ln\alpha/\lambda` the dynamics no longer depends on
  :math:`\alpha`. Test error holds the ℓ2 plateau long after the train loss vanished, then drops to
  the Lasso value: grokking, with delay ratio :math:`\sim\alpha^2\ln\alpha/\lambda`.
* **Search phase** (small :math:`\alpha`): while :math:`\beta \approx 0` each coordinate sees the frozen
  field :math:`h_0 = \delta\beta^* + \sqrt{\delta(\sigma^2 + \mathbb E\beta^{*2})}\,Z`
  (:func:`search_field_scale`) and grows as :math:`\beta = \alpha_t^2\sinh(2h_0 t)`; it reaches
  :math:`|\beta| = c` at :func:`activation_time`, :math:`\approx \ln(1/\alpha)/(|h_0| - \lambda)`.
  Curves collapse against :math:`t/\ln(1/\alpha)` (the descent phase is :math:`O(1)` long).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import erf

from lindyn.theory._checks import Check, validate
from lindyn.theory._marchenko_pastur import linear_curves

__all__ = [
    "lazy_curves",
    "rich_time",
    "search_field_scale",
    "activation_time",
    "search_plateau",
    "field_quantile",
]


def _positive(name: str, value: float) -> Check:
    return (name, value, value > 0, "> 0")


def lazy_curves(
    delta: float, alpha: float, times: np.ndarray, *, rho: float = 0.2, sigma: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    r"""Train loss and test error of the lazy solution :math:`\beta_{\rm LS}(2\alpha^2 t)`, λ = 0.

    The :math:`\alpha \to \infty` limit at fixed :math:`2\alpha^2 t` (spec §4.1, §2.8); corrections
    are :math:`O(\alpha^{-4})` in the rate :math:`\varphi = 2\alpha^2\sqrt{1 + \beta^2/\alpha^4}`.

    Returns:
        ``(train_loss, test_error)`` on ``times``.
    """
    validate([_positive("delta", delta), _positive("alpha", alpha)])
    return linear_curves(delta, rho, sigma, 2 * alpha**2 * np.asarray(times, dtype=np.float64))


def rich_time(alpha: float, lam: float) -> float:
    r""":math:`t_{\rm rich} = \ln\alpha/\lambda`: when weight decay has shrunk :math:`\alpha_t` to 1
    (spec §4.2); the lazy → rich transition and the grokking drop happen at
    :math:`t_{\rm rich} + O(1/\lambda)`."""
    validate([_positive("lam", lam), ("alpha", alpha, alpha > 1, "> 1 (a lazy phase)")])
    return float(np.log(alpha) / lam)


def search_field_scale(delta: float, *, rho: float = 0.2, sigma: float = 0.1) -> float:
    r"""Standard deviation :math:`\sqrt{\delta(\sigma^2 + \rho)}` of the noise part of the frozen
    search-phase field :math:`h_0 = \delta\beta^* + \sqrt{\delta(\sigma^2+\rho)}\,Z` (spec §4.3)."""
    validate([_positive("delta", delta)])
    return float(np.sqrt(delta * (sigma**2 + rho)))


def activation_time(
    h0: np.ndarray, alpha: float, *, lam: float = 0.0, level: float = 1.0
) -> np.ndarray:
    r"""When a coordinate in the frozen field ``h0`` reaches :math:`|\beta| =` ``level``.

    Exactly :math:`\alpha^2 e^{-2\lambda t}\sinh(2|h_0|t) = c` while the field is frozen (the first
    coordinates to activate); for :math:`\alpha \to 0`,
    :math:`t \approx \ln(1/\alpha)/(|h_0| - \lambda)`. Solved by bisection; ``inf`` where
    :math:`|h_0| \le \lambda` (the coordinate never grows).

    Example:
        >>> round(float(activation_time(np.array(0.5), 1e-4, level=1.0)), 12)  # asinh(1e8)/1
        19.113827924512
    """
    validate([_positive("alpha", alpha), _positive("level", level), ("lam", lam, lam >= 0, ">= 0")])
    h = np.abs(np.asarray(h0, dtype=np.float64))
    if lam == 0:
        with np.errstate(divide="ignore"):
            return np.where(h > 0, np.arcsinh(level / alpha**2) / (2 * h), np.inf)
    grow = h > lam
    rate = np.where(grow, h - lam, 1.0)
    # at hi, e^{2(h - lam)t} >= e^4 max(q, 1)^2 with q = 2 level / alpha^2: past the level
    hi = (max(np.log(2 * level / alpha**2), 0.0) + 2.0) / rate
    lo = np.zeros_like(h)
    for _ in range(200):
        mid = (lo + hi) / 2
        up = alpha**2 * np.exp(-2 * lam * mid) * np.sinh(2 * h * mid) >= level
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return np.where(grow, (lo + hi) / 2, np.inf)


def search_plateau(*, rho: float = 0.2, sigma: float = 0.1) -> tuple[float, float]:
    r"""Train loss and test error on the search plateau: :math:`(\sigma^2 + \rho)/2` and :math:`\rho`."""
    return 0.5 * (sigma**2 + rho), rho


def field_quantile(quantile: float, delta: float, *, rho: float = 0.2, sigma: float = 0.1) -> float:
    r"""The ``quantile`` of :math:`|h_0|`, :math:`h_0 = \delta\beta^* + sZ` (Bernoulli–Gaussian
    teacher, :math:`s` of :func:`search_field_scale`): a mixture of two half-normal laws.

    As :math:`\alpha \to 0` (λ = 0) the fraction ``1 - quantile`` of coordinates with the
    strongest fields has left the origin by :math:`\tau = t/\ln(1/\alpha) = 1/h_q`.
    """
    validate([("quantile", quantile, 0 < quantile < 1, "in (0, 1)")])
    s = search_field_scale(delta, rho=rho, sigma=sigma)
    spike = np.hypot(s, delta)  # the support part delta beta* + sZ has variance delta^2 + s^2

    def cdf(x: float) -> float:
        return (1 - rho) * erf(x / (np.sqrt(2) * s)) + rho * erf(x / (np.sqrt(2) * spike))

    return float(brentq(lambda x: cdf(x) - quantile, 0.0, 50.0 * np.hypot(s, delta)))
