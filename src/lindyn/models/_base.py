"""The interface every finite network implements: parameters, output, square loss, gradient."""

from __future__ import annotations

import abc
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["Model"]

Params = Any  # a pytree of float64 arrays


def _sq_norm(tree: Params) -> Array:
    return sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(tree))


class Model(abc.ABC):
    r"""A network trained on the square loss with optional weight decay.

    .. math::
        \mathcal L(\theta) = \frac{c}{2} \sum_{i} \| f_\theta(x_i) - y_i \|^2
            + \frac{\lambda}{2} \|\theta\|^2 ,

    with :math:`c = 1/n` by default (``scale=None``, the mean over samples) or any given
    ``scale`` (e.g. ``scale=1`` for the summed loss of the diagonal-network DMFT). Subclasses
    implement :meth:`init`, :meth:`output` and :meth:`output_vjp` (the analytic pull-back of an
    output-space gradient); :meth:`loss` and :meth:`grad` follow.
    """

    @abc.abstractmethod
    def init(self, key: Array) -> Params:
        """Initial parameters drawn with ``key`` (deterministic models ignore it)."""

    @abc.abstractmethod
    def output(self, params: Params, X: Array) -> Array:
        """Network outputs on the rows of ``X``."""

    @abc.abstractmethod
    def output_vjp(self, params: Params, X: Array, R: Array) -> Params:
        r"""Analytic :math:`\sum_i R_i^\top \partial f_\theta(x_i)/\partial\theta` (same pytree as params)."""

    def loss(
        self, params: Params, X: Array, Y: Array, *, scale: float | None = None, lam: float = 0.0
    ) -> Array:
        """The regularised square loss (see the class docstring)."""
        c = 1.0 / X.shape[0] if scale is None else scale
        residual = self.output(params, X) - Y
        return 0.5 * c * jnp.sum(residual**2) + 0.5 * lam * _sq_norm(params)

    def grad(
        self, params: Params, X: Array, Y: Array, *, scale: float | None = None, lam: float = 0.0
    ) -> Params:
        r"""Analytic gradient :math:`\nabla_\theta \mathcal L` (checked against ``jax.grad`` in tests)."""
        c = 1.0 / X.shape[0] if scale is None else scale
        g = self.output_vjp(params, X, c * (self.output(params, X) - Y))
        if lam == 0.0:
            return g
        return jax.tree_util.tree_map(lambda gi, pi: gi + lam * pi, g, params)
