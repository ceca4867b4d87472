r"""Data of the deep-linear DMFT experiment: covariance spectrum, teacher and labels.

The README's deep notes §1.1 and §2.5: inputs :math:`x \sim \mathcal N(0, \Lambda)`
in the eigenbasis, teacher :math:`y = \beta_\star\cdot x/\sqrt D + \sigma\epsilon` with
:math:`\mathbb E\,\beta_{\star k}^2 = b_k`. Isotropic: :math:`\lambda_k = b_k = 1`. Power law
with capacity :math:`a` and source :math:`b`: :math:`\lambda_k \propto k^{-a}` and target power
:math:`\lambda_kb_k \propto k^{-ab-1}`, i.e. :math:`b_k \propto k^{a - ab - 1}`, normalised as
in §2.5 to :math:`\frac1D\sum_k\lambda_k = 1` and :math:`\frac1D\sum_k\lambda_kb_k = 1` (so
the initial test loss stays :math:`\frac12(1 + \sigma^2 + \dots)`). The §6 item 7 spectrum
(:math:`\lambda_k, b_k \propto k^{-1/2}`) is :math:`a = 1/2`, :math:`b = 0`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from lindyn.data import gaussian_design, powerlaw_spectrum

__all__ = ["deep_spectrum", "draw_teacher", "draw_samples"]


def deep_spectrum(D: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Normalised power-law :math:`(\lambda_k, b_k)`, ``(D,)`` each (module docstring).

    Example:
        >>> lam, bk = deep_spectrum(4, 0.5, 0.0)
        >>> round(float(lam.mean()), 12), round(float((lam * bk).mean()), 12)
        (1.0, 1.0)
    """
    lam = np.asarray(powerlaw_spectrum(D, a))
    lam = lam / lam.mean()
    k = np.arange(1, D + 1, dtype=np.float64)
    power = k ** (a - a * b - 1.0)
    return lam, power / np.mean(lam * power)


def draw_teacher(key: Array, bk: Array) -> Array:
    r""":math:`\beta_{\star k} = \sqrt{b_k}\,z_k`, :math:`z_k` i.i.d. standard normal."""
    return jnp.sqrt(bk) * jax.random.normal(key, bk.shape, dtype=jnp.float64)


def draw_samples(
    key: Array, n: int, lam: np.ndarray | None, beta_star: Array, sigma: float
) -> tuple[Array, Array]:
    r"""``n`` samples :math:`(X, y)`: rows :math:`x \sim \mathcal N(0, \Lambda)` (isotropic if
    ``lam`` is None) and :math:`y = X\beta_\star/\sqrt D + \sigma\epsilon`."""
    kx, ke = jax.random.split(key)
    D = beta_star.shape[0]
    X = gaussian_design(kx, n, D)  # spectrum applied here: its checks cannot run under jit
    if lam is not None:
        X = X * np.sqrt(lam)
    noise = sigma * jax.random.normal(ke, (n,), dtype=jnp.float64)
    return X, X @ beta_star / np.sqrt(D) + noise
