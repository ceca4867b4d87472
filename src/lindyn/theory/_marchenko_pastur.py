"""Least-squares learning curves at large dimension from the Marchenko–Pastur law."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lindyn.models._gaussian import legendre

__all__ = ["mp_integral", "linear_curves"]


def mp_integral(delta: float, fn: Callable[[np.ndarray], np.ndarray], *, nodes: int = 400) -> float:
    r""":math:`\int f_\delta(x)\,g(x)\,dx` over the continuous part of the Marchenko–Pastur law.

    :math:`f_\delta(x) = \sqrt{(b-x)(x-a)}/(2\pi\delta x)` on :math:`[a, b] = [(1\mp\sqrt\delta)^2]`: the
    law of the eigenvalues of :math:`XX^\top` (``n x n``, entries :math:`\mathcal N(0, 1/d)`,
    :math:`n/d = \delta`), whose continuous mass is :math:`\min(1, 1/\delta)` (an atom
    :math:`1 - 1/\delta` sits at 0 when :math:`\delta > 1`). With :math:`x = c + r\cos\theta` the
    square root disappears and Gauss–Legendre in :math:`\theta` converges spectrally.
    """
    a, b = (1 - np.sqrt(delta)) ** 2, (1 + np.sqrt(delta)) ** 2
    c, r = (a + b) / 2, (b - a) / 2
    u, w = legendre(nodes)  # cached: a lazy panel makes 600 of these integrals
    theta = (u + 1) * np.pi / 2
    x = c + r * np.cos(theta)
    integrand = (r * np.sin(theta)) ** 2 / (2 * np.pi * delta * x) * fn(x)
    return float(np.sum(w * integrand) * np.pi / 2)


def linear_curves(
    delta: float,
    signal: float,
    sigma: float,
    times: np.ndarray,
    *,
    dt: float | None = None,
    theta: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Train loss and test error of least squares trained from 0, as :math:`d \to \infty`.

    Convention of the README's dln notes §2.8: design entries :math:`\mathcal N(0, 1/d)`,
    :math:`n/d = \delta`, teacher power :math:`\mathbb E\beta^{*2} =` ``signal``, noise :math:`\sigma`,
    loss :math:`\frac12\|y - X\beta\|^2`. With the decay :math:`g_t(x) = e^{-xt}` (flow) or
    :math:`(1 - x\,dt)^{t/dt}` (gradient descent, ``dt`` given), or, for the :math:`\theta`-scheme
    on the grid ``times`` (``theta`` given, steps :math:`\eta_i = t_{i+1} - t_i`),
    :math:`g_{t_k}(x) = \prod_{i<k}\frac{1 - (1-\theta)\eta_i x}{1 + \theta\eta_i x}`:

    .. math::
        \mathcal E(t) = \rho\Big[(1 - \min(\delta,1))\,g_t(0)^2 + \delta\!\int\! f_\delta\,g_t^2\Big]
            + \sigma^2\delta\!\int\! f_\delta\,\frac{(1-g_t)^2}{x},\qquad
        \mathcal L(t) = \tfrac12\Big[\int\! f_\delta\,g_t^2(\sigma^2+\rho x) + (1 - \tfrac1\delta)_+\sigma^2\Big].

    Returns:
        ``(train_loss, test_error)``, each of the shape of ``times``.
    """
    times = np.asarray(times, np.float64)

    def decay(k: int, t: float) -> Callable[[np.ndarray], np.ndarray]:
        if theta is not None:
            eta = np.diff(times[: k + 1])[:, None]
            return lambda x: np.prod((1 - (1 - theta) * eta * x) / (1 + theta * eta * x), axis=0)
        if dt is None:
            return lambda x: np.exp(-x * t)
        return lambda x: (1 - x * dt) ** round(t / dt)

    curves = [_point(delta, signal, sigma, decay(k, t)) for k, t in enumerate(times)]
    return np.array([c[0] for c in curves]), np.array([c[1] for c in curves])


def _point(
    delta: float, signal: float, sigma: float, g: Callable[[np.ndarray], np.ndarray]
) -> tuple[float, float]:
    """Train loss and test error for one decay function ``g`` (see :func:`linear_curves`)."""
    atom = max(0.0, 1 - 1 / delta)
    train = 0.5 * (
        mp_integral(delta, lambda x: g(x) ** 2 * (sigma**2 + signal * x)) + atom * sigma**2
    )
    signal_part = signal * ((1 - min(delta, 1.0)) + delta * mp_integral(delta, lambda x: g(x) ** 2))
    noise_part = sigma**2 * delta * mp_integral(delta, lambda x: (1 - g(x)) ** 2 / x)
    return train, signal_part + noise_part
