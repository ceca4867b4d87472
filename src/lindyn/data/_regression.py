"""Validation of a regression data set ``(X, y)`` given as arrays by a user."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["checked_regression"]


def checked_regression(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Float64 copies of a design ``X`` ``(n, d)`` and labels ``y`` ``(n,)``, both finite.

    Raises:
        ValueError: one line naming ``X`` or ``y``.

    Example:
        >>> checked_regression([[1.0, 2.0]], [1.0, 2.0])
        Traceback (most recent call last):
        ...
        ValueError: y: must have shape (n,) = (1,), got (2,)
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.size == 0:
        raise ValueError(f"X: must be a non-empty 2-D array (n, d), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y: must have shape (n,) = ({X.shape[0]},), got {y.shape}")
    for name, a in (("X", X), ("y", y)):
        if not np.all(np.isfinite(a)):
            raise ValueError(
                f"{name}: must be finite, got {int(np.sum(~np.isfinite(a)))} non-finite entries"
            )
    return X, y
