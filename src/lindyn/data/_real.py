"""Real regression data sets that ship inside an installed package (nothing is downloaded)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

__all__ = ["REAL_DATASETS", "load_real"]


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True, scaled=False)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


_LOADERS: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "diabetes": _diabetes,  # 442 x 10, disease progression after one year
    "digits": _digits,  # 1797 x 64 (8x8 images), the digit value as a regression target
}

REAL_DATASETS: tuple[str, ...] = tuple(_LOADERS)


def load_real(name: str) -> tuple[np.ndarray, np.ndarray]:
    r"""A bundled real regression data set, standardized.

    Every column of ``X`` and ``y`` is centred and scaled to unit variance; columns with zero
    variance (e.g. the always-blank border pixels of ``digits``) are dropped. To use the data
    with a convention "entries of variance 1/d", multiply ``X`` by :math:`1/\sqrt d`.

    Args:
        name: one of :data:`REAL_DATASETS` (``diabetes``, ``digits``), from scikit-learn's
            bundled copies.

    Returns:
        ``(X, y)``: float64 arrays of shapes ``(n, d)`` and ``(n,)``.

    Raises:
        ValueError: unknown name.
    """
    if name not in _LOADERS:
        raise ValueError(f"design: unknown data set {name!r}; one of {', '.join(REAL_DATASETS)}")
    x, y = _standardized(name)
    return x.copy(), y.copy()


@functools.cache
def _standardized(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read and standardize once per process (callers get copies)."""
    x, y = (np.asarray(a, dtype=np.float64) for a in _LOADERS[name]())
    std = x.std(axis=0)
    x = x[:, std > 0]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    y = (y - y.mean()) / y.std()
    return x, y
