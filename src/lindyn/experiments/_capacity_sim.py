r"""Training committee machines on random labels, vectorized over instances and restarts.

The README's capacity notes §4. One instance draws :math:`P` Gaussian inputs
:math:`x \in \mathbb R^N` and uniform labels :math:`y = \pm1`; the network
:math:`h(x) = K^{-1/2}\sum_k\tilde g(w_k\cdot x/\sqrt N)`, :math:`\tilde g = g - \mathbb Eg`
(:class:`lindyn.models.Committee` with unit second layer), keeps every :math:`|w_k|^2 = N`.
Training (stronger than plain gradient descent): Adam on the hinge loss
:math:`\sum_\mu\max(0, m - y^\mu h(x^\mu))` with margin :math:`m`, the learning rate decaying
geometrically from ``lr0`` to ``lr1``, the gradient projected on the tangent space of the
spheres and the weights renormalised after every step; ``restarts`` independent
initialisations per instance, and an instance is solved when one of them classifies every
pattern correctly (:math:`y h > 0`). The loads of a sweep share one compiled program: each
masks the patterns of the largest load beyond its own :math:`P`, so the instances of one seed
are nested across loads (the first :math:`P` patterns of one draw, the same starts).
Measured on the restart with the fewest errors: the training-error fraction, the hidden-unit
correlation :math:`KC`,
:math:`C = \frac{1}{K(K-1)}\sum_{k\ne l}w_k\cdot w_l/N`, and the sum vector
:math:`|\sum_kw_k|^2/(NK) = 1 + (K-1)C`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

from lindyn.models import Committee

__all__ = ["Trainer", "train_instances"]


@dataclasses.dataclass(frozen=True)
class Trainer:
    """The network and the schedule of one sweep (see the module docstring): ``P`` patterns
    are drawn per instance (the largest load's)."""

    model: Committee
    P: int
    steps: int
    restarts: int
    margin: float = 0.05
    lr0: float = 0.05
    lr1: float = 1e-3

    @property
    def N(self) -> int:
        return self.model.d

    @property
    def K(self) -> int:
        return self.model.K

    def field(self, W: Array, X: Array) -> Array:
        """:math:`h(x)` for every row of ``X``; ``W`` is ``(K, N)``."""
        return self.model.output(W, X)

    def loss(self, W: Array, X: Array, y: Array, mask: Array) -> Array:
        return jnp.sum(mask * jnp.maximum(0.0, self.margin - y * self.field(W, X)))


def _spheres(W: Array, N: int) -> Array:
    return W * jnp.sqrt(N) / jnp.linalg.norm(W, axis=1, keepdims=True)


def _train(t: Trainer, W: Array, X: Array, y: Array, mask: Array) -> Array:
    """Adam on the spheres (module docstring); returns the final weights."""
    rates = t.lr0 * (t.lr1 / t.lr0) ** (jnp.arange(t.steps) / t.steps)

    def step(carry, i):
        W, m, v = carry
        G = jax.grad(t.loss)(W, X, y, mask)
        G = G - jnp.sum(G * W, axis=1, keepdims=True) * W / t.N  # tangent to the spheres
        m, v = 0.9 * m + 0.1 * G, 0.999 * v + 0.001 * G * G
        scale = jnp.sqrt(1 - 0.999 ** (i + 1)) / (1 - 0.9 ** (i + 1))
        W = _spheres(W - rates[i] * scale * m / (jnp.sqrt(v) + 1e-8), t.N)
        return (W, m, v), None

    zeros = jnp.zeros_like(W)
    (W, _, _), _ = jax.lax.scan(step, (W, zeros, zeros), jnp.arange(t.steps))
    return W


def _instance(t: Trainer, key: Array, patterns: Array) -> dict[str, Array]:
    """One instance with the first ``patterns`` of ``t.P`` drawn patterns (the rest masked
    out, so that every load of a sweep runs the same compiled program)."""
    kx, ky, kw = jax.random.split(key, 3)
    X = jax.random.normal(kx, (t.P, t.N), dtype=jnp.float64)
    y = jnp.where(jax.random.bernoulli(ky, 0.5, (t.P,)), 1.0, -1.0)
    mask = (jnp.arange(t.P) < patterns).astype(jnp.float64)
    starts = _spheres(jax.random.normal(kw, (t.restarts, t.K, t.N), dtype=jnp.float64), t.N)
    W = jax.vmap(lambda w: _train(t, w, X, y, mask))(starts)
    errors = jax.vmap(lambda w: jnp.sum(mask * (y * t.field(w, X) <= 0)))(W)
    best = W[jnp.argmin(errors)]
    overlaps = best @ best.T / t.N
    C = (jnp.sum(overlaps) - jnp.trace(overlaps)) / (t.K * (t.K - 1))
    return {
        "solved": (jnp.min(errors) == 0).astype(jnp.float64),
        "train_error": jnp.min(errors) / patterns,
        "KC": t.K * C,
        "sum_vector": jnp.sum(overlaps) / t.K,
    }


@functools.lru_cache(maxsize=16)
def _program(t: Trainer) -> Callable[[Array, Array], dict[str, Array]]:
    return jax.jit(jax.vmap(lambda k, p: _instance(t, k, p), (0, None)))


def train_instances(t: Trainer, keys: Array, patterns: int | None = None) -> dict[str, Array]:
    """:func:`_instance` for every key (``vmap``) at ``patterns <= t.P`` patterns (default
    ``t.P``): each observable of shape ``(instances,)``. Compiled once per trainer."""
    if t.K < 2:
        raise ValueError("K: must be >= 2 for the hidden-unit correlation")
    count = t.P if patterns is None else patterns
    if not 1 <= count <= t.P:
        raise ValueError(f"patterns: must be in [1, {t.P}], got {count}")
    return _program(t)(keys, jnp.asarray(count))
