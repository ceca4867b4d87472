"""One damped fixed-point iteration, shared by every self-consistent theory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from lindyn.theory._checks import validate

__all__ = ["FixedPointResult", "damped_fixed_point"]


@dataclasses.dataclass(frozen=True)
class FixedPointResult:
    """The outcome of :func:`damped_fixed_point`.

    Attributes:
        value: :math:`F(x)` at the accepted point if ``status == "converged"``; otherwise the
            last point :math:`x` at which :math:`F` was evaluated (``residual`` is its change).
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


def _flatten(tree: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    arrays = [np.asarray(leaf, dtype=np.float64) for leaf in leaves]
    sizes = np.cumsum([0] + [a.size for a in arrays])

    def unflatten(vector: np.ndarray) -> Any:
        parts = [
            vector[a:b].reshape(x.shape)
            for a, b, x in zip(sizes[:-1], sizes[1:], arrays, strict=True)
        ]
        return jax.tree_util.tree_unflatten(treedef, parts)

    return np.concatenate([a.ravel() for a in arrays]), unflatten


class _Anderson:
    r"""Anderson mixing of depth ``m`` (Walker & Ni 2011, type II) on flattened iterates.

    With residuals :math:`f_k = F(x_k) - x_k` and the last ``m`` differences
    :math:`\Delta f, \Delta x`, :math:`\gamma = \arg\min\|f_k - \Delta f\,\gamma\|` and
    :math:`x_{k+1} = x_k + \omega f_k - (\Delta x + \omega\Delta f)\gamma`; ``m = 0`` is plain
    damping. The history is cleared when the residual grows tenfold (a safeguard).
    """

    def __init__(self, depth: int, damping: float):
        self.depth, self.damping = depth, damping
        self.dx: list[np.ndarray] = []
        self.df: list[np.ndarray] = []
        self.last: tuple[np.ndarray, np.ndarray] | None = None

    def step(self, x: np.ndarray, f: np.ndarray) -> np.ndarray:
        if self.last is not None:
            self.dx.append(x - self.last[0])
            self.df.append(f - self.last[1])
            if np.linalg.norm(f) > 10 * np.linalg.norm(self.last[1]):
                self.dx, self.df = [], []
            del self.dx[: -self.depth or None], self.df[: -self.depth or None]
        self.last = (x, f)
        if not self.df:
            return x + self.damping * f
        DF, DX = np.stack(self.df, axis=1), np.stack(self.dx, axis=1)
        gamma = np.linalg.lstsq(DF, f, rcond=None)[0]
        return x + self.damping * f - (DX + self.damping * DF) @ gamma


def damped_fixed_point(
    update: Callable[[Any], Any],
    x0: Any,
    *,
    damping: float = 0.5,
    anderson: int = 0,
    tol: float = 1e-6,
    max_iter: int = 200,
    callback: Callable[[int, float], None] | None = None,
) -> FixedPointResult:
    r"""Iterate :math:`x \leftarrow (1-\omega)\,x + \omega\,F(x)` until :math:`\max|F(x) - x| < \mathrm{tol}`.

    Args:
        update: the map :math:`F` on a pytree of arrays.
        x0: the starting point.
        damping: :math:`\omega \in (0, 1]` (1 = undamped).
        anderson: depth of Anderson acceleration (0 = plain damped iteration); the stopping
            rule and the returned value (:math:`F(x)` at the accepted point) are unchanged.
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
    validate(
        [
            ("damping", damping, 0 < damping <= 1, "in (0, 1]"),
            ("anderson", anderson, anderson >= 0, ">= 0"),
            ("max_iter", max_iter, max_iter >= 1, ">= 1"),
        ]
    )
    x, residuals = x0, []
    mixer = _Anderson(anderson, damping)
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
        if it == max_iter:  # the last evaluated point, whose residual is reported
            return FixedPointResult(x, "max_iter", max_iter, residual, tuple(residuals))
        flat_x, unflatten = _flatten(x)
        flat_fx, _ = _flatten(fx)
        x = unflatten(mixer.step(flat_x, flat_fx - flat_x))
    raise AssertionError("unreachable")
