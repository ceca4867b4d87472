"""Two-layer nonlinear committee networks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

from lindyn.models._activations import KINKS, activation
from lindyn.models._base import Model
from lindyn.models._gaussian import gaussian_mean

__all__ = ["Committee"]


@dataclasses.dataclass(frozen=True)
class Committee(Model):
    r"""Committee machine :math:`f(x) = \frac1{\sqrt K}\sum_{k=1}^K v_k\, \tilde g(w_k\cdot x/\sqrt d)`.

    :math:`\tilde g = g - \mathbb E_{z\sim\mathcal N(0,1)} g(z)` when ``center`` (the
    storage-capacity convention; the mean by the kink-split rule of
    :mod:`lindyn.models._gaussian`), else :math:`g`. The second layer :math:`v` is fixed (all
    ones by default); the first layer :math:`W \in \mathbb R^{K\times d}` is trained,
    initialised i.i.d. :math:`\mathcal N(0, 1)` so that :math:`|w_k|^2 \approx d`.

    Args:
        d: input dimension.
        K: number of hidden units.
        activation: a name from :data:`lindyn.models.ACTIVATIONS` or an elementwise function.
        center: subtract the Gaussian mean of the activation.
        second_layer: the fixed :math:`v_k`, length ``K``; ones if None.
    """

    d: int
    K: int
    activation: str | Callable[[Array], Array] = "relu"
    center: bool = True
    second_layer: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.d < 1 or self.K < 1:
            raise ValueError(f"d, K: must be >= 1, got d={self.d}, K={self.K}")
        if self.second_layer is not None and len(self.second_layer) != self.K:
            raise ValueError(f"second_layer: must have K = {self.K} entries")
        # Resolved, validated and centred once, outside any trace (jit/vmap/scan safe).
        g = activation(self.activation)
        shift = gaussian_mean(lambda z: g(jnp.asarray(z)), self._kinks()) if self.center else 0.0
        object.__setattr__(self, "_centred", lambda z: g(z) - shift)

    def _kinks(self) -> tuple[float, ...]:
        return KINKS.get(self.activation, ()) if isinstance(self.activation, str) else ()

    def _g(self) -> Callable[[Array], Array]:
        return self._centred

    def _v(self) -> Array:
        if self.second_layer is None:
            return jnp.ones(self.K)
        return jnp.asarray(self.second_layer, dtype=jnp.float64)

    def init(self, key: Array) -> Array:
        return jax.random.normal(key, (self.K, self.d), dtype=jnp.float64)

    def preactivations(self, params: Array, X: Array) -> Array:
        """:math:`\\lambda_{ik} = w_k \\cdot x_i / \\sqrt d`, shape ``(n, K)``."""
        return X @ params.T / jnp.sqrt(self.d)

    def output(self, params: Array, X: Array) -> Array:
        return self._g()(self.preactivations(params, X)) @ self._v() / jnp.sqrt(self.K)

    def output_vjp(self, params: Array, X: Array, R: Array) -> Array:
        dg = jnp.vectorize(jax.grad(self._g()))
        slope = dg(self.preactivations(params, X)) * self._v()  # (n, K)
        return (R[:, None] * slope).T @ X / jnp.sqrt(self.d * self.K)
