r"""Figure deep-sgd: one-pass SGD against repeated data of the same size (spec §4.5, Fig. 3c,d).

:math:`L = 2`, :math:`\nu = 2`, :math:`\gamma_0 = 1`, :math:`\eta = 0.1`, :math:`\sigma = 0.5`
(the setting of ``deep-data``). One-pass SGD draws a fresh batch of :math:`B = \alpha_BD`
samples every step; repeated data reuses :math:`P = \alpha D` samples with
:math:`\alpha = \alpha_B`. SGD does not overfit (its test loss keeps falling) and improves
with the batch, towards the population-gradient (:math:`\alpha = \infty`) curve; repeated
data overfits its label noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.experiments import RunResult, deep
from lindyn.figures._deep import (
    Sizes,
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

NAME = "deep-sgd"
QUICK_RATIOS, FULL_RATIOS = (0.25, 0.5, 1.0), (0.25, 0.5, 1.0, 2.0)
SETTING = {"L": 2, "nu": 2.0, "gamma0": 1.0, "eta": 0.1, "sigma": 0.5}
PROTOCOLS = {"sgd": "one-pass SGD, batch α_B D", "full": "repeated data, P = α D"}
KEYS = ("final_test_loss", "theory_final_test_loss", "final_rel_gap_test_loss")
KEYS += ("min_test_loss", "theory_min_test_loss", "rel_l2_test_loss")


def _config(size: Sizes, protocol: str, ratio: float, steps: int) -> deep.Config:
    ratios = {"batch_ratio": ratio} if protocol == "sgd" else {"alpha": ratio}
    return deep_config(size, protocol=protocol, steps=steps, **ratios, **SETTING)


def _ratio(r: RunResult) -> float:
    return r.config.samples / r.config.D


def _of(results: Sequence[RunResult], protocol: str) -> list[RunResult]:
    return [r for r in results if r.config.protocol == protocol]


def _overfit(final: float, least: float) -> float:
    """How far the last step sits above the smallest loss, relative to it."""
    return (final - least) / least


def _metrics(
    labels: Sequence[str], results: Sequence[RunResult], population: float
) -> dict[str, float]:
    out = run_metrics(labels, results, KEYS)
    for label, r in zip(labels, results, strict=True):
        m = r.metrics
        out[f"{label}/theory_overfit"] = _overfit(
            m["theory_final_test_loss"], m["theory_min_test_loss"]
        )
        out[f"{label}/sim_overfit"] = _overfit(m["final_test_loss"], m["min_test_loss"])
    for p in PROTOCOLS:
        runs = _of(results, p)
        for kind, key in (("theory", "theory_final_test_loss"), ("sim", "final_test_loss")):
            out[f"{p}/{kind}_improves_with_ratio"] = decreasing([r.metrics[key] for r in runs])
    sgd, full = _of(results, "sgd"), _of(results, "full")
    out["theory_sgd_below_full"] = float(
        all(
            s.metrics["theory_final_test_loss"] < f.metrics["theory_final_test_loss"]
            for s, f in zip(sgd, full, strict=True)
        )
    )
    out["theory_sgd_max_overfit"] = max(
        out[f"{lab}/theory_overfit"] for lab in labels if lab.startswith("sgd")
    )
    out["population/theory_final_test_loss"] = population
    return out


def _draw_summary(ax: Axes, results: Sequence[RunResult], population: float) -> None:
    """Late test loss (and repeated data's early-stopping loss) against the ratio."""
    rows = [("sgd", "final", "C0"), ("full", "final", "C3"), ("full", "min", "C2")]
    for p, which, color in rows:
        runs = _of(results, p)
        x = [_ratio(r) for r in runs]
        name = f"{p}: {'L(T)' if which == 'final' else 'min_t L'}"
        theory = [r.metrics[f"theory_{which}_test_loss"] for r in runs]
        ax.plot(x, theory, "-", color=color, lw=2.5, alpha=0.6, label=f"DMFT {name}")
        draw_points(ax, x, runs, which, color=color, label=f"simulation {name}")
    ax.axhline(population, color="k", ls=":", lw=1.2, label="DMFT α=∞")
    ratio_axis(ax, [_ratio(r) for r in _of(results, "sgd")], "α_B (SGD) = α (repeated)")


def _caption(labels: Sequence[str], results: Sequence[RunResult], m: dict[str, float]) -> str:
    def trend(key: str) -> str:
        return "falls" if m[key] else "does NOT fall"

    sgd = ", ".join(
        f"α_B={_ratio(r):g}: {r.metrics['final_test_loss']:.4f}/"
        f"{r.metrics['theory_final_test_loss']:.4f}"
        for r in _of(results, "sgd")
    )
    overfit = ", ".join(
        f"{lab}: {m[f'{lab}/theory_overfit']:.1%}/{m[f'{lab}/sim_overfit']:.1%}" for lab in labels
    )
    return (
        f"One-pass SGD, test loss at T (simulation/DMFT) {sgd}: it {trend('sgd/theory_improves_with_ratio')} "
        f"with the batch in the DMFT and {trend('sgd/sim_improves_with_ratio')} in the "
        f"simulation, towards the α=∞ loss {m['population/theory_final_test_loss']:.4f}; "
        f"{'below' if m['theory_sgd_below_full'] else 'NOT below'} repeated data of the same "
        f"size at every ratio. L(T)/min_t L − 1 (DMFT/simulation): {overfit}. Final relative "
        f"gap, simulation vs DMFT: {gap_summary(labels, results, 'test_loss')}."
    )


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """SGD and repeated data at ratios 0.25–1 (D = 128, 3 seeds, 60 steps) quick, 0.25–2
    (D = 512, 8 seeds, 100 steps) full, with the α = ∞ DMFT."""
    size, steps = sizes(quick), 60 if quick else 100
    ratios = QUICK_RATIOS if quick else FULL_RATIOS
    configs = [(f"{p}_ratio={a:g}", _config(size, p, a, steps)) for p in PROTOCOLS for a in ratios]
    results = run_deep(configs, size, progress=progress, name=NAME)
    limit = dmft_curve(configs[-1][1], alpha=math.inf)
    population = float(limit["test_loss"].values[-1])
    labels = [lab for lab, _ in configs]
    fig = Figure(figsize=(14.0, 4.0))
    axes = fig.subplots(1, 3)
    for ax, (p, name) in zip(axes, PROTOCOLS.items(), strict=False):
        runs = _of(results, p)
        legend = [f"α={_ratio(r):g}" for r in runs]
        draw_panel(ax, legend, runs, "test_loss", limits={"theory α=∞": limit})
        ax.set_title(f"{name}: test loss", fontsize=8)
    _draw_summary(axes[2], results, population)
    axes[2].set_title("test loss at T, and early stopping", fontsize=8)
    title = (
        f"deep linear net, one-pass SGD vs repeated data at D={size.D}: ν=2, L=2, γ0=1, "
        f"η=0.1, σ=0.5, T={steps}"
    )
    metrics = _metrics(labels, results, population)
    caption = _caption(labels, results, metrics)
    extra = {"population/theory": limit}
    return finish(NAME, fig, title, (labels, results), metrics, caption, extra)


RECIPE = register_figure(
    FigureRecipe(NAME, "deep linear nets: one-pass SGD does not overfit, repeated data does", make)
)
