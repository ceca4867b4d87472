r"""Saddle-to-saddle dynamics of a diagonal linear network at tiny initialisation (Pesme &
Flammarion, NeurIPS 2023).

Conventions: :math:`\beta = u\odot v`, loss :math:`L(\beta) = \frac1{2n}\|X\beta - y\|^2`,
gradient flow from :math:`u_0 = \sqrt2\,\alpha\,u'`, :math:`v_0 = 0`, observed in accelerated
time :math:`\tilde t = t/\ln(1/\alpha)`. Design ``"gaussian"``: :math:`X_{ij}` i.i.d.
:math:`\mathcal N(0, 1)`, drawn with ``numpy.random.default_rng(data_seed)``, then the noise
:math:`\xi` (spec §7 P2: with the defaults and ``data_seed = 0`` this is the P2 reference run);
design ``"fig2"``: the fixed :math:`3\times3` :math:`X = M^{1/2}` of the paper's Fig. 2 right
(with ``teacher="1,9,10"``, ``noise=0`` its exact instance). Labels
:math:`y = X\beta^\star + \text{noise}\cdot\xi`, :math:`\beta^\star` = ``teacher`` padded with 0.

Seeds: the data set is the same for every seed (the theory belongs to one data set); seed
:math:`j` draws the shape :math:`\ln u'_i \sim \mathcal N(0, \text{init\_spread}^2)` of the start.
The limit does not depend on the shape (the paper's §5.5: "any fixed shape"), so the seed
spread measures how far from the limit a finite :math:`\alpha` still is, mostly near the jumps,
which the shape shifts by :math:`O(1/\ln(1/\alpha))`.

Scale: ``alpha`` is a float64, so :math:`\ln(1/\alpha)` stops at 744 (the smallest positive
float64 is about 5e-324; ``alpha`` = 1e-300 gives 690.8). The field ``log_inv_alpha`` sets
:math:`\ln(1/\alpha)` itself and takes precedence over ``alpha`` when it is > 0, up to ``1e4``
(e.g. ``--set log_inv_alpha=2000``: spec §7 P3's smallest :math:`\alpha = e^{-2000}`);
:attr:`Config.effective_log_inv_alpha` is the value a run uses.

Simulation: :func:`lindyn.train.diagonal_mirror_flow`, the network's gradient flow
integrated exactly in its dual variable, in the log domain (valid for any :math:`\ln(1/\alpha)`,
:math:`\alpha = 10^{-300}` and far below).
Theory: the piecewise-constant limit :math:`\tilde\beta^\circ` of Algorithm 1
(:func:`lindyn.theory.pesme_flammarion`). Theorem 2 gives uniform convergence only away from
the jump times :math:`t_k`; near them the flow crosses over in a time
:math:`O(1/(\ln(1/\alpha)|\nabla L|))` (spec §7 P3), so ``jump_window > 0`` leaves out the record
times within ``jump_window * t_k`` of every jump. Convergence is slow on degenerate plateaus,
where a coordinate sits at :math:`|s_i| = 1` with :math:`\beta_i = 0` and zero gradient: it
decays algebraically, :math:`\sim 1/(\ln(1/\alpha)\,t)` (Fig. 2 right's second plateau;
noiseless labels with a teacher sparser than ``n`` at the end point). The default config (the
P2 reference instance at :math:`\alpha = 10^{-100}`, no window) shows the whole trajectory,
jumps included; the quick config (the same instance at :math:`\alpha = 10^{-300}`,
``jump_window = 0.2``) agrees with the limit to :math:`7\cdot10^{-5}`
(:math:`1.5\cdot10^{-5}` of :math:`\max|\beta|`) on the record times it keeps, seven of the
thirteen plateaus; the others are shorter than the windows.

Observables: ``beta`` (dim ``coordinate``), ``train_loss`` :math:`= L(\beta)`, and, simulation
only, ``dual`` (:math:`z`, which tends to Algorithm 1's :math:`s`).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from lindyn._config import ConfigBase, ConfigError, param
from lindyn.experiments._common import simulation_dataset
from lindyn.experiments._compare import curve_metrics
from lindyn.experiments._pesme_plot import draw_pesme
from lindyn.experiments._registry import Experiment, register
from lindyn.results import crossing_times, trajectory
from lindyn.theory import PesmeFlammarion, pesme_flammarion
from lindyn.train import Solution, diagonal_mirror_flow, log_times

NAME = "pesme"
LOG_INV_ALPHA_MAX = 1e4
r""":math:`\ln(1/\alpha)` cap of the config's ``log_inv_alpha`` (5000 is tested)."""
OBSERVABLES = ("beta", "train_loss")
FIG2_GRAM = np.array([[20.0, 6.0, -1.4], [6.0, 2.0, -0.4], [-1.4, -0.4, 0.12]])
""":math:`M = X^\\top X` of the paper's Fig. 2 right (Appendix A)."""


