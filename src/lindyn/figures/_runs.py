"""Running the many configurations of one figure, with progress reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn.experiments import Experiment, RunResult, Verdict, combined_verdict, run
from lindyn.figures._registry import FigureResult

__all__ = ["Progress", "run_many", "groups", "first_failure", "finish"]

Progress = Callable[[str, int, int], None] | None
"""``progress(description, done, total)``; the CLI draws it as a progress bar."""


def run_many(
    experiment: Experiment,
    configs: Sequence[tuple[str, Any]],
    *,
    seeds: int,
    progress: Progress = None,
    name: str = "",
) -> list[RunResult]:
    """:func:`lindyn.run` each ``(label, config)`` in turn (failures are kept, not raised)."""
    results = []
    for done, (label, config) in enumerate(configs):
        if progress is not None:
            progress(f"{name}: {label}", done, len(configs))
        results.append(run(experiment, config, seeds=seeds, throw=False))
    if progress is not None:
        progress(f"{name}: done", len(configs), len(configs))
    return results


def groups(labels: Sequence[str], results: Sequence[RunResult]) -> dict[str, xr.Dataset]:
    """``{label/simulation, label/theory}`` datasets of the runs, for one netCDF file."""
    out: dict[str, xr.Dataset] = {}
    for label, result in zip(labels, results, strict=True):
        out[f"{label}/simulation"] = result.simulation
        out[f"{label}/theory"] = result.theory
    return out


def first_failure(results: Sequence[RunResult]) -> tuple[str, str]:
    """``("ok", "ok")`` or the status and message of the first failed run."""
    for result in results:
        if result.status != "ok":
            return result.status, result.message
    return "ok", "ok"


def _judge(result: RunResult, family: int) -> Verdict:
    """The run's verdict as one of the ``family`` runs of a figure (its critical value covers
    the largest gap of all of them)."""
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged run holds inf
        return result.experiment.judge(result.simulation, result.theory, result.config, family)


def finish(
    name: str,
    fig: Figure,
    title: str,
    runs: tuple[Sequence[str], Sequence[RunResult]],
    metrics: dict[str, float],
    caption: str,
    extra: Mapping[str, xr.Dataset] | None = None,
    verdict: Verdict | None = None,
) -> FigureResult:
    """Title and lay out the figure. Its data are the runs (and ``extra`` theory-only
    datasets, saved beside them), its status their first failure (the runs', then the solver
    status in ``extra``'s attrs), its verdict ``verdict`` when the figure judges its own
    claim, else :func:`lindyn.experiments.combined_verdict` of the runs, each judged as one
    of them."""
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    labels, results = runs
    status, message = first_failure(results)
    for key, ds in (extra or {}).items():
        if status == "ok" and ds.attrs.get("status", "ok") != "ok":
            status, message = str(ds.attrs["status"]), f"{key}: {ds.attrs.get('message', '')}"
    if verdict is None:  # a figure that judges its own claim passes it
        verdict = combined_verdict(labels, [_judge(r, len(results)) for r in results])
    data = groups(labels, results) | dict(extra or {})
    return FigureResult(name, fig, data, metrics, caption, status, message, verdict)
