"""Gradient flow by an adaptive ODE solve (diffrax)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import diffrax
import jax
import jax.numpy as jnp
from jax import Array

from lindyn.train._solution import Solution, status_code

__all__ = ["gradient_flow"]


def _scale(params: Any) -> Array:
    """Largest root-mean-square leaf (1 if all leaves vanish)."""
    rms = jnp.stack([jnp.sqrt(jnp.mean(leaf**2)) for leaf in jax.tree_util.tree_leaves(params)])
    top = jnp.max(rms)
    return jnp.where(top > 0, top, 1.0)


def gradient_flow(
    grad_fn: Callable[[Any], Any],
    params0: Any,
    save_times: Array,
    *,
    observe: Callable[[Any], dict[str, Array]],
    solver: diffrax.AbstractSolver | None = None,
    rtol: float = 1e-8,
    atol: float | None = None,
    max_steps: int = 200_000,
) -> Solution:
    r"""Solve :math:`\dot\theta = -\nabla\mathcal L(\theta)` and record observables.

    The step size is adaptive (PID controller), so plateaus of length
    :math:`\sim\log(1/\alpha)` at small initialization cost few steps; only the observables are
    stored, at ``save_times`` (use :func:`log_times`). ``jit``/``vmap``-compatible: failures are
    reported in ``status``, never raised.

    Args:
        grad_fn: parameters -> gradient (same pytree).
        params0: initial parameters.
        save_times: increasing times, the first is the start time (usually 0).
        observe: parameters -> dict of arrays to record.
        solver: a diffrax solver; ``Tsit5()`` by default (5th order, explicit).
        rtol: relative tolerance of the step-size controller.
        atol: absolute tolerance; by default ``1e-4 * rtol`` times the largest root-mean-square
            leaf of ``params0``, so that a start at scale :math:`\alpha = 10^{-8}` is resolved
            (a fixed ``atol`` would swallow the whole plateau, where all parameters are tiny).
        max_steps: step budget; exhausting it gives status ``MAX_STEPS``.

    Returns:
        :class:`Solution` with ``times = save_times``.

    Example:
        >>> import jax.numpy as jnp
        >>> sol = gradient_flow(lambda x: x, jnp.ones(2), jnp.array([0.0, 1.0]),
        ...                     observe=lambda x: {"x": x})
        >>> bool(jnp.allclose(sol.observables["x"][-1], jnp.exp(-1.0)))
        True
    """
    save_times = jnp.asarray(save_times, dtype=jnp.float64)
    if atol is None:
        atol = 1e-4 * rtol * _scale(params0)
    term = diffrax.ODETerm(lambda t, y, args: jax.tree_util.tree_map(jnp.negative, grad_fn(y)))
    sol = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5() if solver is None else solver,
        t0=save_times[0],
        t1=save_times[-1],
        dt0=None,
        y0=params0,
        saveat=diffrax.SaveAt(ts=save_times, fn=lambda t, y, args: observe(y)),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    observables = sol.ys
    ok = sol.result == diffrax.RESULTS.successful
    return Solution(save_times, observables, status_code(observables, ok))
