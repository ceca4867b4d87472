"""Reading a sweep result back: counts of statuses, the points that failed, the verdict."""

from __future__ import annotations

import collections

import numpy as np
import xarray as xr

from lindyn.experiments import VERDICTS, Verdict
from lindyn.sweep._grid import describe_point
from lindyn.sweep._store import FAILED
from lindyn.sweep._task import VERDICT

DIVERGED = "diverged"  # a point's status when its run diverged

__all__ = ["summarize", "failures", "sweep_verdict"]


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


def _points(ds: xr.Dataset, mask: np.ndarray) -> list[str]:
    """``key=value, ...`` of the points where ``mask`` (the status's shape) holds, in C order."""
    dims = ds["status"].dims
    out = []
    for index in np.argwhere(mask):
        point = {d: ds[d].values[i] for d, i in zip(dims, index, strict=True)}
        out.append(
            describe_point(
                {d: v.item() if isinstance(v, np.generic) else v for d, v in point.items()}
            )
        )
    return out


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
    failed = np.asarray(ds["status"].values, dtype=object) == FAILED
    errors = ds["error"].values[failed]
    return [f"{point}: {error}" for point, error in zip(_points(ds, failed), errors, strict=True)]


def sweep_verdict(ds: xr.Dataset) -> Verdict:
    """The verdict of a sweep from its points' (the metric ``verdict``, written by
    :func:`lindyn.sweep.run_point` with the sweep's points as one family, so that the chance
    of a false ``disagree`` anywhere on the grid is that of one verdict).

    A phase diagram crosses the theory's domain on purpose, so the sweep is judged where the
    theory applies: ``disagree`` if any point disagrees; else ``agree`` if every judged point
    inside the domain agrees (the points outside it are counted); ``inconclusive`` if some
    point inside is; ``outside_validity`` when no judged point is inside. Points without a
    verdict (failed, or a store written before verdicts were kept) are counted, not judged.

    Example:
        >>> ds = xr.Dataset(
        ...     {"status": ("n", ["ok"] * 3), "verdict": ("n", [0.0, 2.0, 0.0])},
        ...     coords={"n": [1, 2, 3]},
        ... )
        >>> sweep_verdict(ds)
        Verdict(value='agree', why="2 of 3 points agree, 1 outside the theory's validity")
    """
    if VERDICT not in ds:
        return Verdict("inconclusive", "the sweep holds no verdicts (written before they were)")
    diverged = np.asarray(ds["status"].values, dtype=object) == DIVERGED
    codes = np.where(diverged, np.nan, ds[VERDICT].values)
    counts = {v: int(np.sum(codes == i)) for i, v in enumerate(VERDICTS)}
    total, judged = codes.size, sum(counts.values())
    parts = [f"{counts['agree']} of {total} points agree"]
    if counts["outside_validity"]:
        parts.append(f"{counts['outside_validity']} outside the theory's validity")
    if n_diverged := int(diverged.sum()):
        parts.append(f"{n_diverged} diverged (past the stability edge, not compared)")
    if judged + n_diverged < total:
        parts.append(f"{total - judged - n_diverged} not judged")
    tally = ", ".join(parts)
    for value in ("disagree", "inconclusive"):
        if counts[value]:
            first = _points(ds, codes == VERDICTS.index(value))[0]
            return Verdict(value, f"{counts[value]} points {value} (first {first}); {tally}")
    if counts["agree"]:
        return Verdict("agree", tally)
    if counts["outside_validity"]:
        return Verdict("outside_validity", tally)
    return Verdict("inconclusive", f"no point judged; {tally}")
