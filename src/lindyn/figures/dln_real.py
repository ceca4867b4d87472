"""Figure dln-real: the DMFT of Gaussian designs against a real design (universality, §7)."""

from __future__ import annotations

import dataclasses

import numpy as np

from lindyn.data import load_real
from lindyn.experiments import RunResult, dln, get
from lindyn.figures._dln import Sizes, dln_config, draw, sizes
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, first_failure, groups, run_many
from lindyn.plot import new_figure

DATASET = "digits"


def _rel_gap(r: RunResult, variable: str) -> float:
    """Relative L2 gap of the seed mean to the DMFT."""
    gap = r.simulation[variable].mean("seed").values - r.theory[variable].values
    return float(np.linalg.norm(gap) / np.linalg.norm(r.theory[variable].values))


def _gap_in_se(r: RunResult, variable: str) -> float:
    """Largest |seed mean - DMFT| over time, in standard errors of the seed mean."""
    sim = r.simulation[variable]
    se = sim.std("seed", ddof=1).values / np.sqrt(sim.sizes["seed"])
    gap = np.abs(sim.mean("seed").values - r.theory[variable].values)
    return float(np.max(gap[1:] / np.maximum(se[1:], 1e-300)))


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Gradient flow on the standardized ``digits`` pixels (d = 61, scaled to variance 1/d,
    n = δd rows drawn per seed, synthetic sparse teacher) next to a Gaussian design of the same
    d, both against the DMFT: the Gaussian run measures the finite-size error, the gap between
    the two runs the departure from universality."""
    base = sizes(quick)
    d = load_real(DATASET)[0].shape[1]
    size = Sizes(d, base.copies, 16 if quick else 64, base.dt)
    alphas = (0.3, 1.0)
    labels = [f"α={a:g}" for a in alphas]
    configs = [
        (lab, dln_config(size, alpha=a, t_max=20.0, design=DATASET))
        for lab, a in zip(labels, alphas, strict=True)
    ]
    results = run_many(get("dln"), configs, seeds=size.seeds, progress=progress, name=NAME)
    gaussian = [dln.simulate(r.config.replace(design="gaussian"), size.seeds) for r in results]
    fig, axes = new_figure(2, width=5.4, height=4.2)
    for ax, variable in zip(axes, ("train_loss", "test_error"), strict=True):
        draw(ax, results, labels, variable)
        for i, (lab, sim) in enumerate(zip(labels, gaussian, strict=True)):
            mean = sim[variable].mean("seed")
            ax.plot(
                sim["time"], mean, ":", color=f"C{i}", lw=1.6, label=f"simulation {lab}, Gaussian"
            )
        ax.set_xlabel("time t")
        ax.legend(fontsize=6)
    axes[0].set_yscale("log")
    metrics = {}
    for lab, r, g in zip(labels, results, gaussian, strict=True):
        as_gaussian = dataclasses.replace(r, simulation=g)
        for design, run in ((DATASET, r), ("gaussian", as_gaussian)):
            metrics[f"{lab}, {design}/rel_l2_test_error"] = _rel_gap(run, "test_error")
            metrics[f"{lab}, {design}/gap_in_se_test_error"] = _gap_in_se(run, "test_error")
            metrics[f"{lab}, {design}/gap_in_se_train_loss"] = _gap_in_se(run, "train_loss")
    fig.suptitle(
        f"real design ({DATASET}, d={d}, n={round(0.5 * d)}) vs Gaussian, both against the "
        f"DMFT; {size.seeds} seeds. Dashed: {DATASET}, dotted: Gaussian design",
        fontsize=9,
    )
    fig.tight_layout()
    status, message = first_failure(results)
    data = groups(labels, results) | {
        f"{lab}/gaussian": g for lab, g in zip(labels, gaussian, strict=True)
    }
    return FigureResult(NAME, fig, data, metrics, _caption(metrics, alphas), status, message)


def _caption(metrics: dict[str, float], alphas: tuple[float, ...]) -> str:
    parts = []
    for a in alphas:
        real = metrics[f"α={a:g}, {DATASET}/rel_l2_test_error"]
        gauss = metrics[f"α={a:g}, gaussian/rel_l2_test_error"]
        parts.append(f"α={a:g}: {DATASET} {real:.1%}, Gaussian {gauss:.1%}")
    return (
        "Relative L2 gap of the test-error curve to the DMFT, real against Gaussian design of "
        "the same size: " + "; ".join(parts) + ". Where the real gap exceeds the Gaussian one, "
        "universality fails for this design (correlated pixels: its spectrum is not "
        "Marchenko–Pastur), beyond the finite-size error."
    )


NAME = "dln-real"
RECIPE = register_figure(
    FigureRecipe(NAME, "DLN on a real design (digits) vs Gaussian, against the DMFT", make)
)
