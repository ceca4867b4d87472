"""Figures 1 and 2 of Tu, Aranguri & Jacot (2024): the dynamics, GD against eq. (1), and the phase diagram."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.plot import Line, Panel, new_figure, pair, phase_diagram
from lindyn.theory import phase_lines

__all__ = ["draw_dynamics", "draw_phase_diagram"]

PANELS = (
    Panel("min_test_error", "minimum test error ‖A − A*‖²/d²", (0.25, 0.5, 0.75), "magma"),
    Panel("stable_rank_at_min", "stable rank of A at the minimum", (3, 5, 7), "viridis"),
    Panel("iterations_to_min", "iterations to the minimum", (100, 200, 300), "cividis"),
    Panel("log_max_distance", "ln max ‖A_GD − A_SC‖²/d²", (-7, -4, 0), "coolwarm"),
)
COLORS = {"lazy": "k", "noise": "tab:red", "rank": "tab:orange"}


def _errors(ax: Axes, sim: xr.Dataset, theory: xr.Dataset) -> None:
    steps = theory["time"].values
    for i, name in enumerate(("train_error", "test_error")):
        pair(ax, (steps, theory[name]), (steps, sim[name]), color=f"C{i}", label=name)
    best = int(np.argmin(theory["test_error"].values))
    ax.axvline(steps[best], color="0.5", ls=":", lw=1)
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("error / d²")
    ax.set_title("dashed: GD (mean ± std), solid: self-consistent; dotted: best stop", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _spectrum(ax: Axes, sim: xr.Dataset, theory: xr.Dataset, K: int, tau: float) -> None:
    steps = theory["time"].values
    gd = sim["singular_values"].isel(seed=0).values
    ax.fill_between(
        steps,
        gd[:, -1],
        gd[:, K],
        color="sienna",
        alpha=0.25,
        lw=0,
        label=f"GD modes {K + 1}..{gd.shape[1]}",
    )
    for k in range(K, gd.shape[1], 10):
        ax.plot(steps, gd[:, k], color="sienna", lw=0.4, alpha=0.6)
    for k in range(K):
        color = f"C{k % 10}"
        ax.plot(steps, theory["singular_values"].values[:, k], "-", color=color, lw=3, alpha=0.45)
        ax.plot(steps, gd[:, k], "--", color=color, lw=1.2, label=f"mode {k + 1}")
    ax.axhline(tau, color="k", lw=1.2, label=f"threshold σ²w = {tau:.3g}")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("singular values of A")
    ax.set_title("dashed: GD (seed 0), solid: self-consistent", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def draw_dynamics(sim: xr.Dataset, theory: xr.Dataset, config: dict[str, Any]) -> Figure:
    """Left: train and test error; right: the top-``K`` singular values (colours), the rest of
    gradient descent's spectrum (brown band, every tenth mode as a line) and the threshold
    :math:`\\sigma^2 w` (black)."""
    fig, (a, b) = new_figure(2, width=5.2)
    _errors(a, sim, theory)
    _spectrum(b, sim, theory, int(config["K"]), float(theory.attrs["tau"]))
    fig.suptitle(
        f"mixed dynamics: d={config['d']}, K={config['K']}, γσ²={config['gamma_sigma2']}, "
        f"γw={config['gamma_w']}, c={config['c']}, noise={config['noise']}, "
        f"{config['discretization']} self-consistent dynamics",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def draw_phase_diagram(ds: xr.Dataset) -> Figure:
    """The paper's Figure 2 from a sweep over ``gamma_sigma2`` and ``gamma_w``: the four
    summaries of :func:`lindyn.experiments.mixed.compare` with the three lines of §3.4."""
    config = {**json.loads(ds.attrs["config"]), **json.loads(ds.attrs.get("fixed", "{}"))}
    lines = [
        Line(label, f, COLORS[name])
        for name, (label, f) in phase_lines(config["d"], config["K"]).items()
    ]
    title = (
        f"mixed dynamics phase diagram: d={config['d']}, K={config['K']}, c={config['c']}, "
        f"{config['steps']} steps, noise={config['noise']}"
    )
    return phase_diagram(ds, PANELS, lines=lines, x="gamma_sigma2", y="gamma_w", title=title)
