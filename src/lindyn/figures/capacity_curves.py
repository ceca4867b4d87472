r"""Figure capacity-curves: the success curves of training against the replica capacity and the
permutation-symmetry-breaking load, per activation (the README's capacity notes §3-§4).

For each activation, committees of :math:`K` units at several input sizes :math:`N` are trained
on random labels at a grid of loads :math:`\alpha = P/(NK)` (experiment ``capacity``); the
fraction of instances stored is drawn over the RS capacity at this :math:`K` (Gaussian
approximation) and at :math:`K \to \infty`, and the PSB load (with the spinodal of a
discontinuous transition). Below, the trained hidden-unit correlation :math:`KC` against the
finite-:math:`K` saddle point. Training stores far less than the RS capacity (spec §4: about
30 %), more for erf than for ReLU; the units anticorrelate as predicted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.experiments import RunResult, get
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, finish, run_many
from lindyn.plot import pair

NAME = "capacity-curves"
K = 8


def _sizes(quick: bool) -> tuple[tuple[str, ...], tuple[int, ...], int, dict]:
    """Activations, input sizes, instances, and the experiment keys shared by every run."""
    if quick:
        keys = {"loads": 6, "alpha_min": 0.5, "alpha_max": 3.0, "steps": 800}
        return ("relu", "erf"), (12, 24), 6, keys
    keys = {"loads": 12, "alpha_min": 0.25, "alpha_max": 3.0, "steps": 3000, "restarts": 2}
    return ("relu", "erf", "quadratic", "tanh"), (20, 40, 80), 12, keys


def _label(act: str, N: int) -> str:
    return f"{act}_N={N}"


def _draw_success(ax: Axes, act: str, runs: Sequence[RunResult]) -> None:
    for i, r in enumerate(runs):
        sim = r.simulation
        ax.plot(
            sim.alpha,
            sim["solved"].mean("seed"),
            "--o",
            ms=4,
            color=f"C{i}",
            label=f"trained, N={r.config.N}",
        )
    th = runs[0].theory.attrs
    lines = [
        ("alpha_c_K", f"RS capacity K={K}", "-"),
        ("alpha_c", "RS capacity K=∞", ":"),
        ("transition", f"PSB ({th['transition_kind']})", "-."),
    ]
    if th["transition_kind"] == "discontinuous":
        lines.append(("spinodal", "spinodal", (0, (5, 2, 1, 2, 1, 2))))
    for key, label, style in lines:
        ax.axvline(float(th[key]), color="k", ls=style, lw=1.2, label=label)
    ax.set_title(f"{act}: fraction of instances stored, K={K}", fontsize=8)
    ax.set_xlabel("load α = P/(NK)")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _draw_correlation(ax: Axes, act: str, runs: Sequence[RunResult]) -> None:
    for i, r in enumerate(runs):
        th, sim = r.theory, r.simulation
        pair(
            ax,
            (th.alpha.values, th["KC"].values),
            (sim.alpha.values, sim["KC"]),
            color=f"C{i}",
            label=f"N={r.config.N}",
        )
    ax.axhline(-1.0, color="0.5", lw=0.8)
    ax.set_title(f"{act}: hidden-unit correlation K·C (theory solid)", fontsize=8)
    ax.set_xlabel("load α = P/(NK)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _metrics(labels: Sequence[str], results: Sequence[RunResult]) -> dict[str, float]:
    keys = (
        "threshold",
        "threshold_over_alpha_c_K",
        "alpha_c_K",
        "alpha_c",
        "transition",
        "max_abs_KC",
    )
    return {
        f"{lab}/{k}": r.metrics.get(k, math.nan)
        for lab, r in zip(labels, results, strict=True)
        for k in keys
    }


def _caption(acts: Sequence[str], labels: Sequence[str], m: dict[str, float]) -> str:
    parts = []
    for act in acts:
        mine = [lab for lab in labels if lab.startswith(f"{act}_")]
        first = mine[0]
        thresholds = ", ".join(f"{lab.split('_')[1]}: {m[f'{lab}/threshold']:.2f}" for lab in mine)
        parts.append(
            f"{act}: 50 % stored at α = {thresholds} against the RS capacity "
            f"{m[f'{first}/alpha_c_K']:.3f} at K={K} ({m[f'{first}/alpha_c']:.3f} at K=∞), PSB "
            f"at {m[f'{first}/transition']:.3f}"
        )
    return "; ".join(parts) + ". Training stores well below the replica-symmetric capacity."


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """ReLU and erf at N = 12, 24 (6 instances, 6 loads in [0.5, 3]) quick; ReLU, erf, quadratic and tanh
    at N = 20, 40, 80 (12 instances, 12 loads in [0.25, 3], 2 restarts) full; K = 8."""
    acts, sizes, seeds, keys = _sizes(quick)
    exp = get("capacity")
    configs = [
        (_label(a, N), exp.config(activation=a, N=N, K=K, **keys)) for a in acts for N in sizes
    ]
    results = run_many(exp, configs, seeds=seeds, progress=progress, name=NAME)
    fig = Figure(figsize=(4.2 * len(acts), 7.0))
    axes = fig.subplots(2, len(acts), squeeze=False)
    for j, act in enumerate(acts):
        runs = [r for r in results if r.config.activation == act]
        _draw_success(axes[0][j], act, runs)
        _draw_correlation(axes[1][j], act, runs)
    labels = [lab for lab, _ in configs]
    metrics = _metrics(labels, results)
    title = "storage capacity of two-layer committees: training vs replica theory"
    return finish(NAME, fig, title, (labels, results), metrics, _caption(acts, labels, metrics))


RECIPE = register_figure(
    FigureRecipe(NAME, "storage capacity: trained success curves vs RS capacity and PSB", make)
)
