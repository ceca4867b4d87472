"""Reading a sweep result back: counts of statuses and the points that failed."""

from __future__ import annotations

import collections

import numpy as np
import xarray as xr

from lindyn.sweep._grid import describe_point
from lindyn.sweep._store import FAILED

__all__ = ["summarize", "failures"]


def summarize(ds: xr.Dataset) -> str:
    """One line: the number of points and of each status.

    Example:
        >>> ds = xr.Dataset({"status": ("n", ["ok", "failed", "ok"])}, coords={"n": [1, 2, 3]})
        >>> summarize(ds)
        '3 points: 2 ok, 1 failed'
    """
    counts = collections.Counter(str(s) for s in ds["status"].values.ravel())
    parts = ", ".join(f"{n} {status}" for status, n in counts.most_common())
    size = ds["status"].size
    return f"{size} point{'' if size == 1 else 's'}: {parts}"


def failures(ds: xr.Dataset) -> list[str]:
    """``key=value, ...: error`` of every failed point, in C order.

    Example:
        >>> ds = xr.Dataset(
        ...     {"status": ("n", ["ok", "failed"]), "error": ("n", ["", "boom"])},
        ...     coords={"n": [1, 2]},
        ... )
        >>> failures(ds)
        ['n=2: boom']
    """
    status = np.asarray(ds["status"].values, dtype=object)
    dims = ds["status"].dims
    lines = []
    for index in np.argwhere(status == FAILED):
        point = {d: ds[d].values[i] for d, i in zip(dims, index, strict=True)}
        point = {d: v.item() if isinstance(v, np.generic) else v for d, v in point.items()}
        lines.append(f"{describe_point(point)}: {ds['error'].values[tuple(index)]}")
    return lines
