r"""Two-layer linear networks between the lazy and the active regime (Tu, Aranguri & Jacot 2024).

Conventions (the README's mixed notes §1, those of the paper's code): :math:`A_\theta = W_2W_1`,
:math:`W_1 \in \mathbb R^{w\times d}`, :math:`W_2 \in \mathbb R^{d\times w}`, entries i.i.d.
:math:`\mathcal N(0, \sigma^2)` with :math:`\sigma^2 = d^{\gamma_{\sigma^2}}` and
:math:`w = \lfloor d^{\gamma_w}\rfloor`; target :math:`A^* = UV^\top` of rank :math:`K` with
:math:`U, V` entries of variance :math:`K^{-1/2}` (unit-variance entries of :math:`A^*`), observed
:math:`Y = A^* + E` with i.i.d. :math:`\mathcal N(0, \text{noise}^2)` entries, both drawn once from
``seed`` (every seed of a run, and every point of a sweep with the same ``seed``, sees the same
:math:`(A^*, E)`; the seeds vary the weights). Gradient descent on :math:`\frac12\|W_2W_1 - Y\|_F^2`
in the paper's Gauss–Seidel order (:func:`lindyn.models.gauss_seidel_step`) with step
:math:`\eta = 1/(c\,\sigma^2 d^{\gamma_w})` if :math:`\gamma_{\sigma^2} + \gamma_w > 1` (lazy side)
and :math:`1/(c\|A^*\|_{op})` otherwise (§1.3); for :math:`w \ge 2d` in the exact reduced
coordinates of :mod:`lindyn.models._reduced` (:math:`O(d^2)` memory at any width). The time axis
counts gradient-descent steps (flow time :math:`n\eta`); records are taken *before* each update,
index 0 being the start.

Theory: the self-consistent dynamics (the paper's eq. (1), :mod:`lindyn.theory._mixed`) with
:math:`\tau = \sigma^2 w`, from the start :math:`A_0 = W_2W_1` of seed 0, by Euler steps of the
same :math:`\eta` (``discretization="euler"``, what the paper compares) or as a continuous flow
(``"flow"``, saved at :math:`t = n\eta`).

Observables (per step): ``train_error`` :math:`\|A - Y\|_F^2/d^2`, ``test_error``
:math:`\|A - A^*\|_F^2/d^2`, ``singular_values`` of :math:`A` (dim ``mode``), ``stable_rank``
:math:`\|A\|_F^2/\|A\|_{op}^2`; the simulation also records ``sc_distance``
:math:`\|A_{GD} - A_{SC}\|_F^2/d^2` against the Euler self-consistent dynamics started from the
same :math:`A_0` (each seed its own). The summaries of :func:`compare` are those of the paper's
phase diagram (Figure 2): minimum test error, stable rank at that minimum, iterations to it, and
:math:`\ln\max_n` of ``sc_distance``. They are taken over all ``steps`` (the paper's code stops
early, two steps after the test error starts to rise, or on a train-loss plateau; the
minimum is the same when it is the first one, as it is in every region of the diagram, and
the rules only save time).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn._config import ConfigBase, ConfigError, param
from lindyn.data import lowrank_teacher
from lindyn.experiments._common import simulation_dataset
from lindyn.experiments._compare import curve_metrics
from lindyn.experiments._mixed_figure import draw_dynamics, draw_phase_diagram
from lindyn.experiments._registry import Experiment, register
from lindyn.models import gauss_seidel_step, reduced_two_layer_init
from lindyn.results import config_of, trajectory
from lindyn.theory import (
    observe_matrix,
    recorded_scan,
    self_consistent_descent,
    self_consistent_flow,
    self_consistent_step,
)
from lindyn.train import Solution, status_code

NAME = "mixed"
# Concurrent eigh/svd calls of this experiment's scans have deadlocked the CPU runtime (jaxlib
# 0.10, 2 cores): batched under vmap, and from two threads of one process (a threaded dask
# worker). Runs in one process therefore take turns; processes are unaffected.
_ONE_AT_A_TIME = threading.Lock()
OBSERVABLES = ("train_error", "test_error", "singular_values", "stable_rank")


@dataclasses.dataclass(frozen=True)
class Config(ConfigBase):
    """Gradient descent on ``W2 W1`` and the self-consistent dynamics; see the module docstring."""

    d: int = param(500, ge=2, le=2000, help="input = output dimension")
    K: int = param(5, ge=1, help="rank of the target A*")
    gamma_sigma2: float = param(-1.85, ge=-8, le=2, help="init variance sigma^2 = d^gamma_sigma2")
    gamma_w: float = param(2.25, ge=0, le=4, help="width w = floor(d^gamma_w)")
    noise: float = param(1.0, ge=0, le=100, help="standard deviation of the noise E")
    c: float = param(5.0, gt=1, le=1e6, help="learning rate 1/(c sigma^2 w) or 1/(c ||A*||_op)")
    steps: int = param(100, ge=1, le=100_000, help="gradient-descent steps")
    discretization: str = param(
        "euler", choices=("euler", "flow"), help="self-consistent dynamics: Euler steps or flow"
    )
    seed: int = param(0, ge=0, le=2**31 - 1, help="seed of (A*, E) and of the weights")

    @property
    def width(self) -> int:
        """:math:`w = \\lfloor d^{\\gamma_w}\\rfloor`, as the paper's code (``int(d ** gamma_w)``)."""
        return int(self.d**self.gamma_w)

    @property
    def sigma2(self) -> float:
        return self.d**self.gamma_sigma2

    @property
    def tau(self) -> float:
        """The threshold :math:`\\sigma^2 w`."""
        return self.sigma2 * self.width

    @property
    def lazy(self) -> bool:
        """The lazy side of the active/lazy line, :math:`\\gamma_{\\sigma^2} + \\gamma_w > 1`."""
        return self.gamma_sigma2 + self.gamma_w > 1

    def check(self) -> None:
        if self.d < self.K:
            raise ConfigError("K", f"must be <= d = {self.d}, got {self.K}")
        if self.width < 1:
            raise ConfigError("gamma_w", f"must give a width >= 1, got w = {self.width}")


