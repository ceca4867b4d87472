"""The sweep driver: one dask task per grid point, each result written as it completes."""

from __future__ import annotations

import contextlib
import os
from asyncio import CancelledError
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from lindyn._progress import progress_bar
from lindyn.experiments import Experiment, check_seeds
from lindyn.sweep._cluster import check_workers, connect
from lindyn.sweep._grid import Grid, make_grid
from lindyn.sweep._store import FAILED, STORE_NAME, TODO, SweepStore, store_attrs
from lindyn.sweep._task import run_point

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["sweep", "SweepInterrupted"]

Progress = Callable[[str, int, int], None]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the finished points are stored, the same call resumes.

    Attributes:
        path: the store.
        done: number of finished points (neither pending nor failed).
        total: number of grid points.
    """

    def __init__(self, path: Path, done: int, total: int):
        self.path, self.done, self.total = path, done, total
        super().__init__(
            f"interrupted: {done} of {total} points done in {path}; run the same sweep again "
            "to compute the rest"
        )


def sweep(
    experiment: str | Experiment,
    grid: Mapping[str, Sequence[Any]],
    *,
    fixed: Mapping[str, Any] | None = None,
    seeds: int | None = None,
    quick: bool = False,
    client: Client | str | None = None,
    workers: int | None = None,
    out: str | os.PathLike,
    progress: bool | Progress = True,
    family: int | None = None,
) -> xr.Dataset:
    """Run ``experiment`` at every point of ``grid``, one dask task per point, into one store.

    Every point's config is validated before anything is written or submitted. The results go
    to the zarr store ``out/sweep.zarr`` (layout and crash-safety in :mod:`lindyn.sweep._store`),
    written by this process as the tasks complete. Re-running the same sweep resumes it: only
    points that are pending or failed are computed. A point whose run ends with a non-ok status
    (e.g. ``"diverged"``) is a result and is kept; a point whose task raised, or whose worker
    died, is ``"failed"`` with the error and is retried by the next run.

    Args:
        experiment: a registered name or an :class:`~lindyn.Experiment`.
        grid: config key -> values, one store dimension per key, in this order.
        fixed: config key -> value set at every point.
        seeds: simulated seeds per point; the experiment's default if None.
        quick: start from the experiment's quick config.
        client: a ``distributed.Client``, or a scheduler address; if None, a
            ``LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True)`` is
            created for the sweep and closed after it.
        workers: number of local worker processes (only without ``client``).
        out: output folder; the store is ``out/sweep.zarr``.
        progress: show a progress bar with the ETA on stderr, or a callback
            ``progress(description, done, total)`` called after every stored point.
        family: the verdicts judged together (the metric ``verdict`` of every point,
            :func:`lindyn.sweep.run_point`): the grid's points by default; a figure drawn
            from several sweeps passes all their points.

    Returns:
        The store, loaded into memory: dims = the grid keys, one float64 variable per metric,
        ``status`` and ``error``; ``attrs["points_computed"]`` is the number of points this
        call computed (not stored).

    Raises:
        ConfigError: a bad grid, fixed value or point config (nothing is written).
        ValueError: bad ``seeds`` or ``workers``, or ``out`` is a file.
        StoreMismatchError: ``out/sweep.zarr`` holds a different sweep (it is left unchanged).
        SweepInterrupted: Ctrl-C; the futures are cancelled, finished points stay stored.

    Example:
        >>> import lindyn
        >>> ds = lindyn.sweep("linreg", {"sigma": [0.0, 0.5], "n": [100, 200]}, quick=True,
        ...                   seeds=2, out="sweeps/linreg", progress=False)  # doctest: +SKIP
        >>> ds["rel_l2_test_error"].dims, ds.status.values.tolist()  # doctest: +SKIP
        (('sigma', 'n'), [['ok', 'ok'], ['ok', 'ok']])
    """
    g = make_grid(experiment, grid, fixed=fixed, quick=quick)
    seeds = check_seeds(g.experiment.seeds if seeds is None else seeds)
    family = check_seeds(len(g.configs) if family is None else family, "family")
    check_workers(workers, client)
    store = SweepStore.open(_store_path(out), g, store_attrs(g, seeds, quick))
    todo = np.flatnonzero(np.isin(store.statuses(), TODO)).tolist()
    try:
        with _reporter(progress) as report:
            report(_label(g), len(g.configs) - len(todo), len(g.configs))
            if todo:
                with connect(client, workers) as dask_client:
                    _compute(dask_client, store, g, (seeds, family), todo, report)
    except KeyboardInterrupt:
        raise SweepInterrupted(store.path, store.count()[0], len(g.configs)) from None
    ds = store.load()
    ds.attrs["points_computed"] = len(todo)
    return ds


def _store_path(out: str | os.PathLike) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: must be a folder, but {out} is a file")
    return out / STORE_NAME


@contextlib.contextmanager
def _reporter(progress: bool | Progress) -> Iterator[Progress]:
    if callable(progress):
        yield progress
    else:
        with progress_bar(enabled=bool(progress), eta=True) as bar:
            yield bar


def _label(grid: Grid) -> str:
    return f"sweep {grid.experiment.name}"


def _compute(
    client: Client,
    store: SweepStore,
    grid: Grid,
    counts: tuple[int, int],
    todo: list[int],
    report: Progress,
) -> None:
    """Submit the ``todo`` points (``counts``: seeds and verdict family) and store each result
    as its future completes."""
    from distributed import as_completed

    total = len(grid.configs)
    done = total - len(todo)
    futures = {_submit(client, grid, flat, *counts): flat for flat in todo}
    try:
        for future in as_completed(list(futures)):
            _store_outcome(store, grid.index(futures[future]), future)
            done += 1
            report(_label(grid), done, total)
    finally:
        client.cancel([f for f in futures if not f.done()])


def _submit(client: Client, grid: Grid, flat: int, seeds: int, family: int) -> Future:
    config = grid.configs[flat].to_dict()
    return client.submit(run_point, grid.experiment.name, config, seeds, family, pure=False)


def _store_outcome(store: SweepStore, index: tuple[int, ...], future: Future) -> None:
    """Write a completed future's point; an exception (or a dead worker) makes it failed."""
    try:
        value = future.result()
    except (Exception, CancelledError) as e:  # raised in the task, or KilledWorker
        store.write_point(index, {}, FAILED, f"{type(e).__name__}: {e}")
        return
    try:
        store.write_point(index, value["metrics"], value["status"], value["message"])
    except ValueError as e:  # a metric named like a grid key or a store variable
        store.write_point(index, {}, FAILED, str(e))
