r"""Dynamical mean-field theory of diagonal linear networks, on any time grid.

Conventions (the README's dln notes §1): design entries :math:`\mathcal N(0, 1/d)`,
:math:`n/d \to \delta`, :math:`\beta = u\odot v`, :math:`u(0) = \sqrt2\alpha`, :math:`v(0) = 0`,
loss :math:`\frac12\|y - X\beta\|^2 + \frac\lambda2(\|u\|^2 + \|v\|^2)`, teacher Bernoulli–Gaussian
with :math:`\mathbb E\beta^{*2} = \rho`, label noise :math:`\sigma`. Gradient descent with steps
:math:`\eta_k` on :math:`(u, v)` has, as :math:`d \to \infty`, exactly the effective process of
§2.7 (scheme ``"gd"``); gradient flow is solved by an A-stable :math:`\theta`-scheme in the
mirror variable on a non-uniform grid (scheme ``"flow"``, :mod:`lindyn.theory._dln_processes`),
which reaches the horizons :math:`\ln(1/\alpha)` and :math:`\ln(\alpha)/\lambda` with a few hundred
points. Both are solved here by:

* parameter side, Monte Carlo (or randomized quasi-Monte Carlo, ``sampler="rqmc"``) over
  ``copies`` single-coordinate processes
  :math:`h_k = \xi_k - \delta\sum_{l\le k}\bar A_{kl}(\beta_l - \beta^*)` with their tangents
  :math:`\varrho_{kj} = \partial\beta_k/\partial h_j` (feedback included);
* sample side, exact: :math:`\bar A = (I + \bar B)^{-1}`,
  :math:`C_r = \bar A(\sigma^2\mathbf 1\mathbf 1^\top + C_\Delta)\bar A^\top`,
  :math:`\xi \sim \mathcal N(0, \delta C_r)` through the symmetric PSD square root and common
  random numbers whose moments are matched exactly (:func:`matched_noise`; a correction to the
  scheme of the spec's §3, whose plain Gaussian draws bias the fixed point by :math:`O(K/M)`),
  or through a root on principal axes and scrambled Sobol' points (:func:`sobol_noise`);
* closure :math:`\bar B = \mathbb E\varrho`, :math:`C_\Delta = \mathbb E\,\Delta\beta\Delta\beta^\top`, by
  damped fixed-point iteration with Anderson mixing (:func:`damped_fixed_point`);
* the teacher as a quadrature of its law (:func:`quadrature_teacher`), not a sample.

Observables: train loss :math:`\frac12 C_r(t,t)`, test error :math:`C_\Delta(t,t)`. Cost: time
:math:`O(M K^3)` and memory :math:`O(M K^2)` per iteration for ``copies`` :math:`M` and ``K`` grid
points (``benchmarks/dln_dmft.py``).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from scipy.special import ndtri
from scipy.stats import qmc

from lindyn._stats import calibrated_error
from lindyn.theory._checks import validate
from lindyn.theory._dln_processes import process
from lindyn.theory._fixed_point import FixedPointResult, damped_fixed_point
from lindyn.theory._richardson import coarsen, richardson_error

__all__ = [
    "DLNDMFT",
    "dln_dmft",
    "quadrature_teacher",
    "matched_noise",
    "sobol_noise",
    "sobol_points",
    "principal_axes",
]

SAMPLERS = ("mc", "rqmc")
PILOT_TOL = 1e-3  # the symmetric-root solve that fixes the principal axes of ``"rqmc"``


@dataclasses.dataclass(frozen=True)
class DLNDMFT:
    """Solution of the diagonal-network DMFT on a grid of ``K`` times.

    Attributes:
        times: ``(K,)``, from 0.
        train_loss, test_error: ``(K,)`` curves.
        C_delta: ``(K, K)`` parameter-side correlation of :math:`\\beta - \\beta^*`.
        B: ``(K, K)`` discrete response :math:`\\mathbb E\\,\\partial\\beta_k/\\partial h_j` (the steps
            included; lower triangular, with a diagonal for the implicit ``"flow"`` scheme).
        solve: the final fixed-point outcome (status, iterations, residual); with replicas,
            the worst one.
        iterations: closure updates over all warm-start horizons (and replicas).
        replicas: independent solves averaged (:func:`dln_dmft`).
        train_loss_err, test_error_err: ``(K,)`` sampling errors of the curves with
            ``replicas >= 2`` (:func:`lindyn.experiments.calibrated_error` of the replicas:
            ±2 of it is a 95 % interval); ``None`` for a single solve.
        train_loss_disc, test_error_disc: ``(K,)`` discretization errors of the ``"flow"``
            scheme with ``replicas >= 2`` (the same replicas on every other grid point,
            :func:`lindyn.theory._richardson.richardson_error`); ``None`` otherwise (``"gd"`` is
            exact in discrete time).
        accuracy: the relative error reached, :math:`\\max_{t>0}` of the total error
            (sampling and discretization in quadrature, :meth:`error`) over |curve|, over both
            curves (NaN for a single solve); compare it with the ``rtol`` asked for.
    """

    times: np.ndarray
    train_loss: np.ndarray
    test_error: np.ndarray
    C_delta: np.ndarray
    B: np.ndarray
    solve: FixedPointResult
    iterations: int
    replicas: int = 1
    train_loss_err: np.ndarray | None = None
    test_error_err: np.ndarray | None = None
    train_loss_disc: np.ndarray | None = None
    test_error_disc: np.ndarray | None = None

    def residual_correlation(self, sigma: float) -> np.ndarray:
        r"""The train residual's two-time correlation, sample side (module docstring):
        :math:`C_r = \bar A(\sigma^2\mathbf 1\mathbf 1^\top + C_\Delta)\bar A^\top`,
        :math:`\bar A = (I + \bar B)^{-1}`, for label noise ``sigma``; its diagonal is twice
        the train loss."""
        K = self.times.size
        A = np.linalg.inv(np.eye(K) + self.B)
        return A @ (sigma**2 * np.ones((K, K)) + self.C_delta) @ A.T

    def error(self, curve: str) -> np.ndarray | None:
        r"""The total error of ``curve`` (``"train_loss"`` or ``"test_error"``): its sampling
        error and its discretization error (where estimated) in quadrature; ``None`` for a
        single solve."""
        sampling = getattr(self, f"{curve}_err")
        disc = getattr(self, f"{curve}_disc")
        if sampling is None or disc is None:
            return sampling
        return np.hypot(sampling, disc)

    def relative_error(self, kind: str = "total") -> float:
        r""":math:`\max_{t > 0}` of one error over |curve|, over ``train_loss`` and
        ``test_error``: ``"total"`` (:meth:`error`), ``"err"`` (sampling) or ``"disc"`` (the
        grid); NaN where that error is not estimated.

        Example:
            >>> t, c = np.arange(3.0), np.array([1.0, 2.0, 4.0])
            >>> res = DLNDMFT(t, c, c, None, None, None, 0, 2, 0.1 * c, 0.2 * c)
            >>> round(res.relative_error("err"), 12), res.relative_error("disc")
            (0.2, nan)
        """
        pairs = []
        for curve in ("train_loss", "test_error"):
            e = self.error(curve) if kind == "total" else getattr(self, f"{curve}_{kind}")
            pairs.append((getattr(self, curve), e))
        if any(e is None for _, e in pairs):
            return float("nan")
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(max(np.max(np.abs(e[1:] / c[1:])) for c, e in pairs))

    @property
    def accuracy(self) -> float:
        """The relative accuracy reached: :meth:`relative_error` of the total error."""
        return self.relative_error()


def quadrature_teacher(copies: int, rho: float) -> Array:
    r"""``copies`` teacher values: exactly ``s = round(rho * copies)`` non-zeros at the midpoint
    quantiles :math:`\Phi^{-1}((i - \frac12)/s)` of the standard normal, rescaled so that their
    mean square is exactly :math:`\rho`.

    A quadrature of the Bernoulli–Gaussian law rather than a sample of it: random teacher values
    were the largest Monte-Carlo error of the parameter side (±1 % on the test error at
    :math:`M = 2000` even with the power normalised, spec §3). The values carry no randomness;
    the noise :math:`Z` does.
    """
    support = max(1, round(rho * copies))
    levels = jax.scipy.special.ndtri((jnp.arange(support) + 0.5) / support)
    values = jnp.zeros(copies).at[:support].set(levels)
    return values * jnp.sqrt(rho / jnp.mean(values**2))


def _match(G: Array, beta_star: Array) -> Array:
    r"""The columns of ``G`` orthogonalised, in order, against 1, ``beta_star`` and each other,
    rescaled to norm :math:`\sqrt M` (signs kept: a column changes little if it was nearly so)."""
    copies = G.shape[0]
    basis = jnp.concatenate([jnp.ones((copies, 1)), beta_star[:, None], G], axis=1)
    Q, R = jnp.linalg.qr(basis)
    return jnp.sqrt(copies) * Q[:, 2:] * jnp.sign(jnp.diag(R)[2:])


def matched_noise(key: Array, copies: int, steps: int, beta_star: Array) -> Array:
    r"""Standard normals :math:`Z \in \mathbb R^{M\times K}` with exactly matched moments:
    :math:`Z^\top Z/M = I`, :math:`Z^\top\mathbf 1 = 0`, :math:`Z^\top\beta^* = 0`.

    Plain Gaussian common random numbers carry an :math:`O(K/M)` bias into the self-consistent
    solution: the sample covariance of :math:`\xi = ZS` is not :math:`\delta C_r`, and the closure
    feeds that error back (measured: +7 % on the test error at :math:`K = 61`, :math:`M = 2000` in
    the linear reduction). With matched moments the Gaussian part of the parameter side is exact,
    and the linear reduction is reproduced to rounding.
    """
    if copies < steps + 3:
        raise ValueError(f"copies: must be >= grid points + 2 = {steps + 3}, got {copies}")
    return _match(jax.random.normal(key, (copies, steps + 1)), beta_star)


def sobol_points(seed: int, copies: int, dims: int) -> np.ndarray:
    """``copies`` points of the scrambled Sobol' sequence in :math:`[0, 1)^{dims}` (``seed``
    picks the scrambling), the rows sorted by the first coordinate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balance: copies not a power of 2
        u = qmc.Sobol(dims, scramble=True, seed=np.random.default_rng(seed)).random(copies)
    return u[np.argsort(u[:, 0], kind="stable")]


