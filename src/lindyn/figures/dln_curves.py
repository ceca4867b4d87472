"""Figure dln-curves: train and test curves of gradient flow for several alpha, against the DMFT."""

from __future__ import annotations

import itertools

from lindyn.experiments import get
from lindyn.figures._dln import (
    DELTA,
    RHO,
    SIGMA,
    dln_config,
    draw,
    finish,
    gap_metrics,
    sizes,
    worst_gap,
)
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, run_many
from lindyn.plot import new_figure

NAME = "dln-curves"
ALPHAS = (0.05, 0.1, 0.3, 1.0, 2.0)


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Gradient flow at d (2000; quick 400) against the flow DMFT for each α in ``ALPHAS``."""
    size = sizes(quick)
    t_max = 10.0 if quick else 30.0
    labels = [f"α={a:g}" for a in ALPHAS]
    configs = [
        (lab, dln_config(size, alpha=a, t_max=t_max)) for lab, a in zip(labels, ALPHAS, strict=True)
    ]
    results = run_many(get("dln"), configs, seeds=size.seeds, progress=progress, name=NAME)
    fig, (left, right) = new_figure(2, width=5.4, height=4.2)
    draw(left, results, labels, "train_loss")
    draw(right, results, labels, "test_error")
    left.set_yscale("log")
    for ax in (left, right):
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set_xlim(0, t_max)
        ax.set_xlabel("time t")
        ax.legend(fontsize=6, ncol=2)
    metrics = gap_metrics(labels, results)
    ends = [float(r.theory["test_error"][-1]) for r in results]
    order = "increases" if all(a < b for a, b in itertools.pairwise(ends)) else "is not monotone"
    caption = (
        f"DMFT test error at t={t_max:g} {order} in α ("
        + ", ".join(f"{lab}: {e:.4f}" for lab, e in zip(labels, ends, strict=True))
        + "). Largest relative L2 gap of the seed mean to the DMFT: test "
        f"{worst_gap(metrics, 'test_error'):.2%}, train {worst_gap(metrics, 'train_loss'):.2%}."
    )
    title = (
        f"diagonal network, gradient flow (d={size.d}, {size.seeds} seeds) vs DMFT "
        f"(M={size.copies}): δ={DELTA}, ρ={RHO}, σ={SIGMA}, λ=0"
    )
    return finish(NAME, fig, title, (labels, results), metrics, caption)


RECIPE = register_figure(
    FigureRecipe(NAME, "DLN train/test curves for α in {0.05, 0.1, 0.3, 1, 2}: GF vs DMFT", make)
)
