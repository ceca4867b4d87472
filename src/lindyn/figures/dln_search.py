"""Figure dln-search: small-alpha search plateau then descent, collapsed in t / ln(1/alpha) (§4.3)."""

from __future__ import annotations

import itertools

import numpy as np

from lindyn.experiments import RunResult, get
from lindyn.figures._dln import dln_config, draw, gap_metrics, sizes, worst_gap
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, first_failure, groups, run_many
from lindyn.plot import new_figure
from lindyn.theory import dln_fixed_point, search_field_scale, search_plateau

DELTA, RHO, SIGMA = 0.5, 0.2, 0.1
TAU_MAX = 3.0


def _log_inverse(r: RunResult) -> float:
    return float(np.log(1.0 / r.config.alpha))


def first_activation(quantile: float = 0.99) -> float:
    r"""Rescaled time :math:`\tau = 1/h_q` at which the fraction ``1 - quantile`` of coordinates with
    the strongest frozen fields :math:`|h_0|` has left the origin, as :math:`\alpha \to 0` (λ = 0).

    :math:`h_0 = \delta\beta^* + sZ` with the Bernoulli–Gaussian teacher; :math:`h_q` is the
    ``quantile`` of :math:`|h_0|` (computed on a fine grid of its exact law).
    """
    s = search_field_scale(DELTA, rho=RHO, sigma=SIGMA)
    grid = np.linspace(0.0, 10.0, 20001)
    null = _half_normal_cdf(grid, s)
    spike = _half_normal_cdf(grid, np.hypot(s, DELTA))
    cdf = (1 - RHO) * null + RHO * spike
    return float(1.0 / np.interp(quantile, cdf, grid))


def _half_normal_cdf(x: np.ndarray, scale: float) -> np.ndarray:
    from scipy.special import erf

    return erf(x / (np.sqrt(2.0) * scale))


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """α in {1e-2, 1e-4, 1e-8} (quick {1e-2, 1e-4}), λ = 0: plateau at the search values, then
    descent towards basis pursuit, against τ = t / ln(1/α)."""
    size = sizes(quick)
    alphas = (1e-2, 1e-4) if quick else (1e-2, 1e-4, 1e-8)
    labels = [f"α={a:g}" for a in alphas]
    configs = [
        (lab, dln_config(size, alpha=a, t_max=TAU_MAX * np.log(1 / a)))
        for lab, a in zip(labels, alphas, strict=True)
    ]
    results = run_many(get("dln"), configs, seeds=size.seeds, progress=progress, name=NAME)
    fig, axes = new_figure(2, width=5.4, height=4.2)
    tau = lambda r, t: t / _log_inverse(r)  # noqa: E731
    draw(axes[0], results, labels, "train_loss", x=tau)
    draw(axes[1], results, labels, "test_error", x=tau)
    axes[0].set_yscale("log")
    plateau = search_plateau(rho=RHO, sigma=SIGMA)
    bp = dln_fixed_point(DELTA, 0.0, rho=RHO, sigma=SIGMA).test_error
    start = first_activation()
    for ax, level in zip(axes, plateau, strict=True):
        ax.axhline(level, color="k", ls=":", lw=1, label=f"search plateau {level:.3f}")
        ax.axvline(start, color="grey", ls="--", lw=1, label=f"top 1% fields active: τ={start:.2f}")
        ax.set_xlabel("τ = t / ln(1/α)")
    axes[1].axhline(bp, color="k", ls="-.", lw=1, label=f"basis pursuit {bp:.4f}")
    for ax in axes:
        ax.legend(fontsize=6)
    metrics = gap_metrics(labels, results) | _collapse(results)
    fig.suptitle(f"search → descent at small α, δ={DELTA}: GF (d={size.d}) vs DMFT", fontsize=9)
    fig.tight_layout()
    status, message = first_failure(results)
    caption = (
        f"Plateau at ({plateau[0]:.3f}, {plateau[1]:.3f}) for τ ≲ {start:.2f}, then descent; curves "
        "approach one another as α → 0 (largest gap between consecutive α of the DMFT test "
        f"curves in τ: {metrics['collapse_gap_last']:.4f}, first pair "
        f"{metrics['collapse_gap_first']:.4f}). Largest relative L2 gap to the DMFT: test "
        f"{worst_gap(metrics, 'test_error'):.2%}."
    )
    return FigureResult(NAME, fig, groups(labels, results), metrics, caption, status, message)


def _collapse(results: list[RunResult]) -> dict[str, float]:
    """Max gap in τ between the DMFT test curves of consecutive α (shrinks as α → 0)."""
    grid = np.linspace(0.0, TAU_MAX, 121)
    curves = [
        np.interp(grid, r.theory["time"].values / _log_inverse(r), r.theory["test_error"].values)
        for r in results
    ]
    gaps = [float(np.max(np.abs(a - b))) for a, b in itertools.pairwise(curves)]
    return {"collapse_gap_first": gaps[0], "collapse_gap_last": gaps[-1]}


NAME = "dln-search"
RECIPE = register_figure(
    FigureRecipe(NAME, "DLN search → descent at small α, collapse in t / ln(1/α)", make)
)
