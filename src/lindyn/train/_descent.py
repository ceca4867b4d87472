"""Gradient descent and SGD (one-pass or repeated data) with ``lax.scan``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from lindyn.train._solution import Solution, status_code

__all__ = ["gradient_descent", "sgd", "one_pass_batches", "repeated_batches"]

Batch = Any


def _iterate(
    update: Callable[[Any, Array], Any],
    params0: Any,
    record_steps: np.ndarray,
    observe: Callable[[Any], dict[str, Array]],
) -> tuple[Array, dict[str, Array]]:
    """Run ``params <- update(params, k)`` and record ``observe`` after each step in ``record_steps``."""
    record_steps = np.asarray(record_steps, dtype=np.int64)
    if record_steps.ndim != 1 or np.any(np.diff(record_steps) <= 0) or record_steps[0] < 0:
        raise ValueError("record_steps: must be strictly increasing step counts >= 0")
    starts = np.concatenate([[0], record_steps[:-1]])

    def block(params: Any, span: tuple[Array, Array]) -> tuple[Any, dict[str, Array]]:
        start, stop = span
        params = lax.fori_loop(start, stop, lambda k, p: update(p, k), params)
        return params, observe(params)

    spans = (jnp.asarray(starts), jnp.asarray(record_steps))
    _, observables = lax.scan(block, params0, spans)
    return jnp.asarray(record_steps), observables


def gradient_descent(
    grad_fn: Callable[[Any], Any],
    params0: Any,
    *,
    eta: float,
    record_steps: np.ndarray,
    observe: Callable[[Any], dict[str, Array]],
) -> Solution:
    r"""Full-batch gradient descent :math:`\theta_{k+1} = \theta_k - \eta\nabla\mathcal L(\theta_k)`.

    Records after the steps listed in ``record_steps`` (use :func:`log_steps`); step ``k``
    is reported at flow time :math:`t = \eta k`. ``jit``/``vmap``-compatible.
    """
    update = lambda p, k: jax.tree_util.tree_map(lambda a, g: a - eta * g, p, grad_fn(p))  # noqa: E731
    steps, observables = _iterate(update, params0, record_steps, observe)
    return Solution(eta * steps, observables, status_code(observables))


def sgd(
    grad_fn: Callable[[Any, Batch], Any],
    params0: Any,
    *,
    eta: float,
    record_steps: np.ndarray,
    batches: Callable[[Array], Batch],
    observe: Callable[[Any], dict[str, Array]],
) -> Solution:
    r"""Stochastic gradient descent :math:`\theta_{k+1} = \theta_k - \eta\nabla\mathcal L_{B_k}(\theta_k)`.

    Args:
        grad_fn: ``(params, batch) -> gradient``.
        batches: step index ``k`` -> batch :math:`B_k`; see :func:`one_pass_batches` (fresh
            samples each step) and :func:`repeated_batches` (minibatches of a fixed data set).
    """

    def update(p: Any, k: Array) -> Any:
        return jax.tree_util.tree_map(lambda a, g: a - eta * g, p, grad_fn(p, batches(k)))

    steps, observables = _iterate(update, params0, record_steps, observe)
    return Solution(eta * steps, observables, status_code(observables))


def one_pass_batches(sample: Callable[[Array], Batch], key: Array) -> Callable[[Array], Batch]:
    """Online protocol: step ``k`` draws a fresh batch ``sample(fold_in(key, k))``."""
    return lambda k: sample(jax.random.fold_in(key, k))


def repeated_batches(
    X: Array, Y: Array, batch_size: int, key: Array
) -> Callable[[Array], tuple[Array, Array]]:
    """Repeated-data protocol: step ``k`` takes ``batch_size`` distinct rows of the fixed ``(X, Y)``."""
    n = X.shape[0]
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size: must be in [1, {n}], got {batch_size}")

    def batch(k: Array) -> tuple[Array, Array]:
        idx = jax.random.choice(jax.random.fold_in(key, k), n, (batch_size,), replace=False)
        return X[idx], Y[idx]

    return batch
