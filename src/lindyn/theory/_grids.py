"""Non-uniform time grids for theories solved on a time grid (the DMFTs)."""

from __future__ import annotations

import numpy as np

from lindyn.theory._checks import validate

__all__ = ["flow_grid"]


def flow_grid(
    t_max: float, *, dt_max: float, dt_min: float | None = None, growth: float = 1.1
) -> np.ndarray:
    r"""Times from 0 to ``t_max`` whose steps grow geometrically from ``dt_min`` to ``dt_max``.

    Step :math:`\eta_k = \min(\eta_{\max}, \eta_{\min} g^k)`; the last step is shortened to end at
    ``t_max`` (a remainder shorter than ``dt_min / 2`` is merged into the step before). A fast
    start (the lazy phase at large :math:`\alpha` runs at rate
    :math:`2\alpha^2(1+\sqrt\delta)^2`) is resolved by ``dt_min`` while the number of points,
    about :math:`\ln(\eta_{\max}/\eta_{\min})/\ln g + t_{\max}/\eta_{\max}`, stays that of the slow
    phase.

    Args:
        t_max: final time (> 0).
        dt_max: largest step (> 0).
        dt_min: first step, in (0, dt_max]; ``dt_max`` (a uniform grid) by default.
        growth: ratio of consecutive steps (>= 1).

    Example:
        >>> flow_grid(1.0, dt_max=0.5, dt_min=0.125, growth=2.0).tolist()
        [0.0, 0.125, 0.375, 0.875, 1.0]
    """
    dt_min = dt_max if dt_min is None else dt_min
    checks = (
        ("t_max", t_max, t_max > 0, "> 0"),
        ("dt_max", dt_max, dt_max > 0, "> 0"),
        ("dt_min", dt_min, 0 < dt_min <= dt_max, f"in (0, dt_max = {dt_max}]"),
        ("growth", growth, growth >= 1, ">= 1"),
    )
    validate(checks)
    ramp = int(np.ceil(np.log(dt_max / dt_min) / np.log(growth))) if growth > 1 else 0
    steps = np.minimum(dt_max, dt_min * growth ** np.arange(ramp + 1))
    times = np.concatenate([[0.0], np.cumsum(steps)])
    if times[-1] < t_max:
        times = np.concatenate(
            [times, times[-1] + dt_max * np.arange(1, np.ceil((t_max - times[-1]) / dt_max) + 1)]
        )
    times = times[times < t_max - dt_min / 2]  # no last step shorter than dt_min / 2
    return np.concatenate([times, [t_max]])
