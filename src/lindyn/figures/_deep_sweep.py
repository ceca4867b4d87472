"""Shared parts of the learning-rate figures of the experiment ``deep`` (``deep-lr``,
``deep-residual``): log grids of :math:`\\eta`, sweeps on one dask cluster, the final test loss
against :math:`\\eta` with diverged points removed, its argmin, and the shift of the argmin
across a family of curves counted in grid steps (the README's deep notes §4.3–§4.4).

A point's sweep status is ``"ok"`` or the first failing side's (``error`` starts with
``"simulation:"`` or ``"theory:"``). A side that diverged is drawn absent (a cross at the top of
the panel for the simulation), never as a value; the other side of the same point is kept. The
argmin runs over the finite values of one curve on the shared grid, so the shift of two curves'
argmins is an integer number of grid steps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.ticker import NullFormatter

from lindyn.experiments import Verdict, combined_verdict
from lindyn.figures._runs import Progress

__all__ = [
    "Curve",
    "SweepSpec",
    "argmin_index",
    "draw_panel",
    "final_dmft_loss",
    "log_grid",
    "loss_curves",
    "optimum_metrics",
    "outside_validity",
    "run_sweeps",
    "shift_steps",
    "sweep_status",
    "sweeps_verdict",
]

EXPERIMENT = "deep"
EXPECTED = ("ok", "diverged")  # point statuses that are results; anything else is a failure
CAP = 1e2  # losses above this are drawn as diverged (the initial losses here are below 2e2)


def log_grid(start: float, stop: float, per_decade: int) -> list[float]:
    """The lattice :math:`10^{k/\\text{per\\_decade}}` from ``start`` to ``stop`` (rounded onto it).

    Example:
        >>> [round(x, 4) for x in log_grid(0.01, 0.1, 6)][:4]
        [0.01, 0.0147, 0.0215, 0.0316]
    """
    lo, hi = (round(math.log10(x) * per_decade) for x in (start, stop))
    return [float(10 ** (k / per_decade)) for k in range(lo, hi + 1)]


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """One sweep of ``deep``: its axes, the values fixed at every point, simulated seeds."""

    grid: Mapping[str, Sequence[Any]]
    fixed: Mapping[str, Any]
    seeds: int


def final_dmft_loss(kwargs: Mapping[str, Any]) -> tuple[float, str]:
    """``(test loss at the last step, status)`` of :func:`lindyn.theory.deep_dmft`; the loss is
    NaN unless the solve converged (theory-only curves, e.g. at :math:`\\nu = \\infty`)."""
    from lindyn.theory import deep_dmft

    res = deep_dmft(**kwargs)
    ok = res.status == "converged" and bool(np.isfinite(res.test_loss[-1]))
    return (float(res.test_loss[-1]) if ok else math.nan), str(res.status)


@contextlib.contextmanager
def _client() -> Iterator[Any]:
    from lindyn.sweep._cluster import connect

    with connect(None) as client:
        yield client


def run_sweeps(
    specs: Mapping[str, SweepSpec],
    *,
    theory: Sequence[Mapping[str, Any]] = (),
    workdir: Path | None = None,
    progress: Progress = None,
) -> tuple[dict[str, xr.Dataset], list[tuple[float, str]]]:
    """Run every sweep (store ``workdir/<name>/sweep.zarr``, resumable; a temporary folder
    without ``workdir``) and the theory-only solves ``theory`` (:func:`final_dmft_loss`
    keywords), all on one local cluster; the theory solves are queued first and fill the
    workers while the sweeps run."""
    from lindyn.sweep import sweep

    with tempfile.TemporaryDirectory() as tmp, _client() as client:
        futures = [client.submit(final_dmft_loss, dict(k), pure=False) for k in theory]
        root = Path(workdir or tmp)
        family = sum(int(np.prod([len(v) for v in s.grid.values()])) for s in specs.values())
        out = {
            name: sweep(
                EXPERIMENT,
                dict(spec.grid),
                fixed=dict(spec.fixed),
                seeds=spec.seeds,
                out=root / name,
                client=client,
                progress=progress or False,
                family=family,  # one family of verdicts over all the figure's sweeps
            )
            for name, spec in specs.items()
        }
        solved = client.gather(futures)
    for ds in out.values():  # netCDF attributes cannot be booleans
        ds.attrs = {k: int(v) if isinstance(v, bool) else v for k, v in ds.attrs.items()}
    return out, [tuple(s) for s in solved]


def loss_curves(ds: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """``(DMFT, simulation)`` final test loss of a sweep, NaN where that side diverged, failed
    or exceeds :data:`CAP`."""
    error, status = _strings(ds["error"]), _strings(ds["status"])
    failed = ~np.isin(status, EXPECTED)
    sides = (("theory", "theory_final_test_loss"), ("simulation", "final_test_loss"))
    out = []
    for side, name in sides:
        values = ds[name]
        lost = np.vectorize(lambda e, s=f"{side}:": e.startswith(s), otypes=[bool])(error)
        bad = failed | lost | ~(np.abs(values.values) <= CAP)
        out.append(values.where(~bad))
    return out[0], out[1]


def outside_validity(ds: xr.DataArray | xr.Dataset) -> xr.DataArray:
    """True at the sweep points whose DMFT leaves its validity for finite networks: the
    largest :math:`s(t)` (``theory_max_edge_sharpness``,
    :func:`lindyn.experiments.deep.mark_validity`) above 1; False where it was not stored."""
    from lindyn.experiments.deep import EDGE

    if "theory_max_edge_sharpness" not in ds:
        return xr.zeros_like(ds["status"], dtype=bool)
    return ds["theory_max_edge_sharpness"] > EDGE


def _strings(da: xr.DataArray) -> np.ndarray:
    """The values of a string variable (zarr's variable-length strings) as Python ``str``."""
    values = np.asarray(da.values)
    return np.array([str(v) for v in values.ravel()], dtype=object).reshape(values.shape)


def sweep_status(sweeps: Mapping[str, xr.Dataset]) -> tuple[str, str, dict[str, float]]:
    """``(status, message, counts)``: ``"ok"`` unless a point is neither ok nor diverged (a task
    that raised, a solver that did not converge); counts of ok and diverged points."""
    counts = {"points_ok": 0.0, "points_diverged": 0.0}
    for name, ds in sweeps.items():
        status = _strings(ds["status"]).ravel()
        counts["points_ok"] += float((status == "ok").sum())
        counts["points_diverged"] += float((status == "diverged").sum())
        bad = np.flatnonzero(~np.isin(status, EXPECTED))
        if bad.size:
            error = _strings(ds["error"]).ravel()[bad[0]]
            return str(status[bad[0]]), f"sweep {name}: {bad.size} points not ok: {error}", counts
    return "ok", "ok", counts


def argmin_index(values: np.ndarray) -> float:
    """Grid index of the smallest finite value (NaN if there is none).

    Example:
        >>> argmin_index(np.array([0.3, 0.1, np.nan, 0.2]))
        1.0
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    return float(np.argmin(np.where(finite, values, np.inf))) if finite.any() else math.nan


def shift_steps(indices: Sequence[float]) -> float:
    """Spread (max - min) of argmin indices, in grid steps; NaN with fewer than two.

    Example:
        >>> shift_steps([4.0, 4.0, 6.0, math.nan])
        2.0
    """
    finite = [i for i in indices if math.isfinite(i)]
    return float(max(finite) - min(finite)) if len(finite) >= 2 else math.nan


def optimum_metrics(
    prefix: str, etas: Sequence[float], curves: Mapping[str, np.ndarray]
) -> dict[str, float]:
    """``<prefix>/eta_star_<key>`` and ``<prefix>/loss_star_<key>`` per curve, and
    ``<prefix>/shift_steps``: the spread of the argmins over the curves."""
    out, indices = {}, []
    for key, values in curves.items():
        i = argmin_index(values)
        indices.append(i)
        out[f"{prefix}/eta_star_{key}"] = etas[int(i)] if math.isfinite(i) else math.nan
        out[f"{prefix}/loss_star_{key}"] = float(values[int(i)]) if math.isfinite(i) else math.nan
    out[f"{prefix}/shift_steps"] = shift_steps(indices)
    return out


@dataclasses.dataclass(frozen=True)
class Curve:
    """One member of a family on a panel: DMFT solid, simulation dashed with circles, an
    optional theory-only reference (dotted) and an optional mask ``outside`` of the points
    where the DMFT is outside its validity for finite networks (:func:`outside_validity`),
    ringed grey; diverged points are NaN."""

    label: str
    theory: np.ndarray
    simulation: np.ndarray
    reference: np.ndarray | None = None
    outside: np.ndarray | None = None


def _mark_optimum(ax: Axes, etas: np.ndarray, values: np.ndarray, style: dict) -> None:
    i = argmin_index(values)
    if math.isfinite(i):
        ax.plot(etas[int(i)], values[int(i)], ls="none", ms=13, zorder=5, **style)


def draw_panel(ax: Axes, etas: Sequence[float], curves: Sequence[Curve], title: str) -> None:
    """Final test loss against :math:`\\eta` (log-log); stars at the argmins (filled: DMFT,
    open: simulation); a cross at the top where a simulation diverged."""
    x = np.asarray(etas)
    ringed = False
    for k, c in enumerate(curves):
        color = f"C{k % 10}"
        if c.outside is not None and np.any(c.outside):
            label = None if ringed else "DMFT s > 1: finite D not expected to follow"
            ax.plot(x[c.outside], c.theory[c.outside], "o", ms=11, mfc="0.88", mec="0.55",
                    zorder=0, label=label)  # fmt: skip
            ringed = True
        ax.plot(x, c.theory, "-", color=color, lw=2.6, alpha=0.6, label=c.label)
        ax.plot(x, c.simulation, "--o", color=color, lw=1.0, ms=4, mfc="none")
        if c.reference is not None:
            ax.plot(x, c.reference, ":", color=color, lw=1.4)
        _mark_optimum(ax, x, c.theory, {"marker": "*", "color": color, "mec": "k"})
        _mark_optimum(ax, x, c.simulation, {"marker": "*", "mfc": "none", "mec": color})
        lost = x[~np.isfinite(c.simulation)]
        top = np.full(lost.shape, 0.96)  # axes coordinates
        ax.plot(lost, top, "x", color=color, ms=6, transform=ax.get_xaxis_transform())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("test loss at T")
    ax.set_title(title, fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)


def sweeps_verdict(sweeps: Mapping[str, xr.Dataset]) -> Verdict:
    """The verdict of a figure's sweeps: :func:`lindyn.sweep.sweep_verdict` of each, combined
    (worst first) when there are several (:func:`run_sweeps` judges all their points as one
    family, so a false alarm anywhere is 1 %)."""
    from lindyn.sweep import sweep_verdict

    verdicts = {name: sweep_verdict(ds) for name, ds in sweeps.items()}
    if len(verdicts) == 1:
        return next(iter(verdicts.values()))
    return combined_verdict(list(verdicts), list(verdicts.values()))
