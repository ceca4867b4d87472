"""Figure dln-grokking: lazy then rich dynamics at large alpha with weight decay (spec §4.1–4.2)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

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
from lindyn.theory import dln_fixed_point, linear_curves, rich_time

NAME = "dln-grokking"
LAM = 0.1


def _alpha(r: RunResult) -> float:
    return float(r.config.alpha)


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """α in {3, 5, 8} (quick {3, 6}), λ = 0.1: the train loss follows the lazy least-squares
    solution in 2α²t, the test error holds the ℓ2 plateau, then drops to the Lasso value after
    ln(α)/λ (grokking); in t − ln(α)/λ the rich phase collapses."""
    size = sizes(quick)
    alphas = (3.0, 6.0) if quick else (3.0, 5.0, 8.0)
    t_max = rich_time(max(alphas), LAM) + (20.0 if quick else 25.0)
    labels = [f"α={a:g}" for a in alphas]
    configs = [
        (lab, dln_config(size, alpha=a, lam=LAM, t_max=t_max))
        for lab, a in zip(labels, alphas, strict=True)
    ]
    results = run_many(get("dln"), configs, seeds=size.seeds, progress=progress, name=NAME)
    fig, axes = new_figure(3, width=4.6, height=4.0)
    _lazy_panel(axes[0], results, labels)
    plateau = dln_fixed_point(DELTA, np.inf, rho=RHO, sigma=SIGMA).test_error
    lasso = dln_fixed_point(DELTA, 1.0, lam=LAM, rho=RHO, sigma=SIGMA).test_error
    draw(axes[1], results, labels, "test_error")
    draw(axes[2], results, labels, "test_error", x=lambda r, t: t - rich_time(_alpha(r), LAM))
    for ax, xlabel in zip(axes[1:], ("time t", "t − ln(α)/λ"), strict=True):
        ax.axhline(plateau, color="k", ls=":", lw=1, label=f"min-ℓ2 plateau {plateau:.4f}")
        ax.axhline(lasso, color="k", ls="-.", lw=1, label=f"Lasso λ={LAM:g}: {lasso:.4f}")
        ax.set_xlabel(xlabel)
        ax.legend(fontsize=6)
    metrics = gap_metrics(labels, results) | _collapse(results) | _phases(results, plateau, lasso)
    caption = (
        f"Grokking: the train loss falls below 1e-3 by 2α²t = {metrics['lazy_fit_time_max']:.3g} "
        f"(lazy), while the DMFT test error is still within {metrics['plateau_gap_max']:.1%} of the "
        f"ℓ2 plateau {plateau:.3f}; after ln(α)/λ it has gone {metrics['drop_fraction_min']:.0%} of "
        f"the way to the Lasso value {lasso:.3f} by t_max. Largest relative L2 gap to the DMFT: "
        f"test {worst_gap(metrics, 'test_error'):.2%}. Largest gap between the DMFT test curves "
        f"in t − ln(α)/λ (rich-phase collapse): {metrics['collapse_spread']:.4f}."
    )
    title = f"lazy → rich with weight decay λ={LAM:g}, δ={DELTA}: GF (d={size.d}) vs DMFT"
    return finish(NAME, fig, title, (labels, results), metrics, caption)


def _phases(results: list[RunResult], plateau: float, lasso: float) -> dict[str, float]:
    """When the train loss first falls below 1e-3 (in 2α²t), how far the test error is from the
    ℓ2 plateau then, and which fraction of the plateau-to-Lasso drop is done at the end."""
    fit, gap, drop = [], [], []
    for r in results:
        t, th = r.theory["time"].values, r.theory
        k = int(np.argmax(th["train_loss"].values < 1e-3))
        fit.append(2 * _alpha(r) ** 2 * t[k])
        gap.append(abs(float(th["test_error"][k]) / plateau - 1))
        drop.append((plateau - float(th["test_error"][-1])) / (plateau - lasso))
    return {
        "lazy_fit_time_max": max(fit),
        "plateau_gap_max": max(gap),
        "drop_fraction_min": min(drop),
    }


def _lazy_panel(ax: Axes, results: list[RunResult], labels: list[str]) -> None:
    """Train loss against 2α²t with the lazy closed form (Marchenko–Pastur, spec §2.8): least
    squares at time τ = 2α²t, without weight decay (which later lifts the loss to Lasso's)."""
    draw(ax, results, labels, "train_loss", x=lambda r, t: 2 * _alpha(r) ** 2 * t)
    tau = np.geomspace(1e-2, 2 * max(_alpha(r) for r in results) ** 2 * 5.0, 200)
    train, _ = linear_curves(DELTA, RHO, SIGMA, tau)
    ax.plot(tau, train, "k:", lw=1.2, label="lazy solution (least squares at 2α²t)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-7, 0.2)
    ax.set_xlabel("2α² t")
    ax.legend(fontsize=6)


def _collapse(results: list[RunResult]) -> dict[str, float]:
    """Max over shifted times of the spread (max - min) of the DMFT test curves."""
    shifted = [
        (r.theory["time"].values - rich_time(_alpha(r), LAM), r.theory["test_error"].values)
        for r in results
    ]
    lo = max(s[0][0] for s in shifted) + 5.0
    hi = min(s[0][-1] for s in shifted)
    grid = np.linspace(lo, hi, 50)
    curves = np.array([np.interp(grid, t, y) for t, y in shifted])
    return {"collapse_spread": float(np.max(curves.max(0) - curves.min(0)))}


RECIPE = register_figure(
    FigureRecipe(NAME, "DLN lazy → rich with weight decay: grokking and its collapse", make)
)
