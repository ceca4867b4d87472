r"""Two-layer linear network from a small balanced aligned start (Saxe, McClelland & Ganguli 2014).

Conventions: whitened inputs (:math:`X^\top X/n = I`), labels :math:`Y = X\Sigma_{yx}^\top` with
:math:`\Sigma_{yx} = U S V^\top` of rank ``rank`` and singular values spaced linearly from
``s_max`` to ``s_min``; loss :math:`\frac1{2n}\|XA^\top - Y\|_F^2 = \frac12\|A - \Sigma_{yx}\|_F^2 + c`
with :math:`A = W_2W_1`. Start: :math:`W_1 = R\sqrt{a_0}V^\top`, :math:`W_2 = U\sqrt{a_0}R^\top` (every
target mode has strength ``a0``), plus, if ``perturb > 0``, an i.i.d. Gaussian perturbation of
relative operator-norm size ``perturb``. Each seed draws its own :math:`U, V, R` and design, so
the seed spread measures rotation invariance.

Theory: mode :math:`i` follows :math:`u_i(t) = s_i a_0 e^{2s_it}/(s_i - a_0 + a_0e^{2s_it})`
(:func:`lindyn.theory.saxe_mode`), learned at :math:`t \approx \frac1{2s_i}\ln(s_i/a_0)`; exact for
``perturb = 0``, and off by :math:`O(\text{perturb})` otherwise.

Observables: ``singular_values`` of :math:`A` (dim ``mode``), ``train_loss``
:math:`= \frac12\|A - \Sigma_{yx}\|_F^2` and ``imbalance``
:math:`= \|W_2^\top W_2 - W_1W_1^\top\|_F`, conserved by the flow and 0 for the balanced start.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn._config import ConfigError, param
from lindyn.data import random_orthogonal, whitened_design
from lindyn.experiments._clock import time_grid, train
from lindyn.experiments._common import ClockConfig, simulation_dataset
from lindyn.experiments._compare import curve_metrics
from lindyn.experiments._registry import Experiment, register
from lindyn.models import two_layer_linear
from lindyn.plot import new_figure, overlay
from lindyn.results import trajectory
from lindyn.theory import saxe_half_time, saxe_mode
from lindyn.train import balancedness, recorder, singular_values

NAME = "saxe"
OBSERVABLES = ("singular_values", "train_loss", "imbalance")


@dataclasses.dataclass(frozen=True)
class Config(ClockConfig):
    """Saxe et al.'s exact solution; see the module docstring for the conventions."""

    d_in: int = param(8, ge=1, le=2000, help="input dimension")
    d_out: int = param(6, ge=1, le=2000, help="output dimension")
    width: int = param(10, ge=1, le=4000, help="hidden width")
    rank: int = param(3, ge=1, help="rank of the target")
    s_max: float = param(3.0, gt=0, help="largest target singular value")
    s_min: float = param(1.0, gt=0, help="smallest target singular value")
    a0: float = param(1e-3, gt=0, help="initial strength of every target mode")
    perturb: float = param(0.0, ge=0, help="relative size of a random perturbation of the start")
    samples_per_dim: int = param(4, ge=1, le=1000, help="n / d_in for the whitened design")
    seed: int = param(0, ge=0, le=2**31 - 1, help="base seed of the random rotations")
    t_max: float = param(8.0, gt=0, help="final flow time")
    num_times: int = param(150, ge=2, le=10_000, help="number of recorded times")

    def max_curvature(self) -> float:
        """Top Hessian eigenvalue near the solution: about ``2 s_max`` (one W1 and one W2 direction)."""
        return 2.2 * self.s_max

    def check(self) -> None:
        super().check()
        if self.rank > min(self.d_in, self.d_out, self.width):
            raise ConfigError("rank", f"must be <= min(d_in, d_out, width), got {self.rank}")
        if self.s_min > self.s_max:
            raise ConfigError("s_min", f"must be <= s_max = {self.s_max}, got {self.s_min}")
        if self.a0 >= self.s_min:
            raise ConfigError(
                "a0", f"must be < s_min = {self.s_min} (a small start), got {self.a0}"
            )

    def targets(self) -> np.ndarray:
        """The target singular values, decreasing."""
        return np.linspace(self.s_max, self.s_min, self.rank)

    def modes(self) -> int:
        return min(self.d_in, self.d_out)


