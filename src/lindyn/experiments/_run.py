"""Simulate, predict, compare, draw and save one configuration: what ``lindyn run`` does."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from lindyn.experiments._registry import Experiment, get
from lindyn.results import atomic_write_text, save_groups
from lindyn.train import Status

__all__ = ["RunResult", "run"]


@dataclasses.dataclass(frozen=True)
class RunResult:
    """Everything one run produced."""

    experiment: str
    config: Any
    simulation: xr.Dataset
    theory: xr.Dataset
    metrics: dict[str, float]
    status: str
    message: str

    def payload(self) -> dict[str, Any]:
        """The JSON document of ``lindyn run --json``."""
        sim, th = self.simulation, self.theory
        names = [v for v in th.data_vars if v in sim.data_vars]
        return {
            "experiment": self.experiment,
            "config": self.config.to_dict(),
            "status": self.status,
            "message": self.message,
            "metrics": {k: _finite(v) for k, v in self.metrics.items()},
            "theory": {"time": _list(th["time"]), **{v: _list(th[v]) for v in names}},
            "simulation": {
                "time": _list(sim["time"]),
                **{
                    v: {"mean": _list(sim[v].mean("seed")), "std": _list(sim[v].std("seed"))}
                    for v in names
                },
            },
        }

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``result.nc`` (groups ``simulation``, ``theory``), ``figure.png``, ``metrics.json``."""
        out = Path(out)
        exp = get(self.experiment)
        paths = {
            "result": save_groups(
                {"simulation": self.simulation, "theory": self.theory}, out / "result.nc"
            ),
            "metrics": atomic_write_text(
                out / "metrics.json", json.dumps(self.payload()["metrics"], indent=2) + "\n"
            ),
        }
        fig = exp.figure(self.simulation, self.theory)
        tmp = out / ".figure.tmp.png"
        fig.savefig(tmp, dpi=110)
        plt.close(fig)
        paths["figure"] = tmp.replace(out / "figure.png")
        return paths


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _list(da: xr.DataArray) -> list:
    arr = np.asarray(da.values, dtype=np.float64)
    return np.where(np.isfinite(arr), arr, np.nan).astype(object).tolist() if arr.size else []


def _status(sim: xr.Dataset, theory: xr.Dataset, config: Any) -> tuple[str, str]:
    for kind, ds in (("simulation", sim), ("theory", theory)):
        status = str(ds.attrs.get("status", "ok"))
        if status != "ok":
            codes = {v: k for k, v in Status.NAMES.items()}
            detail = Status.MESSAGES.get(codes.get(status, -1), ds.attrs.get("message", status))
            params = ", ".join(f"{k}={v}" for k, v in config.to_dict().items())
            return status, f"{kind}: {detail} ({params})"
    return "ok", "ok"


def run(experiment: str | Experiment, config: Any = None, *, seeds: int | None = None) -> RunResult:
    """Simulate and predict ``config`` (the experiment's default if None) and compare them.

    Example:
        >>> import lindyn
        >>> res = lindyn.run("linreg", lindyn.get("linreg").config(quick=True), seeds=2)
        >>> res.status
        'ok'
    """
    exp = get(experiment) if isinstance(experiment, str) else experiment
    config = exp.config() if config is None else config
    seeds = exp.seeds if seeds is None else seeds
    if seeds < 1:
        raise ValueError(f"seeds: must be >= 1, got {seeds}")
    sim = exp.simulate(config, seeds)
    theory = exp.predict(config)
    metrics = exp.compare(sim, theory)
    status, message = _status(sim, theory, config)
    return RunResult(exp.name, config, sim, theory, metrics, status, message)
