"""Theory (solid) against simulation (dashed, mean ± std over seeds)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["overlay", "new_figure"]


def new_figure(ncols: int, *, width: float = 4.6, height: float = 3.6) -> tuple[Figure, list[Axes]]:
    """A row of ``ncols`` axes."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def _curves(da: xr.DataArray, time_dim: str = "time") -> list[tuple[str, xr.DataArray]]:
    """Split a variable along its extra dims into labelled 1-D (or seed x time) curves."""
    extra = [d for d in da.dims if d not in ("seed", time_dim)]
    if not extra:
        return [("", da)]
    stacked = da.stack(_curve=extra)
    return [
        (
            ", ".join(f"{d}={v}" for d, v in zip(extra, np.atleast_1d(idx), strict=True)),
            stacked.isel(_curve=i),
        )
        for i, idx in enumerate(stacked["_curve"].values)
    ]


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
    """
    pairs = zip(_curves(theory[variable]), _curves(sim[variable]), strict=True)
    for i, ((name, th), (_, si)) in enumerate(pairs):
        color = f"C{i % 10}"
        t_th, t_si = theory["time"].values, sim["time"].values
        mean, std = si.mean("seed").values, si.std("seed").values
        ax.plot(
            t_th, th.values, "-", color=color, lw=3.2, alpha=0.45, label=f"theory {name}".strip()
        )
        ax.plot(t_si, mean, "--", color=color, lw=1.3, label=f"simulation {name}".strip())
        ax.fill_between(t_si, mean - std, mean + std, color=color, alpha=0.2, lw=0)
    if logx:
        ax.set_xscale("symlog", linthresh=float(theory["time"].values[1]))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("time t")
    ax.set_ylabel(label or variable)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return ax
