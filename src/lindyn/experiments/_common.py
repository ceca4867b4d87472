"""Pieces every experiment shares: the clock fields and turning a solution into a dataset."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from lindyn._config import ConfigBase, ConfigError, param
from lindyn.results import trajectory
from lindyn.train import Solution, Status

__all__ = ["ClockConfig", "simulation_dataset"]


@dataclasses.dataclass(frozen=True)
class ClockConfig(ConfigBase):
    """Fields that fix how time runs; subclasses redeclare them to change defaults.

    ``method="flow"`` integrates gradient flow adaptively; ``"gd"`` runs gradient descent with
    step ``eta``, step ``k`` reported at flow time ``eta * k``.
    """

    t_max: float = param(10.0, gt=0, help="final flow time")
    method: str = param("flow", choices=("flow", "gd"), help="gradient flow or descent")
    eta: float = param(0.05, gt=0, help="learning rate (method=gd)")
    num_times: int = param(60, ge=2, le=10_000, help="number of recorded times")

    def max_curvature(self) -> float | None:
        """An upper estimate of the loss Hessian's top eigenvalue, for the GD stability check."""
        return None

    def check(self) -> None:
        curvature = self.max_curvature()
        if self.method == "gd" and curvature is not None and self.eta * curvature >= 2.0:
            raise ConfigError(
                "eta",
                f"must be < {2.0 / curvature:.4g} (2 / top Hessian eigenvalue) for stable "
                f"gradient descent, got {self.eta}",
            )
        if self.method == "gd" and self.t_max / self.eta > 1e7:
            raise ConfigError(
                "eta", f"t_max/eta must be <= 1e7 steps, got {self.t_max / self.eta:.3g}"
            )


def simulation_dataset(
    experiment: str,
    config: ConfigBase,
    solution: Solution,
    *,
    extra_dims: Mapping[str, Sequence[str]] | None = None,
    coords: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """A vmapped :class:`Solution` (leading seed axis) as a labelled simulation dataset.

    The per-seed status codes are kept in the variable ``status`` (dim ``seed``) and the
    worst one, by name, in ``attrs["status"]``.
    """
    codes = np.asarray(solution.status).reshape(-1)
    ds = trajectory(
        solution.observables,
        np.asarray(solution.times)[0],
        experiment=experiment,
        kind="simulation",
        config=config.to_dict(),
        extra_dims=extra_dims,
        coords=coords,
        attrs={"status": Status.NAMES[int(codes.max())]},
    )
    ds["status"] = ("seed", codes.astype(np.int64))
    return ds
