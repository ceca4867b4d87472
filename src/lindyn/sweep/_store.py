"""The sweep store: one zarr group ``DIR/sweep.zarr`` with one dimension per grid key.

Layout: the coordinates are the grid values, in the given order; one float64 variable per
metric (named as the metric, NaN where not computed); ``status`` (``"pending"``, ``"ok"``,
``"failed"`` when the task raised, or the run's own non-ok status such as ``"diverged"``) and
``error`` (the message of a point that is not ok, ``""`` otherwise). The attributes hold the
experiment, the grid, the fixed values, seeds, the quick flag, the base config (JSON) and the
package versions.

Design, so that a sweep can crash at any moment and resume:

- **Only the driver writes.** Tasks return plain values; the driver writes them as they arrive,
  so the store never has two writers.
- **One chunk per point.** Chunk size 1 along every grid dimension: writing one point touches
  only that point's chunks (and zarr writes each chunk file atomically).
- **Status last, as the commit marker.** A point's metrics and error are written first, its
  status last. A crash in between leaves the point ``"pending"``, and it is recomputed.
- **Created whole or not at all.** The store is written to a hidden folder beside its final
  path and renamed into place, with every point pending.
- **Same sweep or refused.** Opening an existing store with a different experiment, grid,
  fixed values, seeds, quick flag or base config raises :class:`StoreMismatchError`.

Zarr format 3 without consolidated metadata (not part of the format-3 specification); strings
(status, error, string coordinates) are variable-length UTF-8. Read it with
``xr.open_zarr(path, consolidated=False)`` or :meth:`SweepStore.load`.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from lindyn.results import provenance
from lindyn.sweep._grid import Grid

__all__ = [
    "load_sweep",
    "STORE_NAME",
    "PENDING",
    "OK",
    "FAILED",
    "SweepStore",
    "StoreMismatchError",
    "store_attrs",
]

STORE_NAME = "sweep.zarr"
PENDING, OK, FAILED = "pending", "ok", "failed"
TODO = (PENDING, FAILED)  # the statuses a sweep (re)computes
IDENTITY = ("experiment", "grid", "fixed", "seeds", "quick", "config")
_JSON = ("grid", "fixed", "config")
_STATUS_DOC = (
    "pending: not computed yet; ok; failed: the task raised (see error); "
    "any other value: the run's own status, e.g. diverged (see error)"
)


class StoreMismatchError(ValueError):
    """An existing store holds a different sweep (one line naming the difference)."""


def store_attrs(grid: Grid, seeds: int, quick: bool) -> dict[str, Any]:
    """The attributes of ``grid``'s store; the keys of ``IDENTITY`` must match to resume."""
    return {
        "experiment": grid.experiment.name,
        "grid": json.dumps({k: list(v) for k, v in grid.axes.items()}),
        "fixed": json.dumps(grid.fixed, sort_keys=True),
        "seeds": seeds,
        "quick": quick,
        "config": grid.base.to_json(),
        **provenance(),
    }


def _coordinate(values: tuple[Any, ...]) -> np.ndarray:
    """Grid values as an array; strings as objects (zarr 3 variable-length UTF-8)."""
    return np.asarray(values, dtype=object if isinstance(values[0], str) else None)


def _empty(grid: Grid, attrs: Mapping[str, Any]) -> xr.Dataset:
    dims, shape = tuple(grid.axes), grid.shape
    status = xr.Variable(dims, np.full(shape, PENDING, dtype=object), {"meaning": _STATUS_DOC})
    error = xr.Variable(dims, np.full(shape, "", dtype=object))
    coords = {k: _coordinate(v) for k, v in grid.axes.items()}
    return xr.Dataset({"status": status, "error": error}, coords=coords, attrs=dict(attrs))


