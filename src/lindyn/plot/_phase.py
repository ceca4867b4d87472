"""Phase diagrams: one panel per summary over the two axes of a sweep, with boundary lines.

A panel is a filled contour map (or a colour mesh where the grid is too coarse for contours) of
one variable of a sweep's dataset over its two grid dimensions, with labelled contour lines at
chosen levels; points that did not finish are left blank. Lines are ``y = f(x)`` curves drawn on
every panel (e.g. the boundaries a theory predicts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["Panel", "Line", "phase_diagram"]


@dataclasses.dataclass(frozen=True)
class Panel:
    """One map: ``variable`` of the dataset, its ``title``, contour ``levels`` and colour map."""

    variable: str
    title: str
    levels: Sequence[float] = ()
    cmap: str = "viridis"


@dataclasses.dataclass(frozen=True)
class Line:
    """A curve ``y = f(x)`` drawn on every panel, with its legend and colour."""

    label: str
    f: Callable[[np.ndarray], np.ndarray]
    color: str = "k"


def _axes_of(ds: xr.Dataset, x: str | None, y: str | None) -> tuple[str, str]:
    dims = [d for d in ds.dims if ds[d].size > 1]
    if x is None or y is None:
        if len(dims) != 2:
            raise ValueError(f"a phase diagram needs a sweep over 2 keys, got dims {list(ds.dims)}")
        x, y = x or dims[0], y or dims[1]
    for name in (x, y):
        if name not in ds.dims:
            raise ValueError(
                f"{name}: not a dimension of the sweep ({', '.join(map(str, ds.dims))})"
            )
    return x, y


def _draw(ax: Axes, field: xr.DataArray, x: str, y: str, panel: Panel) -> None:
    values = field.transpose(y, x).values
    X, Y = np.meshgrid(field[x].values, field[y].values)
    finite = np.isfinite(values)
    if finite.sum() >= 4 and min(values.shape) >= 3:
        lo, hi = np.nanmin(values), np.nanmax(values)
        fill = ax.contourf(
            X, Y, values, levels=np.linspace(lo, hi, 18) if hi > lo else 3, cmap=panel.cmap
        )
        inside = [v for v in panel.levels if lo < v < hi]
        if inside:
            lines = ax.contour(X, Y, values, levels=inside, colors="w", linewidths=0.9)
            ax.clabel(lines, fontsize=7, fmt="%g")
    else:
        fill = ax.pcolormesh(X, Y, values, cmap=panel.cmap, shading="nearest")
    ax.figure.colorbar(fill, ax=ax)
    ax.set_title(panel.title, fontsize=9)


def phase_diagram(
    ds: xr.Dataset,
    panels: Sequence[Panel],
    *,
    lines: Sequence[Line] = (),
    x: str | None = None,
    y: str | None = None,
    title: str = "",
) -> Figure:
    """Draw ``panels`` (two per row) of a sweep's dataset over its dims ``x`` and ``y``.

    Args:
        ds: a sweep (:func:`lindyn.sweep`), two of whose dims have more than one value.
        panels: the maps to draw; variables missing from ``ds`` raise.
        lines: curves drawn on every panel, clipped to the plotted range.
        x, y: the axes (default: the sweep's first and second grid keys).
        title: the figure's title.

    Raises:
        ValueError: not a 2-D sweep, an unknown axis or variable.
    """
    x, y = _axes_of(ds, x, y)
    missing = [p.variable for p in panels if p.variable not in ds.data_vars]
    if missing:
        raise ValueError(f"variables not in the sweep: {', '.join(missing)}")
    rows = -(-len(panels) // 2)
    fig = Figure(figsize=(11, 4.2 * rows))
    axes = fig.subplots(rows, 2, squeeze=False).ravel()
    xs = np.linspace(float(ds[x].min()), float(ds[x].max()), 200)
    y_range = (float(ds[y].min()), float(ds[y].max()))
    for ax, panel in zip(axes, panels, strict=False):
        _draw(ax, ds[panel.variable], x, y, panel)
        for line in lines:
            ax.plot(xs, line.f(xs), color=line.color, lw=1.6, label=line.label)
        ax.set_ylim(*y_range)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    if lines:
        axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
