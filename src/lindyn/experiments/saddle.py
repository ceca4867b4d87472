r"""Saddle-to-saddle dynamics of deep linear networks (Jacot et al. 2021).

Conventions (the README's saddle notes §1): :math:`A_\theta = W_L\cdots W_1`, square
:math:`n\times n` maps, hidden width :math:`w \ge n`, entries i.i.d. :math:`\mathcal N(0,\sigma^2)`
with :math:`\sigma^2 = w^{-\gamma}`, gradient flow on

* ``target="teacher"``: :math:`C(A) = \frac12\|A - A^*\|_F^2`, :math:`A^* = \mathrm{diag}(s)`
  with ``rank`` values spaced linearly from ``s_max`` to ``s_min`` (whitened-input regression
  up to a constant);
* ``target="completion"``: :math:`C(A) = \frac12\sum_\Omega(A_{ij} - A^*_{ij})^2`,
  :math:`A^* = U\mathrm{diag}(s)V^\top` with :math:`U, V` the Q factors of Gaussian
  :math:`n\times r` matrices and :math:`\Omega` i.i.d. Bernoulli(``observed``), drawn in that
  order by NumPy's ``default_rng(seed)`` (spec §4.2 E4).

The seeds of :func:`simulate` draw the initialisation; the problem is fixed by ``seed``.

Theory (:func:`predict`), for :math:`\gamma \ge 1` (the saddle regime):

* plateau losses, ranks and maps: best rank-:math:`k` approximations for the teacher, the
  greedy low-rank algorithm for completion (:func:`lindyn.theory.greedy_low_rank`); balanced
  layer spectra :math:`s_i^{1/L}` on every plateau;
* the time course of the teacher cost: independent balanced aligned modes
  :math:`\dot a = L a^{2-2/L}(s - a)` (:func:`lindyn.theory.balanced_mode`) from
  :math:`a_0 = w\sigma^2/2` for :math:`L = 2` (exact as :math:`\sigma \to 0` up to
  :math:`O(w^{-1/2})` fluctuations of the start) and from :math:`a_0 = (\sigma\sqrt w)^L` for
  :math:`L \ge 3` (an idealisation: the jump times carry an :math:`O(1)` factor, the plateaus
  are exact). For completion the curve is the staircase of the greedy losses with each jump at
  the idealised escape time :math:`\frac1{2s}\ln\frac{s}{w\sigma^2}` or
  :math:`(\sigma\sqrt w)^{2-L}/((L-2)s)` of its escape rate :math:`s = \|\nabla C(A_{k-1})\|_{op}`.

For :math:`\gamma < 1` (lazy) the loss decays as
:math:`\frac12\mathbb E\|A_0 - A^*\|^2 e^{-2L(w\sigma^2)^{L-1}t}` (spec §1.4 item 5).

Observables: ``train_loss`` :math:`C(A)`, ``singular_values`` of :math:`A` (dim ``mode``),
``layer_singular_values`` (dims ``layer, mode``: the top :math:`n` of each :math:`W_\ell`) and
``balancedness`` :math:`\|D_\ell\|_F` (dim ``junction``; conserved by the flow); per seed at
the start, ``saddle_distance``, ``minimum_distance`` and ``minimum_distance_bound``
(:mod:`lindyn.theory._saddle_transition`).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax import Array
from matplotlib.figure import Figure

from lindyn._config import ConfigBase, ConfigError, param
from lindyn.experiments._common import simulation_dataset
from lindyn.experiments._compare import curve_metrics
from lindyn.experiments._registry import Experiment, register
from lindyn.experiments._saddle_metrics import saddle_metrics
from lindyn.experiments._saddle_plot import draw_saddle
from lindyn.models import DeepLinear
from lindyn.results import trajectory
from lindyn.theory import (
    MatrixCost,
    SaddleSequence,
    balanced_layer_spectrum,
    balanced_mode,
    greedy_low_rank,
    jump_time,
    lazy_rate,
    minimum_distance,
    minimum_distance_bound,
    saddle_distance,
    teacher_plateaus,
)
from lindyn.train import balancedness, gradient_flow, log_times, recorder, singular_values

NAME = "saddle"
CURVES = ("train_loss", "singular_values")
EXTRA_DIMS = {
    "singular_values": ("mode",),
    "layer_singular_values": ("layer", "mode"),
    "balancedness": ("junction",),
}


@dataclasses.dataclass(frozen=True)
class Config(ConfigBase):
    """A deep linear network from small Gaussian initialisation; see the module docstring."""

    depth: int = param(3, ge=2, le=8, help="number of weight matrices L")
    width: int = param(20, ge=1, le=2000, help="hidden width w")
    gamma: float = param(4.0, ge=0.0, le=40.0, help="init variance exponent: sigma^2 = w^-gamma")
    n: int = param(4, ge=1, le=200, help="input = output dimension")
    rank: int = param(4, ge=1, help="rank of the target")
    s_max: float = param(4.0, gt=0, help="largest target singular value")
    s_min: float = param(1.0, gt=0, help="smallest target singular value")
    target: str = param("teacher", choices=("teacher", "completion"), help="the cost")
    observed: float = param(0.5, gt=0, le=1, help="observed fraction (target=completion)")
    seed: int = param(0, ge=0, le=2**31 - 1, help="seed of the completion problem")
    horizon: float = param(2.5, gt=0, le=100, help="t_max over the predicted last jump time")
    num_times: int = param(200, ge=10, le=10_000, help="number of recorded (log-spaced) times")

    def check(self) -> None:
        if self.rank > self.n:
            raise ConfigError("rank", f"must be <= n = {self.n}, got {self.rank}")
        if self.width < self.n:
            raise ConfigError("width", f"must be >= n = {self.n}, got {self.width}")
        if self.s_min > self.s_max:
            raise ConfigError("s_min", f"must be <= s_max = {self.s_max}, got {self.s_min}")
        if not self.lazy:
            self._check_small_start()

    def _check_small_start(self) -> None:
        """The saddle regime needs a start far below the target: :math:`0 < a_0 < s_{min}/2`."""
        a0 = self.aligned_start()
        if not 0 < a0 < self.s_min / 2:
            raise ConfigError(
                "gamma",
                f"gives an initial mode strength a0 = {a0:.3g} outside (0, s_min/2 = "
                f"{self.s_min / 2:.3g}) (float64 underflow, or not a small start); use a "
                f"gamma in [1, 40] that puts it inside, or gamma < 1 for the lazy regime",
            )

    @property
    def sigma(self) -> float:
        """Initial standard deviation :math:`w^{-\\gamma/2}`."""
        return float(self.width ** (-self.gamma / 2))

    @property
    def lazy(self) -> bool:
        """:math:`\\gamma < 1`: the start is near a global minimum (spec §2)."""
        return self.gamma < 1.0

    def targets(self) -> np.ndarray:
        return np.linspace(self.s_max, self.s_min, self.rank)

    def aligned_start(self) -> float:
        """Initial strength :math:`a_0` of each aligned mode (module docstring)."""
        if self.depth == 2:
            return self.width * self.sigma**2 / 2
        return float((self.sigma * np.sqrt(self.width)) ** self.depth)

    def t_max(self) -> float:
        """``horizon`` times the last idealised jump (lazy regime: 3 decay times).

        Raises:
            ConfigError: (``gamma``) an escape rate of a completion problem too small for
                this start, so that its idealised jump time is not positive and finite.
        """
        if self.lazy:
            return self.horizon * 3.0 / lazy_rate(*self._shape())
        jumps = _jumps(self)
        if not np.all(np.isfinite(jumps) & (jumps > 0)):
            raise ConfigError(
                "gamma", f"gives jump times {np.round(jumps, 4).tolist()}: not all positive"
            )
        return self.horizon * float(np.max(jumps))

    def _shape(self) -> tuple[int, int, float]:
        return self.depth, self.width, self.sigma

    def times(self) -> np.ndarray:
        return log_times(self.t_max(), self.num_times)


def problem(config: Config) -> MatrixCost:
    """The cost of ``config`` (module docstring)."""
    s = config.targets()
    if config.target == "teacher":
        return MatrixCost.teacher(np.diag(np.pad(s, (0, config.n - config.rank))))
    rng = np.random.default_rng(config.seed)
    U = np.linalg.qr(rng.standard_normal((config.n, config.rank)))[0]
    V = np.linalg.qr(rng.standard_normal((config.n, config.rank)))[0]
    mask = (rng.random((config.n, config.n)) < config.observed).astype(np.float64)
    return MatrixCost(U @ np.diag(s) @ V.T, mask)


@functools.lru_cache(maxsize=16)
def _cached_sequence(config: Config) -> SaddleSequence:
    cost = problem(config)
    if config.target == "completion":
        return greedy_low_rank(cost, config.depth)
    s = config.targets()
    k = np.arange(config.rank + 1)
    mats = np.stack([np.diag(np.pad(s[:i], (0, config.n - i))) for i in k])
    return SaddleSequence(mats, teacher_plateaus(s), k, np.append(s, 0.0), "converged", 0.0)


def _sequence(config: Config) -> SaddleSequence:
    """The saddle sequence: closed form for the teacher, the greedy algorithm otherwise (cached
    per config; a copy, so that callers cannot change the cache)."""
    return copy.deepcopy(_cached_sequence(config))


def _jumps(config: Config) -> np.ndarray:
    """Idealised jump times of the sequence's escape rates (:func:`lindyn.theory.jump_time`),
    made non-decreasing: for :math:`L = 2` the formula is not monotone in the rate."""
    seq = _sequence(config)
    times = jump_time(seq.escape_rates[: seq.ranks[-1]], *config._shape())
    return np.maximum.accumulate(times) if times.size else times


def _model(config: Config) -> DeepLinear:
    n = config.n
    return DeepLinear(d_in=n, width=config.width, d_out=n, depth=config.depth, sigma=config.sigma)


def _observe(config: Config, cost: MatrixCost) -> Callable[[Any], dict[str, Array]]:
    model, n = _model(config), config.n
    A = model.end_to_end
    return recorder(
        train_loss=lambda p: cost.value(A(p)),
        singular_values=lambda p: singular_values(A(p)),
        layer_singular_values=lambda p: jnp.stack([singular_values(W)[:n] for W in p]),
        balancedness=lambda p: jnp.stack([jnp.linalg.norm(D) for D in balancedness(p)]),
    )


def simulate(config: Config, seeds: int = 4) -> xr.Dataset:
    """Gradient flow (diffrax Tsit5, rtol 1e-8) from ``seeds`` Gaussian starts."""
    cost, model, times = problem(config), _model(config), config.times()
    grad = lambda p: model.pullback(p, cost.grad(model.end_to_end(p)))  # noqa: E731
    observe = _observe(config, cost)
    starts = jax.vmap(model.init)(jax.random.split(jax.random.key(config.seed), seeds))
    run = jax.jit(jax.vmap(lambda p: gradient_flow(grad, p, jnp.asarray(times), observe=observe)))
    ds = simulation_dataset(
        NAME,
        config,
        run(starts),
        extra_dims=EXTRA_DIMS,
        coords={"mode": np.arange(config.n), "layer": np.arange(1, config.depth + 1)},
    )
    return ds.assign(_distances(config, cost, starts))


def _distances(config: Config, cost: MatrixCost, starts: tuple) -> dict[str, tuple]:
    """Per seed: distances of the start to the explicit saddle and global minimum (spec §2);
    the lower bound on the distance to any minimum holds only for the teacher (a completion
    problem's interpolants may have a smaller norm than :math:`A^*`): ``nan`` otherwise."""
    layers = [[np.asarray(W[i]) for W in starts] for i in range(np.shape(starts[0])[0])]
    fns = {
        "saddle_distance": lambda ws: saddle_distance(ws),
        "minimum_distance": lambda ws: minimum_distance(ws, cost.target),
        "minimum_distance_bound": lambda ws: (
            minimum_distance_bound(ws, cost.target) if cost.mask.all() else np.nan
        ),
    }
    return {k: ("seed", np.array([f(ws) for ws in layers])) for k, f in fns.items()}


def predict(config: Config) -> xr.Dataset:
    """Plateaus, spectra and jump times of the saddle sequence, and the theory curves."""
    times, seq = config.times(), _sequence(config)
    loss, sv = _lazy_curves(config, times) if config.lazy else _saddle_curves(config, times)
    plateau_sv = seq.singular_values()
    attrs = {
        "status": "ok" if seq.status == "converged" else "not_converged",
        "regime": "lazy" if config.lazy else "saddle",
        "sigma": config.sigma,
        "plateau_losses": seq.losses,
        "plateau_ranks": seq.ranks,
        "plateau_singular_values": plateau_sv.ravel(),
        "layer_spectra": balanced_layer_spectrum(plateau_sv, config.depth).ravel(),
        "escape_rates": seq.escape_rates,
        "jump_times": _jumps(config),
        "lazy_rate": lazy_rate(*config._shape()),
        "sequence_residual": seq.residual,
    }
    return trajectory(
        {"train_loss": loss, "singular_values": sv},
        times,
        experiment=NAME,
        kind="theory",
        config=config.to_dict(),
        extra_dims={"singular_values": ("mode",)},
        coords={"mode": np.arange(config.n)},
        attrs=attrs,
    )


def _saddle_curves(config: Config, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Aligned modes (teacher) or the greedy staircase at idealised escape times (completion)."""
    seq = _sequence(config)
    sv = np.zeros((times.size, config.n))
    if config.target == "teacher":
        s = config.targets()
        a = balanced_mode(s, config.depth, config.aligned_start(), times)
        sv[:, : config.rank] = a
        return 0.5 * np.sum((s - a) ** 2, axis=1), sv
    k = np.searchsorted(_jumps(config), times, side="right")
    sv[:] = seq.singular_values()[k]
    return seq.losses[k], sv


def _lazy_curves(config: Config, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""NTK regime: on the observed entries :math:`\Omega`,
    :math:`A(t) - A^* = (A_0 - A^*)e^{-L(w\sigma^2)^{L-1}t}`; the other entries keep their
    random start. Loss :math:`\frac12(\sum_\Omega A^{*2} + |\Omega|\sigma^{2L}w^{L-1})
    e^{-2L(w\sigma^2)^{L-1}t}` (:math:`\mathbb E A_{0,ij}^2 = \sigma^{2L}w^{L-1}`, spec §1.4
    items 3, 5); singular values those of :math:`(1 - e^{-L(w\sigma^2)^{L-1}t})P_\Omega A^*`
    (the random start, of mean 0, left out)."""
    cost, rate = problem(config), lazy_rate(*config._shape())
    entry = config.sigma ** (2 * config.depth) * config.width ** (config.depth - 1)
    start = np.sum(cost.mask * cost.target**2) + np.sum(cost.mask) * entry
    decay = np.exp(-rate * times)
    s = np.linalg.svd(cost.mask * cost.target, compute_uv=False)
    return 0.5 * start * decay, s[None, :] * (1.0 - np.sqrt(decay))[:, None]


def compare(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Curve gaps, plus the plateau / jump analysis of :func:`saddle_metrics`."""
    return curve_metrics(sim, theory, CURVES) | saddle_metrics(sim, theory)


def figure(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Loss with the plateau levels, singular values of the map and of the layers (log time)."""
    return draw_saddle(sim, theory)


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="deep linear net from small init: saddle-to-saddle plateaus vs the greedy limit",
        Config=Config,
        simulate=simulate,
        predict=predict,
        compare=compare,
        figure=figure,
        quick={"depth": 2, "width": 40, "gamma": 5.0, "num_times": 120},
    )
)
