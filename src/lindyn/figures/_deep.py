r"""Shared pieces of the deep-linear-network figures (the README's deep notes §4).

Sizes, runs of the ``deep`` experiment with their DMFT, theory-only DMFT curves (infinite
width or data, or a finer grid than the simulations), drawing and metrics. The DMFT is solved
with one BLAS thread: its kernels are :math:`(T{+}1)^2` matrices with :math:`T \le 100`, where
OpenBLAS threads only contend (on a loaded 2-core machine a :math:`T = 100` solve took 3–13 s
with two threads, 0.6 s with one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from threadpoolctl import threadpool_limits

from lindyn.experiments import RunResult, deep, get
from lindyn.figures._runs import Progress, run_many
from lindyn.plot import pair
from lindyn.results import trajectory
from lindyn.theory import deep_dmft

__all__ = [
    "Sizes",
    "sizes",
    "deep_config",
    "run_deep",
    "dmft_curve",
    "draw_panel",
    "sim_summary",
    "draw_points",
    "ratio_axis",
    "run_metrics",
    "decreasing",
    "gap_summary",
]


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Input dimension :math:`D` and seeds of a figure's simulations."""

    D: int
    seeds: int


def sizes(quick: bool, *, D: int = 128, full_D: int = 512) -> Sizes:
    """Quick (``lindyn report --quick``: 3 seeds at ``D``) or full (8 seeds at ``full_D``)."""
    return Sizes(D, 3) if quick else Sizes(full_D, 8)


def deep_config(size: Sizes, **keys: Any) -> deep.Config:
    """A validated ``deep`` config at ``size``."""
    return get("deep").config(D=size.D, **keys)


def run_deep(
    configs: Sequence[tuple[str, deep.Config]], size: Sizes, *, progress: Progress, name: str
) -> list[RunResult]:
    """:func:`run_many` of ``deep`` with single-threaded BLAS for the DMFT (module docstring)."""
    with threadpool_limits(1):
        return run_many(get("deep"), configs, seeds=size.seeds, progress=progress, name=name)


def dmft_curve(config: deep.Config, **theory: Any) -> xr.Dataset:
    """The DMFT of ``config`` with some of :func:`deep_dmft`'s arguments replaced.

    ``theory`` overrides the realised ratios of the config, e.g. ``nu=math.inf`` (a limit no
    finite network reaches) or an exact ``alpha`` of a fine grid; the dataset is shaped as
    :func:`lindyn.experiments.deep.predict`'s, the overrides in ``attrs["theory"]``.
    """
    with threadpool_limits(1):
        res = deep_dmft(**(deep._theory_args(config) | theory))
    return trajectory(
        {"train_loss": res.train_loss, "test_loss": res.test_loss},
        np.asarray(res.steps, dtype=np.float64),
        experiment=deep.NAME,
        kind="theory",
        config=config.to_dict(),
        attrs={
            "status": "ok" if res.status == "converged" else res.status,
            "message": res.message,
            "theory": repr(theory),
        },
    )


def draw_panel(
    ax: Axes,
    legend: Sequence[str],
    results: Sequence[RunResult],
    variable: str,
    *,
    limits: Mapping[str, xr.Dataset] | None = None,
) -> None:
    """``variable`` against steps: each run's DMFT (solid) and simulation (dashed, mean ± std),
    one colour per run, and theory-only ``limits`` (legend -> dataset) dotted black."""
    for i, (label, r) in enumerate(zip(legend, results, strict=True)):
        th, sim = r.theory, r.simulation
        pair(
            ax,
            (th["time"].values, th[variable].values),
            (sim["time"].values, sim[variable]),
            color=f"C{i % 10}",
            label=label,
        )
    for label, ds in (limits or {}).items():
        ax.plot(ds["time"].values, ds[variable].values, ":", color="k", lw=1.6, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel(variable)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)


def sim_summary(r: RunResult, which: str) -> tuple[float, float]:
    """Seed mean and std of the test loss at the last step (``which="final"``) or at the step
    where the seed mean is smallest (``"min"``: early stopping)."""
    loss = r.simulation["test_loss"].values
    step = -1 if which == "final" else int(np.argmin(loss.mean(axis=0)))
    return float(loss[:, step].mean()), float(loss[:, step].std(ddof=1))


def draw_points(
    ax: Axes, x: Sequence[float], results: Sequence[RunResult], which: str, **style: Any
) -> None:
    """The runs' simulated :func:`sim_summary` at ``x``: markers with ± std error bars."""
    mean, std = zip(*(sim_summary(r, which) for r in results), strict=True)
    ax.errorbar(x, mean, std, fmt="o", ms=4, capsize=2, **style)


def ratio_axis(ax: Axes, ticks: Sequence[float], label: str) -> None:
    """A log x-axis of data or batch ratios, labelled at ``ticks``."""
    ax.set_xscale("log")
    ax.set_xticks(list(ticks), [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(label)
    ax.set_ylabel("test loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def run_metrics(
    labels: Sequence[str], results: Sequence[RunResult], keys: Sequence[str]
) -> dict[str, float]:
    """The runs' ``compare`` metrics named in ``keys``, keyed ``label/key``."""
    return {
        f"{label}/{k}": r.metrics.get(k, float("nan"))
        for label, r in zip(labels, results, strict=True)
        for k in keys
    }


def decreasing(values: Sequence[float]) -> float:
    """1.0 if ``values`` strictly decrease, else 0.0 (a metric, so a number)."""
    return float(bool(np.all(np.diff(np.asarray(values, dtype=float)) < 0)))


def gap_summary(labels: Sequence[str], results: Sequence[RunResult], variable: str) -> str:
    """``label: +x.x %`` per run: the final relative gap of the seed mean to the DMFT."""
    return ", ".join(
        f"{label}: {r.metrics.get(f'final_rel_gap_{variable}', float('nan')):+.1%}"
        for label, r in zip(labels, results, strict=True)
    )
