r"""Figure deep-powerlaw: the loss exponents on power-law data, lazy against rich, by depth
(the README's deep notes §4.6; :mod:`lindyn.theory._deep_powerlaw`).

Data :math:`\lambda_k \propto k^{-a}`, :math:`\lambda_k\beta_{\star k}^2 \propto k^{-ab-1}`
with :math:`a = 1.5`, :math:`b = 0.5`. Three panels:

* finite networks of the experiment ``deep`` (``spectrum="powerlaw"``, μP, :math:`\nu = 2`,
  :math:`\alpha = 4`, no noise) at :math:`\gamma_0 = 1` and 4, :math:`L = 1, 2`, against their
  DMFT: richer and deeper nets decay faster, over the window a finite mode count allows;
* the balanced end-to-end flow on the mode continuum (:func:`lindyn.theory.balanced_flow`),
  the late-time rich dynamics of every depth, over ten decades, and the lazy flow;
* its local exponent :math:`-d\ln\mathcal L/d\ln t` against :math:`\chi_L = (L+1)b/(1+Lb)`
  (solid), the depth-independent :math:`2b/(1+b)` (dashed) and the lazy :math:`b` (dotted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.experiments import RunResult
from lindyn.figures._deep import Sizes, deep_config, draw_panel, gap_summary, run_deep
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, finish
from lindyn.theory import balanced_flow, fit_exponent, powerlaw_exponents, powerlaw_modes
from lindyn.theory._deep_powerlaw import BalancedFlow

NAME = "deep-powerlaw"
A, B = 1.5, 0.5
SETTING = {"alpha": 4.0, "nu": 2.0, "sigma": 0.0, "spectrum": "powerlaw", "a": A, "b": B}
RUNS = ((1, 1.0), (1, 4.0), (2, 4.0))  # (L, gamma0)
DEPTHS = (1, 2, 3)
WINDOW = (1e4, 1e10)  # balanced flow: t after the start is forgotten, before any cut-off


def _sizes(quick: bool) -> tuple[Sizes, int, float]:
    """Sizes, steps and learning rate: :math:`\\eta\\lambda_1(L+1)` stays below 1."""
    return (Sizes(64, 3), 60, 0.008) if quick else (Sizes(128, 8), 150, 0.005)


def _flows() -> dict[str, BalancedFlow]:
    modes = powerlaw_modes(A, B)
    flows = {f"L={L}": balanced_flow(modes, L) for L in DEPTHS}
    return flows | {"lazy": balanced_flow(modes, 1, lazy=True)}


def _flow_dataset(flow: BalancedFlow) -> xr.Dataset:
    data = {"t": flow.t, "loss": flow.loss, "norm2": flow.norm2, "kernel": flow.kernel}
    return xr.Dataset(
        {k: ("tau", v) for k, v in data.items()},
        coords={"tau": flow.tau},
        attrs={"status": "ok", "a": A, "b": B},
    )


def _local(flow: BalancedFlow) -> tuple[np.ndarray, np.ndarray]:
    keep = (flow.t > 0) & (flow.loss > 0)
    t, loss = flow.t[keep], flow.loss[keep]
    return t, -np.gradient(np.log(loss), np.log(t))


def _metrics(
    labels: Sequence[str], results: Sequence[RunResult], flows: Mapping[str, BalancedFlow]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for L in DEPTHS:
        flow, e = flows[f"L={L}"], powerlaw_exponents(B, L)
        out[f"L={L}/balanced_exponent"] = fit_exponent(flow.t, flow.loss, *WINDOW)
        out[f"L={L}/predicted_rich"] = e.rich
        out[f"L={L}/depth_independent"] = e.two_layer
    lazy = flows["lazy"]
    out["lazy/balanced_exponent"] = fit_exponent(lazy.t, lazy.loss, *WINDOW)
    out["lazy/predicted"] = B
    for label, r in zip(labels, results, strict=True):
        t = r.theory["time"].values
        late = (t[-1] / 4, t[-1])  # the last two octaves of the finite window
        mean = r.simulation["test_loss"].mean("seed").values
        out[f"{label}/dmft_late_exponent"] = fit_exponent(t, r.theory["test_loss"].values, *late)
        out[f"{label}/sim_late_exponent"] = fit_exponent(t, mean, *late)
        out[f"{label}/final_rel_gap_test_loss"] = r.metrics["final_rel_gap_test_loss"]
    return out


def _draw_flows(ax: Axes, flows: Mapping[str, BalancedFlow]) -> None:
    for i, L in enumerate(DEPTHS):
        f = flows[f"L={L}"]
        ax.loglog(f.t[1:], f.loss[1:], color=f"C{i}", label=f"rich, L={L}")
    lazy = flows["lazy"]
    ax.loglog(lazy.t[1:], lazy.loss[1:], ":", color="k", label="lazy (frozen kernel)")
    ax.axvspan(*WINDOW, color="0.9", zorder=0, label="fit window")
    ax.set_xlim(1e-2, 1e14)
    ax.set_xlabel("t")
    ax.set_ylabel("population loss")
    ax.set_title("balanced flow on the mode continuum", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _draw_exponents(ax: Axes, flows: Mapping[str, BalancedFlow]) -> None:
    for i, L in enumerate(DEPTHS):
        t, local = _local(flows[f"L={L}"])
        ax.semilogx(t, local, color=f"C{i}", lw=1.5, label=f"L={L}")
        ax.axhline(powerlaw_exponents(B, L).rich, color=f"C{i}", lw=3, alpha=0.35)
    t, local = _local(flows["lazy"])
    ax.semilogx(t, local, ":", color="k", label="lazy")
    ax.axhline(powerlaw_exponents(B, 1).two_layer, ls="--", color="k", lw=1, label="2b/(1+b)")
    ax.set_xlim(1e-1, 1e14)
    ax.set_ylim(0.3, 1.0)
    ax.set_xlabel("t")
    ax.set_ylabel("local exponent −d ln L / d ln t")
    ax.set_title("thick: (L+1)b/(1+Lb); dashed: depth-independent 2b/(1+b)", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _caption(labels: Sequence[str], results: Sequence[RunResult], m: Mapping[str, float]) -> str:
    fits = ", ".join(
        f"L={L}: {m[f'L={L}/balanced_exponent']:.3f} (predicted {m[f'L={L}/predicted_rich']:.3f})"
        for L in DEPTHS
    )
    finite = ", ".join(
        f"{lab}: {m[f'{lab}/dmft_late_exponent']:.2f}/{m[f'{lab}/sim_late_exponent']:.2f}"
        for lab in labels
    )
    return (
        f"Power-law data a={A:g}, b={B:g}. Balanced flow, exponent fitted over t in "
        f"[{WINDOW[0]:.0e}, {WINDOW[1]:.0e}]: {fits}; lazy {m['lazy/balanced_exponent']:.3f} "
        f"(b = {B:g}). The rich exponent grows with depth, (L+1)b/(1+Lb), and is the "
        f"depth-independent 2b/(1+b) = {m['L=1/depth_independent']:.3f} only at L=1. Finite "
        f"networks, late-window exponent (DMFT/simulation, pre-asymptotic): {finite}. Final "
        f"relative gap, simulation vs DMFT: {gap_summary(labels, results, 'test_loss')}."
    )


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Three finite runs (D = 64, 3 seeds, 60 steps quick; D = 128, 8 seeds, 150 steps full)
    and the balanced flows of depths 1-3."""
    size, steps, eta = _sizes(quick)
    configs = [
        (f"L={L}_gamma0={g:g}", deep_config(size, L=L, gamma0=g, eta=eta, steps=steps, **SETTING))
        for L, g in RUNS
    ]
    results = run_deep(configs, size, progress=progress, name=NAME)
    labels = [lab for lab, _ in configs]
    flows = _flows()
    fig = Figure(figsize=(14.0, 4.2))
    left, middle, right = fig.subplots(1, 3)
    draw_panel(left, [f"L={L}, γ0={g:g}" for L, g in RUNS], results, "test_loss")
    left.set_xscale("log")
    left.set_title(f"finite nets, D={size.D}, ν=2, α=4 (DMFT solid, simulation dashed)", fontsize=8)
    _draw_flows(middle, flows)
    _draw_exponents(right, flows)
    metrics = _metrics(labels, results, flows)
    title = (
        f"deep linear nets on power-law data (a={A:g}, b={B:g}): lazy vs rich exponents by depth"
    )
    extra = {f"balanced_{k}/theory": _flow_dataset(f) for k, f in flows.items()}
    caption = _caption(labels, results, metrics)
    return finish(NAME, fig, title, (labels, results), metrics, caption, extra)


RECIPE = register_figure(
    FigureRecipe(NAME, "deep linear nets on power-law data: rich exponent (L+1)b/(1+Lb)", make)
)
