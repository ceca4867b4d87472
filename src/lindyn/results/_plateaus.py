r"""Plateaus and jumps of a loss curve: the simulated side of a saddle-to-saddle comparison.

A loss curve :math:`\ell(t)` recorded on a logarithmic time grid is *flat* where its log-log
slope :math:`|d\ln\ell/d\ln t|` is below ``flat`` (the loss changes by less than a fraction
``flat`` per e-fold of time). Maximal runs of flat points spanning at least ``min_span`` e-folds
(or ending the curve) are plateaus (for depth :math:`L \ge 3` every jump time scales as
:math:`\sigma^{-(L-2)}`, so plateaus keep a fixed, short length in log time:
:math:`\ln(t_{k+1}/t_k)`, 0.2–0.4 e-folds for the first of ``diag(4, 3, 2, 1)`` at
:math:`L = 3`, spec ``saddle.md`` §4.2 E1); between
two plateaus lies a jump. A plateau's value is the
loss at its geometric-midpoint time, its rank the number of map singular values above
``rank_threshold`` times the largest singular value at the end of training, there.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Plateau", "crossing_times", "detect_plateaus"]


@dataclasses.dataclass(frozen=True)
class Plateau:
    """One plateau of a loss curve.

    Attributes:
        value: loss at the geometric-midpoint time ``sqrt(start * end)``.
        rank: numerical rank of the map there (-1 when no singular values were given).
        start, end: first and last flat time of the run.
    """

    value: float
    rank: int
    start: float
    end: float

    @property
    def middle(self) -> float:
        return float(np.sqrt(self.start * self.end))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(i, j), ...]``: maximal runs ``mask[i:j+1]`` of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def detect_plateaus(
    times: np.ndarray,
    loss: np.ndarray,
    singular_values: np.ndarray | None = None,
    *,
    flat: float = 0.05,
    min_span: float = 0.0,
    floor: float = 1e-9,
    rank_threshold: float = 1e-2,
) -> list[Plateau]:
    """The plateaus of ``loss`` (module docstring), in time order.

    Args:
        times: increasing times; the non-positive ones are skipped (log axis).
        loss: loss at ``times``, > 0 before it reaches ``floor``.
        singular_values: ``(T, modes)`` singular values of the map, for the ranks.
        flat: largest log-log slope of a flat point.
        min_span: shortest plateau, in e-folds of time (a last run reaching the end counts);
            0 keeps a single flat grid point between two jumps.
        floor: losses below ``floor * loss[0]`` count as converged (flat at 0).
        rank_threshold: relative singular-value threshold of the rank.

    Raises:
        ValueError: mismatched shapes, or fewer than 3 positive times.
    """
    times, loss = np.asarray(times, np.float64), np.asarray(loss, np.float64)
    if times.shape != loss.shape:
        raise ValueError(f"loss: must have the shape of times {times.shape}, got {loss.shape}")
    keep = times > 0
    if keep.sum() < 3:
        raise ValueError("times: need at least 3 positive times")
    t, ell = times[keep], loss[keep]
    low = ell <= floor * loss[0]
    log_ell = np.log(np.where(low, floor * loss[0], ell))
    slope = np.abs(np.gradient(log_ell, np.log(t)))
    sv = None if singular_values is None else np.asarray(singular_values)[keep]
    cut = None if sv is None else rank_threshold * sv[-1].max()
    plateaus = []
    for i, j in _runs((slope < flat) | low):
        if np.log(t[j] / t[i]) < min_span and j < t.size - 1:
            continue
        mid = int(np.argmin(np.abs(np.log(t[i : j + 1]) - 0.5 * np.log(t[i] * t[j])))) + i
        rank = -1 if sv is None else int(np.sum(sv[mid] > cut))
        value = 0.0 if low[mid] else float(ell[mid])
        plateaus.append(Plateau(value, rank, float(t[i]), float(t[j])))
    return plateaus


def crossing_times(times: np.ndarray, loss: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """First time the loss falls below each midpoint of consecutive ``levels`` (spec
    ``saddle.md`` §3.6: the time of the k-th drop), linearly interpolated in log time; ``nan``
    where it never does.

    Args:
        times, loss: the curve (times increasing).
        levels: decreasing plateau values ``(p+1,)``; returns ``(p,)`` times.
    """
    levels = np.asarray(levels, np.float64)
    out = np.full(levels.size - 1, np.nan)
    for k, mid in enumerate(0.5 * (levels[:-1] + levels[1:])):
        below = np.flatnonzero(loss < mid)
        if below.size == 0:
            continue
        j = below[0]
        if j == 0 or times[j - 1] <= 0:
            out[k] = times[j]
            continue
        w = (loss[j - 1] - mid) / (loss[j - 1] - loss[j])
        out[k] = float(np.exp(np.log(times[j - 1]) + w * np.log(times[j] / times[j - 1])))
    return out
