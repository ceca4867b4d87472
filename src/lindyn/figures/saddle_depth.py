"""Figure saddle-depth: the loss staircase and the singular values for depths 2, 3 and 4.

Teacher :math:`A^* = \\mathrm{diag}(4, 3, 2, 1)`, width 20 (the README's saddle notes §4.2
E1), at the initial scales where each depth shows its plateaus: :math:`\\sigma = 10^{-6}` for
:math:`L = 2` (plateaus :math:`\\Theta(\\ln 1/\\sigma)` long, drops overlapping at larger
:math:`\\sigma`), :math:`10^{-3}` for :math:`L = 3` and :math:`10^{-2}` for :math:`L = 4`
(plateaus :math:`\\propto\\sigma^{-(L-2)}`).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from lindyn.experiments import RunResult, get
from lindyn.experiments._saddle_plot import focus
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, finish, run_many
from lindyn.plot import overlay

NAME = "saddle-depth"
SIGMAS = {2: 1e-6, 3: 1e-3, 4: 1e-2}
WIDTH = 20


def _config(depth: int, quick: bool):
    gamma = -2.0 * math.log(SIGMAS[depth]) / math.log(WIDTH)
    return get("saddle").config(
        depth=depth, width=WIDTH, gamma=gamma, num_times=120 if quick else 300
    )


def _draw(fig: Figure, results: list[RunResult]) -> None:
    """One row per depth: loss with the plateau levels, singular values of the map."""
    axes = fig.subplots(len(results), 2, squeeze=False)
    for (a, b), r in zip(axes, results, strict=True):
        overlay(a, r.simulation, r.theory, "train_loss", logx=True, logy=True)
        levels = np.asarray(r.theory.attrs["plateau_losses"])
        for v in levels[levels > 0]:
            a.axhline(v, color="k", ls=":", lw=0.8)
        a.set_ylim(1e-3 * levels[levels > 0].min(), 2 * levels[0])
        depth = r.config.depth
        a.set_title(f"L={depth}, σ={SIGMAS[depth]:g}: loss (dotted: ½Σ_(i>k) s_i²)", fontsize=8)
        overlay(b, r.simulation, r.theory, "singular_values", logx=True)
        b.set_title("singular values of A (theory: balanced aligned modes)", fontsize=8)
        for ax in (a, b):
            focus(ax, r.theory)


def _metrics(results: list[RunResult]) -> dict[str, float]:
    keys = ("plateau_loss_error", "layer_spectrum_error", "plateau_rank_misses")
    out = {}
    for r in results:
        d = r.config.depth
        out |= {f"L{d}/{k}": r.metrics.get(k, float("nan")) for k in keys}
        out |= {f"L{d}/{k}": v for k, v in r.metrics.items() if k.startswith("jump_time_ratio")}
    return out


def _caption(results: list[RunResult]) -> str:
    parts = []
    for r in results:
        m, d = r.metrics, r.config.depth
        ratios = [m[k] for k in sorted(m) if k.startswith("jump_time_ratio")]
        parts.append(
            f"L={d}: loss at the plateau midpoints within {m['plateau_loss_error']:.2g} of "
            f"½Σ_(i>k) s_i², {m['plateau_rank_misses']:.0f} rank misses, jump times "
            f"{min(ratios):.2f}–{max(ratios):.2f} × the balanced aligned modes'"
        )
    return "; ".join(parts) + "."


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Depths 2, 3, 4 (2 seeds quick, 6 full) against the saddle sequence."""
    configs = [(f"L={d}", _config(d, quick)) for d in sorted(SIGMAS)]
    results = run_many(
        get("saddle"), configs, seeds=2 if quick else 6, progress=progress, name=NAME
    )
    fig = Figure(figsize=(10.5, 3.3 * len(results)))
    _draw(fig, results)
    title = f"saddle-to-saddle, teacher diag(4,3,2,1), w={WIDTH}: gradient flow vs saddle sequence"
    labels = [lab for lab, _ in configs]
    return finish(NAME, fig, title, (labels, results), _metrics(results), _caption(results))


RECIPE = register_figure(
    FigureRecipe(NAME, "deep linear nets L = 2, 3, 4: plateaus at the best low-rank losses", make)
)
