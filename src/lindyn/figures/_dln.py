"""Shared pieces of the diagonal-network figures: the setting, sizes, drawing, metrics."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from lindyn.experiments import RunResult, get
from lindyn.figures._runs import finish
from lindyn.plot import pair

__all__ = [
    "DELTA",
    "RHO",
    "SIGMA",
    "Sizes",
    "sizes",
    "dln_config",
    "draw",
    "gap_metrics",
    "worst_gap",
    "finish",
]

DELTA, RHO, SIGMA = 0.5, 0.2, 0.1
"""The setting of every diagonal-network figure (spec §7): n/d, teacher density, noise."""


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Dimension, Monte-Carlo copies, seeds and largest DMFT step of a figure's runs, the
    DMFT's ``replicas`` and accuracy target ``rtol`` (0 for none). Quick sizes solve the DMFT
    once (no theory error: the 3 seeds' error dominates their verdicts, and ``make demo`` keeps
    its 10 minutes); full sizes ask 1 % with at most 8 replicas."""

    d: int
    copies: int
    seeds: int
    dt: float
    rtol: float = 0.0
    replicas: int = 1


def sizes(quick: bool) -> Sizes:
    """Quick (the report) or full (``lindyn reproduce``) sizes."""
    return Sizes(400, 500, 3, 0.5) if quick else Sizes(2000, 2000, 4, 0.25, 0.01, 4)


def dln_config(size: Sizes, **overrides: Any) -> Any:
    """A validated ``dln`` config in the figures' setting at ``size``, gradient flow both sides."""
    base = {"method": "flow", "d": size.d, "copies": size.copies, "dt": size.dt}
    base |= {"replicas": size.replicas, "rtol": size.rtol, "max_replicas": 8}
    setting = {"delta": DELTA, "rho": RHO, "sigma": SIGMA}
    return get("dln").config(**{**base, **setting, **overrides})


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


def worst_gap(metrics: Mapping[str, float], variable: str) -> float:
    """The largest ``rel_l2_<variable>`` over the runs."""
    values = [v for k, v in metrics.items() if k.endswith(f"/rel_l2_{variable}")]
    return float(max(values)) if values else float("nan")
