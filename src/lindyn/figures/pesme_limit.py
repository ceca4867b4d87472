r"""Figure pesme-limit: the diagonal network's flow approaching the piecewise-constant limit.

The README's saddle notes §7 P3 on Pesme & Flammarion's Fig. 2 right instance
(:math:`X = M^{1/2}`, :math:`\beta^\star = (1, 9, 10)`, noiseless, the paper's start
:math:`u_0 = \sqrt2\alpha\mathbf 1`): the accelerated flow at :math:`\alpha = 10^{-10}, 10^{-30},
10^{-100}` (and :math:`10^{-300}` at full size) against Algorithm 1's limit, whose jumps are at
:math:`t = 0.05, 1.05, 15`. The loss crosses the midpoint between consecutive plateaus at times
that approach the jump times as :math:`\alpha \downarrow 0`, with errors shrinking like
:math:`1/\ln(1/\alpha)`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lindyn.experiments import RunResult, Verdict, get, pesme
from lindyn.experiments._pesme_plot import draw_limit
from lindyn.figures._registry import FigureRecipe, FigureResult, register_figure
from lindyn.figures._runs import Progress, finish, run_many
from lindyn.plot import new_figure

NAME = "pesme-limit"
RATE = 1.0  # the crossing errors of the flow fall like (ln 1/alpha)^-1 (module docstring)
SLACK = 0.25  # below RATE allowed: three points of a pre-asymptotic law (quick: p = 1.00)
STYLES = (":", "--", "-.", "-")


def configs(quick: bool) -> list[tuple[str, pesme.Config]]:
    """Fig. 2 right at each α, dense log grid over :math:`[0.005, 100]`, no jump windows."""
    alphas = (1e-10, 1e-30, 1e-100) if quick else (1e-10, 1e-30, 1e-100, 1e-300)
    base = pesme.Config(
        design="fig2",
        n=3,
        d=3,
        teacher="1,9,10",
        noise=0.0,
        init_spread=0.0,
        t_max=100.0,
        num_times=3000 if quick else 8000,
    )
    return [(f"α={a:g}", base.replace(alpha=a)) for a in alphas]


def make(*, quick: bool = False, progress: Progress = None) -> FigureResult:
    """Run the flow at each α (one seed: the paper's start) and draw it over the limit."""
    labelled = configs(quick)
    labels = [label for label, _ in labelled]
    results = run_many(get("pesme"), labelled, seeds=1, progress=progress, name=NAME)
    jumps = np.atleast_1d(results[0].theory.attrs["saddle_times"])[1:]
    metrics = {
        f"{label}/{key}": value
        for label, result in zip(labels, results, strict=True)
        for key, value in result.metrics.items()
        if key.startswith(("crossing_", "max_rel_crossing"))
    }
    fig = _draw(results, labels, jumps)
    title = "diagonal network, Fig. 2 right instance: convergence to Algorithm 1"
    caption = _caption(metrics, labels, jumps)
    logs = [r.config.effective_log_inv_alpha for r in results]
    errors = [metrics[f"{label}/max_rel_crossing_error"] for label in labels]
    verdict = convergence_verdict(logs, errors)
    return finish(NAME, fig, title, (labels, results), metrics, caption, verdict=verdict)


def convergence_verdict(log_inv_alphas: list[float], errors: list[float]) -> Verdict:
    r"""Whether the flow converges to the limit at the theory's rate: the crossing errors fitted
    as :math:`c\,(\ln 1/\alpha)^{-p}` must have :math:`p \ge` ``RATE - SLACK``.

    The flow is deterministic (the paper's start; Radau at ``rtol`` 1e-9, whose error is far
    below the smallest crossing error), so there is no seed spread to judge by; the theory's
    claim is the limit and its rate. A flow heading to another limit has errors that level off
    (:math:`p \to 0`): ``disagree``. Fewer than two finite errors: ``inconclusive``.

    Example:
        >>> convergence_verdict([23.0, 69.0, 230.0], [0.0527, 0.0176, 0.0053]).value
        'agree'
        >>> convergence_verdict([23.0, 69.0, 230.0], [0.0527, 0.04, 0.035]).value
        'disagree'
    """
    x, y = np.log(np.asarray(log_inv_alphas)), np.log(np.asarray(errors))
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.sum() < 2:
        return Verdict("inconclusive", "fewer than two finite crossing errors")
    p = float(-np.polyfit(x[finite], y[finite], 1)[0])
    why = (
        f"crossing errors fall like (ln 1/α)^-{p:.2f} over ln(1/α) = "
        f"{np.exp(x[finite][0]):.3g}…{np.exp(x[finite][-1]):.3g} (theory: exponent {RATE:g}, "
        f"at least {RATE - SLACK:g} asked)"
    )
    return Verdict("agree" if p >= RATE - SLACK else "disagree", why)


def _caption(metrics: dict[str, float], labels: list[str], jumps: np.ndarray) -> str:
    rows = "; ".join(
        f"{label}: "
        + ", ".join(f"{metrics[f'{label}/crossing_{k}']:.4g}" for k in range(1, jumps.size + 1))
        for label in labels
    )
    errors = [metrics[f"{label}/max_rel_crossing_error"] for label in labels]
    trend = "shrink" if all(np.diff(errors) <= 0) else "do not shrink monotonically"
    return (
        "Pesme & Flammarion's Fig. 2 right: the diagonal network's gradient flow in accelerated "
        "time t / ln(1/α) against Algorithm 1's piecewise-constant limit (black), jumps at "
        + ", ".join(f"{t:.4g}" for t in jumps)
        + f". Times at which the loss crosses the midpoint between consecutive plateaus: {rows}. "
        f"The largest relative crossing errors ({', '.join(f'{e:.2%}' for e in errors)}) {trend} "
        "as α decreases."
    )


def _draw(results: list[RunResult], labels: list[str], jumps: np.ndarray) -> Figure:
    fig, (left, right) = new_figure(2, width=5.4, height=4.2)
    for style, label, result in zip(STYLES, labels, results, strict=False):
        sim = result.simulation
        t, beta = sim["time"].values[1:], sim["beta"].values[0, 1:]
        for c in range(beta.shape[1]):
            left.plot(t, beta[:, c], style, color=f"C{c}", lw=1.2, label=f"β[{c}], {label}")
    theory = results[0].theory
    saddle_times = np.atleast_1d(theory.attrs["saddle_times"])
    saddles = np.atleast_1d(theory.attrs["saddles"]).reshape(saddle_times.size, -1)
    for c in range(saddles.shape[1]):
        draw_limit(left, saddle_times, saddles[:, c], float(theory["time"].values[-1]))
    left.set_xscale("log")
    left.set_xlabel("accelerated time t / ln(1/α)")
    left.set_ylabel("coordinates of β (black: the α → 0 limit)")
    left.legend(fontsize=5, ncol=len(labels))
    left.grid(alpha=0.3)
    _draw_crossing_errors(right, results, jumps)
    return fig


def _draw_crossing_errors(ax: Axes, results: list[RunResult], jumps: np.ndarray) -> None:
    """|crossing_k - t_k| against ln(1/α), with a 1/ln(1/α) guide."""
    logs = np.array([result.config.effective_log_inv_alpha for result in results])
    for k, t_k in enumerate(jumps, start=1):
        errors = [abs(result.metrics[f"crossing_{k}"] - t_k) for result in results]
        ax.plot(logs, errors, "o-", color=f"C{k + 2}", label=f"jump {k} at t = {t_k:.4g}")
        ax.plot(logs, errors[0] * logs[0] / logs, ":", color=f"C{k + 2}", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ln(1/α)")
    ax.set_ylabel("|loss crossing time - jump time|")
    ax.set_title("dotted: ∝ 1/ln(1/α)", fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


RECIPE = register_figure(
    FigureRecipe(
        NAME, "diagonal net at α = 1e-10…1e-100 against the α → 0 saddle-to-saddle limit", make
    )
)
