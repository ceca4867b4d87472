"""One damped fixed-point iteration, shared by every self-consistent theory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

__all__ = ["FixedPointResult", "damped_fixed_point"]


@dataclasses.dataclass(frozen=True)
class FixedPointResult:
    """The outcome of :func:`damped_fixed_point`.

    Attributes:
        value: the last iterate; the answer only if ``status == "converged"``.
        status: ``"converged"``, ``"max_iter"`` (budget spent, residual above tolerance) or
            ``"diverged"`` (non-finite iterate).
        iterations: number of updates made.
        residual: max-abs change of the last update.
        residuals: the residual after every update.
    """

    value: Any
    status: str
    iterations: int
    residual: float
    residuals: tuple[float, ...]

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def message(self) -> str:
        return f"{self.status} after {self.iterations} iterations, residual {self.residual:.3g}"


def _max_abs_change(new: Any, old: Any) -> float:
    leaves = jax.tree_util.tree_leaves(jax.tree_util.tree_map(lambda a, b: a - b, new, old))
    return max(float(np.max(np.abs(np.asarray(leaf)))) for leaf in leaves)


def damped_fixed_point(
    update: Callable[[Any], Any],
    x0: Any,
    *,
    damping: float = 0.5,
    tol: float = 1e-6,
    max_iter: int = 200,
    callback: Callable[[int, float], None] | None = None,
) -> FixedPointResult:
    r"""Iterate :math:`x \leftarrow (1-\omega)\,x + \omega\,F(x)` until :math:`\max|F(x) - x| < \mathrm{tol}`.

    Args:
        update: the map :math:`F` on a pytree of arrays.
        x0: the starting point.
        damping: :math:`\omega \in (0, 1]` (1 = undamped).
        tol: stopping threshold on the max-abs change :math:`\max|F(x) - x|`.
        max_iter: update budget.
        callback: called as ``callback(iteration, residual)`` (e.g. a progress bar).

    Returns:
        :class:`FixedPointResult`; its ``status`` says whether the value is a fixed point.

    Example:
        >>> import numpy as np
        >>> res = damped_fixed_point(np.cos, np.array(1.0), damping=0.8, tol=1e-12)
        >>> res.status, round(float(res.value), 6)
        ('converged', 0.739085)
    """
    if not 0 < damping <= 1:
        raise ValueError(f"damping: must be in (0, 1], got {damping}")
    x, residuals = x0, []
    for it in range(1, max_iter + 1):
        fx = update(x)
        residual = _max_abs_change(fx, x)
        residuals.append(residual)
        if callback is not None:
            callback(it, residual)
        if not np.isfinite(residual):
            return FixedPointResult(x, "diverged", it, residual, tuple(residuals))
        if residual < tol:
            return FixedPointResult(fx, "converged", it, residual, tuple(residuals))
        x = jax.tree_util.tree_map(lambda a, b: (1 - damping) * a + damping * b, x, fx)
    return FixedPointResult(x, "max_iter", max_iter, residuals[-1], tuple(residuals))
