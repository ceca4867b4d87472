r"""Deep linear networks from random initialisation: DMFT of width, depth, parameterization and
data (Bordelon & Pehlevan 2025, arXiv:2502.02531; the README's deep notes).

Setup (§1): :math:`D` inputs :math:`x \sim \mathcal N(0, \Lambda)` (isotropic, or the normalised
power law of :mod:`lindyn.experiments._deep_data`), :math:`P = \alpha D` samples, width
:math:`N = \nu D`, teacher :math:`y = \beta_\star\cdot x/\sqrt D + \sigma\epsilon`. The network
(§1.2) is :class:`lindyn.models.DeepLinear` in μP normalisation,
:math:`h^1 = W^0x/\sqrt D`, :math:`h^{\ell+1} = W^\ell h^\ell/\sqrt N`,
:math:`f = \frac{\sqrt D}{\gamma_0N}w\cdot h^L`, all weights :math:`\mathcal N(0, 1)`: ``L``
hidden layers are ``L + 1`` weight matrices; with ``residual`` (§1.3) ``L`` blocks
:math:`h \mapsto h + \frac{\beta_0}{\sqrt L}W^\ell h/\sqrt N` between the input layer and the
readout, ``L + 2`` matrices. NTK (``param="ntk"``): ``gamma0`` holds :math:`\bar\gamma` and the
effective richness is :math:`\gamma_0 = \bar\gamma/\sqrt\nu` (readout
:math:`1/(\bar\gamma\sqrt N)`). Gradient descent with the raw learning rate :math:`\eta\gamma_0^2N`
on repeated data (``protocol="full"``) or one-pass SGD on fresh batches of
:math:`B = \alpha_BD` samples (``"sgd"``, §1.4). The time axis counts steps ``0..steps``.

Theory: the proportional-limit DMFT (§2), :func:`lindyn.theory.deep_dmft`, at the realised
ratios :math:`P/D`, :math:`N/D`, :math:`B/D` of the simulated sizes. Observables ``train_loss``
and ``test_loss`` (:mod:`lindyn.experiments._deep_sim`). The DMFT is exact as
:math:`D \to \infty`; at finite :math:`D` the seed mean carries :math:`O(D^{-1/2})` fluctuations
and, near the edge of stability, a slow one-sided bias (§3.4), so the quick config sits well
inside the stable range, where the spec measured 1–4 % at :math:`D = 256` (§3.4, §6 item 5).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn._config import ConfigBase, ConfigError
from lindyn._config import param as _param  # a field is named ``param``
from lindyn.experiments._common import simulation_dataset
from lindyn.experiments._compare import curve_metrics
from lindyn.experiments._deep_data import deep_spectrum
from lindyn.experiments._deep_sim import Run, run_seeds
from lindyn.experiments._registry import Experiment, register
from lindyn.experiments._validity import EDGE as EDGE
from lindyn.experiments._validity import mark_validity as mark_validity
from lindyn.models import DeepLinear
from lindyn.plot import new_figure, overlay
from lindyn.results import trajectory
from lindyn.theory import deep_dmft, deep_dmft_memory

NAME = "deep"
OBSERVABLES = ("train_loss", "test_loss")
MEMORY_LIMIT = 2 * 2**30  # bytes a DMFT solve may hold
SIM_MEMORY_LIMIT = 2**30  # bytes of one seed's data and weights
_STATUS = {"converged": "ok"}  # DMFT statuses -> Solution status names


@dataclasses.dataclass(frozen=True)
class Config(ConfigBase):
    """A deep linear network and its DMFT; see the module docstring for the conventions."""

    D: int = _param(512, ge=2, le=4096, help="input dimension D")
    alpha: float = _param(2.0, gt=0, le=64, help="data ratio P/D (protocol=full)")
    nu: float = _param(1.0, gt=0, le=16, help="width ratio N/D")
    L: int = _param(2, ge=1, le=16, help="hidden layers, or residual blocks")
    param: str = _param("mup", choices=("mup", "ntk"), help="parameterization")
    gamma0: float = _param(1.0, gt=0, le=100, help="richness gamma0 (muP) or gamma-bar (NTK)")
    eta: float = _param(0.1, gt=0, le=10, help="learning rate (raw rate eta gamma0^2 N)")
    steps: int = _param(30, ge=1, le=5000, help="gradient steps T")
    sigma: float = _param(0.0, ge=0, le=10, help="label noise")
    residual: bool = _param(False, help="residual blocks with branch beta0/sqrt(L)")
    beta0: float = _param(1.0, ge=0, le=10, help="residual branch scale beta0")
    protocol: str = _param("full", choices=("full", "sgd"), help="repeated data or one-pass SGD")
    batch_ratio: float = _param(0.0, ge=0, le=64, help="B/D of one-pass SGD (> 0 for sgd)")
    spectrum: str = _param("isotropic", choices=("isotropic", "powerlaw"), help="covariance")
    a: float = _param(1.5, gt=0, le=10, help="power-law capacity: lambda_k ~ k^-a")
    b: float = _param(0.5, ge=0, le=10, help="power-law source: lambda_k b_k ~ k^-(ab+1)")
    seed: int = _param(0, ge=0, le=2**31 - 1, help="base seed")

    @property
    def width(self) -> int:
        """:math:`N = \\mathrm{round}(\\nu D)`."""
        return round(self.nu * self.D)

    @property
    def samples(self) -> int:
        """:math:`P = \\mathrm{round}(\\alpha D)`, or the batch :math:`B = \\mathrm{round}(\\alpha_BD)`."""
        ratio = self.batch_ratio if self.protocol == "sgd" else self.alpha
        return round(ratio * self.D)

    @property
    def matrices(self) -> int:
        """Weight matrices: ``L + 1`` (``L`` hidden layers) or ``L + 2`` (``L`` residual blocks)."""
        return self.L + (2 if self.residual else 1)

    @property
    def richness(self) -> float:
        """Effective :math:`\\gamma_0` (NTK: :math:`\\bar\\gamma/\\sqrt{N/D}`)."""
        if self.param == "ntk":
            return self.gamma0 / math.sqrt(self.width / self.D)
        return self.gamma0

    def check(self) -> None:
        if self.protocol == "sgd" and self.batch_ratio <= 0:
            raise ConfigError(
                "batch_ratio", f"must be > 0 with protocol='sgd', got {self.batch_ratio}"
            )
        for name, size in (("nu", self.width), (self._ratio_name(), self.samples)):
            if size < 1:
                raise ConfigError(name, f"must give at least one row at D={self.D}, got {size}")
        self._check_memory()

    def _ratio_name(self) -> str:
        return "batch_ratio" if self.protocol == "sgd" else "alpha"

    def _check_memory(self) -> None:
        modes = self.D if self.spectrum == "powerlaw" else 1
        need = deep_dmft_memory(L=self.L, steps=self.steps, residual=self.residual, modes=modes)
        if need > MEMORY_LIMIT:
            raise ConfigError(
                "steps",
                f"must be smaller: the DMFT at steps={self.steps} needs about "
                f"{need / 2**30:.3g} GiB, above {MEMORY_LIMIT / 2**30:.3g} GiB",
            )
        N = self.width
        sim = 8 * (self.samples * self.D + N * self.D + (self.matrices - 2) * N**2 + N)
        if sim > SIM_MEMORY_LIMIT:
            raise ConfigError(
                "D",
                f"must be smaller: one seed needs about {sim / 2**30:.3g} GiB, above "
                f"{SIM_MEMORY_LIMIT / 2**30:.3g} GiB",
            )

    def model(self) -> DeepLinear:
        """The §1.2/§1.3 network as :class:`DeepLinear` (depth counts weight matrices)."""
        return DeepLinear(
            d_in=self.D,
            width=self.width,
            depth=self.matrices,
            parameterization=self.param,
            gamma0=self.gamma0,
            residual=self.residual,
            beta0=self.beta0,
        )

    def data(self) -> tuple[np.ndarray | None, np.ndarray]:
        """:math:`(\\lambda_k, b_k)`; ``lam`` is None for isotropic data."""
        if self.spectrum == "isotropic":
            return None, np.ones(self.D)
        return deep_spectrum(self.D, self.a, self.b)


def _run(config: Config) -> Run:
    lam, bk = config.data()
    return Run(
        model=config.model(),
        rate=config.eta * config.richness**2 * config.width,
        samples=config.samples,
        fresh=config.protocol == "sgd",
        lam=lam,
        bk=bk,
        sigma=config.sigma,
        steps=config.steps,
    )


def simulate(config: Config, seeds: int = 8) -> xr.Dataset:
    """Train ``seeds`` networks, each on its own draw of weights, teacher, data and noise (§3.4).

    Args:
        config: the experiment's configuration.
        seeds: number of independent networks (``vmap`` over ``jax.random.split(seed)``).

    Returns:
        Dataset with ``train_loss`` and ``test_loss`` of dims ``(seed, time)``, per-seed
        ``status`` (divergence: non-finite or exploding losses), and ``width``, ``samples``
        and the raw ``rate`` in ``attrs``.
    """
    keys = jax.random.split(jax.random.key(config.seed), seeds)
    run = _run(config)
    solution = run_seeds(run, keys)
    return simulation_dataset(NAME, config, solution).assign_attrs(
        width=config.width, samples=config.samples, rate=run.rate
    )


def _theory_args(config: Config) -> dict:
    """:func:`deep_dmft` keywords at the realised ratios of ``config``'s sizes."""
    lam, bk = config.data()
    sgd = config.protocol == "sgd"
    return dict(
        alpha=math.inf if sgd else config.samples / config.D,
        nu=config.width / config.D,
        L=config.L,
        gamma0=config.gamma0,
        eta=config.eta,
        steps=config.steps,
        sigma=config.sigma,
        param=config.param,
        residual=config.residual,
        beta0=config.beta0,
        protocol=config.protocol,
        batch_ratio=config.samples / config.D if sgd else None,
        spectrum=None if lam is None else (lam, bk),
        memory_limit=MEMORY_LIMIT,
    )


