"""Shared pieces of the diagonal-network figures: sizes, configs, curve drawing, metrics."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes

from lindyn.experiments import RunResult, get
from lindyn.plot import pair

__all__ = ["Sizes", "sizes", "dln_config", "draw", "gap_metrics", "worst_gap"]


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Dimension, Monte-Carlo copies, seeds and largest DMFT step of a figure's runs."""

    d: int
    copies: int
    seeds: int
    dt: float


def sizes(quick: bool) -> Sizes:
    """Quick (the report) or full (``lindyn reproduce``) sizes."""
    return Sizes(400, 500, 3, 0.5) if quick else Sizes(2000, 2000, 4, 0.25)


def dln_config(size: Sizes, **overrides: object):
    """A validated ``dln`` config at ``size`` with gradient flow on both sides."""
    base = {"method": "flow", "d": size.d, "copies": size.copies, "dt": size.dt}
    return get("dln").config(**{**base, **overrides})


def draw(
    ax: Axes,
    results: Sequence[RunResult],
    labels: Sequence[str],
    variable: str,
    *,
    x: Callable[[RunResult, np.ndarray], np.ndarray] = lambda r, t: t,
) -> None:
    """Theory against simulation of ``variable`` for each run, x-axis ``x(result, time)``."""
    for i, (label, r) in enumerate(zip(labels, results, strict=True)):
        th, sim = r.theory, r.simulation
        pair(
            ax,
            (x(r, th["time"].values), th[variable].values),
            (x(r, sim["time"].values), sim[variable]),
            color=f"C{i % 10}",
            label=label,
        )
    ax.grid(alpha=0.3)
    ax.set_ylabel(variable)


def gap_metrics(labels: Sequence[str], results: Sequence[RunResult]) -> dict[str, float]:
    """Each run's agreement metrics, keyed ``label/metric``."""
    return {
        f"{label}/{key}": value
        for label, r in zip(labels, results, strict=True)
        for key, value in r.metrics.items()
    }


def worst_gap(metrics: dict[str, float], variable: str) -> float:
    """The largest ``rel_l2_<variable>`` over the runs."""
    values = [v for k, v in metrics.items() if k.endswith(f"/rel_l2_{variable}")]
    return float(max(values)) if values else float("nan")