def sobol_noise(seed: int, copies: int, steps: int, beta_star: Array) -> Array:
    r"""Scrambled Sobol' normals :math:`Z \in \mathbb R^{M\times K}` paired with the rows of
    :func:`quadrature_teacher`, with the moments of :func:`matched_noise`.

    The points :math:`u_m \in [0, 1)^{K+1}` of :func:`sobol_points` are in the order of their
    first coordinate, so that row ``m`` of the teacher quadrature, its ``m``-th quantile, goes
    with the point whose first coordinate is the ``m``-th smallest (one per stratum
    :math:`[m/M, (m+1)/M)` when ``M`` is a power of 2): the teacher is the first dimension of the
    point set, at the midpoint of its stratum, and with the second it forms a :math:`(0, m, 2)`-net.
    Coordinates ``1 .. K`` become :math:`\Phi^{-1}(u)` (clipped at :math:`M^{-2}/2` from 0 and 1),
    then are orthogonalised as in :func:`matched_noise`, which moves them by :math:`O(1/M)`. The
    columns are ordered by quality (the first dimensions of a Sobol' set are the most uniform):
    :func:`dln_dmft` gives column ``j`` to the ``j``-th principal axis of the field. ``M`` a power
    of 2 keeps the balance of the points; other ``M`` take the first ``M`` points of the sequence
    (less balanced; accepted without a warning).
    """
    if copies < steps + 3:
        raise ValueError(f"copies: must be >= grid points + 2 = {steps + 3}, got {copies}")
    u = np.clip(sobol_points(seed, copies, steps + 2)[:, 1:], 0.5 / copies**2, 1 - 0.5 / copies**2)
    return _match(jnp.asarray(ndtri(u)), beta_star)