@dataclasses.dataclass(frozen=True)
class Config(ConfigBase):
    """A diagonal network at tiny α against Algorithm 1; see the module docstring."""

    design: str = param("gaussian", choices=("gaussian", "fig2"), help="design matrix")
    n: int = param(10, ge=1, le=2000, help="number of samples (3 for fig2)")
    d: int = param(30, ge=1, le=5000, help="dimension (3 for fig2)")
    teacher: str = param("5,-4,3", help="leading entries of beta*, comma-separated; the rest 0")
    noise: float = param(0.5, ge=0, help="label noise: y = X beta* + noise * xi")
    alpha: float = param(1e-100, gt=0, lt=1, help="initialisation scale")
    log_inv_alpha: float = param(
        0.0, ge=0, le=LOG_INV_ALPHA_MAX, help="ln(1/alpha) if > 0 (then alpha is ignored)"
    )
    init_spread: float = param(0.5, ge=0, le=5, help="std of ln u' (start shape), per seed")
    t_max: float = param(50.0, gt=0, help="final accelerated time t / ln(1/alpha)")
    num_times: int = param(300, ge=2, le=20_000, help="log-spaced record times before windows")
    jump_window: float = param(0.0, ge=0, lt=1, help="leave out |t - t_k| < jump_window * t_k")
    data_seed: int = param(0, ge=0, le=2**31 - 1, help="numpy seed of X, then xi")

    def check(self) -> None:
        if self.design == "fig2" and (self.n, self.d) != (3, 3):
            raise ConfigError("design", f"fig2 is 3 x 3: needs n = d = 3, got {self.n, self.d}")
        entries = self.beta_star_entries()
        if len(entries) > self.d:
            raise ConfigError("teacher", f"has {len(entries)} entries, more than d = {self.d}")

    def beta_star_entries(self) -> list[float]:
        """The parsed ``teacher`` entries."""
        try:
            entries = [float(e) for e in self.teacher.split(",") if e.strip()]
        except ValueError:
            message = f"must be comma-separated numbers, got {self.teacher!r}"
            raise ConfigError("teacher", message) from None
        if not all(math.isfinite(e) for e in entries):
            raise ConfigError("teacher", f"must be finite, got {self.teacher!r}")
        return entries

    def beta_star(self) -> np.ndarray:
        """:math:`\\beta^\\star`, shape ``(d,)``."""
        out = np.zeros(self.d)
        entries = self.beta_star_entries()
        out[: len(entries)] = entries
        return out

    @property
    def effective_log_inv_alpha(self) -> float:
        r"""The :math:`\ln(1/\alpha)` of the run: ``log_inv_alpha`` if > 0, else
        :math:`-\ln(\text{alpha})`."""
        return self.log_inv_alpha if self.log_inv_alpha > 0 else -math.log(self.alpha)


def fig2_design() -> np.ndarray:
    """The symmetric square root :math:`X = M^{1/2}` of :data:`FIG2_GRAM`."""
    w, V = np.linalg.eigh(FIG2_GRAM)
    return (V * np.sqrt(w)) @ V.T


def problem(config: Config) -> tuple[np.ndarray, np.ndarray]:
    """The data ``(X, y)`` fixed by the config (``default_rng(data_seed)``: X, then xi)."""
    rng = np.random.default_rng(config.data_seed)
    gaussian = config.design == "gaussian"
    X = rng.standard_normal((config.n, config.d)) if gaussian else fig2_design()
    return X, X @ config.beta_star() + config.noise * rng.standard_normal(config.n)


def limit(config: Config) -> PesmeFlammarion:
    """Algorithm 1 on the config's data (``status`` other than ``"ok"`` if it failed)."""
    return pesme_flammarion(*problem(config), throw=False)


def time_grid(config: Config, saddles: PesmeFlammarion) -> np.ndarray:
    """0, then log-spaced accelerated times from :math:`\\min(t_1, t_{max})/10` to ``t_max``,
    without those within ``jump_window * t_k`` of a jump :math:`t_k`."""
    first = saddles.times[1] if saddles.jumps else config.t_max
    times = log_times(config.t_max, config.num_times, t_min=min(first, config.t_max) / 10)
    jumps = saddles.times[1:]
    near = np.abs(times[:, None] - jumps[None, :]) < config.jump_window * jumps[None, :]
    return times[~np.any(near, axis=1)]


def init_shape(config: Config, seed: int) -> np.ndarray:
    """Seed ``seed``'s start shape :math:`u'`, :math:`\\ln u'_i \\sim \\mathcal N(0, s^2)`."""
    rng = np.random.default_rng([config.data_seed, seed])
    return np.exp(config.init_spread * rng.standard_normal(config.d))


def simulate(config: Config, seeds: int = 4) -> xr.Dataset:
    """The network's flow from ``seeds`` start shapes on the config's one data set.

    The seeds run one after the other in a Python loop, not under ``jax.vmap``: the flow is
    SciPy's Radau (:func:`lindyn.train.diagonal_mirror_flow`), NumPy code with its own adaptive
    step and Newton iterations that JAX cannot trace, and no JAX implicit solver competes with
    it on this stiff ODE (``benchmarks/pesme.py``: diffrax's ``Kvaerno5`` takes 9–33 thousand
    steps and seconds of compilation against Radau's 0.2–0.5 s). The runs are stacked into one
    :class:`lindyn.train.Solution` with a leading seed axis, as a vmapped run would give.
    """
    X, y = problem(config)
    times = time_grid(config, limit(config))
    runs = [
        diagonal_mirror_flow(
            X,
            y,
            times,
            log_inv_alpha=config.effective_log_inv_alpha,
            init_shape=init_shape(config, j),
        )
        for j in range(seeds)
    ]
    solution: Solution = jax.tree_util.tree_map(lambda *a: np.stack(a), *runs)
    dims = {"beta": ("coordinate",), "dual": ("coordinate",)}
    coords = {"coordinate": np.arange(config.d)}
    return simulation_dataset(NAME, config, solution, extra_dims=dims, coords=coords)


