"""Figure mixed-phase: the phase diagram of Tu, Aranguri & Jacot (2024), Figure 2, from a sweep.

A sweep of the experiment ``mixed`` over :math:`(\\gamma_{\\sigma^2}, \\gamma_w)` (one
:math:`(A^*, E)` for the whole grid, as in the paper), drawn by
:func:`lindyn.experiments.mixed.draw_phase_diagram`; the caption checks the two regions with a
closed form (the README's mixed notes §3.3): the active region with small initialization
against :math:`2K/d`, the lazy wedge against :math:`(1 + \\sigma^4w)/(2 + \\sigma^4w)`.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from lindyn.experiments import get
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress
from lindyn.theory import active_optimum, lazy_optimum

NAME = "mixed-phase"


@dataclasses.dataclass(frozen=True)
class Size:
    d: int
    K: int
    steps: int
    points: int  # per axis


def _size(quick: bool) -> Size:
    return Size(40, 3, 600, 5) if quick else Size(200, 5, 750, 12)


def _region_ratios(ds: xr.Dataset, d: int, K: int, c: float) -> dict[str, float]:
    """Median ratio of the measured minimum test error to the closed form, per region."""
    g2, gw = np.meshgrid(ds["gamma_sigma2"].values, ds["gamma_w"].values, indexing="ij")
    values = ds["min_test_error"].transpose("gamma_sigma2", "gamma_w").values
    small_init = 2 * g2 + gw < 0  # left of the red line
    active = small_init & (g2 + gw < 0.75) & (gw > 1.0)  # clear of the black line
    lazy = small_init & (g2 + gw > 1.1)
    sigma4w = (d**g2) ** 2 * np.floor(d**gw)
    lazy_value = np.vectorize(lambda x: lazy_optimum(x, c)[0])(sigma4w)
    out = {}
    for name, mask, reference in (
        ("active", active, active_optimum(K, d)),
        ("lazy", lazy, lazy_value),
    ):
        ratio = (values / reference)[mask]
        out[f"{name}_points"] = float(np.isfinite(ratio).sum())
        out[f"{name}_median_ratio"] = float(np.nanmedian(ratio)) if ratio.size else float("nan")
    return out


def make(
    *, quick: bool = False, progress: Progress = None, workdir: Path | None = None
) -> FigureResult:
    """Sweep ``mixed`` on a square grid over γσ² in [-3, 0], γw in [0, 2.8] (c = 50, the
    paper's settings at d = 200; quick d = 40) and draw the four panels. With ``workdir`` the
    sweep's store lives there and a re-run resumes it; otherwise in a temporary folder."""
    from lindyn.sweep import sweep, sweep_verdict

    size = _size(quick)
    grid = {
        "gamma_sigma2": list(np.linspace(-3.0, 0.0, size.points)),
        "gamma_w": list(np.linspace(0.0, 2.8, size.points)),
    }
    fixed = {"d": size.d, "K": size.K, "c": 50.0, "steps": size.steps}
    with tempfile.TemporaryDirectory() as tmp:
        ds = sweep(
            "mixed", grid, fixed=fixed, seeds=1, out=workdir or tmp, progress=progress or False
        )
    figure = get("mixed").phase_diagram(ds)
    metrics = _region_ratios(ds, size.d, size.K, 50.0)
    done = int((ds["status"] == "ok").sum())
    metrics["points_ok"] = float(done)
    caption = (
        f"{done} of {ds['status'].size} points ok. Minimum test error over the closed forms: "
        f"active region with small init {metrics['active_median_ratio']:.3f} x 2K/d "
        f"({metrics['active_points']:.0f} points, median; 2K/d is the leading order in 1/d, "
        f"the truncated SVD of Y adds its shrinkage error at small d), lazy wedge "
        f"{metrics['lazy_median_ratio']:.3f} x (1 + σ⁴w)/(2 + σ⁴w) "
        f"({metrics['lazy_points']:.0f} points)."
    )
    status = "ok" if done == ds["status"].size else "failed"
    message = "ok" if status == "ok" else f"{ds['status'].size - done} sweep points not ok"
    # netCDF attributes cannot be booleans
    ds.attrs = {k: int(v) if isinstance(v, bool) else v for k, v in ds.attrs.items()}
    verdict = sweep_verdict(ds)
    return FigureResult(NAME, figure, {"sweep": ds}, metrics, caption, status, message, verdict)


RECIPE = register_figure(
    FigureRecipe(
        NAME, "mixed dynamics: phase diagram over (γσ², γw), Figure 2", make, resumable=True
    )
)