def _sample_side(B: Array, C_delta: Array, sigma: float) -> tuple[Array, Array]:
    """:math:`\\bar A = (I + \\bar B)^{-1}` and :math:`C_r = \\bar A(\\sigma^2 11^\\top + C_\\Delta)\\bar A^\\top`."""
    K = B.shape[0]
    A = jax.scipy.linalg.solve_triangular(jnp.eye(K) + B, jnp.eye(K), lower=True)
    return A, A @ (sigma**2 + C_delta) @ A.T


def _sym_sqrt(C: Array) -> Array:
    """The symmetric PSD square root (negative eigenvalues clipped), §3."""
    w, Q = jnp.linalg.eigh(0.5 * (C + C.T))
    return (Q * jnp.sqrt(jnp.clip(w, 0.0, None))) @ Q.T


def principal_axes(C: Array) -> Array:
    """Eigenvectors of the symmetric ``C`` as columns, by decreasing eigenvalue, each signed to a
    positive inner product with the ramp ``1 .. 2`` (a fixed, arbitrary convention)."""
    _, Q = jnp.linalg.eigh(0.5 * (C + C.T))
    Q = Q[:, ::-1]
    sign = jnp.sign(jnp.linspace(1.0, 2.0, C.shape[0]) @ Q)
    return Q * jnp.where(sign == 0, 1.0, sign)


