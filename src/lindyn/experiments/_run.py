"""Simulate, predict, compare, draw and save one configuration: what ``lindyn run`` does."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from lindyn._config import ConfigBase
from lindyn.experiments._registry import Experiment, get
from lindyn.experiments._verdict import ERROR_SUFFIX, Verdict, observables
from lindyn.results import atomic_write_text, main_axis, save_groups, seed_std
from lindyn.train import Status, TrainingError, describe_params

__all__ = ["RunResult", "run", "check_seeds"]


def check_seeds(seeds: int, field: str = "seeds") -> int:
    """Validate a number of seeds, or another count named ``field`` (an integer >= 1)."""
    if isinstance(seeds, bool) or not isinstance(seeds, int | np.integer) or seeds < 1:
        raise ValueError(f"{field}: must be an integer >= 1, got {seeds!r}")
    return int(seeds)


@dataclasses.dataclass(frozen=True)
class RunResult:
    """Everything one run produced."""

    experiment: Experiment
    config: ConfigBase
    simulation: xr.Dataset
    theory: xr.Dataset
    metrics: dict[str, float]
    status: str
    message: str
    verdict: Verdict

    @property
    def name(self) -> str:
        return self.experiment.name

    def payload(self) -> dict[str, Any]:
        """The JSON document of ``lindyn run --json`` (non-finite numbers become ``null``)."""
        with np.errstate(invalid="ignore", over="ignore"):  # a diverged run holds inf
            return self._payload()

    def _payload(self) -> dict[str, Any]:
        sim, th = self.simulation, self.theory
        names = [v for v in observables(th) if v in sim.data_vars]
        errors = [v + ERROR_SUFFIX for v in names if v + ERROR_SUFFIX in th]
        axis = main_axis(th)
        return {
            "experiment": self.name,
            "config": self.config.to_dict(),
            "status": self.status,
            "message": self.message,
            "verdict": self.verdict.to_dict(),
            "metrics": {k: _finite(v) for k, v in self.metrics.items()},
            "theory": {axis: _list(th[axis]), **{v: _list(th[v]) for v in [*names, *errors]}},
            "simulation": {
                axis: _list(sim[axis]),
                **{
                    v: {"mean": _list(sim[v].mean("seed")), "std": _list(seed_std(sim[v]))}
                    for v in names
                },
            },
        }

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``result.nc`` (groups simulation, theory), ``figure.png`` and ``metrics.json``."""
        out = Path(out)
        groups = {"simulation": self.simulation, "theory": self.theory}
        metrics = json.dumps(self.payload()["metrics"], indent=2, allow_nan=False) + "\n"
        paths = {
            "result": save_groups(groups, out / "result.nc"),
            "metrics": atomic_write_text(out / "metrics.json", metrics),
        }
        with np.errstate(invalid="ignore", over="ignore"):
            fig = self.experiment.figure(self.simulation, self.theory)
        tmp = out / ".figure.tmp.png"
        fig.savefig(tmp, dpi=110)
        paths["figure"] = tmp.replace(out / "figure.png")
        return paths


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _list(da: xr.DataArray) -> list:
    """Nested lists of floats, with ``None`` where the value is not finite."""
    arr = np.asarray(da.values, dtype=np.float64)
    out = arr.astype(object)
    out[~np.isfinite(arr)] = None
    return out.tolist()


def _status(sim: xr.Dataset, theory: xr.Dataset, config: ConfigBase) -> tuple[str, str]:
    for kind, ds in (("simulation", sim), ("theory", theory)):
        status = str(ds.attrs.get("status", "ok"))
        if status != "ok":
            codes = {v: k for k, v in Status.NAMES.items()}
            detail = ds.attrs.get("message") or Status.MESSAGES.get(codes.get(status, -1), status)
            return status, f"{kind}: {detail} ({describe_params(config.to_dict())})"
    return "ok", "ok"


def run(
    experiment: str | Experiment,
    config: ConfigBase | None = None,
    *,
    seeds: int | None = None,
    throw: bool = True,
    family: int = 1,
) -> RunResult:
    """Simulate and predict ``config`` (the experiment's default if None) and compare them.

    Args:
        experiment: a registered name or an :class:`Experiment`.
        config: the experiment's ``Config``; its default if None.
        seeds: number of simulated seeds; the experiment's default if None.
        throw: raise :class:`lindyn.train.TrainingError` if the simulation diverged or a
            solver failed; with ``throw=False`` the result carries the status and message.
        family: the verdict is one of ``family`` drawn together (a sweep's points, a
            figure's runs): its critical value covers the largest gap of all of them.

    Example:
        >>> import lindyn
        >>> res = lindyn.run("linreg", lindyn.get("linreg").config(quick=True), seeds=3)
        >>> res.status, res.verdict.value
        ('ok', 'agree')
    """
    exp = get(experiment) if isinstance(experiment, str) else experiment
    config = exp.config() if config is None else config
    seeds = check_seeds(exp.seeds if seeds is None else seeds)
    family = check_seeds(family, "family")
    sim = exp.simulate(config, seeds)
    theory = exp.predict(config)
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged run holds inf
        metrics = exp.compare(sim, theory)
    status, message = _status(sim, theory, config)
    if throw and status != "ok":
        raise TrainingError(message)
    with np.errstate(invalid="ignore", over="ignore"):
        verdict = exp.judge(sim, theory, config, family)
    return RunResult(exp, config, sim, theory, metrics, status, message, verdict)
