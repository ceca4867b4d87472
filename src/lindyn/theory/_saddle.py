r"""The saddle-to-saddle sequence of deep linear networks from small initialisation.

Setting (Jacot et al. 2021, in the notation of ``shared/theory/saddle.md`` §1): a depth-:math:`L`
linear network :math:`A_\theta = W_L\cdots W_1` trained by gradient flow on a cost
:math:`C(A) = \frac12\sum_{(i,j)\in\Omega}(A_{ij} - A^*_{ij})^2` (:class:`MatrixCost`; the
teacher cost :math:`\frac12\|A - A^*\|_F^2` is the full mask), from entries i.i.d.
:math:`\mathcal N(0, \sigma^2)`. As :math:`\sigma \to 0` the flow visits saddles whose maps have
rank 0, 1, 2, ... (spec §3.4):

* **teacher cost** — the rank-:math:`k` saddle is the best rank-:math:`k` approximation
  (Eckart–Young), on a plateau of loss :math:`\frac12\sum_{i>k}s_i^2` (:func:`teacher_plateaus`,
  spec §3.5); the balanced layers carry singular values :math:`s_i^{1/L}`
  (:func:`balanced_layer_spectrum`, spec §3.1);
* **any cost** (matrix completion) — the greedy rank-one-at-a-time algorithm
  (:func:`greedy_low_rank`, spec §3.4): escape from the last saddle along the top singular
  pair of :math:`-\nabla C`, then flow the width-:math:`k` network to its next critical point.

Time (spec §3.2, §3.6): a mode of target strength :math:`s` in a balanced aligned network obeys
:math:`\dot a = L\,a^{2-2/L}(s - a)` (:func:`balanced_mode`); its jump comes at
:math:`\frac1{2s}\ln\frac{s}{w\sigma^2}` for :math:`L = 2` and :math:`\propto\sigma^{-(L-2)}` for
:math:`L \ge 3` (:func:`jump_time`). In the lazy regime (:math:`\gamma < 1`) the loss decays at
rate :math:`2L(w\sigma^2)^{L-1}` instead (:func:`lazy_rate`, spec §1.4 item 5).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import cumulative_simpson, solve_ivp

from lindyn.models import DeepLinear

__all__ = [
    "MatrixCost",
    "SaddleSequence",
    "balanced_mode",
    "balanced_layer_spectrum",
    "greedy_low_rank",
    "jump_time",
    "lazy_rate",
    "teacher_plateaus",
]


@dataclasses.dataclass(frozen=True)
class MatrixCost:
    r""":math:`C(A) = \frac12\sum_{ij} m_{ij}(A_{ij} - A^*_{ij})^2` with a 0/1 ``mask`` :math:`m`
    (all ones: the teacher cost :math:`\frac12\|A - A^*\|_F^2`; else matrix completion on the
    observed set :math:`\Omega = \{m_{ij} = 1\}`). Works on NumPy and JAX arrays."""

    target: np.ndarray
    mask: np.ndarray

    @classmethod
    def teacher(cls, target: np.ndarray) -> MatrixCost:
        """The full-mask (teacher) cost."""
        target = np.asarray(target, np.float64)
        return cls(target, np.ones_like(target))

    def value(self, A):
        return 0.5 * jnp.sum(self.mask * (A - self.target) ** 2)

    def grad(self, A):
        return self.mask * (A - self.target)

    @property
    def shape(self) -> tuple[int, int]:
        return self.target.shape


def teacher_plateaus(s: np.ndarray) -> np.ndarray:
    r"""Plateau losses :math:`\frac12\sum_{i>k}s_i^2`, :math:`k = 0, \dots, r` (spec §3.5).

    Args:
        s: target singular values, decreasing, shape ``(r,)``.
    """
    s = np.asarray(s, np.float64)
    tails = np.cumsum((s**2)[::-1])[::-1]
    return 0.5 * np.append(tails, 0.0)


def balanced_layer_spectrum(s: np.ndarray, depth: int) -> np.ndarray:
    r"""Singular values :math:`s_i^{1/L}` of every layer of a balanced network with map
    singular values ``s`` (spec §3.1: :math:`W_\ell = O_\ell\Sigma^{1/L}O_{\ell-1}^\top`)."""
    return np.asarray(s, np.float64) ** (1.0 / depth)


def balanced_mode(s: np.ndarray, depth: int, a0: float, times: np.ndarray) -> np.ndarray:
    r"""Strength :math:`a(t)` of balanced aligned modes: :math:`\dot a = L\,a^{2-2/L}(s - a)`,
    :math:`a(0) = a_0` (spec §3.2; :math:`L = 2` is Saxe et al.'s logistic curve).

    Integrated exactly in the logit :math:`y = \ln\frac{a}{s - a}`, where
    :math:`dt/dy = a^{2/L - 1}/(Ls)` is smooth and bounded on :math:`[y_0, \infty)`: a
    cumulative Simpson rule on a fine :math:`y` grid gives :math:`t(y)`, inverted by
    interpolation (relative error below :math:`10^{-7}` at 100 000 nodes).

    Args:
        s: target strengths (> ``a0``), shape ``(k,)``.
        depth: :math:`L \ge 2`.
        a0: initial strength, in (0, min(s)).
        times: increasing times from 0, shape ``(T,)``.

    Returns:
        ``(T, k)``.
    """
    s = np.asarray(s, np.float64)
    if not 0 < a0 < s.min():
        raise ValueError(f"a0: must be in (0, min(s) = {s.min():.4g}), got {a0!r}")
    out = np.empty((np.size(times), s.size))
    for i, si in enumerate(s):
        y0 = np.log(a0 / (si - a0))
        y = np.linspace(y0, 40.0, 100_001)
        a = si / (1.0 + np.exp(-y))
        t = cumulative_simpson(a ** (2.0 / depth - 1.0) / (depth * si), x=y, initial=0.0)
        out[:, i] = si / (1.0 + np.exp(-np.interp(times, t, y, right=40.0)))
    return out


def jump_time(s: np.ndarray, depth: int, width: int, sigma: float) -> np.ndarray:
    r"""Idealised time of the jump of each mode ``s`` from an i.i.d. :math:`\mathcal N(0,\sigma^2)`
    start (spec §2.5, §3.6).

    * :math:`L = 2`: :math:`\frac1{2s}\ln\frac{s}{w\sigma^2}`; exact up to :math:`O(1)/s` as
      :math:`\sigma \to 0` (the aligned component of :math:`(W_2^\top u + W_1v)/2` grows as
      :math:`e^{st}` from squared size :math:`w\sigma^2/2`).
    * :math:`L \ge 3`: :math:`\frac{(\sigma\sqrt w)^{2-L}}{(L-2)\,s}`, the blow-up time of the
      aligned balanced mode with per-layer scale :math:`\sigma\sqrt w`. The exact scaling in
      :math:`\sigma` and :math:`w`; the constant carries an :math:`O(1)` factor of the random
      start (measured 1.08 for :math:`L = 3` at large :math:`w`, spec §2.5).
    """
    s = np.asarray(s, np.float64)
    if depth == 2:
        return np.log(s / (width * sigma**2)) / (2.0 * s)
    return (sigma * np.sqrt(width)) ** (2 - depth) / ((depth - 2) * s)


def lazy_rate(depth: int, width: int, sigma: float) -> float:
    r"""Lazy-regime loss decay rate :math:`2L(w\sigma^2)^{L-1}` of the teacher cost: the NTK
    at init is :math:`L(w\sigma^2)^{L-1}\,\mathrm{Id}` (spec §1.4 item 5)."""
    return 2.0 * depth * (width * sigma**2) ** (depth - 1)


@dataclasses.dataclass(frozen=True)
class SaddleSequence:
    """Output of :func:`greedy_low_rank`.

    Attributes:
        matrices: ``(p+1, n_L, n_0)``, the saddle maps :math:`A_0 = 0, A_1, \\dots, A_p`.
        losses: ``(p+1,)``, :math:`C(A_k)`, decreasing.
        ranks: ``(p+1,)``, ``0, 1, ..., p``.
        escape_rates: ``(p+1,)``, :math:`\\|\\nabla C(A_k)\\|_{op}` (the last is below ``tol``
            relative to the first when ``status == "converged"``).
        status: ``"converged"`` (a critical point with gradient norm below ``tol`` was reached),
            ``"max_rank"`` (rank budget spent) or ``"flow_failed"`` (a leg's flow did not reach
            its critical point; ``residual`` says how far).
        residual: largest tangent-gradient norm :math:`\\|P_U\\nabla C\\| + \\|\\nabla C P_V\\|` at
            the saddles (0 at exact critical points on the rank-k manifold).
    """

    matrices: np.ndarray
    losses: np.ndarray
    ranks: np.ndarray
    escape_rates: np.ndarray
    status: str
    residual: float

    def singular_values(self) -> np.ndarray:
        """``(p+1, min(n_L, n_0))`` singular values of each saddle map."""
        return np.linalg.svd(self.matrices, compute_uv=False)


def _extend(layers: list[np.ndarray], u: np.ndarray, v: np.ndarray, eps: float):
    """Add hidden unit ``k`` to a width-``k-1`` network (spec §3.4): ``W_1[k,:] = eps v``,
    ``W_L[:,k] = eps u``, ``W_l[k,k] = eps`` in between, other new entries 0."""
    depth = len(layers)
    out = []
    for i, W in enumerate(layers):
        rows = W.shape[0] + (i < depth - 1)
        cols = W.shape[1] + (i > 0)
        E = np.zeros((rows, cols))
        E[: W.shape[0], : W.shape[1]] = W
        if i == 0:
            E[-1, :] = eps * v
        elif i == depth - 1:
            E[:, -1] = eps * u
        else:
            E[-1, -1] = eps
        out.append(E)
    return out


def _tangent_residual(cost: MatrixCost, A: np.ndarray, rank: int) -> float:
    r""":math:`\|P_U G\|_F + \|G P_V\|_F` with :math:`G = \nabla C(A)` and :math:`U, V` the top-``rank``
    singular spaces of ``A``: zero at a critical point of :math:`C` on rank-``rank`` matrices."""
    if rank == 0:
        return 0.0
    U, _, Vt = np.linalg.svd(A)
    G = np.asarray(cost.grad(A))
    Uk, Vk = U[:, :rank], Vt[:rank].T
    return float(np.linalg.norm(Uk.T @ G) + np.linalg.norm(G @ Vk))


def _leg_field(cost: MatrixCost, shapes: list[tuple[int, int]]):
    """The flattened vector field :math:`-\nabla_\theta C(W_L\\cdots W_1)`, jitted once per leg
    (a few milliseconds of compilation, against seconds for a whole adaptive solve)."""
    n_out, n_in = cost.shape
    model = DeepLinear(d_in=n_in, width=shapes[0][0], d_out=n_out, depth=len(shapes))
    sizes = np.cumsum([r * c for r, c in shapes])[:-1]

    def unflatten(x):
        return tuple(b.reshape(sh) for b, sh in zip(jnp.split(x, sizes), shapes, strict=True))

    @jax.jit
    def field(x):
        p = unflatten(x)
        return -jnp.concatenate(
            [g.ravel() for g in model.pullback(p, cost.grad(model.end_to_end(p)))]
        )

    return field, unflatten


def _flow_leg(
    cost: MatrixCost, layers: list[np.ndarray], horizon: float, rank: int, tol: float
) -> tuple[list[np.ndarray], float]:
    r"""Gradient flow of ``C(W_L...W_1)`` on the given (narrow) network for ``horizon``, then
    continued for doubling horizons (at most 5 times) until the tangent residual at rank
    ``rank`` is below ``tol``. Returns the layers and the final residual.

    LSODA (scipy) switches between Adams steps on the plateau and BDF steps once the leg has
    converged, where the flow is stiff (curvature :math:`\sim L s^{2-2/L}` over a horizon of
    thousands).
    """
    shapes = [W.shape for W in layers]
    field, unflatten = _leg_field(cost, shapes)
    x = np.concatenate([W.ravel() for W in layers])
    residual = np.inf
    for _ in range(6):
        sol = solve_ivp(
            lambda t, y: np.asarray(field(y)),
            (0.0, horizon),
            x,
            method="LSODA",
            rtol=1e-10,
            atol=1e-14,
        )
        x = sol.y[:, -1]
        out = [np.asarray(W) for W in unflatten(jnp.asarray(x))]
        residual = _tangent_residual(cost, np.linalg.multi_dot(out[::-1]), rank)
        if sol.success and residual < tol:
            break
        horizon *= 2.0
    return out, residual


def greedy_low_rank(
    cost: MatrixCost,
    depth: int,
    *,
    eps: float | None = None,
    tol: float = 1e-3,
    max_rank: int | None = None,
    flow_tol: float = 1e-6,
) -> SaddleSequence:
    r"""The conjectured :math:`\sigma \to 0` saddle sequence (spec §3.4, greedy low rank).

    From :math:`A_0 = 0`: while :math:`M = -\nabla C(A_{k-1})` has :math:`\|M\|_{op} \ge`
    ``tol`` :math:`\|\nabla C(0)\|_{op}`, add one hidden unit along its top singular pair
    :math:`(u, v)` at scale ``eps`` (:func:`_extend`) and run gradient flow of :math:`C` on the
    width-:math:`k` network to its critical point :math:`A_k` (horizon :math:`200/s` for :math:`L = 2`,
    :math:`200 + 3/(s\epsilon^{L-2})` beyond, with :math:`s = \|M\|_{op}`, doubled until the
    tangent residual is below ``flow_tol``: near a low-rank interpolant of a completion problem
    the last leg converges slowly).

    Args:
        cost: the matrix cost.
        depth: :math:`L \ge 2`.
        eps: scale of each new unit (default ``1e-4`` for :math:`L = 2`, ``1e-3`` beyond).
        tol: stop when :math:`\|\nabla C(A_k)\|_{op} <` ``tol`` :math:`\|\nabla C(0)\|_{op}` (a
            global minimum of rank k, up to the slow last leg of a completion problem).
        max_rank: rank budget (default ``min(n_L, n_0)``).
        flow_tol: largest accepted tangent residual (:func:`_tangent_residual`) at a saddle.
    """
    if depth < 2:
        raise ValueError(f"depth: must be >= 2, got {depth}")
    eps = (1e-4 if depth == 2 else 1e-3) if eps is None else eps
    max_rank = min(cost.shape) if max_rank is None else max_rank
    n_out, n_in = cost.shape
    layers = [np.zeros((0, n_in)), *[np.zeros((0, 0))] * (depth - 2), np.zeros((n_out, 0))]
    A = np.zeros(cost.shape)
    matrices, rates, residual = [A], [], 0.0
    status = "max_rank"
    for k in range(1, max_rank + 2):
        U, S, Vt = np.linalg.svd(-np.asarray(cost.grad(A)))
        rates.append(S[0])
        if S[0] < tol * rates[0]:
            status = "converged"
            break
        if k > max_rank:
            break
        horizon = 200.0 / S[0] if depth == 2 else 200.0 + 3.0 / (S[0] * eps ** (depth - 2))
        accept = flow_tol * max(1.0, float(np.abs(cost.target).max()))
        layers, leg_residual = _flow_leg(
            cost, _extend(layers, U[:, 0], Vt[0], eps), horizon, k, accept
        )
        A = np.linalg.multi_dot(layers[::-1])
        residual = max(residual, leg_residual)
        matrices.append(A)
        if leg_residual >= accept:
            status = "flow_failed"
            rates.append(float(np.linalg.norm(np.asarray(cost.grad(A)), 2)))
            break
    mats = np.stack(matrices)
    return SaddleSequence(
        matrices=mats,
        losses=np.array([float(cost.value(M)) for M in mats]),
        ranks=np.arange(len(mats)),
        escape_rates=np.asarray(rates[: len(mats)], np.float64),
        status=status,
        residual=residual,
    )
