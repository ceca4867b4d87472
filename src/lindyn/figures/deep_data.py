r"""Figure deep-data: dataset size and the overfitting peak under repeated data (spec §4.5, Fig. 3a,b).

:math:`L = 2`, :math:`\gamma_0 = 1`, :math:`\eta = 0.1`, :math:`\sigma = 0.5`, full-batch GD
for :math:`T = 100` steps on :math:`P = \alpha D` samples, at width :math:`\nu = 2` (the
simulated one) and :math:`\nu = \infty` (theory only). With label noise the late test loss
:math:`\mathcal L(T)` peaks in :math:`\alpha` near the interpolation threshold
(:math:`\alpha = 1` at :math:`\nu = \infty`: 0.6531, spec table; somewhat below 1 at
:math:`\nu = 2`, where the peak is still forming at :math:`T = 100`); early stopping,
:math:`\min_t\mathcal L`, removes the peak and decreases monotonically in :math:`\alpha`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.experiments import RunResult, deep
from lindyn.figures._deep import (
    decreasing,
    deep_config,
    dmft_curve,
    draw_panel,
    draw_points,
    gap_summary,
    ratio_axis,
    run_deep,
    run_metrics,
    sizes,
)
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, finish

NAME = "deep-data"
SETTING = {"L": 2, "gamma0": 1.0, "eta": 0.1, "sigma": 0.5, "nu": 2.0, "steps": 100}
QUICK_ALPHAS = (0.5, 0.75, 1.0, 2.0)
FULL_ALPHAS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)
KEYS = ("final_test_loss", "theory_final_test_loss", "final_rel_gap_test_loss")
KEYS += ("min_test_loss", "theory_min_test_loss", "rel_l2_test_loss")
SUMMARIES = {"final": "late test loss L(T)", "min": "early stopping min_t L"}


def theory_grid(config: deep.Config, alphas: np.ndarray, **theory: float) -> xr.Dataset:
    """Late and smallest DMFT test loss, ``final`` and ``min`` (dim ``alpha``), at exact ratios."""
    curves = [dmft_curve(config, alpha=float(a), **theory) for a in alphas]
    loss = np.stack([c["test_loss"].values for c in curves])
    failed = [
        f"alpha={a:.3g}: {c.attrs['message']}"
        for a, c in zip(alphas, curves, strict=True)
        if c.attrs["status"] != "ok"
    ]
    return xr.Dataset(
        {"final": ("alpha", loss[:, -1]), "min": ("alpha", loss.min(axis=1))},
        coords={"alpha": alphas},
        attrs={
            "status": "not_converged" if failed else "ok",
            "message": "; ".join(failed) or "ok",
            "theory": repr(theory),
        },
    )


def _draw_summary(ax: Axes, results: Sequence[RunResult], grids: dict[str, xr.Dataset]) -> None:
    alphas = [r.config.samples / r.config.D for r in results]
    for i, (which, name) in enumerate(SUMMARIES.items()):
        color = f"C{i}"
        for (key, grid), style in zip(grids.items(), ("-", ":"), strict=True):
            ax.plot(
                grid["alpha"], grid[which], style, color=color, lw=2, label=f"DMFT {key}: {name}"
            )
        draw_points(ax, alphas, results, which, color=color, label=f"simulation: {name}")
    ratio_axis(ax, (0.25, 0.5, 1, 2, 4), "α = P/D")


def _metrics(
    labels: Sequence[str], results: Sequence[RunResult], grids: dict[str, xr.Dataset]
) -> dict[str, float]:
    out = run_metrics(labels, results, KEYS)
    for key, grid in grids.items():
        out[f"theory_peak_alpha_{key}"] = float(
            grid["alpha"].values[np.argmax(grid["final"].values)]
        )
        out[f"theory_peak_loss_{key}"] = float(grid["final"].max())
        out[f"theory_min_decreasing_{key}"] = decreasing(grid["min"].values)
    finals = [r.metrics["final_test_loss"] for r in results]
    out["sim_peak_alpha"] = results[int(np.argmax(finals))].config.samples / results[0].config.D
    out["sim_min_decreasing"] = decreasing([r.metrics["min_test_loss"] for r in results])
    return out


def _caption(labels: Sequence[str], results: Sequence[RunResult], m: dict[str, float]) -> str:
    trend = {1.0: "decreases monotonically", 0.0: "is NOT monotone"}
    return (
        f"Repeated data with label noise: the late test loss L(T=100) peaks at "
        f"α={m['theory_peak_alpha_nu=2']:.2f} in the ν=2 DMFT "
        f"(L={m['theory_peak_loss_nu=2']:.4f}), at α={m['sim_peak_alpha']:.2f} among the "
        f"simulated ratios, and at α={m['theory_peak_alpha_nu=inf']:.2f} at ν=∞ "
        f"(L={m['theory_peak_loss_nu=inf']:.4f}). Early stopping removes the peak: min_t L "
        f"{trend[m['theory_min_decreasing_nu=inf']]} in α at ν=∞ (DMFT); at ν=2 it "
        f"{trend[m['theory_min_decreasing_nu=2']]} in the DMFT (at α < 0.5 the loss is still "
        f"falling at T, min_t L = L(T)) and {trend[m['sim_min_decreasing']]} over the "
        f"simulated ratios. Final relative gap of the test "
        f"loss, simulation vs DMFT: {gap_summary(labels, results, 'test_loss')}."
    )


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Simulations at 4 ratios (D = 128, 3 seeds) quick, 9 (D = 512, 8 seeds) full; the DMFT
    on log-spaced ratios in [0.25, 4]: 9 at ν = 2 and 5 at ν = ∞ quick, 25 each full."""
    size = sizes(quick)
    ratios = QUICK_ALPHAS if quick else FULL_ALPHAS
    configs = [(f"alpha={a:g}", deep_config(size, alpha=a, **SETTING)) for a in ratios]
    results = run_deep(configs, size, progress=progress, name=NAME)
    base = configs[0][1]
    grids = {
        "nu=2": theory_grid(base, np.geomspace(0.25, 4.0, 9 if quick else 25)),
        "nu=inf": theory_grid(base, np.geomspace(0.25, 4.0, 5 if quick else 25), nu=math.inf),
    }
    labels = [lab for lab, _ in configs]
    metrics = _metrics(labels, results, grids)
    fig = Figure(figsize=(10.5, 4.0))
    left, right = fig.subplots(1, 2)
    _draw_summary(left, results, grids)
    left.set_title("test loss vs data ratio (DMFT ν=2 solid, ν=∞ dotted)", fontsize=8)
    draw_panel(right, [f"α={a:g}" for a in ratios], results, "test_loss")
    right.set_title("test loss curves: rise after the minimum = overfitting", fontsize=8)
    title = (
        f"deep linear net, data ratio α under repeated data at D={size.D}: ν=2, L=2, γ0=1, "
        "η=0.1, σ=0.5, T=100"
    )
    extra = {f"alpha_grid_{k}/theory": g for k, g in grids.items()}
    caption = _caption(labels, results, metrics)
    return finish(NAME, fig, title, (labels, results), metrics, caption, extra)


RECIPE = register_figure(
    FigureRecipe(NAME, "deep linear nets: overfitting peak in α under repeated data", make)
)
