"""Figure deep-residual: depth transfer of the optimal learning rate in residual networks with
branch scale :math:`\\beta_0/\\sqrt L`, and its drift with a constant branch (Bordelon & Pehlevan
2025, Fig. 5; the README's deep notes §4.4, §6 item 9).

Setting of §4.4: :math:`\\alpha = 4`, :math:`\\gamma_0 = 1`, :math:`\\beta_0 = 1`, test loss at
:math:`T = 20`, :math:`L \\in \\{1, 2, 4, 8\\}` residual blocks. The spec's sweep is at
:math:`\\nu = \\infty`, which cannot be simulated, so the figure carries two theories:

* dotted: the DMFT at :math:`\\nu = \\infty` (theory only, :func:`lindyn.theory.deep_dmft`),
  the spec's curves and the statement of the claim;
* solid: the DMFT at the simulated width :math:`\\nu = 1` (the sweep's own prediction at the
  realised ratios), against which the simulation (dashed) is compared.

The experiment ``deep`` has one branch scale, :math:`\\beta_0/\\sqrt L`; the constant branch
:math:`\\beta_{\\rm res} = 1` is the same network with ``beta0`` :math:`= \\sqrt L`, so each depth is
one sweep over (``beta0``, :math:`\\eta`) and :math:`L = 1` is shared by the two panels.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import xarray as xr

from lindyn.figures._deep_sweep import (
    Curve,
    SweepSpec,
    draw_panel,
    log_grid,
    loss_curves,
    optimum_metrics,
    outside_validity,
    run_sweeps,
    sweep_status,
    sweeps_verdict,
)
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress
from lindyn.plot import new_figure

NAME = "deep-residual"
NU = 1.0  # simulated width ratio
SETTING = {"alpha": 4.0, "gamma0": 1.0, "steps": 20, "sigma": 0.0, "residual": True}
BRANCHES = ("sqrt_depth", "constant")
SOURCES = ("theory_inf", "theory", "simulation")


@dataclasses.dataclass(frozen=True)
class Size:
    D: int
    seeds: int
    depths: tuple[int, ...]
    etas: tuple[float, ...]


def _size(quick: bool) -> Size:
    if quick:
        return Size(64, 2, (1, 4), tuple(log_grid(10**-2.5, 10**-0.5, 2)))
    return Size(256, 3, (1, 2, 4, 8), tuple(log_grid(1e-4, 1.0, 4)))


def config_beta0(L: int, branch: str) -> float:
    """The experiment's ``beta0`` giving branch scale :math:`1/\\sqrt L` (``"sqrt_depth"``) or
    1 (``"constant"``): the experiment multiplies ``beta0`` by :math:`1/\\sqrt L`."""
    return 1.0 if branch == "sqrt_depth" else math.sqrt(L)


def _specs(size: Size) -> dict[str, SweepSpec]:
    fixed = {"D": size.D, "nu": NU, **SETTING}
    return {
        f"L{L}": SweepSpec(
            {"beta0": sorted({config_beta0(L, b) for b in BRANCHES}), "eta": list(size.etas)},
            {**fixed, "L": L},
            size.seeds,
        )
        for L in size.depths
    }


def _jobs(size: Size) -> list[dict]:
    """The :math:`\\nu = \\infty` solves, in (branch, L, eta) order."""
    return [
        {**SETTING, "nu": math.inf, "L": L, "eta": eta, "beta0": 1.0, "branch": b}
        for b in BRANCHES
        for L in size.depths
        for eta in size.etas
    ]


def _curves(size: Size, sweeps, inf_losses) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """branch -> source -> ``L=<L>`` -> final test loss along eta."""
    shape = (len(BRANCHES), len(size.depths), len(size.etas))
    inf = np.asarray(inf_losses, dtype=np.float64).reshape(shape)
    out = {}
    for i, branch in enumerate(BRANCHES):
        per = {s: {} for s in (*SOURCES, "outside")}
        for j, L in enumerate(size.depths):
            theory, sim = loss_curves(sweeps[f"L{L}"])
            beta0 = config_beta0(L, branch)
            outside = outside_validity(sweeps[f"L{L}"]).sel(beta0=beta0).values
            per["outside"][f"L={L}"] = outside
            per["theory_inf"][f"L={L}"] = inf[i, j]
            per["theory"][f"L={L}"] = theory.sel(beta0=beta0).values
            per["simulation"][f"L={L}"] = sim.sel(beta0=beta0).values
        out[branch] = per
    return out


def _inf_dataset(size: Size, solved: list[tuple[float, str]]) -> xr.Dataset:
    shape = (len(BRANCHES), len(size.depths), len(size.etas))
    dims = ("branch", "L", "eta")
    return xr.Dataset(
        {
            "theory_final_test_loss": (dims, np.array([v for v, _ in solved]).reshape(shape)),
            "status": (dims, np.array([s for _, s in solved]).reshape(shape)),
        },
        coords={"branch": list(BRANCHES), "L": list(size.depths), "eta": list(size.etas)},
        attrs={
            "nu": "inf",
            **{k: int(v) if isinstance(v, bool) else v for k, v in SETTING.items()},
        },
    )


def _inf_status(solved: list[tuple[float, str]]) -> tuple[str, str]:
    bad = [s for _, s in solved if s not in ("converged", "diverged")]
    return ("ok", "ok") if not bad else (bad[0], f"{len(bad)} nu=inf DMFT solves {bad[0]}")


def _caption(metrics: dict[str, float], size: Size, counts: dict[str, float]) -> str:
    def stars(branch: str, source: str) -> str:
        values = [metrics[f"{branch}/{source}/eta_star_L={L}"] for L in size.depths]
        shift = metrics[f"{branch}/{source}/shift_steps"]
        return ", ".join(f"{v:.3g}" for v in values) + f" (shift {shift:.0f})"

    names = {"theory_inf": "DMFT ν=∞", "theory": f"DMFT ν={NU:g}", "simulation": "simulation"}
    parts = [
        f"{branch}: " + "; ".join(f"{names[s]} {stars(branch, s)}" for s in SOURCES)
        for branch in BRANCHES
    ]
    depths = ", ".join(str(L) for L in size.depths)
    outside = sum(metrics[f"{b}/points_outside_validity"] for b in BRANCHES)
    return (
        f"α=4, γ0=1, β0=1, σ=0, T=20; L = {depths}; simulation D={size.D}, ν={NU:g}, "
        f"{size.seeds} seeds; η grid ratio {size.etas[1] / size.etas[0]:.3f}. η* per L and "
        "shift of the argmin in grid steps — " + " | ".join(parts) + ". "
        f"{counts['points_ok']:.0f} points ok, {counts['points_diverged']:.0f} diverged. "
        f"Ringed grey: {outside:.0f} points where the DMFT's residual multiplier s exceeds 1 "
        "(near the stability edge; finite networks shed the unstable modes and fall below the "
        "D → ∞ curve, approaching it only slowly in D), not compared."
    )


def make(
    *, quick: bool = False, progress: Progress = None, workdir: Path | None = None
) -> FigureResult:
    """Sweep (β0, η) per depth at D = 256, ν = 1, 3 seeds, L in {1, 2, 4, 8}, 17 η in
    [1e-4, 1] (quick: D = 64, 2 seeds, L in {1, 4}, 5 η in [0.003, 0.3]), plus the DMFT at
    ν = ∞ on the same grid; one panel per branch scaling. With ``workdir`` the sweeps' stores
    live there and a re-run resumes them (the ν = ∞ solves are recomputed)."""
    size = _size(quick)
    sweeps, solved = run_sweeps(
        _specs(size), theory=_jobs(size), workdir=workdir, progress=progress
    )
    curves = _curves(size, sweeps, [v for v, _ in solved])
    fig, axes = new_figure(2)
    metrics: dict[str, float] = {}
    titles = {"sqrt_depth": "branch β0/√L", "constant": "constant branch β = 1"}
    for ax, branch in zip(axes, BRANCHES, strict=True):
        per = curves[branch]
        for source in SOURCES:
            metrics |= optimum_metrics(f"{branch}/{source}", size.etas, per[source])
        family = [
            Curve(
                k, per["theory"][k], per["simulation"][k], per["theory_inf"][k], per["outside"][k]
            )
            for k in per["theory"]
        ]
        metrics[f"{branch}/points_outside_validity"] = float(
            sum(np.sum(v) for v in per["outside"].values())
        )
        title = f"{titles[branch]}: DMFT ν={NU:g} solid, ν=∞ dotted, simulation dashed"
        draw_panel(ax, size.etas, family, title)
    status, message, counts = sweep_status(sweeps)
    if status == "ok":
        status, message = _inf_status(solved)
    metrics |= counts
    fig.suptitle("depth transfer of the learning rate in residual deep linear nets", fontsize=9)
    fig.tight_layout()
    data = {**sweeps, "theory_nu_inf": _inf_dataset(size, solved)}
    caption = _caption(metrics, size, counts)
    verdict = sweeps_verdict(sweeps)
    return FigureResult(NAME, fig, data, metrics, caption, status, message, verdict)


RECIPE = register_figure(
    FigureRecipe(
        NAME,
        "residual deep linear nets: η* across depth, β0/√L transfers, constant branch drifts",
        make,
        resumable=True,
    )
)
