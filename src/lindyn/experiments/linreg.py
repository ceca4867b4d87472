r"""Least squares trained by gradient flow or descent, against its exact ``expm`` solution.

Conventions: design entries i.i.d. :math:`\mathcal N(0, 1)`, teacher
:math:`\beta^* \sim \mathcal N(0, I_d/d)` (so :math:`|\beta^*|^2 \approx 1`), labels
:math:`y = X\beta^* + \sigma\varepsilon`, loss :math:`\frac1{2n}\|X\beta - y\|^2` (the mean), so the
Hessian :math:`X^\top X/n` has the Marchenko–Pastur spectrum of ratio :math:`d/n` and times are
:math:`O(1)`. The data instance is fixed by ``data_seed``; the seeds draw the start
:math:`\beta_0 \sim \mathcal N(0, (s^2/d) I)`, ``s = init_scale``, and the theory is the exact
expectation over that start (:func:`lindyn.theory.linreg_flow`).

Observables: ``train_loss`` :math:`= \frac1{2n}\|X\beta-y\|^2`, ``test_error`` :math:`= \|\beta - \beta^*\|^2`.
With ``method="gd"`` the simulation is gradient descent at :math:`t = \eta k` and differs from the
flow theory at first order in :math:`\eta`.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn._config import param
from lindyn.data import gaussian_design, gaussian_teacher, noisy_labels
from lindyn.experiments._clock import time_grid, train
from lindyn.experiments._common import ClockConfig, simulation_dataset
from lindyn.experiments._compare import curve_metrics
from lindyn.experiments._registry import Experiment, register
from lindyn.plot import new_figure, overlay
from lindyn.results import trajectory
from lindyn.theory import linreg_flow
from lindyn.train import recorder

NAME = "linreg"
OBSERVABLES = ("train_loss", "test_error")


@dataclasses.dataclass(frozen=True)
class Config(ClockConfig):
    """Least-squares regression; see the module docstring for the conventions."""

    n: int = param(200, ge=1, le=100_000, help="number of samples")
    d: int = param(100, ge=1, le=20_000, help="dimension")
    sigma: float = param(0.1, ge=0, help="label-noise standard deviation")
    init_scale: float = param(0.5, ge=0, help="norm scale s of the random start")
    data_seed: int = param(0, ge=0, le=2**31 - 1, help="seed of the data instance and starts")
    t_max: float = param(20.0, gt=0, help="final flow time")

    def max_curvature(self) -> float:
        """Marchenko–Pastur edge :math:`(1+\\sqrt{d/n})^2`, with 10 % margin for finite size."""
        return 1.1 * (1.0 + math.sqrt(self.d / self.n)) ** 2


def instance(config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data ``(X, y, beta_star)`` fixed by ``config.data_seed``."""
    kx, kb, ke = jax.random.split(jax.random.key(config.data_seed), 3)
    X = gaussian_design(kx, config.n, config.d)
    beta_star = gaussian_teacher(kb, config.d) / jnp.sqrt(config.d)
    y = noisy_labels(ke, X @ beta_star, config.sigma)
    return np.asarray(X), np.asarray(y), np.asarray(beta_star)


def simulate(config: Config, seeds: int = 16) -> xr.Dataset:
    """Train from ``seeds`` random starts on the fixed instance (vmapped over seeds)."""
    X, y, beta_star = (jnp.asarray(a) for a in instance(config))
    n = config.n
    grad_fn = lambda b: (X @ b - y) @ X / n  # noqa: E731  (R @ X: see DiagonalLinear)
    observe = recorder(
        train_loss=lambda b: 0.5 * jnp.sum((X @ b - y) ** 2) / n,
        test_error=lambda b: jnp.sum((b - beta_star) ** 2),
    )
    std = config.init_scale / math.sqrt(config.d)

    def one(key: jax.Array):
        return train(config, grad_fn, std * jax.random.normal(key, (config.d,)), observe)

    keys = jax.random.split(jax.random.fold_in(jax.random.key(config.data_seed), 1), seeds)
    return simulation_dataset(NAME, config, jax.jit(jax.vmap(one))(keys))


def predict(config: Config) -> xr.Dataset:
    """The exact expected curves on the same instance and time grid."""
    X, y, beta_star = instance(config)
    times = time_grid(config)
    moments = linreg_flow(
        X, y, times, init_variance=config.init_scale**2 / config.d, teacher=beta_star
    )
    observables = {"train_loss": moments.train_loss, "test_error": moments.test_error}
    return trajectory(
        observables,
        times,
        experiment=NAME,
        kind="theory",
        config=config.to_dict(),
        attrs={"status": "ok"},
    )


def compare(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Relative and absolute gaps of the seed means to the exact curves."""
    return curve_metrics(sim, theory, OBSERVABLES)


def figure(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Train loss and test error against time, log-log."""
    fig, (a, b) = new_figure(2)
    overlay(a, sim, theory, "train_loss", logx=True, logy=True)
    overlay(b, sim, theory, "test_error", logx=True, logy=True)
    fig.suptitle("least squares: gradient flow vs exact solution")
    fig.tight_layout()
    return fig


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="least squares by gradient flow/descent vs its exact expm solution",
        Config=Config,
        simulate=simulate,
        predict=predict,
        compare=compare,
        figure=figure,
        quick={"n": 100, "d": 50, "num_times": 40},
        seeds=16,
    )
)
