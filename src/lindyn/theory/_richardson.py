r"""The discretization error of a time-stepped solve, from the same solve on a coarser grid.

A scheme of order :math:`p` with steps :math:`h` has error :math:`f_h - f \approx c\,h^p`, so
the same solve on the grid with every other point (steps :math:`2h`) gives
:math:`f_h - f \approx (f_{2h} - f_h)/(2^p - 1)` (Richardson). The estimate here takes
:math:`p = 1`, i.e. :math:`|f_{2h} - f_h|`: the trapezoid rule's asymptotic order 2 would divide
by 3, but on the coarse grids a DMFT is solved on the errors were still pre-asymptotic (the
diagonal-network DMFT, :math:`\alpha = 0.5`, steps up to 2: successive error ratios of 2.3 and 3.8
where order 2 gives 4), and dividing by 3 understated the error of the finer grid twofold.
Order 1 overstates an asymptotic error at most threefold.
"""

from __future__ import annotations

import numpy as np

__all__ = ["coarsen", "richardson_error"]


def coarsen(times: np.ndarray) -> np.ndarray:
    """Every other point of ``times``, and always its last one.

    Raises:
        ValueError: fewer than 3 points (the coarse grid would be the grid itself).

    Example:
        >>> coarsen(np.arange(6.0)).tolist(), coarsen(np.arange(5.0)).tolist()
        ([0.0, 2.0, 4.0, 5.0], [0.0, 2.0, 4.0])
    """
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 3:
        raise ValueError(f"times: at least 3 points to coarsen, got shape {times.shape}")
    coarse = times[::2]
    return coarse if coarse[-1] == times[-1] else np.append(coarse, times[-1])


def richardson_error(
    times: np.ndarray, fine: np.ndarray, coarse_times: np.ndarray, coarse: np.ndarray
) -> np.ndarray:
    r""":math:`|f_{2h} - f_h|` at the points both grids share, linearly interpolated to the
    others of ``times`` (module docstring): the discretization error of ``fine``.

    Args:
        times: ``(K,)`` the fine grid, whose values are ``fine``.
        fine: ``(K,)`` the solve on ``times``.
        coarse_times: :func:`coarsen` of ``times``.
        coarse: the same solve on ``coarse_times``.

    Raises:
        ValueError: ``coarse_times`` not a subset of ``times``, or values of other shapes.

    Example:
        >>> t = np.linspace(0.0, 1.0, 5)
        >>> richardson_error(t, t**2, coarsen(t), coarsen(t) ** 2 + 0.1).round(12).tolist()
        [0.1, 0.1, 0.1, 0.1, 0.1]
    """
    shared = np.isin(times, coarse_times)
    if shared.sum() != np.size(coarse_times) or np.shape(coarse) != np.shape(coarse_times):
        raise ValueError("coarse_times: must be a subset of times, with one coarse value each")
    if np.shape(fine) != np.shape(times):
        raise ValueError("fine: must have one value per point of times")
    gap = np.abs(np.asarray(coarse) - np.asarray(fine)[shared])
    return np.interp(times, coarse_times, gap)
