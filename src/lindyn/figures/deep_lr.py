"""Figure deep-lr: the optimal learning rate transfers across width under μP and drifts under
NTK (Bordelon & Pehlevan 2025, Fig. 2; the README's deep notes §4.3, §6 item 8).

A sweep of the experiment ``deep`` over (parameterization, width ratio :math:`\\nu`, learning
rate :math:`\\eta`) at the spec's setting: :math:`L = 3` hidden layers, :math:`\\alpha = 4`,
:math:`\\sigma = 0`, test loss at :math:`T = 20`, richness :math:`\\gamma_0 = \\bar\\gamma = 3`
(at 1 the μP optimum itself moves one grid step between :math:`\\nu = 0.5` and 1, §4.3). Under
μP the whole :math:`\\eta`-dependence is width independent up to :math:`O(1/\\nu)`; under NTK the
effective richness :math:`\\bar\\gamma/\\sqrt\\nu` falls with width, the kernel grows less during
training and the optimum moves right. The DMFT lines are at the simulated sizes' ratios;
near the edge of stability the finite networks sit below them (§3.4).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from lindyn.figures._deep_sweep import (
    Curve,
    SweepSpec,
    draw_panel,
    log_grid,
    loss_curves,
    optimum_metrics,
    run_sweeps,
    sweep_status,
    sweeps_verdict,
)
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress
from lindyn.plot import new_figure

NAME = "deep-lr"
GAMMA = 3.0  # gamma0 (muP) = gamma-bar (NTK)
SETTING = {"alpha": 4.0, "L": 3, "gamma0": GAMMA, "steps": 20, "sigma": 0.0}
PARAMS = ("mup", "ntk")
SOURCES = ("theory", "simulation")


@dataclasses.dataclass(frozen=True)
class Size:
    D: int
    seeds: int
    widths: tuple[float, ...]
    etas: tuple[float, ...]


def _size(quick: bool) -> Size:
    if quick:  # five points of the spec's grid: both NTK optima and the muP one inside
        return Size(128, 2, (0.5, 4.0), tuple(log_grid(0.0316, 0.1468, 6)))
    return Size(256, 4, (0.5, 1.0, 2.0, 4.0), tuple(log_grid(0.01, 1.0, 6)))


def _curves(ds, param: str) -> dict[str, dict[str, np.ndarray]]:
    """source -> ``nu=<v>`` -> final test loss along eta."""
    theory, sim = (c.sel(param=param).transpose("nu", "eta") for c in loss_curves(ds))
    return {
        source: {f"nu={nu:g}": da.sel(nu=nu).values for nu in ds["nu"].values}
        for source, da in zip(SOURCES, (theory, sim), strict=True)
    }


def _caption(metrics: dict[str, float], size: Size, counts: dict[str, float]) -> str:
    def stars(param: str, source: str) -> str:
        values = [metrics[f"{param}/{source}/eta_star_nu={nu:g}"] for nu in size.widths]
        return ", ".join(f"{v:.3g}" for v in values)

    parts = [
        f"{param} {source}: η* = {stars(param, source)} "
        f"(shift {metrics[f'{param}/{source}/shift_steps']:.0f} steps)"
        for param in PARAMS
        for source in SOURCES
    ]
    widths = ", ".join(f"{nu:g}" for nu in size.widths)
    return (
        f"L=3, α=4, σ=0, γ0=γ̄={GAMMA:g}, T=20, D={size.D}, {size.seeds} seeds; ν = {widths}; "
        f"η grid ratio {size.etas[1] / size.etas[0]:.3f}. " + "; ".join(parts) + ". "
        f"{counts['points_ok']:.0f} points ok, {counts['points_diverged']:.0f} diverged "
        "(drawn absent, crosses at the top)."
    )


def make(
    *, quick: bool = False, progress: Progress = None, workdir: Path | None = None
) -> FigureResult:
    """Sweep (param, ν, η) at D = 256, 4 seeds, ν in {0.5, 1, 2, 4}, 13 η in [0.01, 1] (quick:
    D = 128, 2 seeds, ν in {0.5, 4}, 5 η in [0.0316, 0.147]) and draw the μP and NTK panels.
    With ``workdir`` the sweep's store lives there and a re-run resumes it."""
    size = _size(quick)
    grid = {"param": list(PARAMS), "nu": list(size.widths), "eta": list(size.etas)}
    spec = SweepSpec(grid, {"D": size.D, **SETTING}, size.seeds)
    sweeps, _ = run_sweeps({"lr": spec}, workdir=workdir, progress=progress)
    ds = sweeps["lr"]
    fig, axes = new_figure(2)
    metrics: dict[str, float] = {}
    for ax, param in zip(axes, PARAMS, strict=True):
        curves = _curves(ds, param)
        for source in SOURCES:
            metrics |= optimum_metrics(f"{param}/{source}", size.etas, curves[source])
        family = [Curve(k, curves["theory"][k], curves["simulation"][k]) for k in curves["theory"]]
        name = "μP (γ0 fixed)" if param == "mup" else "NTK (γ0 = γ̄/√ν)"
        draw_panel(ax, size.etas, family, f"{name}: DMFT solid, simulation dashed, ★ argmin")
    status, message, counts = sweep_status(sweeps)
    metrics |= counts
    fig.suptitle(f"learning-rate transfer across width, L=3, γ0=γ̄={GAMMA:g}", fontsize=9)
    fig.tight_layout()
    caption = _caption(metrics, size, counts)
    verdict = sweeps_verdict(sweeps)
    return FigureResult(NAME, fig, {"sweep": ds}, metrics, caption, status, message, verdict)


RECIPE = register_figure(
    FigureRecipe(
        NAME, "deep linear nets: optimal η vs width, μP transfers, NTK drifts", make, resumable=True
    )
)
