"""Observables recorded along training."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["recorder", "singular_values", "param_norms", "balancedness"]


def recorder(**observables: Callable[[Any], Array]) -> Callable[[Any], dict[str, Array]]:
    """Combine named functions of the parameters into one ``observe`` function.

    Example:
        >>> import jax.numpy as jnp
        >>> observe = recorder(norm=lambda p: jnp.linalg.norm(p))
        >>> float(observe(jnp.array([3.0, 4.0]))["norm"])
        5.0
    """
    return lambda params: {name: fn(params) for name, fn in observables.items()}


def singular_values(matrix: Array) -> Array:
    """Singular values in decreasing order."""
    return jnp.linalg.svd(matrix, compute_uv=False)


def param_norms(params: Any) -> Array:
    """Frobenius norm of every leaf of the parameter pytree, in leaf order."""
    return jnp.stack([jnp.linalg.norm(leaf) for leaf in jax.tree_util.tree_leaves(params)])


def balancedness(layers: tuple[Array, ...]) -> tuple[Array, ...]:
    r""":math:`D_\ell = W_{\ell+1}^\top W_{\ell+1} - W_\ell W_\ell^\top`, conserved by gradient flow."""
    return tuple(b.T @ b - a @ a.T for a, b in itertools.pairwise(layers))
