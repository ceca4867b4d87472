"""Simulations and predictions as labelled ``xarray.Dataset`` objects with provenance."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["trajectory", "main_axis", "provenance", "config_of", "seed_std"]

_PACKAGES = ("lindyn", "jax", "diffrax", "numpy", "scipy", "xarray")


def provenance() -> dict[str, str]:
    """Versions of the packages that produced a result, and a UTC time stamp."""
    out = {}
    for name in _PACKAGES:
        try:
            out[f"version_{name}"] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[f"version_{name}"] = "unknown"
    out["created"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return out


def trajectory(
    observables: Mapping[str, Any],
    time: Any,
    *,
    experiment: str,
    kind: str,
    config: Mapping[str, Any],
    extra_dims: Mapping[str, Sequence[str]] | None = None,
    coords: Mapping[str, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
    axis: str = "time",
) -> xr.Dataset:
    """Build a labelled trajectory.

    Simulations (``kind="simulation"``) have dims ``(seed, time, ...)``; predictions
    (``kind="theory"``) ``(time, ...)``. Extra trailing dims of an observable are named in
    ``extra_dims`` (e.g. ``{"singular_values": ("mode",)}``).

    Args:
        observables: name -> array, time axis first (after ``seed`` for simulations).
        time: flow times, shape ``(T,)``.
        experiment: registry name of the experiment.
        kind: ``"simulation"`` or ``"theory"``.
        config: the configuration (stored as JSON in ``attrs["config"]``).
        extra_dims: trailing dim names per observable.
        coords: extra coordinates (e.g. ``mode``).
        attrs: more attributes (e.g. a solver's status and residual).
        axis: the name of the main axis, ``"time"`` unless the experiment's curves run over
            something else (e.g. the load ``"alpha"`` of the capacity experiment); recorded in
            ``attrs["axis"]`` when it is not ``"time"`` (:func:`main_axis`).
    """
    if kind not in ("simulation", "theory"):
        raise ValueError(f"kind: must be 'simulation' or 'theory', got {kind!r}")
    lead = ("seed", axis) if kind == "simulation" else (axis,)
    extra_dims = extra_dims or {}
    data_vars = {}
    for name, value in observables.items():
        arr = np.asarray(value, dtype=np.float64)
        dims = (*lead, *extra_dims.get(name, ()))
        if arr.ndim != len(dims):
            raise ValueError(f"observable {name!r}: shape {arr.shape} does not match dims {dims}")
        data_vars[name] = (dims, arr)
    all_coords = {axis: np.asarray(time, dtype=np.float64), **(coords or {})}
    if kind == "simulation":
        n_seeds = next(iter(data_vars.values()))[1].shape[0]
        all_coords["seed"] = np.arange(n_seeds)
    ds = xr.Dataset(data_vars, coords=all_coords)
    ds.attrs.update(
        experiment=experiment,
        kind=kind,
        config=json.dumps(dict(config), sort_keys=True),
        **provenance(),
        **({} if axis == "time" else {"axis": axis}),
        **(attrs or {}),
    )
    return ds


def main_axis(ds: xr.Dataset) -> str:
    """The main axis of a trajectory: ``"time"``, or the one recorded by :func:`trajectory`."""
    return str(ds.attrs.get("axis", "time"))


def config_of(ds: xr.Dataset) -> dict[str, Any]:
    """The configuration a result was produced with."""
    return json.loads(ds.attrs["config"])


def seed_std(da: xr.DataArray) -> xr.DataArray:
    """Standard deviation over seeds, unbiased (ddof = 1) when there are several."""
    return da.std("seed", ddof=1 if da.sizes["seed"] > 1 else 0)
