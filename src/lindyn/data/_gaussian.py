"""Gaussian designs, isotropic or with a prescribed covariance spectrum."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["gaussian_design", "powerlaw_spectrum", "whitened_design", "random_orthogonal"]


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name}: must be an integer >= 1, got {value!r}")


def powerlaw_spectrum(d: int, exponent: float) -> Array:
    r"""Covariance eigenvalues :math:`\lambda_k = k^{-a}`, :math:`k = 1..d` (so :math:`\lambda_1 = 1`).

    Args:
        d: number of eigenvalues.
        exponent: the decay exponent :math:`a > 0` (capacity condition :math:`a > 1`).

    Returns:
        Array of shape ``(d,)``, decreasing.
    """
    _check_sizes(d=d)
    if not exponent > 0:
        raise ValueError(f"exponent: must be > 0, got {exponent!r}")
    return jnp.arange(1, d + 1, dtype=jnp.float64) ** (-exponent)


def gaussian_design(
    key: Array,
    n: int,
    d: int,
    *,
    spectrum: Array | None = None,
    variance: float = 1.0,
) -> Array:
    r"""An ``(n, d)`` design with i.i.d. rows :math:`x_i \sim \mathcal N(0, v\,\Lambda)`.

    Entry scaling: :math:`X_{ik} = \sqrt{v \lambda_k}\, z_{ik}` with :math:`z_{ik}` i.i.d.
    standard normal, in the eigenbasis of the covariance. ``variance = 1/d`` gives the
    convention of the diagonal-network DMFT (entries :math:`\mathcal N(0, 1/d)`);
    ``variance = 1`` the one of the deep-linear DMFT, whose model carries the :math:`1/\sqrt D`.

    Args:
        key: a JAX PRNG key.
        n: number of samples (rows).
        d: input dimension (columns).
        spectrum: covariance eigenvalues :math:`\lambda_k`, shape ``(d,)``; isotropic if None.
        variance: overall entry variance :math:`v > 0`.

    Returns:
        Array of shape ``(n, d)``, float64.

    Example:
        >>> import jax
        >>> gaussian_design(jax.random.key(0), 4, 3, variance=1 / 3).shape
        (4, 3)
    """
    _check_sizes(n=n, d=d)
    if not variance > 0:
        raise ValueError(f"variance: must be > 0, got {variance!r}")
    scale = jnp.sqrt(variance) * jnp.ones(d)
    if spectrum is not None:
        spectrum = jnp.asarray(spectrum, dtype=jnp.float64)
        if spectrum.shape != (d,) or bool(jnp.any(spectrum < 0)):
            raise ValueError(f"spectrum: must be {d} non-negative eigenvalues")
        scale = scale * jnp.sqrt(spectrum)
    return jax.random.normal(key, (n, d), dtype=jnp.float64) * scale


def whitened_design(key: Array, n: int, d: int) -> Array:
    r"""An ``(n, d)`` design with exactly white second moment, :math:`X^\top X / n = I_d`.

    :math:`X = \sqrt n\, Q` with :math:`Q` the orthonormal factor of a Gaussian matrix
    (uniformly random column space). Requires ``n >= d``.
    """
    _check_sizes(n=n, d=d)
    if n < d:
        raise ValueError(f"n: must be >= d = {d} for a whitened design, got {n}")
    return jnp.sqrt(n) * random_orthogonal(key, n, d)


def random_orthogonal(key: Array, n: int, k: int | None = None) -> Array:
    r"""``k`` orthonormal columns in :math:`\mathbb R^n`, uniformly distributed (Haar).

    The Q factor of a Gaussian matrix with the signs of :math:`\mathrm{diag}(R)` fixed to +1,
    which makes the law exactly Haar. ``k = n`` (default) gives an orthogonal matrix.
    """
    k = n if k is None else k
    _check_sizes(n=n, k=k)
    q, r = jnp.linalg.qr(jax.random.normal(key, (n, k), dtype=jnp.float64))
    return q * jnp.sign(jnp.diag(r))