def problem(config: Config) -> tuple[jax.Array, jax.Array]:
    """The target :math:`A^*` and the observed :math:`Y = A^* + E`, from ``config.seed``."""
    return _problem(jax.random.key(config.seed), config.noise, config.d, config.K)


@partial(jax.jit, static_argnums=(2, 3))
def _problem(key: jax.Array, noise: float, d: int, K: int) -> tuple[jax.Array, jax.Array]:
    kt, ke = jax.random.split(key)
    target = lowrank_teacher(kt, d, d, K, entry_variance=K**-0.5)
    return target, target + noise * jax.random.normal(ke, (d, d))


def learning_rate(config: Config, target: jax.Array) -> float:
    """:math:`1/(c\\sigma^2 d^{\\gamma_w})` on the lazy side, else :math:`1/(c\\|A^*\\|_{op})` (§1.3)."""
    if config.lazy:
        return 1.0 / (config.c * config.sigma2 * config.d**config.gamma_w)
    return 1.0 / (config.c * float(np.linalg.norm(np.asarray(target), ord=2)))


def starts(config: Config, seeds: int) -> tuple[jax.Array, jax.Array]:
    """Initial ``(X1, X2)`` per seed (leading seed axis), reduced for ``w >= 2d``."""
    keys = jax.random.split(jax.random.fold_in(jax.random.key(config.seed), 1), seeds)
    sigma, d, w = math.sqrt(config.sigma2), config.d, config.width
    return jax.vmap(lambda k: reduced_two_layer_init(k, d, d, w, sigma))(keys)


def _with_distance(A: jax.Array, B: jax.Array, Y: jax.Array, target: jax.Array) -> dict:
    return {**observe_matrix(A, Y, target), "sc_distance": jnp.sum((A - B) ** 2) / A.size}


def _descent(X1, X2, Y, target, eta, tau, steps):
    """Gradient descent from ``(X1, X2)`` next to Euler self-consistent steps from ``X2 X1``."""

    def step(state):
        X1, X2, B = state
        records = _with_distance(X2 @ X1, B, Y, target)
        return (
            *gauss_seidel_step(X1, X2, Y, eta),
            self_consistent_step(B, Y, target, tau, eta)[0],
        ), records

    def last(state):
        X1, X2, B = state
        return _with_distance(X2 @ X1, B, Y, target)

    return recorded_scan(step, last, (X1, X2, X2 @ X1), steps)[1]


@partial(jax.jit, static_argnames="steps")
def _descents(X1, X2, Y, target, eta, tau, steps):
    """:func:`_descent` for each seed (leading axis), one after the other: ``lax.map``, not
    ``vmap``, whose batched ``eigh`` and ``svd`` inside one scan have been seen to deadlock the
    CPU runtime (jaxlib 0.10, 2 cores)."""
    run = lambda x: _descent(x[0], x[1], Y, target, eta, tau, steps)  # noqa: E731
    return jax.lax.map(run, (X1, X2))