def _perturbation(key: jax.Array, shape: tuple[int, int], size: float) -> jax.Array:
    """Gaussian matrix of operator norm about ``size``."""
    return size / (np.sqrt(shape[0]) + np.sqrt(shape[1])) * jax.random.normal(key, shape)


def _run_one(config: Config, key: jax.Array):
    ku, kv, kr, kx, k1, k2 = jax.random.split(key, 6)
    r, s = config.rank, jnp.asarray(config.targets())
    U, V = random_orthogonal(ku, config.d_out, r), random_orthogonal(kv, config.d_in, r)
    R = random_orthogonal(kr, config.width, r)
    sigma_yx = U @ jnp.diag(s) @ V.T
    X = whitened_design(kx, config.samples_per_dim * config.d_in, config.d_in)
    Y = X @ sigma_yx.T
    root = jnp.sqrt(config.a0)
    size = config.perturb * root
    W1 = root * R @ V.T + _perturbation(k1, (config.width, config.d_in), size)
    W2 = root * U @ R.T + _perturbation(k2, (config.d_out, config.width), size)
    model = two_layer_linear(config.d_in, config.width, config.d_out, sigma=1.0)
    observe = recorder(
        singular_values=lambda p: singular_values(model.end_to_end(p))[: config.modes()],
        train_loss=lambda p: 0.5 * jnp.sum((model.end_to_end(p) - sigma_yx) ** 2),
        imbalance=lambda p: jnp.linalg.norm(balancedness(p)[0]),
    )
    return train(config, lambda p: model.grad(p, X, Y), (W1, W2), observe)


def simulate(config: Config, seeds: int = 4) -> xr.Dataset:
    """Gradient flow (or descent) of ``W2 W1`` from ``seeds`` random rotations of the problem."""
    keys = jax.random.split(jax.random.key(config.seed), seeds)
    solution = jax.jit(jax.vmap(lambda k: _run_one(config, k)))(keys)
    return simulation_dataset(
        NAME,
        config,
        solution,
        extra_dims={"singular_values": ("mode",)},
        coords={"mode": np.arange(config.modes())},
    )


def predict(config: Config) -> xr.Dataset:
    """Mode strengths along the logistic curves; modes beyond the rank stay at 0."""
    times = time_grid(config)
    s = config.targets()
    learned = saxe_mode(s, config.a0, times)
    sv = np.zeros((times.size, config.modes()))
    sv[:, : config.rank] = learned
    loss = 0.5 * np.sum((s[None, :] - learned) ** 2, axis=1)
    return trajectory(
        {"singular_values": sv, "train_loss": loss, "imbalance": np.zeros(times.size)},
        times,
        experiment=NAME,
        kind="theory",
        config=config.to_dict(),
        extra_dims={"singular_values": ("mode",)},
        coords={"mode": np.arange(config.modes())},
        attrs={"status": "ok", "half_times": saxe_half_time(s, config.a0)},
    )


def compare(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Curve gaps; ``max_abs_singular_values`` relative to ``s_max`` is the headline number."""
    return curve_metrics(sim, theory, OBSERVABLES)


def figure(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Singular values (sigmoids) and the loss staircase against time."""
    fig, (a, b) = new_figure(2)
    learned = sim["mode"].values[: int(np.sum(theory["singular_values"].values[-1] > 0))]
    overlay(a, sim.sel(mode=learned), theory.sel(mode=learned), "singular_values")
    for i, t_half in enumerate(np.atleast_1d(theory.attrs["half_times"])):
        a.axvline(t_half, ls=":", lw=1, color=f"C{i}")
    a.set_title("dotted: t½ = ln((s - a0)/a0) / (2s)", fontsize=9)
    overlay(b, sim, theory, "train_loss", logy=True)
    fig.suptitle("two-layer linear network: mode-by-mode learning (Saxe et al. 2014)")
    fig.tight_layout()
    return fig


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="two-layer linear net, small aligned start vs Saxe et al.'s exact sigmoids",
        Config=Config,
        simulate=simulate,
        predict=predict,
        compare=compare,
        figure=figure,
        quick={"num_times": 80},
    )
)