def predict(config: Config) -> xr.Dataset:
    """The DMFT losses on the steps ``0..steps`` (§2.3–§2.6); the solver's outcome in ``attrs``.

    Returns:
        Dataset with ``train_loss`` and ``test_loss`` (dim ``time``); ``attrs`` hold
        ``status`` (``"ok"``, ``"diverged"`` or ``"not_converged"``; the losses are NaN after
        the last solved step of a failed solve), ``sweeps``, ``residual`` and ``message``.

    Example:
        >>> th = predict(Config(D=64, L=1, eta=0.2, steps=5))
        >>> th.attrs["status"], round(float(th.test_loss[1]), 4)
        ('ok', 0.4264)
    """
    res = deep_dmft(**_theory_args(config))
    theory = trajectory(
        {"train_loss": res.train_loss, "test_loss": res.test_loss},
        np.asarray(res.steps, dtype=np.float64),
        experiment=NAME,
        kind="theory",
        config=config.to_dict(),
        attrs={
            "status": _STATUS.get(res.status, res.status),
            "sweeps": int(res.sweeps),
            "residual": float(res.residual),
            "message": res.message,
        },
    )
    return mark_validity(theory, res.edge_sharpness)


def compare(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Curve gaps; per observable ``v``: ``final_<v>`` and ``theory_final_<v>`` (seed mean and
    DMFT at the last step), ``final_rel_gap_<v>`` (their relative difference), ``min_<v>`` and
    ``theory_min_<v>`` (smallest over the steps: early stopping); ``theory_max_edge_sharpness``
    (the largest :math:`s(t)` of :func:`mark_validity`) and ``theory_valid_steps`` (the steps
    before the first :math:`s > 1`; all of them when the theory stays valid), so that sweeps
    can tell the points where finite networks are not expected to follow the DMFT."""
    metrics = curve_metrics(sim, theory, OBSERVABLES)
    if "edge_sharpness" in theory:
        edge = theory["edge_sharpness"].values
        finite = edge[np.isfinite(edge)]
        metrics["theory_max_edge_sharpness"] = float(finite.max()) if finite.size else math.nan
        metrics["theory_valid_steps"] = float(theory["valid"].values.sum())
    for v in OBSERVABLES:
        mean = sim[v].mean("seed").values
        curve = theory[v].values
        last = float(curve[-1])
        metrics[f"final_{v}"] = float(mean[-1])
        metrics[f"theory_final_{v}"] = last
        metrics[f"final_rel_gap_{v}"] = (mean[-1] - last) / last if last != 0 else math.nan
        metrics[f"min_{v}"] = float(np.min(mean)) if np.all(np.isfinite(mean)) else math.nan
        metrics[f"theory_min_{v}"] = (
            float(np.min(curve)) if np.all(np.isfinite(curve)) else math.nan
        )
    return metrics


def figure(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Test and train loss against steps: DMFT solid, simulation dashed with mean ± std."""
    fig, axes = new_figure(2)
    for ax, v in zip(axes, ("test_loss", "train_loss"), strict=True):
        overlay(ax, sim, theory, v, logy=True)
        ax.set_xlabel("step t")
    fig.suptitle("deep linear network: DMFT vs finite networks (Bordelon & Pehlevan 2025)")
    fig.tight_layout()
    return fig


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="deep linear net from random init (muP/NTK, residual, SGD) vs its DMFT",
        Config=Config,
        simulate=simulate,
        predict=predict,
        compare=compare,
        figure=figure,
        quick={"D": 128, "steps": 20},
        seeds=8,
    )
)