def simulate(config: Config, seeds: int = 2) -> xr.Dataset:
    """Gradient descent from ``seeds`` weight draws on the same ``(A*, E)``."""
    target, Y = problem(config)
    eta = learning_rate(config, target)
    X1, X2 = starts(config, seeds)
    with _ONE_AT_A_TIME:
        records = jax.block_until_ready(_descents(X1, X2, Y, target, eta, config.tau, config.steps))
    codes = jax.vmap(lambda r: status_code({"train_error": r["train_error"]}))(records)
    times = np.tile(np.arange(config.steps + 1, dtype=np.float64), (seeds, 1))
    return simulation_dataset(
        NAME,
        config,
        Solution(times, records, codes),
        extra_dims={"singular_values": ("mode",)},
        coords={"mode": np.arange(config.d)},
    ).assign_attrs(eta=eta, tau=config.tau, width=config.width)


@partial(jax.jit, static_argnames="steps")
def _euler(A0, Y, target, tau, eta, steps):
    return self_consistent_descent(A0, Y, target, tau=tau, eta=eta, steps=steps)[1]


def predict(config: Config) -> xr.Dataset:
    """The self-consistent dynamics from seed 0's start, Euler steps of ``eta`` or the flow."""
    target, Y = problem(config)
    eta = learning_rate(config, target)
    X1, X2 = starts(config, 1)
    A0 = X2[0] @ X1[0]
    with _ONE_AT_A_TIME:
        if config.discretization == "euler":
            records, ok = _euler(A0, Y, target, config.tau, eta, config.steps), True
        else:
            times = eta * np.arange(config.steps + 1)
            records, ok = self_consistent_flow(A0, Y, target, tau=config.tau, times=times)
        records = jax.block_until_ready(records)
    code = int(status_code({"train_error": records["train_error"]}, ok))
    status = {0: "ok", 1: "not_converged", 2: "diverged"}[code]
    return trajectory(
        records,
        np.arange(config.steps + 1, dtype=np.float64),
        experiment=NAME,
        kind="theory",
        config=config.to_dict(),
        extra_dims={"singular_values": ("mode",)},
        coords={"mode": np.arange(config.d)},
        attrs={"status": status, "eta": eta, "tau": config.tau, "width": config.width},
    )


def optimum(ds: xr.Dataset) -> dict[str, float]:
    """Minimum test error, the step reaching it and the stable rank there (seed means)."""
    test = ds["test_error"]
    best = test.argmin("time")
    rank = ds["stable_rank"].isel(time=best)
    return {
        "min_test_error": float(test.min("time").mean()),
        "iterations_to_min": float(best.mean()),
        "stable_rank_at_min": float(rank.mean()),
    }


def compare(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Curve gaps, the phase-diagram summaries of gradient descent (seed means) and of the theory
    (``theory_`` prefix), and ``log_max_distance`` :math:`\\ln\\max_n` ``sc_distance`` (seed mean
    of the maxima)."""
    metrics = curve_metrics(sim, theory, OBSERVABLES)
    metrics.update(optimum(sim))
    metrics.update({f"theory_{k}": v for k, v in optimum(theory).items()})
    metrics["log_max_distance"] = float(np.log(sim["sc_distance"].max("time").mean()))
    return metrics


def figure(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """The paper's Figure 1: errors, and singular values against the threshold."""
    return draw_dynamics(sim, theory, config_of(sim))


def systematic(config: Config) -> float:
    r"""The relative gap eq. (1) carries against gradient descent: its Gram matrices are off by
    :math:`\|C_1 - \sqrt{A^\top A + \tau^2 I}\|_{op}/\tau \approx 2\sqrt{d/w}` (§3.1, measured
    there for :math:`\gamma_w` = 1.25-2.5; random matrix theory of the start:
    :math:`C_1(0) = \sigma^2 w(I + O(\sqrt{d/w}))`), and the NTK, hence the speed along
    every direction, is off by as much. At the quick size (:math:`w = 100^{2.25}`) that is 11 %;
    measured there: 4.7 % of the largest singular value, 2.8 % of the test error."""
    return 2.0 * math.sqrt(config.d / config.width)


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="two-layer linear net, GD vs the self-consistent lazy/balanced dynamics",
        Config=Config,
        simulate=simulate,
        predict=predict,
        compare=compare,
        figure=figure,
        quick={"d": 100, "c": 10.0, "steps": 120},
        seeds=3,  # a verdict needs 3
        systematic=systematic,
        phase_diagram=draw_phase_diagram,
    )
)
