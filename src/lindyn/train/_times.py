"""Save times: logarithmic spacing for plateaus that last ~log(1/alpha)."""

from __future__ import annotations

import numpy as np

__all__ = ["log_times", "log_steps"]


def log_times(t_max: float, num: int, *, t_min: float | None = None) -> np.ndarray:
    """``num`` times from 0 to ``t_max``: 0, then ``num - 1`` log-spaced from ``t_min``.

    Args:
        t_max: final time (> 0).
        num: number of times (>= 2).
        t_min: first positive time; ``t_max * 1e-4`` by default.
    """
    if not t_max > 0:
        raise ValueError(f"t_max: must be > 0, got {t_max!r}")
    if num < 2:
        raise ValueError(f"num: must be >= 2, got {num}")
    t_min = t_max * 1e-4 if t_min is None else t_min
    if not 0 < t_min < t_max:
        raise ValueError(f"t_min: must be in (0, t_max), got {t_min!r}")
    return np.concatenate([[0.0], np.geomspace(t_min, t_max, num - 1)])


def log_steps(steps: int, num: int) -> np.ndarray:
    """Distinct step counts from 0 to ``steps``, about ``num`` of them, log-spaced."""
    if steps < 1:
        raise ValueError(f"steps: must be >= 1, got {steps}")
    ks = np.unique(np.round(np.geomspace(1, steps, max(num - 1, 1))).astype(np.int64))
    return np.concatenate([[0], ks])
