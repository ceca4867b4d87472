r"""DMFT of deep linear networks trained from random initialisation (Bordelon & Pehlevan 2025).

The README's deep notes (arXiv:2502.02531, re-derived there). Normalisation (§1):
inputs :math:`x \sim \mathcal N(0, \Sigma)` in :math:`\mathbb R^D`, :math:`P = \alpha D` samples,
width :math:`N = \nu D`, teacher :math:`y = \beta_\star\cdot x/\sqrt D + \sigma\epsilon`,
:math:`h^1 = W^0x/\sqrt D`, :math:`h^{\ell+1} = W^\ell h^\ell/\sqrt N` (or
:math:`h^\ell + \beta_{\rm res}W^\ell h^\ell/\sqrt N` in a residual block),
:math:`f = \frac{\sqrt D}{\gamma_0N}w\cdot h^{\rm last}`, all weights :math:`\mathcal N(0, 1)`,
gradient descent with the raw learning rate :math:`\eta\gamma_0^2N` on
:math:`\hat{\mathcal L} = \frac1{2P}\sum_\mu(y_\mu - f(x_\mu))^2`; test loss
:math:`\mathcal L = \frac12\mathbb E(y - f)^2`. Time is the step count :math:`t = 0..T`
(gradient-flow time :math:`\eta t`). This is :class:`lindyn.models.DeepLinear` with
``parameterization="mup"`` (or ``"ntk"``, ``gamma0`` :math:`= \bar\gamma`), ``depth = L + 1``
weight matrices (non-residual) or ``L + 2`` (``L`` residual blocks).

The proportional limit :math:`D, P, N \to \infty` is a closed system of :math:`(T{+}1)^2`
kernels (§2): the data side (:mod:`lindyn.theory._deep_dmft_data`) and the hidden layers
(:mod:`lindyn.theory._deep_dmft_layers`), coupled through
:math:`K = \eta\,\Theta\circ C_g^1 + \gamma_0^{-1}R_g^1`, :math:`C_{\beta^0} = c_0C_g^1`,
:math:`C_v` and :math:`R_{v\xi}`. It is solved as in §3.2
(:mod:`lindyn.theory._deep_dmft_solver`): horizons grown by ``chunk`` steps,
each warm-started from the last (correlations edge-extended, responses shifted by one step,
the time-translation guess), then Picard sweeps (data side, then layers in Gauss–Seidel
order) until the relative change is below ``tol``. One sweep on the whole horizon from a lazy
guess overflows for :math:`L \ge 2` (the §3.2 pitfall: the map is causal but its transient
grows geometrically), hence the chunks; a chunk that still blows up is retried shorter.

NumPy, not JAX: the work is a sequential iteration with a data-dependent stop and a
divergence check after every sweep, on dense matrices whose size changes with every horizon
(a new compilation per shape under ``jit``), and its cost is LAPACK inverses and BLAS products
that NumPy calls directly; there is nothing to ``vmap`` inside one solve.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from lindyn.theory._checks import validate
from lindyn.theory._deep_dmft_data import Modes, Sampling
from lindyn.theory._deep_dmft_limits import BRANCHES, branch_scale, deep_two_layer_recursion
from lindyn.theory._deep_dmft_solver import BLOW_UP, DeepDMFT, Problem, Progress, solve

__all__ = ["DeepDMFT", "deep_dmft", "deep_dmft_memory"]

LAZY_GAMMA0 = 1e-4  # effective gamma0 of the NTK parameterization at nu = inf (§7)


def _richness(gamma0: float, nu: float, param: str) -> tuple[float, float, float]:
    r"""Effective :math:`(\gamma_0, c_0, r_x)` (§1.2, §7): μP keeps :math:`\gamma_0` and drops the
    :math:`1/\nu` terms at :math:`\nu = \infty`; NTK has :math:`\gamma_0 = \bar\gamma/\sqrt\nu`
    and keeps :math:`c_0 = 1/\bar\gamma^2`, with :math:`\gamma_0 \to 10^{-4}`,
    :math:`r_x \to 0` at :math:`\nu = \infty`."""
    if param == "ntk":
        g0 = LAZY_GAMMA0 if math.isinf(nu) else gamma0 / math.sqrt(nu)
        return g0, 1.0 / gamma0**2, 0.0 if math.isinf(nu) else 1.0 / (g0 * nu)
    if math.isinf(nu):
        return gamma0, 0.0, 0.0
    return gamma0, 1.0 / (gamma0**2 * nu), 1.0 / (gamma0 * nu)


def _finite_positive(name: str, value: float) -> tuple[str, object, bool, str]:
    return (name, value, bool(value > 0 and math.isfinite(value)), "> 0 and finite")


def _finite_nonnegative(name: str, value: float) -> tuple[str, object, bool, str]:
    return (name, value, bool(value >= 0 and math.isfinite(value)), ">= 0 and finite")


def _check_spectrum(spectrum: tuple[np.ndarray, np.ndarray] | None) -> Modes:
    if spectrum is None:
        return Modes.isotropic()
    lam, b = (np.asarray(a, np.float64) for a in spectrum)
    shapes = f"{lam.shape} and {b.shape}"
    validate(
        [
            (
                "spectrum",
                shapes,
                lam.ndim == 1 and lam.shape == b.shape and lam.size > 0,
                "two non-empty 1-D arrays of equal shape",
            ),
            (
                "spectrum",
                "lam",
                bool(np.all(np.isfinite(lam)) and np.all(lam > 0)),
                "eigenvalues lam > 0 and finite",
            ),
            (
                "spectrum",
                "b",
                bool(np.all(np.isfinite(b)) and np.all(b >= 0)),
                "teacher powers b >= 0 and finite",
            ),
        ]
    )
    return Modes.from_spectrum(lam, b)


def _validate(args: dict) -> None:
    """One-line ``ValueError`` naming the first bad argument of :func:`deep_dmft`."""
    alpha, nu, L, steps, protocol = (args[k] for k in ("alpha", "nu", "L", "steps", "protocol"))
    batch = args["batch_ratio"]
    validate(
        [
            ("alpha", alpha, alpha > 0, "> 0 (math.inf allowed)"),
            ("nu", nu, nu > 0, "> 0 (math.inf allowed)"),
            ("L", L, isinstance(L, Integral) and L >= 1, "an integer >= 1"),
            _finite_positive("gamma0", args["gamma0"]),
            _finite_positive("eta", args["eta"]),
            ("steps", steps, isinstance(steps, Integral) and steps >= 1, "an integer >= 1"),
            _finite_nonnegative("sigma", args["sigma"]),
            ("param", args["param"], args["param"] in ("mup", "ntk"), "'mup' or 'ntk'"),
            ("protocol", protocol, protocol in ("full", "sgd"), "'full' or 'sgd'"),
            (
                "batch_ratio",
                batch,
                protocol == "full" or (batch is not None and batch > 0),
                "> 0 with protocol='sgd'",
            ),
            ("batch_ratio", batch, protocol == "sgd" or batch is None, "None with protocol='full'"),
            _finite_nonnegative("beta0", args["beta0"]),
            ("branch", args["branch"], args["branch"] in BRANCHES, "'sqrt_depth' or 'constant'"),
            (
                "chunk",
                args["chunk"],
                isinstance(args["chunk"], Integral) and args["chunk"] >= 1,
                "an integer >= 1",
            ),
            _finite_positive("tol", args["tol"]),
            ("max_sweeps", args["max_sweeps"], args["max_sweeps"] >= 1, ">= 1"),
            ("memory_limit", args["memory_limit"], args["memory_limit"] > 0, "> 0"),
        ]
    )


def _problem(args: dict) -> Problem:
    gamma0, c0, rx = _richness(args["gamma0"], args["nu"], args["param"])
    residual, L = args["residual"], args["L"]
    return Problem(
        L=L,
        eta=args["eta"],
        gamma0=gamma0,
        c0=c0,
        rx=rx,
        residual=residual,
        beta=branch_scale(L, args["beta0"], args["branch"]) if residual else 1.0,
        modes=_check_spectrum(args["spectrum"]),
        sampling=Sampling(args["alpha"], args["batch_ratio"], args["sigma"]),
    )


def deep_dmft_memory(*, L: int, steps: int, residual: bool = False, modes: int = 1) -> int:
    r"""Bytes of the arrays one DMFT solve holds at its last horizon ``n = steps + 1``.

    :math:`8n^2` bytes per dense kernel: 12 per layer (the previous sweep's 4, the new 4 and
    their stacking), about 24 on the data side, 6 stacks of per-mode transfer functions, and
    for residual networks 6 block matrices of side :math:`2(L{+}1)n` (:math:`M`, :math:`I - M`,
    :math:`\Phi` and the noise products). Within 40 % of the peak measured by ``tracemalloc``
    at ``T = 30..100``, ``L = 2..8`` and 300 modes.

    Example:
        >>> round(deep_dmft_memory(L=2, steps=99) / 2**20, 2)
        5.04
    """
    n = steps + 1
    kernels = 12 * (L + 1) + 24 + 6 * modes
    block = 2 * (L + 1) * n if residual else 0
    return 8 * (kernels * n**2 + 6 * block**2)


def _two_layer_fast_path(problem: Problem, args: dict) -> DeepDMFT | None:
    r""":func:`deep_two_layer_recursion` where it is exact: ``L = 1``, non-residual, μP,
    :math:`\nu = \alpha = \infty`, full-batch; ``None`` elsewhere."""
    exact = problem.L == 1 and not problem.residual and args["param"] == "mup"
    exact = exact and math.isinf(args["nu"]) and math.isinf(args["alpha"])
    if not exact or args["protocol"] != "full":
        return None
    steps, sigma = args["steps"], args["sigma"]
    test = deep_two_layer_recursion(
        gamma0=args["gamma0"],
        eta=args["eta"],
        steps=steps,
        sigma=sigma,
        spectrum=args["spectrum"],
    )
    bad = np.flatnonzero(~np.isfinite(test) | (2 * test - sigma**2 > BLOW_UP))
    status, message = "converged", "converged: exact two-layer recursion (L = 1, nu = alpha = inf)"
    if bad.size:
        test[bad[0] :] = np.nan
        status, message = "diverged", f"diverged at t = {bad[0]} (two-layer recursion)"
    if args["progress"] is not None:
        args["progress"]("deep DMFT", steps + 1, steps + 1)
    return DeepDMFT(np.arange(steps + 1), test.copy(), test, status, 0, 0.0, message)


def deep_dmft(
    *,
    alpha: float,
    nu: float,
    L: int,
    gamma0: float,
    eta: float,
    steps: int,
    sigma: float = 0.0,
    param: str = "mup",
    residual: bool = False,
    beta0: float = 1.0,
    branch: str = "sqrt_depth",
    protocol: str = "full",
    batch_ratio: float | None = None,
    spectrum: tuple[np.ndarray, np.ndarray] | None = None,
    chunk: int = 5,
    tol: float = 1e-10,
    max_sweeps: int = 200,
    memory_limit: float = 8 * 2**30,
    progress: Progress | None = None,
) -> DeepDMFT:
    r"""Train and test loss of a deep linear network in the proportional limit (module docstring).

    Solves spec §2.3 (repeated data), §2.4 (one-pass SGD), §2.5 (any spectrum) and §2.6
    (residual blocks) on the steps ``0..T``. Initial loss
    :math:`\mathcal L(0) = \frac12\big(1 + \sigma^2 + (1+\beta_{\rm res}^2)^{L}/(\gamma_0^2\nu)\big)`
    with the effective :math:`\gamma_0` (:math:`\gamma_0^2\nu = \bar\gamma^2` under NTK; no
    :math:`\beta_{\rm res}` factor without residual blocks). :math:`L = 1` at
    :math:`\nu = \alpha = \infty` under μP uses the exact recursion
    :func:`deep_two_layer_recursion` (no sweeps).

    Args:
        alpha: data ratio :math:`P/D > 0`; ``math.inf`` for the population gradient. Unused by
            ``protocol="sgd"``.
        nu: width ratio :math:`N/D > 0`; ``math.inf`` for infinite width (μP: the :math:`1/\nu`
            terms vanish; NTK: init variance :math:`1/\bar\gamma^2` kept, :math:`\gamma_0 = 10^{-4}`).
        L: hidden layers (non-residual) or residual blocks, ``>= 1``.
        gamma0: richness :math:`\gamma_0` (μP), or :math:`\bar\gamma` (NTK:
            :math:`\gamma_0 = \bar\gamma/\sqrt\nu`).
        eta: learning rate :math:`\eta > 0` (raw rate :math:`\eta\gamma_0^2N`).
        steps: ``T >= 1``.
        sigma: label noise :math:`\sigma \ge 0`.
        param: ``"mup"`` or ``"ntk"``.
        residual: ``L`` residual blocks with branch scale ``beta0 / sqrt(L)``
            (``branch="sqrt_depth"``) or ``beta0`` (``"constant"``).
        protocol: ``"full"`` (the same ``P`` samples every step) or ``"sgd"`` (a fresh batch
            of ``batch_ratio * D`` samples every step; train loss = test loss).
        spectrum: ``(lam, b)``, ``(D,)`` each: eigenvalues of :math:`\Sigma` and teacher powers
            :math:`\mathbb E\beta_{\star k}^2` (§2.5 normalises
            :math:`\frac1D\sum\lambda_k = \frac1D\sum\lambda_kb_k = 1`); ``None``: isotropic.
        chunk: horizon growth per warm start; tol: relative stopping change; max_sweeps: per
            chunk.
        memory_limit: bytes; a solve whose :func:`deep_dmft_memory` exceeds it is refused.
        progress: called as ``progress("deep DMFT", solved_times, steps + 1)`` per chunk.

    Returns:
        :class:`DeepDMFT`; read ``status`` before the losses.

    Raises:
        ValueError: a bad argument (one line naming it), or a solve above ``memory_limit``.

    Example:
        >>> res = deep_dmft(alpha=2.0, nu=1.0, L=2, gamma0=1.0, eta=0.1, steps=5)
        >>> res.status, [round(float(x), 4) for x in res.test_loss[[0, 1, 2, 5]]]
        ('converged', [1.0, 0.4821, 0.3727, 0.2344])
    """
    args = dict(locals())
    _validate(args)
    problem = _problem(args)
    fast = _two_layer_fast_path(problem, args)
    if fast is not None:
        return fast
    need = deep_dmft_memory(L=L, steps=steps, residual=residual, modes=problem.modes.count)
    if need > memory_limit:
        raise ValueError(
            f"steps: the DMFT at steps={steps} needs about {need / 2**30:.3g} GiB, above "
            f"memory_limit={memory_limit / 2**30:.3g} GiB"
        )
    return solve(problem, steps, chunk, tol, max_sweeps, progress)
