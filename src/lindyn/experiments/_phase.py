"""The phase diagram of any 2-D sweep: the experiment's own drawing, or one map per summary."""

from __future__ import annotations

from pathlib import Path

import xarray as xr
from matplotlib.figure import Figure

from lindyn.experiments._registry import get
from lindyn.plot import Panel, phase_diagram

__all__ = ["phase_figure", "save_phase_figure"]

_GAPS = ("rel_l2_", "max_abs_", "seed_std_")  # curve-gap metrics: not phase-diagram material


def _generic(ds: xr.Dataset) -> Figure:
    """One map per summary metric; for experiments whose metrics are all curve gaps (those of
    :func:`curve_metrics`), one map per relative gap ``rel_l2_*``: theory against simulation."""
    floats = [str(v) for v in ds.data_vars if ds[v].dtype.kind == "f"]
    names = [v for v in floats if not v.startswith(_GAPS)] or [
        v for v in floats if v.startswith("rel_l2_")
    ]
    panels = [Panel(name, name) for name in names[:6]]
    return phase_diagram(ds, panels, title=f"{ds.attrs['experiment']} sweep")


def phase_figure(ds: xr.Dataset) -> Figure:
    """Draw a sweep's dataset (:func:`lindyn.sweep`) with its experiment's ``phase_diagram``,
    or, for experiments without one, a map of each summary metric.

    Raises:
        ValueError: the sweep is not over two keys, or misses a variable the drawing needs.
    """
    exp = get(ds.attrs["experiment"])
    return (exp.phase_diagram or _generic)(ds)


def save_phase_figure(ds: xr.Dataset, path: str | Path) -> Path:
    """:func:`phase_figure` written to ``path`` (PNG) through a temporary file."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    phase_figure(ds).savefig(tmp, dpi=110)
    return tmp.replace(path)
