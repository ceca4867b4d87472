r"""The single-coordinate effective processes of the diagonal-network DMFT, with their responses.

Each process runs ``M`` Monte-Carlo copies (rows of ``xi``) of one coordinate driven by the
field (``shared/theory/dln_dmft.md`` §2.2, §2.7)

.. math:: h_k = \xi_k - \delta\sum_{l\le k}\bar A_{kl}\,(\beta_l - \beta^*),

and returns :math:`\Delta\beta = \beta - \beta^*` ``(M, K)`` and the per-copy responses
:math:`\varrho_{kj} = \partial\beta_k/\partial h_j` ``(K, M, K)`` (feedback through the field
included). Time-major ``rho[l, m, j]``: the memory contraction :math:`\sum_l \bar A_{kl}\varrho_l`
reads contiguous ``(M, K)`` slabs (4x faster than copy-major at ``M = 3000``, ``K = 101``).

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

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["process"]

Process = Callable[[Array, Array, Array, Array, Array, Array], tuple[Array, Array]]


def _gd_process(linear: bool) -> Process:
    """Gradient descent on (u, v) (or on theta), tangents (U, V) propagated alongside."""

    def run(
        A: Array, xi: Array, beta_star: Array, etas: Array, times: Array, params: Array
    ) -> tuple[Array, Array]:
        delta, alpha, lam = params[0], params[1], params[2]
        M, K = xi.shape
        eye = jnp.eye(K)

        def step(carry: tuple, k: Array) -> tuple[tuple, None]:
            u, v, U, V, dbeta, rho = carry
            a, eta = A[k], etas[k]  # row k of the lower-triangular A: zero beyond k
            h = xi[:, k] - delta * dbeta @ a
            G = eye[k] - delta * jnp.tensordot(a, rho, axes=(0, 0))  # dh_k / dh_j
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
            return (u, v, U, V, dbeta, rho.at[k + 1].set(r)), None

        zeros = jnp.zeros((M, K))
        u0 = jnp.zeros(M) if linear else jnp.full(M, jnp.sqrt(2.0) * alpha)
        dbeta0 = jnp.zeros((M, K)).at[:, 0].set(-beta_star)
        carry = (u0, jnp.zeros(M), zeros, zeros, dbeta0, jnp.zeros((K, M, K)))
        carry, _ = jax.lax.scan(step, carry, jnp.arange(K - 1))
        return carry[4], carry[5]

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


def _mirror_process(linear: bool, theta: float) -> Process:
    """The theta-scheme of gradient flow in the mirror variable H (module docstring)."""

    def run(
        A: Array, xi: Array, beta_star: Array, etas: Array, times: Array, params: Array
    ) -> tuple[Array, Array]:
        delta, alpha, lam = params[0], params[1], params[2]
        M, K = xi.shape
        eye = jnp.eye(K)

        def step(carry: tuple, k: Array) -> tuple[tuple, None]:
            H, h, G, Psi, dbeta, rho = carry
            row, eta = A[k + 1], etas[k]  # entries l <= k of dbeta and rho are set, k + 1 is 0
            a = row[k + 1]
            c = xi[:, k + 1] - delta * dbeta @ row  # the explicit part of h_{k+1}
            G_exp = eye[k + 1] - delta * jnp.tensordot(row, rho, axes=(0, 0))
            g = eta * theta * delta * a
            rhs = H + eta * (1 - theta) * h + eta * theta * (c + delta * a * beta_star)
            scale = (alpha * jnp.exp(-lam * times[k + 1])) ** 2
            if linear:
                H1 = rhs / (1 + g)
                beta, phi = H1, jnp.ones(M)
            else:
                H1 = _mirror_root(g, scale, rhs)
                beta = scale * jnp.sinh(2 * H1)
                phi = 2 * jnp.sqrt(beta**2 + scale**2)
            Psi1 = (Psi + eta * (1 - theta) * G + eta * theta * G_exp) / (1 + g * phi)[:, None]
            r = phi[:, None] * Psi1
            h1 = c - delta * a * (beta - beta_star)
            G1 = G_exp - delta * a * r
            dbeta = dbeta.at[:, k + 1].set(beta - beta_star)
            return (H1, h1, G1, Psi1, dbeta, rho.at[k + 1].set(r)), None

        dbeta0 = jnp.zeros((M, K)).at[:, 0].set(-beta_star)
        h0 = xi[:, 0] + delta * A[0, 0] * beta_star
        G0 = jnp.zeros((M, K)).at[:, 0].set(1.0)
        carry = (jnp.zeros(M), h0, G0, jnp.zeros((M, K)), dbeta0, jnp.zeros((K, M, K)))
        carry, _ = jax.lax.scan(step, carry, jnp.arange(K - 1))
        return carry[4], carry[5]

    return run


def process(scheme: str, *, linear: bool = False, theta: float = 0.5) -> Process:
    """The effective process of ``scheme`` (``"gd"`` or ``"flow"``), as
    ``run(A, xi, beta_star, etas, times, params) -> (dbeta, rho)`` with
    ``params = [delta, alpha, lam, ...]``."""
    if scheme == "gd":
        return _gd_process(linear)
    return _mirror_process(linear, theta)