def _fields(
    state: tuple[Array, Array], Z: Array, axes: Array, params: Array
) -> tuple[Array, Array]:
    r"""Sample side of the closure: :math:`\bar A` and the fields :math:`\xi = Z P^\top S`, with
    :math:`S = \sqrt{\delta C_r}` and the fixed orthogonal ``axes`` :math:`P` (the identity:
    the symmetric root)."""
    B, C_delta = state
    A, C_r = _sample_side(B, C_delta, params[3])
    return A, Z @ (axes.T @ _sym_sqrt(params[0] * C_r))


@partial(jax.jit, static_argnames=("scheme", "linear", "theta"))
def _update(
    state: tuple[Array, Array],
    Z: Array,
    axes: Array,
    beta_star: Array,
    times: Array,
    params: Array,
    scheme: str,
    linear: bool,
    theta: float,
) -> tuple[Array, Array]:
    """One closure map (B, C_delta) -> (E rho, E dbeta dbeta^T)."""
    run = process(scheme, linear=linear, theta=theta)
    A, xi = _fields(state, Z, axes, params)
    dbeta, rho = run(A, xi, beta_star, jnp.diff(times), times, params)
    return jnp.mean(rho, axis=1), dbeta.T @ dbeta / Z.shape[0]


def _extend(state: tuple[Array, Array], K: int) -> tuple[Array, Array]:
    """Warm start on a longer horizon ``K``: the response of new times to old kicks copies
    the last row, new correlations are edge-extended (the state frozen at the old horizon)."""
    B, C = (np.asarray(a) for a in state)
    K0 = B.shape[0]
    B1 = np.zeros((K, K))
    B1[:K0, :K0] = B
    B1[K0:, :K0] = B[-1]
    return jnp.asarray(B1), jnp.asarray(np.pad(C, (0, K - K0), mode="edge"))


