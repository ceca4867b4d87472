"""Agreement metrics between a simulation and a prediction on the same coordinates."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

from lindyn.results import main_axis, seed_std

__all__ = ["curve_metrics"]


def curve_metrics(
    sim: xr.Dataset, theory: xr.Dataset, variables: Iterable[str]
) -> dict[str, float]:
    r"""For each variable: relative L2 and maximum absolute gap of the seed mean to the theory.

    ``rel_l2_<v>`` :math:`= \|\bar s - \tau\|_2/\|\tau\|_2` over the main axis (time) and extra dims
    (omitted where the theory is 0 up to rounding),
    ``max_abs_<v>`` :math:`= \max|\bar s - \tau|`, and ``seed_std_<v>``, the largest standard
    deviation over seeds (ddof = 1) (the scale the gap should be judged against).
    """
    axis = main_axis(theory)
    if not np.array_equal(sim[axis].values, theory[axis].values):
        raise ValueError(f"simulation and theory must share the {axis} coordinate")
    out: dict[str, float] = {}
    for v in variables:
        mean = sim[v].mean("seed").values
        gap = mean - theory[v].values
        scale = np.linalg.norm(theory[v].values)
        noise = 1e3 * np.finfo(np.float64).eps * np.linalg.norm(mean)
        if scale > noise:  # a relative gap to a prediction that is 0 up to rounding means nothing
            out[f"rel_l2_{v}"] = float(np.linalg.norm(gap) / scale)
        out[f"max_abs_{v}"] = float(np.max(np.abs(gap)))
        out[f"seed_std_{v}"] = float(np.max(seed_std(sim[v]).values))
    return out