def _identity(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes that identify a sweep, with the JSON ones parsed."""
    return {k: json.loads(attrs[k]) if k in _JSON else attrs[k] for k in IDENTITY}


def _differs(stored: Any, new: Any) -> bool:
    """Different values, or (grid, fixed, config) the same entries in another order."""
    return stored != new or (isinstance(stored, dict) and list(stored) != list(new))


def _difference(stored: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """The first attribute (and entry) in which two identities differ, in words."""
    key = next((k for k in IDENTITY if _differs(stored[k], new[k])), None)
    if key is None:
        return None
    old, now = stored[key], new[key]
    if key in _JSON and list(old) != list(now):
        return f"{key} keys are {list(old)} in the store, {list(now)} here"
    if key in _JSON:
        name = next(k for k in old if old[k] != now[k])
        return f"{key} {name} is {old[name]!r} in the store, {now[name]!r} here"
    return f"{key} is {old!r} in the store, {now!r} here"


class SweepStore:
    """An open sweep store: the statuses, point writes, and the whole as a Dataset.

    Example:
        >>> import tempfile, lindyn
        >>> from lindyn.sweep import make_grid
        >>> grid = make_grid("linreg", {"n": [100, 200]}, quick=True)
        >>> path = Path(tempfile.mkdtemp()) / STORE_NAME
        >>> store = SweepStore.open(path, grid, store_attrs(grid, seeds=2, quick=True))
        >>> store.write_point((1,), {"gap": 0.5}, OK, "")
        >>> store.load()["gap"].values.tolist(), store.statuses().tolist()
        ([nan, 0.5], ['pending', 'ok'])
    """

    def __init__(self, path: Path, dims: tuple[str, ...]):
        import zarr

        self.path = path
        self.dims = dims
        self._group = zarr.open_group(path, mode="r+")
        self._arrays = {name: self._group[name] for name in self._group.array_keys()}

    @classmethod
    def open(cls, path: str | Path, grid: Grid, attrs: Mapping[str, Any]) -> SweepStore:
        """Open the store of ``grid`` at ``path``, creating it (every point pending) if absent.

        Raises:
            StoreMismatchError: ``path`` holds a different sweep, or is not a sweep store.
        """
        path = Path(path)
        if path.exists():
            cls._check_same(path, attrs)
        else:
            cls._create(path, _empty(grid, attrs))
        return cls(path, tuple(grid.axes))

    @staticmethod
    def _check_same(path: Path, attrs: Mapping[str, Any]) -> None:
        import zarr

        try:
            stored = dict(zarr.open_group(path, mode="r").attrs)
        except (FileNotFoundError, ValueError) as e:  # zarr's GroupNotFoundError, ...
            raise StoreMismatchError(
                f"{path}: not a lindyn sweep store ({type(e).__name__})"
            ) from None
        if any(key not in stored for key in IDENTITY):
            raise StoreMismatchError(f"{path}: not a lindyn sweep store (attributes missing)")
        difference = _difference(_identity(stored), _identity(attrs))
        if difference:
            raise StoreMismatchError(
                f"{path} holds a different sweep: {difference}; use another output folder, "
                "or repeat the stored sweep to resume it"
            )

    @staticmethod
    def _create(path: Path, ds: xr.Dataset) -> None:
        """Write ``ds`` to a hidden folder beside ``path`` and rename it into place."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        encoding = {name: {"chunks": (1,) * ds[name].ndim} for name in ds.data_vars}
        try:
            ds.to_zarr(tmp, mode="w-", consolidated=False, encoding=encoding)
            tmp.rename(path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @property
    def metrics(self) -> tuple[str, ...]:
        """Names of the metric variables created so far."""
        skip = {*self.dims, "status", "error"}
        return tuple(name for name in self._arrays if name not in skip)

    def statuses(self) -> np.ndarray:
        """The status of every point, shape = the grid's shape."""
        return np.asarray(self._arrays["status"][...], dtype=object)

    def count(self) -> tuple[int, int]:
        """Numbers of (finished, failed) points; finished = neither pending nor failed."""
        status = self.statuses()
        return int(np.isin(status, TODO, invert=True).sum()), int((status == FAILED).sum())

    def write_point(
        self, index: tuple[int, ...], metrics: Mapping[str, float], status: str, error: str
    ) -> None:
        """Write one point: metrics (NaN for known metrics it lacks), error, then status.

        Raises:
            ValueError: a metric named as a grid key, ``status`` or ``error``.
        """
        clashes = [name for name in metrics if name in (*self.dims, "status", "error")]
        if clashes:
            raise ValueError(f"metric {clashes[0]!r}: clashes with a grid key or store variable")
        for name in metrics:
            if name not in self._arrays:
                self._add_metric(name)
        for name in self.metrics:
            self._arrays[name][index] = float(metrics.get(name, np.nan))
        self._arrays["error"][index] = error
        self._arrays["status"][index] = status  # last: the commit marker

    def _add_metric(self, name: str) -> None:
        """A float64 variable of NaN (written by zarr: an xarray append would reset the attrs)."""
        self._arrays[name] = self._group.create_array(
            name,
            shape=self._arrays["status"].shape,
            chunks=(1,) * len(self.dims),
            dtype="float64",
            fill_value=np.nan,
            dimension_names=self.dims,
        )

    def load(self) -> xr.Dataset:
        """The whole store in memory: dims = the grid keys; the metrics by name, status, error."""
        with xr.open_dataset(self.path, engine="zarr", consolidated=False, chunks=None) as ds:
            return ds[[*sorted(self.metrics), "status", "error"]].load()


def load_sweep(folder: str | Path) -> xr.Dataset:
    """The sweep stored in ``folder`` (the ``--out`` of ``lindyn sweep``), in memory.

    Raises:
        FileNotFoundError: ``folder`` holds no sweep store.
    """
    path = Path(folder) / STORE_NAME
    if not (path / "zarr.json").is_file():
        raise FileNotFoundError(f"no sweep store at {path}")
    with xr.open_dataset(path, engine="zarr", consolidated=False, chunks=None) as ds:
        return ds.load()
