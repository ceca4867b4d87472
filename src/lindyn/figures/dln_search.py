"""Figure dln-search: small-alpha search plateau then descent, collapsed in t / ln(1/alpha) (§4.3)."""

from __future__ import annotations

import itertools

import numpy as np

from lindyn.experiments import RunResult, get
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
from lindyn.theory import dln_fixed_point, field_quantile, search_plateau

NAME = "dln-search"
TAU_MAX = 3.0
TOP = 0.01  # the fraction of strongest fields whose activation is marked


def _log_inverse(r: RunResult) -> float:
    return float(np.log(1.0 / r.config.alpha))


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """α in {1e-2, 1e-4, 1e-8} (quick {1e-2, 1e-4}), λ = 0: plateau at the search values, then
    descent towards basis pursuit, against τ = t / ln(1/α)."""
    # the descent is decided by the strongest fields, a tail of the copies: the Monte-Carlo
    # spread of the DMFT test error at M = 1600 is ~5 % there (2x the full-size default); at
    # alpha = 1e-8 each copy activates almost as a jump and M = 4000 can leave the train loss
    # non-monotone (see lindyn.experiments.dln.compare), M = 8000 did not
    size = sizes(quick)
    alphas = (1e-2, 1e-4) if quick else (1e-2, 1e-4, 1e-8)
    labels = [f"α={a:g}" for a in alphas]
    copies = lambda a: 500 if quick else (8000 if a < 1e-6 else 4000)  # noqa: E731
    configs = [
        (lab, dln_config(size, alpha=a, copies=copies(a), t_max=TAU_MAX * np.log(1 / a)))
        for lab, a in zip(labels, alphas, strict=True)
    ]
    results = run_many(get("dln"), configs, seeds=size.seeds, progress=progress, name=NAME)
    fig, axes = new_figure(2, width=5.4, height=4.2)
    tau = lambda r, t: t / _log_inverse(r)  # noqa: E731
    draw(axes[0], results, labels, "train_loss", x=tau)
    draw(axes[1], results, labels, "test_error", x=tau)
    axes[0].set_yscale("log")
    plateau = search_plateau(rho=RHO, sigma=SIGMA)
    bp = dln_fixed_point(DELTA, 0.0, rho=RHO, sigma=SIGMA).test_error
    start = 1.0 / field_quantile(1 - TOP, DELTA, rho=RHO, sigma=SIGMA)
    for ax, level in zip(axes, plateau, strict=True):
        ax.axhline(level, color="k", ls=":", lw=1, label=f"search plateau {level:.3f}")
        ax.axvline(
            start, color="grey", ls="--", lw=1, label=f"top {TOP:.0%} fields active: τ={start:.2f}"
        )
        ax.set_xlabel("τ = t / ln(1/α)")
    axes[1].axhline(bp, color="k", ls="-.", lw=1, label=f"basis pursuit {bp:.4f}")
    for ax in axes:
        ax.legend(fontsize=6)
    metrics = gap_metrics(labels, results) | _collapse(results)
    trend = "mean gap between the DMFT test curves of consecutive α in τ: " + ", ".join(
        f"{g:.4f}" for g in metrics_gaps(metrics)
    )
    caption = (
        f"Plateau at ({plateau[0]:.3f}, {plateau[1]:.3f}) for τ ≲ {start:.2f}, then descent "
        f"towards basis pursuit ({bp:.4f}); {trend}. Largest relative L2 gap to the DMFT: test "
        f"{worst_gap(metrics, 'test_error'):.2%}; steps where a DMFT train loss rises: "
        f"{sum(v for k, v in metrics.items() if k.endswith('theory_train_loss_rises')):.0f}."
    )
    title = f"search → descent at small α, δ={DELTA}: GF (d={size.d}) vs DMFT"
    return finish(NAME, fig, title, (labels, results), metrics, caption)


def metrics_gaps(metrics: dict[str, float]) -> list[float]:
    """The ``collapse_gap_<i>`` metrics in order."""
    return [v for k, v in sorted(metrics.items()) if k.startswith("collapse_gap_")]


def _collapse(results: list[RunResult]) -> dict[str, float]:
    """Mean gap in τ between the DMFT test curves of consecutive α; activation times move by
    O(1/ln(1/α)), so the gaps shrink as α → 0 when the DMFT resolves the descent."""
    grid = np.linspace(0.0, TAU_MAX, 121)
    curves = [
        np.interp(grid, r.theory["time"].values / _log_inverse(r), r.theory["test_error"].values)
        for r in results
    ]
    gaps = [float(np.mean(np.abs(a - b))) for a, b in itertools.pairwise(curves)]
    return {f"collapse_gap_{i}": g for i, g in enumerate(gaps)}


RECIPE = register_figure(
    FigureRecipe(NAME, "DLN search → descent at small α, collapse in t / ln(1/α)", make)
)
