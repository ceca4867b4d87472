r"""The single-coordinate effective processes of the diagonal-network DMFT, with their responses.

Each process runs ``M`` Monte-Carlo copies (rows of ``xi``) of one coordinate driven by the
field (the README's dln notes §2.2, §2.7)

.. math:: h_k = \xi_k - \delta\sum_{l\le k}\bar A_{kl}\,(\beta_l - \beta^*),

and returns :math:`\Delta\beta = \beta - \beta^*` ``(M, K)`` and the per-copy responses
:math:`\varrho_{kj} = \partial\beta_k/\partial h_j` ``(K, M, K)`` (feedback through the field
included). Time-major ``rho[l, m, j]``: the memory contraction :math:`\sum_l \bar A_{kl}\varrho_l`
reads contiguous ``(M, K)`` slabs (4x faster than copy-major at ``M = 3000``, ``K = 101``). Both
processes run on :func:`_causal_scan`, which contracts only what causality leaves non-zero, in
blocks of steps whose memory of the earlier blocks is a matrix product: :math:`K^3M/3`
multiply-adds per run instead of :math:`K^3M` (``benchmarks/dln_dmft.py``).

Two time discretizations, both exact at :math:`d \to \infty` for the finite-d scheme they name:

* ``"gd"``: gradient descent on :math:`(u, v)` with steps :math:`\eta_k` (explicit;
  :math:`\bar\varrho` strictly lower triangular);
* ``"flow"``: the :math:`\theta`-scheme of gradient flow in the mirror variable. Exactly,
  :math:`\beta(t) = \alpha_t^2\sinh 2H(t)` with :math:`\dot H = h` and
  :math:`\alpha_t = \alpha e^{-\lambda t}` (§1.5: the weight decay only shrinks the scale), so
  :math:`H_{k+1} = H_k + \eta_k[(1-\theta)h_k + \theta h_{k+1}]` integrates the exponential
  growth of the search phase exactly while the field is constant, and is A-stable: the lazy
  phase at large :math:`\alpha`, whose rate :math:`2\alpha^2(1+\sqrt\delta)^2` forces
  :math:`\eta \lesssim \alpha^{-2}` on gradient descent, costs a few steps of a geometric grid.
  The equal-time field :math:`h_{k+1}` contains :math:`-\delta\bar A_{k+1,k+1}\Delta\beta_{k+1}`, so
  each step solves the scalar monotone equation
  :math:`g\,\alpha_{k+1}^2\sinh 2H + H = \text{rhs}` (:math:`g = \eta_k\theta\delta\bar A_{k+1,k+1}`),
  and :math:`\bar\varrho` gains a diagonal. ``theta = 1/2`` is the trapezoid rule (second order),
  ``theta = 1`` backward Euler (L-stable).

The ``linear`` variants replace :math:`\beta` by a linear parameter :math:`\theta`
(:math:`\varphi \equiv 1`): the sanity reduction of §2.8, a Marchenko–Pastur closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["process", "mirror_update"]

Process = Callable[[Array, Array, Array, Array, Array, Array], tuple[Array, Array]]
# step(k, memory, primal, tangents) -> (primal, tangents, r): one step of a process (_causal_scan)
Step = Callable[[Array, Array, tuple, tuple], tuple[tuple, tuple, Array]]

BLOCK = 8  # steps per block of the causal scan
WIDTHS = 4  # at most this many column widths; each compiles its own scan (about 0.5 s)


class _Group(NamedTuple):
    """``blocks`` consecutive blocks of ``size`` steps from step ``first``, on ``cols`` columns."""

    first: int
    blocks: int
    size: int
    cols: int


def _plan(K: int, block: int, widths: int) -> list[_Group]:
    """The steps ``0 .. K - 2`` in blocks of ``block`` steps, grouped by shape.

    Rows ``l <= e`` of ``rho`` are zero beyond column ``e``, so a block writing the rows up to
    ``e`` needs ``e + 1`` columns; that is rounded up to a multiple of ``K / widths`` (with one width
    per 32 grid points at most), so that consecutive blocks share their shapes and one scan.
    """
    quantum = -(-K // max(1, min(widths, K // 32)))
    groups: list[_Group] = []
    for s in range(0, K - 1, block):
        size = min(block, K - 1 - s)
        cols = min(K, quantum * -(-(s + size + 1) // quantum))
        if groups and groups[-1][2:] == (size, cols):
            groups[-1] = groups[-1]._replace(blocks=groups[-1].blocks + 1)
        else:
            groups.append(_Group(s, 1, size, cols))
    return groups


def _pad(x: Array, cols: int) -> Array:
    """``x`` zero-padded on its last axis to ``cols`` columns."""
    return jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, cols - x.shape[-1])])


def _history(W: Array, past: list[tuple[int, Array]], cols: int) -> Array:
    r"""The memory :math:`\sum_l W_{il}\varrho_l` ``(b, M, cols)`` of the rows ``W`` ``(b, K)`` of
    a block over the rows of ``rho`` held in ``past`` (pairs ``(first row, (n, M, c))``,
    ``c <= cols``), one matrix product each. Rows of ``past`` not yet written are zero."""
    terms = [
        _pad(jnp.tensordot(W[:, first : first + rows.shape[0]], rows, axes=(1, 0)), cols)
        for first, rows in past
    ]
    return sum(terms[1:], terms[0])


def _block(
    step: Step, primal: tuple, tangents: tuple, s: Array, w: Array, history: Array
) -> tuple[tuple, tuple, Array]:
    r"""The ``b`` steps ``s .. s + b - 1`` of a block; returns the state and the block's rows
    ``s + 1 .. s + b`` of ``rho`` ``(b, M, cols)``. Step ``s + i`` gets the memory ``history[i]``
    of the earlier blocks plus :math:`\sum_{i'} w_{ii'}\varrho_{s+1+i'}` over the block's own
    rows, held in a local buffer that is zero until written."""

    def body(carry: tuple, x: tuple) -> tuple[tuple, None]:
        primal, tangents, rows = carry
        i, w_i, history_i = x
        memory = history_i + jnp.tensordot(w_i, rows, axes=(0, 0))
        primal, tangents, r = step(s + i, memory, primal, tangents)
        return (primal, tangents, rows.at[i].set(r)), None

    carry = (primal, tangents, jnp.zeros(history.shape))
    (primal, tangents, rows), _ = jax.lax.scan(body, carry, (jnp.arange(w.shape[0]), w, history))
    return primal, tangents, rows


def _causal_scan(
    step: Step, primal: tuple, tangents: tuple, W: Array, M: int, block: int, widths: int
) -> tuple[tuple, Array]:
    r"""Run ``step`` for ``k = 0 .. K - 2``; return the last primal state and ``rho`` ``(K, M, K)``.

    Step ``k`` receives the memory :math:`m_k = \sum_{l \le k} W_{kl}\varrho_l` ``(M, c)`` and
    returns :math:`\varrho_{k+1}` ``(M, c)``; ``rho[0] = 0``. Contracting only the entries that
    can be non-zero is exact, by causality: at step ``k`` the rows :math:`\varrho_l`, ``l > k``,
    are not yet written (zero), and row ``l`` is zero beyond column ``l`` (no response to a later
    kick). The steps run in blocks of ``b`` steps, each group of equal blocks one scan over its
    blocks (:func:`_plan`), every array on the ``c`` columns of its group (the tangents are
    zero-padded when ``c`` grows). For the block from step ``s``, :math:`m_k` splits into

    * the rows ``l <= s`` of the earlier blocks, contracted for the whole block before its steps
      in one matrix product per group (:func:`_history`; within the current group the rows still
      to come are zero, and are contracted too, to keep one shape per group);
    * its own rows ``s + 1 .. k``, contracted at each step (:func:`_block`).

    Work: :math:`K^3M/6` multiply-adds for the triangle, about :math:`K^3M/3` with the zero rows
    and the rounded-up columns (``widths = 4``), in matrix products that run near the arithmetic
    peak, and :math:`bK^2M/2` in matrix-vector products; against :math:`K^3M`, all bound by the
    memory bandwidth, for a contraction over all of ``rho`` at every step.

    Args:
        step: ``step(k, memory, primal, tangents) -> (primal, tangents, r)``; ``tangents`` are
            ``(M, c)`` arrays, ``r`` is row ``k + 1`` of ``rho``.
        primal, tangents: the state at ``k = 0`` (tangents with one column).
        W: ``(K - 1, K)``, the memory weights of step ``k`` in row ``k`` (zero beyond ``k + 1``).
        M: copies.
        block, widths: see :func:`_plan`.
    """
    K = W.shape[1]
    past: list[tuple[int, Array]] = []  # (first row, rows of rho) of the finished groups
    for group in _plan(K, block, widths):
        tangents = tuple(_pad(t, group.cols) for t in tangents)

        def one(carry: tuple, p: Array, group: _Group = group) -> tuple[tuple, None]:
            primal, tangents, own = carry
            s = group.first + p * group.size
            Wb = jax.lax.dynamic_slice_in_dim(W, s, group.size)
            history = _history(Wb, [*past, (group.first + 1, own)], group.cols)
            w = jax.lax.dynamic_slice(Wb, (0, s + 1), (group.size, group.size))
            primal, tangents, rows = _block(step, primal, tangents, s, w, history)
            own = jax.lax.dynamic_update_slice_in_dim(own, rows, p * group.size, 0)
            return (primal, tangents, own), None

        own = jnp.zeros((group.blocks * group.size, M, group.cols))
        carry = (primal, tangents, own)
        (primal, tangents, own), _ = jax.lax.scan(one, carry, jnp.arange(group.blocks))
        past.append((group.first + 1, own))
    rho = jnp.concatenate([jnp.zeros((1, M, K))] + [_pad(rows, K) for _, rows in past])
    return primal, rho


def _gd_process(linear: bool, block: int, widths: int) -> Process:
    """Gradient descent on (u, v) (or on theta), tangents (U, V) propagated alongside."""

    def run(
        A: Array, xi: Array, beta_star: Array, etas: Array, times: Array, params: Array
    ) -> tuple[Array, Array]:
        delta, alpha, lam = params[0], params[1], params[2]
        M, K = xi.shape

        def step(k: Array, memory: Array, primal: tuple, tangents: tuple) -> tuple:
            r"""Step k -> k + 1; ``memory`` is :math:`\sum_{l \le k} A_{kl}\varrho_l`."""
            (u, v, dbeta), (U, V) = primal, tangents
            a, eta = A[k], etas[k]  # row k of the lower-triangular A: zero beyond k
            h = xi[:, k] - delta * dbeta @ a
            G = (jnp.arange(memory.shape[1]) == k) - delta * memory  # dh_k / dh_j
            decay = 1.0 - lam * eta
            if linear:
                u, U = decay * u + eta * h, decay * U + eta * G
                beta, r = u, U
            else:
                u, v, U, V = (
                    decay * u + eta * v * h,
                    decay * v + eta * u * h,
                    decay * U + eta * (V * h[:, None] + v[:, None] * G),
                    decay * V + eta * (U * h[:, None] + u[:, None] * G),
                )
                beta, r = u * v, v[:, None] * U + u[:, None] * V
            dbeta = dbeta.at[:, k + 1].set(beta - beta_star)
            return (u, v, dbeta), (U, V), r

        u0 = jnp.zeros(M) if linear else jnp.full(M, jnp.sqrt(2.0) * alpha)
        dbeta0 = jnp.zeros((M, K)).at[:, 0].set(-beta_star)
        zeros = jnp.zeros((M, 1))
        (_, _, dbeta), rho = _causal_scan(
            step, (u0, jnp.zeros(M), dbeta0), (zeros, zeros), A[:-1], M, block, widths
        )
        return dbeta, rho

    return run


def _mirror_root(g: Array, scale: Array, rhs: Array) -> Array:
    r"""The root of :math:`f(H) = g\,a\sinh 2H + H - \text{rhs}` (``a = scale >= 0``, ``g >= 0``).

    :math:`f` is increasing; the root lies between 0 and
    :math:`\mathrm{sign}(\text{rhs})\min(|\text{rhs}|, \frac12\mathrm{asinh}(|\text{rhs}|/(g a)))`:
    60 bisections (to rounding), then two Newton steps kept inside the bracket.
    """
    ga = g * scale
    bound = jnp.abs(rhs)
    tight = 0.5 * jnp.arcsinh(bound / jnp.maximum(ga, 1e-300))
    bound = jnp.where(ga > 0, jnp.minimum(bound, tight), bound)
    lo, hi = jnp.minimum(0.0, jnp.sign(rhs) * bound), jnp.maximum(0.0, jnp.sign(rhs) * bound)
    f = lambda H: ga * jnp.sinh(2 * H) + H - rhs  # noqa: E731

    def bisect(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        up = f(mid) > 0
        return jnp.where(up, lo, mid), jnp.where(up, mid, hi)

    lo, hi = jax.lax.fori_loop(0, 60, bisect, (lo, hi))
    H = 0.5 * (lo + hi)
    for _ in range(2):
        H = jnp.clip(H - f(H) / (2 * ga * jnp.cosh(2 * H) + 1), lo, hi)
    return H


def mirror_update(
    state: tuple[Array, Array, Array, Array],
    field: tuple[Array, Array, Array],
    eta: Array,
    scale: Array,
    beta_star: Array,
    delta: Array,
    theta: float,
    linear: bool = False,
    lam: Array | float = 0.0,
) -> tuple[Array, ...]:
    r"""One theta-step k -> k + 1 of the mirror process and of its tangent (module docstring).

    The ``linear`` variant steps :math:`\dot\theta = h - \lambda\theta` (its weight decay,
    as in the ``"gd"`` process) with the same rule; the non-linear one carries
    :math:`\lambda` in ``scale`` (:math:`\alpha_t = \alpha e^{-\lambda t}`) and needs no
    ``lam``.

    Args:
        state: :math:`(H_k, h_k, G_k, \Psi_k)`: mirror variable, field, field tangent
            :math:`\partial h_k/\partial h_j` and mirror tangent, per copy.
        field: :math:`(c, G^{exp}, a)`: the explicit part of :math:`h_{k+1}` (memory over
            :math:`l \le k`), its tangent, and :math:`a = \bar A_{k+1,k+1}`.
        eta, scale: the step :math:`\eta_k` and :math:`\alpha_{t_{k+1}}^2`.

    Returns:
        :math:`(H_{k+1}, h_{k+1}, G_{k+1}, \Psi_{k+1}, \beta_{k+1}, \varrho_{k+1})`.
    """
    (H, h, G, Psi), (c, G_exp, a) = state, field
    g = eta * theta * delta * a
    rhs = H + eta * (1 - theta) * h + eta * theta * (c + delta * a * beta_star)
    if linear:  # theta-rule of -lam * theta: explicit part in rhs, implicit in the divisor
        keep, shrink = 1 - eta * (1 - theta) * lam, eta * theta * lam
        H1 = (rhs - eta * (1 - theta) * lam * H) / (1 + g + shrink)
        Psi1 = (keep * Psi + eta * (1 - theta) * G + eta * theta * G_exp) / (1 + g + shrink)
        beta, r = H1, Psi1
        h1 = c - delta * a * (beta - beta_star)
        return H1, h1, G_exp - delta * a * r, Psi1, beta, r
    H1 = _mirror_root(g, scale, rhs)
    beta = scale * jnp.sinh(2 * H1)
    phi = 2 * jnp.sqrt(beta**2 + scale**2)
    Psi1 = (Psi + eta * (1 - theta) * G + eta * theta * G_exp) / (1 + g * phi)[:, None]
    r = phi[:, None] * Psi1
    h1 = c - delta * a * (beta - beta_star)
    return H1, h1, G_exp - delta * a * r, Psi1, beta, r


def _mirror_process(linear: bool, theta: float, block: int, widths: int) -> Process:
    """The theta-scheme of gradient flow in the mirror variable H (module docstring)."""

    def run(
        A: Array, xi: Array, beta_star: Array, etas: Array, times: Array, params: Array
    ) -> tuple[Array, Array]:
        delta, alpha, lam = params[0], params[1], params[2]
        M, K = xi.shape

        def step(k: Array, memory: Array, primal: tuple, tangents: tuple) -> tuple:
            r"""Step k -> k + 1; ``memory`` is :math:`\sum_{l \le k} A_{k+1,l}\varrho_l`."""
            (H, h, dbeta), (G, Psi) = primal, tangents
            row, eta = A[k + 1], etas[k]  # entries l <= k of dbeta and rho are set, k + 1 is 0
            a = row[k + 1]
            c = xi[:, k + 1] - delta * dbeta @ row  # the explicit part of h_{k+1}
            G_exp = (jnp.arange(memory.shape[1]) == k + 1) - delta * memory
            scale = (alpha * jnp.exp(-lam * times[k + 1])) ** 2
            H1, h1, G1, Psi1, beta, r = mirror_update(
                (H, h, G, Psi), (c, G_exp, a), eta, scale, beta_star, delta, theta, linear, lam
            )
            dbeta = dbeta.at[:, k + 1].set(beta - beta_star)
            return (H1, h1, dbeta), (G1, Psi1), r

        dbeta0 = jnp.zeros((M, K)).at[:, 0].set(-beta_star)
        h0 = xi[:, 0] + delta * A[0, 0] * beta_star
        primal = (jnp.zeros(M), h0, dbeta0)
        (_, _, dbeta), rho = _causal_scan(
            step, primal, (jnp.ones((M, 1)), jnp.zeros((M, 1))), A[1:], M, block, widths
        )
        return dbeta, rho

    return run


def process(
    scheme: str,
    *,
    linear: bool = False,
    theta: float = 0.5,
    block: int = BLOCK,
    widths: int = WIDTHS,
) -> Process:
    """The effective process of ``scheme`` (``"gd"`` or ``"flow"``), as
    ``run(A, xi, beta_star, etas, times, params) -> (dbeta, rho)`` with
    ``params = [delta, alpha, lam, ...]``. ``block`` and ``widths`` shape the causal scan
    (:func:`_plan`); the results do not depend on them beyond rounding."""
    if scheme == "gd":
        return _gd_process(linear, block, widths)
    return _mirror_process(linear, theta, block, widths)