def predict(config: Config) -> xr.Dataset:
    """The limit :math:`\\tilde\\beta^\\circ` of Algorithm 1 on the grid (NaN if it failed);
    ``attrs`` carry the saddle times, losses and the saddles (flattened ``(p+1) x d``)."""
    saddles = limit(config)
    times = time_grid(config, saddles)
    beta, loss = saddles.beta_at(times), saddles.loss_at(times)
    if not saddles.converged:  # never a last iterate as the answer
        beta, loss = np.full_like(beta, np.nan), np.full_like(loss, np.nan)
    attrs = {
        "status": "ok" if saddles.converged else "not_converged",
        "message": saddles.message,
        "saddle_times": saddles.times,
        "saddle_losses": saddles.losses,
        "saddles": saddles.betas.ravel(),
    }
    return trajectory(
        {"beta": beta, "train_loss": loss},
        times,
        experiment=NAME,
        kind="theory",
        config=config.to_dict(),
        extra_dims={"beta": ("coordinate",)},
        coords={"coordinate": np.arange(config.d)},
        attrs=attrs,
    )


def compare(sim: xr.Dataset, theory: xr.Dataset) -> dict[str, float]:
    """Curve gaps, the loss crossings against the jump times, and the mid-plateau error.

    ``crossing_k``: first time the seed-mean loss is below the midpoint
    :math:`(L(\\beta_{k-1}) + L(\\beta_k))/2` (:func:`lindyn.results.crossing_times`, interpolated
    between records in log time; NaN if never);
    ``max_rel_crossing_error`` :math:`= \\max_k|\\text{crossing}_k/t_k - 1|`;
    ``max_mid_plateau_error`` :math:`= \\max_k\\|\\bar\\beta(t) - \\beta_k\\|_\\infty` at the
    record nearest (in log time) to the geometric middle of plateau ``k`` (``plateaus_checked``:
    how many plateaus hold a record).
    """
    out = curve_metrics(sim, theory, OBSERVABLES)
    jumps = np.atleast_1d(theory.attrs["saddle_times"])[1:]
    out.update(_crossings(sim, jumps, np.atleast_1d(theory.attrs["saddle_losses"])))
    errors = _mid_plateau_errors(sim, theory, np.atleast_1d(theory.attrs["saddle_times"]))
    out["max_mid_plateau_error"] = max(errors, default=math.nan)
    out["plateaus_checked"] = float(len(errors))
    return out


def _crossings(sim: xr.Dataset, jumps: np.ndarray, losses: np.ndarray) -> dict[str, float]:
    loss = sim["train_loss"].mean("seed").values
    crossings = crossing_times(sim["time"].values, loss, losses)
    out = {f"crossing_{k}": float(c) for k, c in enumerate(crossings, start=1)}
    errors = np.abs(crossings / jumps - 1.0)  # NaN where the loss never crossed
    out["max_rel_crossing_error"] = float(np.max(errors)) if errors.size else 0.0
    return out


def _mid_plateau_errors(
    sim: xr.Dataset, theory: xr.Dataset, saddle_times: np.ndarray
) -> list[float]:
    t = sim["time"].values
    mean, limit_beta = sim["beta"].mean("seed").values, theory["beta"].values
    ends = np.append(saddle_times[1:], t[-1])
    errors = []
    for start, end in zip(saddle_times, ends, strict=True):
        inside = np.flatnonzero((t > start) & (t < end))
        if inside.size == 0:
            continue
        middle = math.sqrt(start * end) if start > 0 else end / 2
        i = inside[np.argmin(np.abs(np.log(t[inside] / middle)))]
        errors.append(float(np.max(np.abs(mean[i] - limit_beta[i]))))
    return errors


def figure(sim: xr.Dataset, theory: xr.Dataset) -> Figure:
    """Coordinates and loss of the flow (colour, seed mean ± std) over the limit (black), log time.

    Only the coordinates that some saddle uses are drawn; the simulated curves are broken where
    a jump window removed records (:func:`lindyn.experiments._pesme_plot.draw_pesme`).
    """
    return draw_pesme(sim, theory)


EXPERIMENT = register(
    Experiment(
        name=NAME,
        summary="diagonal linear net at tiny α: saddle-to-saddle flow vs Pesme–Flammarion Alg. 1",
        Config=Config,
        simulate=simulate,
        predict=predict,
        compare=compare,
        figure=figure,
        quick={"alpha": 1e-300, "jump_window": 0.2, "num_times": 150},
    )
)
