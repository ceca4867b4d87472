"""Theory (solid) against simulation (dashed, mean ± std over seeds).

Figures are built with :class:`matplotlib.figure.Figure` directly, never through pyplot, so
importing lindyn leaves the user's matplotlib backend alone.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.results import main_axis, seed_std

__all__ = ["overlay", "new_figure", "pair"]


def _shade_invalid(ax: Axes, theory: xr.Dataset, axis: str) -> None:
    """Grey over the part of ``axis`` where ``theory["valid"]`` is false, labelled."""
    if "valid" not in theory:
        return
    valid = np.asarray(theory["valid"].values, dtype=bool)
    if valid.all():
        return
    x = theory[axis].values
    start = x[int(np.argmin(valid))]
    ax.axvspan(start, x[-1], color="0.5", alpha=0.15, lw=0, label="outside the theory's validity")


def new_figure(ncols: int, *, width: float = 4.6, height: float = 3.6) -> tuple[Figure, list[Axes]]:
    """A figure with a row of ``ncols`` axes."""
    fig = Figure(figsize=(width * ncols, height))
    axes = fig.subplots(1, ncols, squeeze=False)
    return fig, list(axes[0])


def _curves(da: xr.DataArray, axis: str = "time") -> list[tuple[str, xr.DataArray]]:
    """Split a variable along its extra dims into labelled (seed x) curves along ``axis``."""
    extra = [d for d in da.dims if d not in ("seed", axis)]
    if not extra:
        return [("", da)]
    stacked = da.stack(_curve=extra)
    labels = [
        ", ".join(f"{d}={v}" for d, v in zip(extra, np.atleast_1d(idx), strict=True))
        for idx in stacked["_curve"].values
    ]
    return [(label, stacked.isel(_curve=i)) for i, label in enumerate(labels)]


def pair(
    ax: Axes,
    theory: tuple[np.ndarray, xr.DataArray | np.ndarray],
    sim: tuple[np.ndarray, xr.DataArray],
    *,
    color: str,
    label: str = "",
) -> None:
    """One theory curve (solid, wide) and one simulation (dashed mean, ± std band over ``seed``).

    Each is ``(x, values)``; the simulation's values carry a ``seed`` dim.
    """
    (x_th, th), (x_si, si) = theory, sim
    mean, std = si.mean("seed").values, seed_std(si).values
    ax.plot(x_th, np.asarray(th), "-", color=color, lw=3.2, alpha=0.45, label=f"theory {label}")
    ax.plot(x_si, mean, "--", color=color, lw=1.3, label=f"simulation {label}")
    ax.fill_between(x_si, mean - std, mean + std, color=color, alpha=0.2, lw=0)


def overlay(
    ax: Axes,
    sim: xr.Dataset,
    theory: xr.Dataset,
    variable: str,
    *,
    label: str | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Axes:
    """Draw ``variable``: theory solid, simulation dashed with a mean ± std band.

    One colour per curve; a variable with extra dims (e.g. ``mode``) gives one curve each.
    Where the theory carries an error estimate ``<variable>_err``, a dotted ±2 err band
    surrounds it; where it marks its own domain (``valid``), the part of the axis outside it
    is shaded grey.
    """
    axis = main_axis(theory)
    pairs = zip(_curves(theory[variable], axis), _curves(sim[variable], axis), strict=True)
    t_th, t_si = theory[axis].values, sim[axis].values
    error = theory.get(f"{variable}_err")
    errors = _curves(error, axis) if error is not None else None
    for i, ((name, th), (_, si)) in enumerate(pairs):
        pair(ax, (t_th, th), (t_si, si), color=f"C{i % 10}", label=name)
        if errors is not None:
            low, high = (np.asarray(th) + s * 2 * np.asarray(errors[i][1]) for s in (-1, 1))
            ax.plot(t_th, low, ":", color=f"C{i % 10}", lw=0.8, label=f"theory ±2 err {name}")
            ax.plot(t_th, high, ":", color=f"C{i % 10}", lw=0.8)
    _shade_invalid(ax, theory, axis)
    if logx:
        ax.set_xscale("symlog", linthresh=float(t_th[1]))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("time t" if axis == "time" else axis)
    ax.set_ylabel(label or variable)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return ax