def _horizons(K: int, warm_start: bool) -> list[int]:
    """Prefix horizons solved in turn: K/4, K/2, K (causality: a prefix is a solution)."""
    if not warm_start or K < 64:
        return [K]
    return [K // 4, K // 2, K]


def dmft_grid(times: np.ndarray | None, steps: int | None, dt: float | None) -> np.ndarray:
    """The DMFT time grid: ``times`` as given, or ``dt * arange(steps + 1)``."""
    if times is None:
        if steps is None or dt is None or steps < 1 or not dt > 0:
            raise ValueError("times: give a grid, or steps >= 1 and dt > 0")
        return dt * np.arange(steps + 1)
    if steps is not None or dt is not None:
        raise ValueError("times: give either times or (steps, dt), not both")
    times = np.asarray(times, dtype=np.float64)
    ok = times.ndim == 1 and times.size >= 2 and np.all(np.isfinite(times)) and times[0] == 0
    if not ok or np.any(np.diff(times) <= 0):
        raise ValueError("times: must be finite and increasing from 0, with at least 2 points")
    return times


def dln_dmft(
    delta: float,
    alpha: float,
    *,
    lam: float = 0.0,
    rho: float = 0.2,
    sigma: float = 0.1,
    steps: int | None = None,
    dt: float | None = None,
    times: np.ndarray | None = None,
    scheme: str = "gd",
    theta: float = 0.5,
    copies: int = 2000,
    seed: int = 0,
    damping: float = 0.5,
    anderson: int = 5,
    tol: float = 1e-6,
    max_iter: int = 200,
    warm_start: bool = False,
    callback: Callable[[int, float], None] | None = None,
    linear: bool = False,
    sampler: str = "mc",
    replicas: int = 1,
    rtol: float | None = None,
    max_replicas: int = 64,
    discretization_error: bool = True,
) -> DLNDMFT:
    r"""Solve the DMFT of a diagonal linear network on a time grid (module docstring).

    Args:
        delta: :math:`n/d > 0`.
        alpha: initialization scale :math:`> 0`.
        lam: weight decay :math:`\lambda \ge 0`.
        rho: teacher density in (0, 1] (:math:`\mathbb E\beta^{*2} = \rho`).
        sigma: label-noise standard deviation.
        steps, dt: a uniform grid :math:`t_k = k\,dt`, :math:`k \le` ``steps``; or
        times: any increasing grid from 0 (e.g. :func:`flow_grid`); step ``k`` is
            :math:`\eta_k = t_{k+1} - t_k`.
        scheme: ``"gd"``, gradient descent on :math:`(u, v)` with steps :math:`\eta_k` (the
            simulated algorithm, exactly); ``"flow"``, gradient flow by the
            :math:`\theta`-scheme in the mirror variable (A-stable: long horizons and large
            :math:`\alpha` on coarse geometric grids; error :math:`O(\eta^2)` at
            :math:`\theta = 1/2`). See :mod:`lindyn.theory._dln_processes`.
        theta: implicitness of the ``"flow"`` scheme, in [0, 1] (unused by ``"gd"``).
        copies: Monte-Carlo copies :math:`M` of the single-coordinate process (>= K + 2).
        seed: seed of the common random numbers (``"mc"``: the Gaussian draws; ``"rqmc"``: the
            scrambling of the Sobol' points).
        damping, anderson, tol, max_iter, callback: passed to :func:`damped_fixed_point`
            (Anderson depth 5 halves the iterations of plain damping: 18 against 33 at
            ``K = 101``, ``M = 2000``).
        warm_start: solve the prefixes of ``K/4`` and ``K/2`` grid points first and extend
            each converged prefix to the next horizon (the DMFT is causal, so a prefix of the
            solution solves the prefix problem). Measured at ``K = 101``: 24 instead of 33
            final iterations, but no wall-time gain once each horizon's compilation is paid.
        linear: solve the linear model :math:`\beta = \theta` instead (:math:`\varphi \equiv 1`,
            the sanity reduction of §2.8, whose answer is a Marchenko–Pastur integral).
        sampler: the noise :math:`Z` of the parameter side. ``"mc"``: Gaussian draws with
            matched moments (:func:`matched_noise`) through the symmetric root. ``"rqmc"``:
            randomized quasi-Monte Carlo, scrambled Sobol' points that also carry the teacher
            quantile (:func:`sobol_noise`), through the root
            :math:`\xi = Z P^\top\sqrt{\delta C_r}` whose column ``j`` of :math:`Z` drives the
            ``j``-th principal axis of the field: :math:`P` holds the eigenvectors of
            :math:`\delta C_r` at a first solve with the symmetric root to ``PILOT_TOL``, and
            stays fixed while the solve continues to ``tol`` (axes recomputed at every
            iteration jump where eigenvalues cross or signs flip: the iteration then stalled at
            a residual of 5e-6 in one of 8 seeds). Best with ``copies`` a power of 2. Measured on
            figure (a) (``"flow"``, :math:`\delta = 0.5`, :math:`\rho = 0.2`,
            :math:`\sigma = 0.1`, to :math:`t = 30`, ``K = 140``), the largest relative spread
            of the test error over seeds at :math:`\alpha = 0.05` is 2.6 / 2.0 / 0.8 % at
            ``M = 1024 / 2048 / 4096`` (12-16 seeds) against 5.1 / 4.9 / 2.8 % with ``"mc"``
            (1.4 % at ``M = 16384``): 1 % at about ``M = 3400`` instead of 32 000. The seed
            means agree with ``"mc"`` at ``M = 16384``: 0.9-1.2 standard errors (rms over time,
            at most 2.2 at one time) and at most 1.1 %, as close as ``"mc"`` at ``M <= 4096``
            is. At :math:`\alpha = 1`, where ``"mc"`` is within 1 % already: 0.2 % with both
            at ``M = 1024``, 0.1 % against 0.2 % at 2048. The first solve adds about 3
            iterations at :math:`\alpha = 0.05` (26 against 23 in all), none at
            :math:`\alpha = 1`. Other ``copies`` did about as well as the power of 2 below
            them (``M = 3000`` as 2048, at ``K = 44``). The default stays ``"mc"``, whose
            results existing configurations reproduce (``benchmarks/dln_dmft.py`` measures
            both).
        replicas: independent solves of ``copies`` copies each (replica 0 with ``seed``, the
            others with seeds drawn from it), averaged; with ``replicas >= 2`` the result
            carries the curves' sampling errors from the spread of the replicas, calibrated
            for their number (Student's t). A replica reuses the compiled closure, so the
            extra cost is the iterations only (0.4 s against a 22 s first solve at
            ``K = 31``, ``M = 800``). The error is the Monte-Carlo spread; the bias of a finite
            ``M`` is not in it: measured at ``K = 31`` (``dln`` quick config) against
            :math:`M = 16000`, it is 2.4 % / 1.5 % at ``M = 100 / 200`` (3-6 copies per grid
            point) and below the spread (0.3 %, 0.2 %, 0.04 %) from ``M = 400`` on (13 copies
            per point): with fewer copies per grid point the error understates the gap to
            :math:`M \to \infty`.
        rtol: a target relative accuracy (:attr:`DLNDMFT.accuracy`): replicas are added,
            from ``max(replicas, 4)``, until the calibrated error of both curves is below
            ``rtol`` times the curve at every time, or ``max_replicas`` is reached (the result
            then says which accuracy it reached). The error of R replicas falls as
            :math:`1/\sqrt R` (the replicas are independent); each step asks for the
            replicas that rate predicts, plus 10 %.
        max_replicas: the cap of ``rtol`` (time: each replica costs about one solve's
            iterations).
        discretization_error: with ``"flow"`` and ``replicas >= 2``, solve the same replicas
            on every other grid point too and carry the Richardson estimate of the grid's
            error (:mod:`lindyn.theory._richardson`; about a third more time). It enters
            :attr:`DLNDMFT.accuracy`, so an ``rtol`` the grid cannot meet is reported as
            unmet: replicas do not lower it, a smaller ``dt`` does.

    Returns:
        :class:`DLNDMFT`; ``solve.status`` says whether the final iteration converged.

    Raises:
        ValueError: a bad grid, scheme, theta, sampler or number of replicas.
    """
    validate(
        [
            ("replicas", replicas, isinstance(replicas, int) and replicas >= 1, "an integer >= 1"),
            ("rtol", rtol, rtol is None or 0 < rtol < 1, "None or in (0, 1)"),
            ("max_replicas", max_replicas, max_replicas >= max(replicas, 4), ">= replicas and 4"),
        ]
    )
    options = dict(
        lam=lam, rho=rho, sigma=sigma, steps=steps, dt=dt, times=times, scheme=scheme,
        theta=theta, copies=copies, damping=damping, anderson=anderson, tol=tol,
        max_iter=max_iter, warm_start=warm_start, callback=callback, linear=linear,
        sampler=sampler,
    )  # fmt: skip
    if rtol is not None:  # from 4: the calibrated error of 2 replicas is 6.5 of their s.e.
        replicas = max(replicas, 4)
    solves = [_solve(delta, alpha, seed=s, **options) for s in replica_seeds(seed, replicas)]
    result = solves[0] if replicas == 1 else _average(solves)
    while (
        rtol is not None
        and result.solve.status == "converged"  # a failed replica is reported, not repeated
        and not result.accuracy <= rtol
        and len(solves) < max_replicas
    ):
        wanted = math.ceil(1.1 * len(solves) * (result.accuracy / rtol) ** 2)
        more = replica_seeds(seed, min(max(wanted, len(solves) + 1), max_replicas))
        solves += [_solve(delta, alpha, seed=s, **options) for s in more[len(solves) :]]
        result = _average(solves)
    if discretization_error and scheme == "flow" and result.replicas >= 2 and result.times.size > 2:
        result = _with_discretization_error(result, delta, alpha, seed, options)
    return result


def _with_discretization_error(
    result: DLNDMFT, delta: float, alpha: float, seed: int, options: dict
) -> DLNDMFT:
    r"""``result`` with the Richardson error of its grid: the same replica seeds and copies on
    :func:`coarsen` of the grid; the worse of the two solves' statuses. The noise's draws
    follow the grid's shape, so the two solves' sampling noises are independent and the
    difference holds them too: where sampling dominates, the estimate is about that noise's
    size (the total error then overstates, by at most :math:`\sqrt 3` at equal sizes)."""
    grid = result.times
    coarse_grid = coarsen(grid)
    options = options | {"times": coarse_grid, "steps": None, "dt": None}
    seeds = replica_seeds(seed, result.replicas)
    coarse = _average([_solve(delta, alpha, seed=s, **options) for s in seeds])
    return dataclasses.replace(
        result,
        solve=_worst([result, coarse]).solve,
        iterations=result.iterations + coarse.iterations,
        train_loss_disc=richardson_error(grid, result.train_loss, coarse_grid, coarse.train_loss),
        test_error_disc=richardson_error(grid, result.test_error, coarse_grid, coarse.test_error),
    )


def replica_seeds(seed: int, replicas: int) -> list[int]:
    """``seed`` and ``replicas - 1`` seeds drawn from it (independent streams).

    Example:
        >>> replica_seeds(0, 1), len(set(replica_seeds(0, 4)))
        ([0], 4)
    """
    drawn = np.random.SeedSequence(seed).generate_state(max(replicas - 1, 0), dtype=np.uint32)
    return [seed, *(int(s) & 0x7FFFFFFF for s in drawn)]


def _average(solves: list[DLNDMFT]) -> DLNDMFT:
    """The mean of independent solves, with the calibrated error of the curves."""
    worst = _worst(solves)
    curves = {k: np.stack([getattr(s, k) for s in solves]) for k in ("train_loss", "test_error")}
    return DLNDMFT(
        times=solves[0].times,
        train_loss=curves["train_loss"].mean(axis=0),
        test_error=curves["test_error"].mean(axis=0),
        C_delta=np.mean([s.C_delta for s in solves], axis=0),
        B=np.mean([s.B for s in solves], axis=0),
        solve=worst.solve,
        iterations=sum(s.iterations for s in solves),
        replicas=len(solves),
        train_loss_err=np.asarray(calibrated_error(curves["train_loss"], 0)),
        test_error_err=np.asarray(calibrated_error(curves["test_error"], 0)),
    )


def _worst(solves: list[DLNDMFT]) -> DLNDMFT:
    """The solve with the worst status (converged < max_iter < diverged < anything else)."""
    order = {"converged": 0, "max_iter": 1, "diverged": 2}
    return max(solves, key=lambda s: order.get(s.solve.status, 3))


def _solve(
    delta: float,
    alpha: float,
    *,
    lam: float,
    rho: float,
    sigma: float,
    steps: int | None,
    dt: float | None,
    times: np.ndarray | None,
    scheme: str,
    theta: float,
    copies: int,
    seed: int,
    damping: float,
    anderson: int,
    tol: float,
    max_iter: int,
    warm_start: bool,
    callback: Callable[[int, float], None] | None,
    linear: bool,
    sampler: str,
) -> DLNDMFT:
    """One solve of :func:`dln_dmft` (its arguments)."""
    grid = dmft_grid(times, steps, dt)
    validate(
        [
            ("delta", delta, delta > 0, "> 0"),
            ("alpha", alpha, alpha > 0, "> 0"),
            ("lam", lam, lam >= 0, ">= 0"),
            ("rho", rho, 0 < rho <= 1, "in (0, 1]"),
            ("sigma", sigma, sigma >= 0, ">= 0"),
            ("scheme", scheme, scheme in ("gd", "flow"), "'gd' or 'flow'"),
            ("theta", theta, 0 <= theta <= 1, "in [0, 1]"),
            ("copies", copies, copies >= grid.size + 2, f">= grid points + 2 = {grid.size + 2}"),
            ("sampler", sampler, sampler in SAMPLERS, "'mc' or 'rqmc'"),
        ]
    )
    K = grid.size
    beta_star = quadrature_teacher(copies, rho)
    if sampler == "mc":
        Z = matched_noise(jax.random.key(seed), copies, K - 1, beta_star)
    else:
        Z = sobol_noise(seed, copies, K - 1, beta_star)
    params = jnp.asarray([delta, alpha, lam, sigma], dtype=jnp.float64)

    def fixed_point(state: tuple[Array, Array], axes: Array, tol: float) -> FixedPointResult:
        h = axes.shape[0]
        return damped_fixed_point(
            lambda s: _update(
                s, Z[:, :h], axes, beta_star, jnp.asarray(grid[:h]), params, scheme, linear, theta
            ),
            _extend(state, h),
            damping=damping,
            anderson=anderson,
            tol=tol,
            max_iter=max_iter,
            callback=callback,
        )

    state = (jnp.zeros((1, 1)), jnp.full((1, 1), float(jnp.mean(beta_star**2))))
    total = 0
    pilot = sampler == "rqmc"  # the symmetric root first, to fix the principal axes
    for horizon in _horizons(K, warm_start):
        solve = fixed_point(state, jnp.eye(horizon), max(tol, PILOT_TOL) if pilot else tol)
        state, total = solve.value, total + solve.iterations
    if pilot:
        _, C_r = _sample_side(*state, sigma)
        solve = fixed_point(state, principal_axes(delta * C_r), tol)
        state, total = solve.value, total + solve.iterations
    B, C_delta = (np.asarray(a) for a in state)
    _, C_r = _sample_side(jnp.asarray(B), jnp.asarray(C_delta), sigma)
    return DLNDMFT(
        times=grid,
        train_loss=0.5 * np.diag(np.asarray(C_r)),
        test_error=np.diag(C_delta).copy(),
        C_delta=C_delta,
        B=B,
        solve=solve,
        iterations=total,
    )
