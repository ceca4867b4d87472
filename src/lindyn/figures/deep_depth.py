r"""Figure deep-depth: test and train curves of non-residual nets of depth 1–4 (spec §4.4, Fig. 1c).

:math:`\nu = 1`, :math:`\alpha = 2`, :math:`\gamma_0 = 1`, :math:`\sigma = 0`,
:math:`\eta = 0.05`. The lazy kernel is :math:`L + 1` and feature learning amplifies it, so
deeper nets learn faster; the stable range of :math:`\eta` shrinks roughly as :math:`1/(L+1)`
(in the DMFT at this setting :math:`L = 4` first diverges at :math:`\eta = 0.2`), so
:math:`\eta = 0.05` is well inside it for every depth.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from lindyn.experiments import RunResult
from lindyn.figures._deep import (
    decreasing,
    deep_config,
    draw_panel,
    gap_summary,
    run_deep,
    run_metrics,
    sizes,
)
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, finish

NAME = "deep-depth"
DEPTHS = (1, 2, 3, 4)
SETTING = {"nu": 1.0, "alpha": 2.0, "gamma0": 1.0, "sigma": 0.0, "eta": 0.05}
OBSERVABLES = ("test_loss", "train_loss")
KEYS = tuple(
    f"{k}_{v}" for v in OBSERVABLES for k in ("final", "theory_final", "final_rel_gap", "rel_l2")
)


def _metrics(labels: Sequence[str], results: Sequence[RunResult]) -> dict[str, float]:
    out = run_metrics(labels, results, KEYS)
    for v in OBSERVABLES:
        out[f"theory_deeper_is_faster_{v}"] = decreasing(
            [r.metrics[f"theory_final_{v}"] for r in results]
        )
        out[f"sim_deeper_is_faster_{v}"] = decreasing([r.metrics[f"final_{v}"] for r in results])
    return out


def _caption(labels: Sequence[str], results: Sequence[RunResult], m: dict[str, float]) -> str:
    finals = ", ".join(
        f"L={r.config.L}: {r.metrics['final_test_loss']:.4f}/{r.metrics['theory_final_test_loss']:.4f}"
        for r in results
    )
    trend = {1.0: "decreases", 0.0: "does NOT decrease"}
    return (
        f"Test loss at the last step (simulation/DMFT) {finals}: it "
        f"{trend[m['theory_deeper_is_faster_test_loss']]} with depth in the DMFT and "
        f"{trend[m['sim_deeper_is_faster_test_loss']]} in the simulation. Final relative gap, "
        f"simulation vs DMFT, test: {gap_summary(labels, results, 'test_loss')}; train: "
        f"{gap_summary(labels, results, 'train_loss')}."
    )


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Depths 1–4 (D = 128, 3 seeds, 30 steps quick; D = 512, 8 seeds, 40 steps full)."""
    size, steps = sizes(quick), 30 if quick else 40
    configs = [(f"L={L}", deep_config(size, L=L, steps=steps, **SETTING)) for L in DEPTHS]
    results = run_deep(configs, size, progress=progress, name=NAME)
    labels = [lab for lab, _ in configs]
    fig = Figure(figsize=(10.5, 3.8))
    for ax, v in zip(fig.subplots(1, 2), OBSERVABLES, strict=True):
        draw_panel(ax, labels, results, v)
        ax.set_title(v.replace("_", " "), fontsize=8)
    title = (
        f"deep linear net, depth L (non-residual) at D={size.D}: ν=1, α=2, γ0=1, σ=0, η=0.05 "
        "(DMFT solid, simulation dashed)"
    )
    metrics = _metrics(labels, results)
    caption = _caption(labels, results, metrics)
    return finish(NAME, fig, title, (labels, results), metrics, caption)


RECIPE = register_figure(
    FigureRecipe(NAME, "deep linear nets L = 1–4: deeper learns faster, DMFT vs simulation", make)
)
