"""Sweeps: a grid of configs, one dask task per point, into one resumable zarr store.

``lindyn.sweep(experiment, grid, out=...)`` runs the experiment at every grid point on a
``dask.distributed`` cluster and writes every point's metrics and status to ``out/sweep.zarr``
(see :mod:`lindyn.sweep._store` for the layout and why a crash loses at most the running
points). Running the same sweep again computes only what is missing.
"""

from lindyn.sweep._cluster import check_workers as check_workers
from lindyn.sweep._grid import Grid as Grid
from lindyn.sweep._grid import make_grid as make_grid
from lindyn.sweep._grid import parse_axis as parse_axis
from lindyn.sweep._grid import parse_fixed as parse_fixed
from lindyn.sweep._grid import parse_grid as parse_grid
from lindyn.sweep._store import STORE_NAME as STORE_NAME
from lindyn.sweep._store import StoreMismatchError as StoreMismatchError
from lindyn.sweep._store import SweepStore as SweepStore
from lindyn.sweep._store import load_sweep as load_sweep
from lindyn.sweep._summary import failures as failures
from lindyn.sweep._summary import summarize as summarize
from lindyn.sweep._summary import sweep_verdict as sweep_verdict
from lindyn.sweep._sweep import SweepInterrupted as SweepInterrupted
from lindyn.sweep._sweep import sweep as sweep
from lindyn.sweep._task import run_point as run_point
