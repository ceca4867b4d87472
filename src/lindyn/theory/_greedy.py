r"""The greedy low-rank algorithm: the :math:`\sigma \to 0` saddle sequence of any matrix cost.

Jacot et al. (2021, arXiv 2106.15933) conjecture that a deep linear network from vanishing
initialisation visits saddles of rank 0, 1, 2, ...; each leg adds one hidden unit along the
fastest escape direction of the last saddle, the top singular pair of :math:`-\nabla C`
(the README's saddle notes §3.2–3.4; the same idea as Li, Luo & Lyu's greedy low-rank
learning). For the teacher cost this is Eckart–Young; for matrix completion it is computed
here by gradient flow on networks of width :math:`k = 1, 2, \dots`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from scipy.integrate import solve_ivp

from lindyn.models import DeepLinear
from lindyn.theory._saddle import MatrixCost

__all__ = ["SaddleSequence", "greedy_low_rank"]

MAX_DOUBLINGS = 5


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
            its critical point, or its ODE solver failed; ``residual`` says how far).
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


def _extend(layers: list[np.ndarray], u: np.ndarray, v: np.ndarray, eps: float) -> list[np.ndarray]:
    """Add hidden unit ``k`` to a width-``k-1`` network (spec §3.4): ``W_1[k,:] = eps v``,
    ``W_L[:,k] = eps u``, ``W_l[k,k] = eps`` in between, other new entries 0; the map gains
    :math:`\\epsilon^L uv^\\top`."""
    depth = len(layers)
    out = []
    for i, W in enumerate(layers):
        E = np.zeros((W.shape[0] + (i < depth - 1), W.shape[1] + (i > 0)))
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
    r""":math:`\|P_U G\|_F + \|G P_V\|_F` with :math:`G = \nabla C(A)` and :math:`U, V` the
    top-``rank`` singular spaces of ``A``: zero at a critical point of :math:`C` on
    rank-``rank`` matrices (spec §3.1)."""
    if rank == 0:
        return 0.0
    U, _, Vt = np.linalg.svd(A)
    G = np.asarray(cost.grad(A))
    return float(np.linalg.norm(U[:, :rank].T @ G) + np.linalg.norm(G @ Vt[:rank].T))


def _leg_field(
    cost: MatrixCost, shapes: list[tuple[int, int]]
) -> tuple[Callable[[Array], Array], Callable[[Array], tuple[Array, ...]]]:
    r"""The flattened vector field :math:`-\nabla_\theta C(W_L\cdots W_1)` (jitted once per
    leg; an adaptive diffrax solve would compile once per leg and per horizon) and the map from
    the flat vector back to the layers."""
    n_out, n_in = cost.shape
    model = DeepLinear(d_in=n_in, width=shapes[0][0], d_out=n_out, depth=len(shapes))
    cuts = np.cumsum([r * c for r, c in shapes])[:-1]

    def unflatten(x: Array) -> tuple[Array, ...]:
        return tuple(b.reshape(sh) for b, sh in zip(jnp.split(x, cuts), shapes, strict=True))

    @jax.jit
    def field(x: Array) -> Array:
        p = unflatten(x)
        grads = model.pullback(p, cost.grad(model.end_to_end(p)))
        return -jnp.concatenate([g.ravel() for g in grads])

    return field, unflatten


def _flow_leg(
    cost: MatrixCost, layers: list[np.ndarray], horizon: float, rank: int, tol: float
) -> tuple[list[np.ndarray], float, bool]:
    """Gradient flow of ``C(W_L...W_1)`` on the given (narrow) network for ``horizon``, then
    continued for doubling horizons (at most ``MAX_DOUBLINGS`` times) until the tangent residual
    at rank ``rank`` is below ``tol``.

    LSODA (scipy) switches between Adams steps on the plateau and BDF steps once the leg has
    converged, where the flow is stiff (curvature :math:`\\sim L s^{2-2/L}` over a horizon of
    thousands).

    Returns:
        The layers, the final residual, and whether every ODE solve succeeded.
    """
    field, unflatten = _leg_field(cost, [W.shape for W in layers])
    x = np.concatenate([W.ravel() for W in layers])
    residual, solved = np.inf, True
    for _ in range(MAX_DOUBLINGS + 1):
        sol = solve_ivp(
            lambda t, y: np.asarray(field(y)),
            (0.0, horizon),
            x,
            method="LSODA",
            rtol=1e-10,
            atol=1e-14,
        )
        solved = solved and sol.success
        x = sol.y[:, -1]
        out = [np.asarray(W) for W in unflatten(jnp.asarray(x))]
        residual = _tangent_residual(cost, np.linalg.multi_dot(out[::-1]), rank)
        if residual < tol:
            break
        horizon *= 2.0
    return out, residual, solved


def _horizon(rate: float, depth: int, eps: float) -> float:
    r"""First horizon of a leg: :math:`200/s` for :math:`L = 2`, :math:`200 + 3/(s\epsilon^{L-2})`
    beyond (the plateau before the escape lasts :math:`\sim 1/(s\epsilon^{L-2})`; the spec's
    :math:`200 + 3/\epsilon` is shorter than that for :math:`L \ge 4`)."""
    return 200.0 / rate if depth == 2 else 200.0 + 3.0 / (rate * eps ** (depth - 2))


def _check(cost: MatrixCost, depth: int, eps: float, tol: float, max_rank: int) -> None:
    if depth < 2:
        raise ValueError(f"depth: must be >= 2, got {depth}")
    if not (eps > 0 and tol > 0):
        raise ValueError(f"eps, tol: must be > 0, got {eps}, {tol}")
    if not 0 <= max_rank <= min(cost.shape):
        raise ValueError(f"max_rank: must be in [0, {min(cost.shape)}], got {max_rank}")


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
    width-:math:`k` network to its critical point :math:`A_k` (:func:`_horizon`, doubled until
    the tangent residual is below ``flow_tol``: near a low-rank interpolant of a completion
    problem the last leg converges slowly). The stopping rule is relative, unlike the spec's
    absolute one, so that it does not depend on the scale of the target.

    Args:
        cost: the matrix cost.
        depth: :math:`L \ge 2`.
        eps: scale of each new unit (default ``1e-4`` for :math:`L = 2`, ``1e-3`` beyond).
        tol: stop when :math:`\|\nabla C(A_k)\|_{op} <` ``tol`` :math:`\|\nabla C(0)\|_{op}` (a
            global minimum of rank k, up to the slow last leg of a completion problem).
        max_rank: rank budget (default ``min(n_L, n_0)``).
        flow_tol: largest accepted tangent residual (:func:`_tangent_residual`) at a saddle,
            relative to :math:`\max(1, \max|A^*|)`.

    Returns:
        The :class:`SaddleSequence`; a zero gradient at the origin gives the rank-0 sequence.

    Example:
        >>> seq = greedy_low_rank(MatrixCost.teacher(np.diag([2.0, 1.0])), 2)
        >>> seq.status, np.round(seq.losses, 6).tolist()
        ('converged', [2.5, 0.5, 0.0])
    """
    eps = (1e-4 if depth == 2 else 1e-3) if eps is None else eps
    max_rank = min(cost.shape) if max_rank is None else max_rank
    _check(cost, depth, eps, tol, max_rank)
    n_out, n_in = cost.shape
    layers = [np.zeros((0, n_in)), *[np.zeros((0, 0))] * (depth - 2), np.zeros((n_out, 0))]
    accept = flow_tol * max(1.0, float(np.abs(cost.target).max()))
    matrices, rates, residual, status = [np.zeros(cost.shape)], [], 0.0, "max_rank"
    for k in range(1, max_rank + 2):
        U, S, Vt = np.linalg.svd(-np.asarray(cost.grad(matrices[-1])))
        rates.append(float(S[0]))
        if S[0] <= tol * rates[0]:
            status = "converged"
            break
        if k > max_rank:
            break
        leg = _extend(layers, U[:, 0], Vt[0], eps)
        layers, leg_residual, solved = _flow_leg(cost, leg, _horizon(S[0], depth, eps), k, accept)
        matrices.append(np.linalg.multi_dot(layers[::-1]))
        residual = max(residual, leg_residual)
        if leg_residual >= accept or not solved:
            status = "flow_failed"
            rates.append(float(np.linalg.norm(np.asarray(cost.grad(matrices[-1])), 2)))
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
