r"""Figure deep-width: "wider is better" under μP, and the lazy drift of NTK (spec §4.2, Fig. 1a,b).

:math:`L = 2`, :math:`\alpha = 1.5`, :math:`\sigma = 0.3`, :math:`\gamma_0 = \bar\gamma = 1`,
:math:`\eta = 0.05` at widths :math:`\nu = N/D \in \{0.5, 1, 2, 4\}`, with the
:math:`\nu = \infty` DMFT of each parameterization. Under μP the initial-function variance
:math:`1/(\gamma_0^2\nu)` and the Wishart fluctuations of :math:`R_{v\xi}` shrink with width, so
the loss falls with :math:`\nu` at every step; under NTK the initial loss is width independent
and wide nets go lazy (their :math:`\nu = \infty` loss, 0.1257 at :math:`t = 60`, is above μP's
0.1123).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import xarray as xr
from matplotlib.figure import Figure

from lindyn.experiments import RunResult, deep
from lindyn.figures._deep import (
    Sizes,
    decreasing,
    deep_config,
    dmft_curve,
    draw_panel,
    gap_summary,
    run_deep,
    run_metrics,
    sizes,
)
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, finish

NAME = "deep-width"
WIDTHS = (0.5, 1.0, 2.0, 4.0)
PARAMS = {"mup": "μP", "ntk": "NTK (γ̄ = 1)"}
SETTING = {"L": 2, "alpha": 1.5, "sigma": 0.3, "gamma0": 1.0, "eta": 0.05}
STEPS = 60  # the spec's §4.2 table is at t = 60
KEYS = ("final_test_loss", "theory_final_test_loss", "final_rel_gap_test_loss")
KEYS += ("final_rel_gap_train_loss", "rel_l2_test_loss", "rel_l2_train_loss")


def _label(param: str, nu: float) -> str:
    return f"{param}_nu={nu:g}"


def _configs(size: Sizes) -> list[tuple[str, deep.Config]]:
    return [
        (_label(p, nu), deep_config(size, nu=nu, param=p, steps=STEPS, **SETTING))
        for p in PARAMS
        for nu in WIDTHS
    ]


def _by_param(results: Sequence[RunResult], param: str) -> list[RunResult]:
    return [r for r in results if r.config.param == param]


def _metrics(
    labels: Sequence[str], results: Sequence[RunResult], limits: Mapping[str, xr.Dataset]
) -> dict[str, float]:
    out = run_metrics(labels, results, KEYS)
    for p in PARAMS:
        runs = _by_param(results, p)
        limit = float(limits[p]["test_loss"].values[-1])
        theory = [r.metrics["theory_final_test_loss"] for r in runs] + [limit]
        sim = [r.metrics["final_test_loss"] for r in runs]
        curves = [r.theory["test_loss"].values[1:] for r in runs]
        every = all(decreasing(column) for column in zip(*curves, strict=True))
        out |= {
            f"{p}_nu=inf/theory_final_test_loss": limit,
            f"{p}/theory_wider_is_better": decreasing(theory),
            f"{p}/theory_wider_is_better_every_step": float(every),
            f"{p}/sim_wider_is_better": decreasing(sim),
        }
    out["mup_inf_below_ntk_inf"] = float(
        out["mup_nu=inf/theory_final_test_loss"] < out["ntk_nu=inf/theory_final_test_loss"]
    )
    return out


def _draw(fig: Figure, results: Sequence[RunResult], limits: Mapping[str, xr.Dataset]) -> None:
    """One row per parameterization: test and train loss against steps."""
    axes = fig.subplots(len(PARAMS), 2, squeeze=False)
    for row, (p, name) in zip(axes, PARAMS.items(), strict=True):
        runs = _by_param(results, p)
        legend = [f"ν={r.config.nu:g}" for r in runs]
        for ax, v in zip(row, ("test_loss", "train_loss"), strict=True):
            draw_panel(ax, legend, runs, v, limits={"theory ν=∞": limits[p]})
            ax.set_title(f"{name}: {v.replace('_', ' ')}", fontsize=8)


def _caption(
    labels: Sequence[str], results: Sequence[RunResult], metrics: Mapping[str, float]
) -> str:
    def yes(key: str) -> str:
        return "monotone" if metrics[key] else "NOT monotone"

    finals = ", ".join(
        f"ν={r.config.nu:g}: {r.metrics['final_test_loss']:.4f}/"
        f"{r.metrics['theory_final_test_loss']:.4f}"
        for r in _by_param(results, "mup")
    )
    return (
        f"μP, test loss at the last step (simulation/DMFT) {finals}, "
        f"ν=∞: {metrics['mup_nu=inf/theory_final_test_loss']:.4f}: wider is better "
        f"({yes('mup/theory_wider_is_better')} in ν in the DMFT, "
        f"{yes('mup/sim_wider_is_better')} in the simulation). NTK: initial loss width "
        f"independent, ν=∞ (lazy) {metrics['ntk_nu=inf/theory_final_test_loss']:.4f} vs μP "
        f"{metrics['mup_nu=inf/theory_final_test_loss']:.4f}. Final relative gap of the "
        f"test loss, simulation vs DMFT: {gap_summary(labels, results, 'test_loss')}."
    )


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Widths 0.5–4 under μP and NTK, 60 steps (D = 128, 3 seeds quick; D = 512, 8 seeds
    full) against the DMFT, with the ν = ∞ limits."""
    size = sizes(quick)
    configs = _configs(size)
    results = run_deep(configs, size, progress=progress, name=NAME)
    first = {p: next(c for _, c in configs if c.param == p) for p in PARAMS}
    limits = {p: dmft_curve(c, nu=math.inf) for p, c in first.items()}
    labels = [lab for lab, _ in configs]
    metrics = _metrics(labels, results, limits)
    fig = Figure(figsize=(10.5, 7.0))
    _draw(fig, results, limits)
    title = (
        f"deep linear net, width ν=N/D at D={size.D}: L=2, α=1.5, σ=0.3, γ0=1, η=0.05 "
        "(DMFT solid, simulation dashed, ν=∞ dotted)"
    )
    extra = {f"{p}_nu=inf/theory": ds for p, ds in limits.items()}
    caption = _caption(labels, results, metrics)
    return finish(NAME, fig, title, (labels, results), metrics, caption, extra)


RECIPE = register_figure(
    FigureRecipe(NAME, "deep linear nets: wider is better under μP, lazy drift under NTK", make)
)
