"""The ``pesme`` figure: the flow's coordinates and loss (seed mean ± std) over Algorithm 1's
piecewise-constant limit, against log accelerated time."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.plot import new_figure
from lindyn.results import config_of, seed_std

__all__ = ["alpha_label", "draw_limit", "draw_pesme"]


def alpha_label(config: dict[str, Any]) -> str:
    """``α = 1e-300``, or ``ln(1/α) = 2000`` when the config sets ``log_inv_alpha``."""
    if config.get("log_inv_alpha", 0.0) > 0:
        return f"ln(1/α) = {config['log_inv_alpha']:g}"
    return f"α = {config['alpha']:g}"


def draw_pesme(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Left: the coordinates some saddle uses; right: the train loss (log scale)."""
    fig, (left, right) = new_figure(2, width=5.4, height=4.2)
    saddle_times = np.atleast_1d(theory.attrs["saddle_times"])
    saddles = np.atleast_1d(theory.attrs["saddles"]).reshape(saddle_times.size, -1)
    config = config_of(theory)
    t, t_end = sim["time"].values[1:], sim["time"].values[-1]
    gaps = _gaps(t, saddle_times[1:], config["jump_window"])
    for i, c in enumerate(np.flatnonzero(np.any(saddles != 0, axis=0))):
        beta = sim["beta"].sel(coordinate=c).isel(time=slice(1, None))
        _band(left, t, gaps, beta, f"C{i % 10}", c)
        draw_limit(left, saddle_times, saddles[:, c], t_end)
    losses = np.atleast_1d(theory.attrs["saddle_losses"])
    floor = 1e-8 * losses[0]  # the end point's loss is 0 (or rounding) when it interpolates
    _band(right, t, gaps, sim["train_loss"].isel(time=slice(1, None)), "C0", None)
    draw_limit(right, saddle_times, np.maximum(losses, floor), t_end)
    right.set_yscale("log")
    right.set_ylim(bottom=floor / 3)
    for ax, label in ((left, "coordinates of β"), (right, "train loss")):
        _decorate(ax, saddle_times[1:], label)
    fig.suptitle(
        f"diagonal network, {config['design']} design, {alpha_label(config)}: gradient flow "
        f"({sim.sizes['seed']} start shapes, mean ± std) vs Algorithm 1's limit (black)",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def draw_limit(ax: Axes, saddle_times: np.ndarray, values: np.ndarray, t_end: float) -> None:
    """The piecewise-constant limit (black steps) from its saddle times and values."""
    ax.step(np.append(saddle_times, t_end), np.append(values, values[-1]), "k-", where="post", lw=1)


def _gaps(t: np.ndarray, jumps: np.ndarray, window: float) -> np.ndarray:
    """Indices of the records after a removed jump window (where the curves break)."""
    if window == 0:
        return np.zeros(0, dtype=np.int64)
    straddle = np.any((t[:-1, None] < jumps) & (t[1:, None] > jumps), axis=1)
    return np.flatnonzero(straddle) + 1


def _band(ax: Axes, t: np.ndarray, gaps: np.ndarray, da: xr.DataArray, color: str, label: Any):
    """Seed mean and ± std band of ``da`` at times ``t``, broken before the records ``gaps``."""
    mean, std = (np.insert(a, gaps, np.nan) for a in (da.mean("seed").values, seed_std(da).values))
    t = np.insert(t, gaps, np.nan)
    name = "flow" if label is None else f"β[{label}]"
    ax.plot(t, mean, ".-", color=color, lw=1.0, ms=2.5, label=name)
    ax.fill_between(t, mean - std, mean + std, color=color, alpha=0.25, lw=0)


def _decorate(ax: Axes, jumps: np.ndarray, label: str) -> None:
    """Grey dotted jump times, log time axis, labels, grid and legend."""
    for t_k in jumps:
        ax.axvline(t_k, color="grey", ls=":", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("accelerated time t / ln(1/α)")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
