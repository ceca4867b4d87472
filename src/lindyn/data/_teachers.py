"""Teachers (targets) and label noise."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["sparse_teacher", "gaussian_teacher", "lowrank_teacher", "noisy_labels"]


def gaussian_teacher(key: Array, d: int) -> Array:
    r"""A dense teacher :math:`\beta^* \sim \mathcal N(0, I_d)`, so :math:`|\beta^*|^2/d \to 1`."""
    if d < 1:
        raise ValueError(f"d: must be >= 1, got {d}")
    return jax.random.normal(key, (d,), dtype=jnp.float64)


def sparse_teacher(key: Array, d: int, rho: float, *, stratified: bool = False) -> Array:
    r"""Bernoulli–Gaussian teacher: :math:`\beta^*_i = s_i z_i`, :math:`s_i \sim \mathrm{Bern}(\rho)`,
    :math:`z_i \sim \mathcal N(0, 1)`, so :math:`\mathbb E\,\beta^{*2}_i = \rho`.

    Args:
        key: a JAX PRNG key.
        d: dimension.
        rho: density in (0, 1].
        stratified: if True the support has exactly ``round(rho * d)`` entries (at least one),
            placed uniformly at random, which removes the support-size fluctuation.

    Returns:
        Array of shape ``(d,)``.
    """
    if d < 1:
        raise ValueError(f"d: must be >= 1, got {d}")
    if not 0 < rho <= 1:
        raise ValueError(f"rho: must be in (0, 1], got {rho!r}")
    k_support, k_values = jax.random.split(key)
    if stratified:
        k = max(1, round(rho * d))
        mask = jnp.zeros(d).at[jax.random.permutation(k_support, d)[:k]].set(1.0)
    else:
        mask = jax.random.bernoulli(k_support, rho, (d,)).astype(jnp.float64)
    return mask * jax.random.normal(k_values, (d,), dtype=jnp.float64)


def lowrank_teacher(
    key: Array, d_out: int, d_in: int, rank: int, *, entry_variance: float = 1.0
) -> Array:
    r"""A rank-``rank`` matrix :math:`A^* = U V^\top`, :math:`U \in \mathbb R^{d_{out}\times r}`,
    :math:`V \in \mathbb R^{d_{in}\times r}` with i.i.d. :math:`\mathcal N(0, v)` entries.

    Returns:
        Array of shape ``(d_out, d_in)``.
    """
    for name, value in (("d_out", d_out), ("d_in", d_in), ("rank", rank)):
        if value < 1:
            raise ValueError(f"{name}: must be >= 1, got {value}")
    if rank > min(d_out, d_in):
        raise ValueError(f"rank: must be <= min(d_out, d_in) = {min(d_out, d_in)}, got {rank}")
    ku, kv = jax.random.split(key)
    std = jnp.sqrt(entry_variance)
    u = std * jax.random.normal(ku, (d_out, rank), dtype=jnp.float64)
    v = std * jax.random.normal(kv, (d_in, rank), dtype=jnp.float64)
    return u @ v.T


def noisy_labels(key: Array, clean: Array, sigma: float) -> Array:
    r"""Labels :math:`y = y_{clean} + \sigma \varepsilon`, :math:`\varepsilon` i.i.d. standard normal."""
    if sigma < 0:
        raise ValueError(f"sigma: must be >= 0, got {sigma!r}")
    return clean + sigma * jax.random.normal(key, jnp.shape(clean), dtype=jnp.float64)
