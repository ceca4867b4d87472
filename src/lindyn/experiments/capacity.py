r"""Storage capacity of fully connected two-layer networks (Nishiyama & Ohzeki, arXiv:2404.13404;
the README's capacity notes).

A committee :math:`\operatorname{sign}(K^{-1/2}\sum_k\tilde g(w_k\cdot x/\sqrt N))`,
:math:`\tilde g = g - \mathbb Eg`, every :math:`|w_k|^2 = N`, must store :math:`P = \alpha NK`
random :math:`\pm1` labels of Gaussian inputs; :math:`\alpha` is the load per parameter, the
main axis of the datasets (``"alpha"``, ``loads`` points from ``alpha_min`` to ``alpha_max``).

* ``simulate``: every seed is one instance, trained as in
  :mod:`lindyn.experiments._capacity_sim` (Adam on a hinge loss on the spheres, ``restarts``
  starts, solved when one start classifies every pattern). Observables: ``solved`` (0/1),
  ``train_error`` (fraction), ``KC`` (:math:`K` times the hidden-unit correlation) and
  ``sum_vector`` (:math:`|\sum_kw_k|^2/(NK) = 1 + (K-1)C`).
* ``predict``: the replica-symmetric theory. ``KC`` along the loads from the finite-:math:`K`
  saddle point (:func:`lindyn.theory.finite_width_saddle`); in ``attrs`` the capacity at this
  :math:`K` (``alpha_c_K``) and at :math:`K \to \infty` (``alpha_c``), the
  permutation-symmetry-breaking load (``transition``, ``kind``, ``spinodal``).

The division of labour is the quantity theory and training share: the trained units
anticorrelate as the typical solutions of the theory do (:math:`KC \approx -1`). The success
fraction has no RS counterpart at finite :math:`N`: the RS capacity is an upper estimate, and
training stops well below it (spec §4, about 30 % of it at :math:`N = 50`, :math:`K = 16`);
``compare`` reports the empirical 50 % load against :math:`\alpha_c(K)`.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn._config import ConfigBase, ConfigError, param
from lindyn.experiments._capacity_sim import Trainer, train_instances
from lindyn.experiments._compare import curve_metrics
from lindyn.experiments._registry import Experiment, register
from lindyn.models import Committee
from lindyn.plot import new_figure, overlay
from lindyn.results import config_of, trajectory
from lindyn.theory import (
    TABLE_ACTIVATIONS,
    capacity_theory,
    finite_width_capacity,
    finite_width_saddle,
)

NAME = "capacity"
AXIS = "alpha"
OBSERVABLES = ("solved", "train_error", "KC", "sum_vector")
SYSTEMATIC = 0.1  # relative gap of trained KC to the typical-solution theory (_systematic)


@dataclasses.dataclass(frozen=True)
class Config(ConfigBase):
    """Random-label storage by a committee of ``K`` units on ``N`` inputs (module docstring)."""

    activation: str = param("relu", choices=TABLE_ACTIVATIONS, help="hidden activation g")
    N: int = param(50, ge=2, le=400, help="input dimension N")
    K: int = param(16, ge=2, le=64, help="hidden units K")
    alpha_min: float = param(0.25, gt=0, le=20, help="smallest load P/(NK)")
    alpha_max: float = param(2.5, gt=0, le=20, help="largest load P/(NK)")
    loads: int = param(8, ge=1, le=32, help="number of loads, evenly spaced")
    restarts: int = param(2, ge=1, le=16, help="random starts per instance")
    steps: int = param(3000, ge=10, le=100_000, help="Adam steps per start")
    margin: float = param(0.05, ge=0, le=1, help="hinge margin of the training loss")
    seed: int = param(0, ge=0, le=2**31 - 1, help="base seed")

    def check(self) -> None:
        if self.loads > 1 and self.alpha_max <= self.alpha_min:
            raise ConfigError(
                "alpha_max", f"must be > alpha_min = {self.alpha_min}, got {self.alpha_max}"
            )
        if round(self.alpha_min * self.N * self.K) < 1:
            raise ConfigError(
                "alpha_min", f"must give at least one pattern at N K = {self.N * self.K}"
            )
        patterns = round(self.alpha_max * self.N * self.K)
        if patterns * self.N > 20_000_000:
            raise ConfigError("alpha_max", f"must give P N <= 2e7 (P = {patterns}, N = {self.N})")

    def grid(self) -> np.ndarray:
        """The loads :math:`\\alpha`, evenly spaced."""
        return np.linspace(self.alpha_min, self.alpha_max, self.loads)

    def patterns(self, alpha: float) -> int:
        return round(alpha * self.N * self.K)


def simulate(config: Config, seeds: int = 8) -> xr.Dataset:
    """Train ``seeds`` instances at every load (one ``vmap`` per load).

    Returns:
        Dataset with dims ``(seed, alpha)``: ``solved``, ``train_error``, ``KC``,
        ``sum_vector``; ``attrs["status"]`` is ``"diverged"`` if any value is not finite.
    """
    keys = jax.random.split(jax.random.key(config.seed), seeds)
    most = max(config.patterns(alpha) for alpha in config.grid())
    model = Committee(config.N, config.K, config.activation)
    trainer = Trainer(model, most, config.steps, config.restarts, margin=config.margin)
    columns = [
        {k: np.asarray(v) for k, v in train_instances(trainer, keys, config.patterns(a)).items()}
        for a in config.grid()
    ]
    observables = {v: np.stack([c[v] for c in columns], axis=1) for v in OBSERVABLES}
    finite = all(np.all(np.isfinite(x)) for x in observables.values())
    return trajectory(
        observables,
        config.grid(),
        experiment=NAME,
        kind="simulation",
        axis=AXIS,
        config=config.to_dict(),
        attrs={"status": "ok" if finite else "diverged"},
    )


def predict(config: Config) -> xr.Dataset:
    """``KC`` of the typical solutions along the loads, and the capacity and transition.

    Returns:
        Dataset with dim ``alpha``: ``KC``. ``attrs``: ``alpha_c`` (:math:`K \\to \\infty`),
        ``alpha_c_K`` (Gaussian approximation at ``K``), ``transition``, ``transition_kind`` and
        ``spinodal`` (NaN when continuous), ``status`` (``"not_converged"`` if a saddle-point
        solve failed; its load and residual in ``message``).
    """
    theory = capacity_theory(config.activation)
    t = theory.transition()
    finite = finite_width_capacity(config.activation, config.K)
    saddles = [finite_width_saddle(config.activation, config.K, float(a)) for a in config.grid()]
    failed = [
        (a, s) for a, s in zip(config.grid(), saddles, strict=True) if s.status != "converged"
    ]
    message = "; ".join(f"alpha={a:.4g}: {s.message}" for a, s in failed) or "ok"
    return trajectory(
        {"KC": [config.K * s.C if s.status == "converged" else math.nan for s in saddles]},
        config.grid(),
        experiment=NAME,
        kind="theory",
        axis=AXIS,
        config=config.to_dict(),
        attrs={
            "status": "not_converged" if failed else "ok",
            "message": message,
            "alpha_c": theory.alpha_c,
            "alpha_c_K": finite.alpha_c,
            "transition": t.alpha,
            "transition_kind": t.kind,
            "spinodal": t.spinodal,
        },
    )


def threshold(alphas: np.ndarray, solved: np.ndarray) -> float:
    """The load where the success fraction first falls through 1/2 (linear interpolation);
    NaN if it never does on the grid.

    Example:
        >>> threshold(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.75, 0.25]))
        2.5
    """
    below = np.flatnonzero(solved < 0.5)
    if below.size == 0 or below[0] == 0:
        return math.nan if below.size == 0 else float(alphas[0])
    i = int(below[0])
    x0, x1, y0, y1 = alphas[i - 1], alphas[i], solved[i - 1], solved[i]
    return float(x0 + (0.5 - y0) * (x1 - x0) / (y1 - y0))


def compare(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """``KC`` curve gaps; the empirical threshold (50 % solved), its ratio to ``alpha_c_K``;
    the capacities and the transition load."""
    metrics = curve_metrics(sim, theory, ("KC",))
    alphas = sim[AXIS].values
    gd = threshold(alphas, sim["solved"].mean("seed").values)
    metrics |= {
        "threshold": gd,
        "threshold_over_alpha_c_K": gd / float(theory.attrs["alpha_c_K"]),
        "alpha_c_K": float(theory.attrs["alpha_c_K"]),
        "alpha_c": float(theory.attrs["alpha_c"]),
        "transition": float(theory.attrs["transition"]),
        "min_success": float(sim["solved"].mean("seed").min()),
        "max_success": float(sim["solved"].mean("seed").max()),
    }
    return metrics


def figure(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Success fraction with the RS capacity and transition lines; ``KC`` against theory."""
    fig, (left, right) = new_figure(2)
    alphas = sim[AXIS].values
    mean = sim["solved"].mean("seed").values
    left.plot(alphas, mean, "--o", color="C0", label="trained: fraction solved")
    c = config_of(sim)
    lines = (
        ("alpha_c_K", f"RS capacity, K={c['K']}", "-"),
        ("alpha_c", "RS capacity, K=∞", ":"),
        ("transition", f"PSB, K=∞ ({theory.attrs['transition_kind']})", "-."),
    )
    for key, label, style in lines:
        left.axvline(float(theory.attrs[key]), color="k", ls=style, lw=1.2, label=label)
    left.set_xlabel("load α = P/(NK)")
    left.set_ylabel("fraction of instances stored")
    left.set_ylim(-0.05, 1.05)
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    overlay(right, sim, theory, "KC", label="K·C (hidden-unit correlation)")
    right.axhline(-1.0, color="0.5", lw=0.8)
    fig.suptitle(
        f"storage capacity: {c['activation']}, N={c['N']}, K={c['K']}, "
        f"{sim.sizes['seed']} instances (theory solid, training dashed)"
    )
    fig.tight_layout()
    return fig


def _systematic(config: Config) -> float:
    """Trained solutions are not the typical ones of the theory: at the quick size (ReLU,
    N = 24, K = 8, loads 0.5-3, 8 instances) the seed mean of ``KC`` sat 0.047 from the
    saddle point at most, 4 % of the scale 1.09; 10 % is allowed."""
    return SYSTEMATIC


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="storage capacity of two-layer nets (replica theory) vs training on random labels",
        Config=Config,
        simulate=simulate,
        predict=predict,
        compare=compare,
        figure=figure,
        quick={"N": 24, "K": 8, "loads": 5, "alpha_min": 0.5, "alpha_max": 3.0, "steps": 1500},
        seeds=8,
        systematic=_systematic,
    )
)
