"""The ``saddle`` figure: the loss staircase with its plateau levels, the map's singular values
and every layer's, against log time."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from lindyn.plot import new_figure, overlay
from lindyn.results import config_of

__all__ = ["draw_saddle", "focus"]


def _levels(ax: Axes, values: np.ndarray, label: str) -> None:
    for i, v in enumerate(values):
        ax.axhline(v, color="k", ls=":", lw=0.8, label=label if i == 0 else None)


def focus(ax: Axes, theory: xr.Dataset) -> None:
    """Log time axis from a third of the first predicted jump to the end (the plateau before
    the first jump is flat on any scale)."""
    jumps = np.asarray(theory.attrs["jump_times"])
    t = theory["time"].values
    first = float(jumps.min()) if jumps.size and not np.isnan(jumps).all() else float(t[1])
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(max(float(t[1]), first / 3.0), float(t[-1]))


def _layers(ax: Axes, sim: xr.Dataset, theory: xr.Dataset) -> None:
    """Seed 0's layer singular values (one colour per layer) and the balanced values."""
    one = sim.isel(seed=0)
    t = one["time"].values
    for i, layer in enumerate(one["layer"].values):
        sv = one["layer_singular_values"].sel(layer=layer).values
        ax.plot(t, sv, color=f"C{i}", lw=1.0, label=[f"W{layer}"] + [None] * (sv.shape[1] - 1))
    n = sim.sizes["mode"]
    top = np.asarray(theory.attrs["layer_spectra"]).reshape(-1, n)[-1]
    _levels(ax, top[top > 0], "balanced s_i^(1/L)")
    focus(ax, theory)
    ax.set_xlabel("time t")
    ax.set_ylabel("layer singular values (seed 0)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def draw_saddle(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Three panels: loss, singular values of the map, of the layers (log time axes)."""
    config = config_of(theory)
    fig, (a, b, c) = new_figure(3)
    overlay(a, sim, theory, "train_loss", logx=True, logy=True)
    levels = np.asarray(theory.attrs["plateau_losses"])
    _levels(a, levels[levels > 0], "plateau C(A_k)")
    a.set_ylim(bottom=1e-3 * levels[levels > 0].min(), top=2 * levels[0])
    a.legend(fontsize=7)
    overlay(b, sim, theory, "singular_values", logx=True)
    for ax in (a, b):
        focus(ax, theory)
    n = sim.sizes["mode"]
    final = np.asarray(theory.attrs["plateau_singular_values"]).reshape(-1, n)[-1]
    _levels(b, final[final > 0], "saddle values s_i")
    _layers(c, sim, theory)
    fig.suptitle(
        f"saddle-to-saddle: L={config['depth']}, w={config['width']}, "
        f"σ={theory.attrs['sigma']:.2g} ({config['target']}, {theory.attrs['regime']} regime)"
    )
    fig.tight_layout()
    return fig
