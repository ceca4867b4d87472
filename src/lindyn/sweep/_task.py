"""The task of one grid point: plain values in, plain values out, so any worker can run it."""

from __future__ import annotations

from typing import Any

from lindyn.experiments import VERDICTS, get, run

__all__ = ["run_point", "VERDICT"]

VERDICT = "verdict"  # the metric holding a point's verdict code


def run_point(
    experiment: str, config: dict[str, Any], seeds: int, family: int = 1
) -> dict[str, Any]:
    """Run one grid point with ``lindyn.run(..., throw=False)`` and return what the store keeps.

    A module-level function of picklable arguments, so that a dask worker in another process
    (or on another machine with lindyn installed) can run it.

    Args:
        experiment: a registered experiment name.
        config: the point's config as a dict (``Config.to_dict()``).
        seeds: number of simulated seeds.
        family: the points of the sweep, judged together (:func:`lindyn.run`).

    Returns:
        ``{"metrics": {name: float}, "status": str, "message": str}``; the message is ``""``
        when the status is ``"ok"``. The metrics hold the run's verdict as ``verdict``, its
        index in :data:`lindyn.experiments.VERDICTS` (the store keeps numbers;
        :func:`lindyn.sweep.sweep_verdict` reads it back).

    Raises:
        Exception: whatever the run raises; the driver records the point as failed.

    Example:
        >>> import lindyn
        >>> config = lindyn.get("linreg").config(quick=True, method="gd").to_dict()
        >>> out = run_point("linreg", config, 2)
        >>> out["status"], out["message"], sorted(out["metrics"])[0]
        ('ok', '', 'max_abs_test_error')
    """
    exp = get(experiment)
    result = run(exp, exp.Config(**config), seeds=seeds, throw=False, family=family)
    metrics = {name: float(value) for name, value in result.metrics.items()}
    if VERDICT in metrics:
        raise ValueError(f"metrics: {experiment} names a metric {VERDICT!r}, which sweeps keep")
    return {
        "metrics": metrics | {VERDICT: float(VERDICTS.index(result.verdict.value))},
        "status": result.status,
        "message": "" if result.status == "ok" else result.message,
    }
