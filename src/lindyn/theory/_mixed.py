r"""The self-consistent dynamics of two-layer linear networks (Tu, Aranguri & Jacot 2024, eq. (1)).

For :math:`A_\theta = W_2W_1` trained by gradient flow on a cost :math:`C(A)` with gradient
:math:`G = \nabla C(A)`, exactly :math:`\dot A = -(C_2G + GC_1)` with the Gram matrices
:math:`C_1 = W_1^\top W_1`, :math:`C_2 = W_2W_2^\top` (the README's mixed notes §2.1). At width
:math:`w \gg d` from i.i.d. :math:`\mathcal N(0, \sigma^2)` weights they stay close to functions
of :math:`A` itself, which closes the dynamics on :math:`A` (the paper's equation (1), §2.2):

.. math::
    \dot A = -\Theta_A(G),\qquad
    \Theta_A(G) = \sqrt{AA^\top + \tau^2 I}\;G + G\,\sqrt{A^\top A + \tau^2 I},\qquad \tau = \sigma^2 w.

**Both square roots from one symmetric eigendecomposition.** With
:math:`A^\top A = V\,\mathrm{diag}(s^2)\,V^\top` and :math:`r = \sqrt{s^2 + \tau^2}`,
:math:`\sqrt{A^\top A + \tau^2 I} = V\,\mathrm{diag}(r)\,V^\top` and, since
:math:`\sqrt{AA^\top + \tau^2 I} - \tau I = A\,f(A^\top A)\,A^\top` with
:math:`f(x) = (\sqrt{x + \tau^2} - \tau)/x = 1/(\sqrt{x + \tau^2} + \tau)`,

.. math:: \sqrt{AA^\top + \tau^2 I} = \tau I + A V\,\mathrm{diag}\Big(\frac{1}{r + \tau}\Big)V^\top A^\top,

which is exact, needs no left singular vectors and is stable as :math:`s \to 0` (no division by
:math:`s`). One ``eigh`` of the :math:`d_{in}\times d_{in}` matrix and a few matrix products
replace the two SVDs of the paper's code (one per root); the singular values the experiment
records come with it (as square roots of eigenvalues: absolute error about
:math:`\sqrt{\epsilon}\,s_{max} \approx 10^{-8}s_{max}`, immaterial to the observables).
Measured (``benchmarks/mixed.py``, 2 cores, d = 100-500): 2.2-2.7x faster than the
two SVDs and 1.3x faster than one SVD of :math:`A`; against two ``eigh`` it saves CPU
(1.2-1.3x) but not always wall time, since the runtime runs two independent ``eigh`` at once.

Two time discretizations of the same equation:

* :func:`self_consistent_descent`, explicit Euler with the step :math:`\eta` of gradient descent
  (what the paper compares gradient descent with, §2.4.1);
* :func:`self_consistent_flow`, the continuous flow by an adaptive Runge–Kutta solve
  (diffrax ``Tsit5``), saved at :math:`t = n\eta`.

Both record, at every step :math:`n` *before* its update (index 0 is the start), what
:func:`matrix_observables` computes from :math:`A`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = [
    "self_consistent_operator",
    "self_consistent_descent",
    "self_consistent_flow",
    "self_consistent_step",
    "matrix_observables",
    "observe_matrix",
    "recorded_scan",
]

State = TypeVar("State")
Records = dict[str, Array]


def self_consistent_operator(A: Array, G: Array, tau: Array | float) -> tuple[Array, Array]:
    r""":math:`\Theta_A(G) = \sqrt{AA^\top + \tau^2 I}\,G + G\sqrt{A^\top A + \tau^2 I}` and the
    singular values of ``A`` (decreasing), from one eigendecomposition of :math:`A^\top A`
    (module docstring).

    Args:
        A, G: ``(d_out, d_in)``.
        tau: the threshold :math:`\sigma^2 w`.
    """
    eig, V = jnp.linalg.eigh(A.T @ A)
    s2, V = jnp.clip(eig[::-1], 0.0, None), V[:, ::-1]
    r = jnp.sqrt(s2 + tau**2)
    right = ((G @ V) * r) @ V.T
    left = tau * G + A @ (V @ ((V.T @ (A.T @ G)) / (r + tau)[:, None]))
    return left + right, jnp.sqrt(s2[: min(A.shape)])


def matrix_observables(A: Array, s: Array, target: Array, observed: Array) -> dict[str, Array]:
    r"""What the experiment records of :math:`A` with singular values ``s``:
    ``train_error`` :math:`\|A - Y\|_F^2/(d_{out}d_{in})`, ``test_error`` the same against
    :math:`A^*`, ``singular_values`` and ``stable_rank`` :math:`\|A\|_F^2/\|A\|_{op}^2`."""
    size = A.shape[0] * A.shape[1]
    return {
        "train_error": jnp.sum((A - observed) ** 2) / size,
        "test_error": jnp.sum((A - target) ** 2) / size,
        "singular_values": s,
        "stable_rank": jnp.sum(s**2) / s[0] ** 2,
    }


def recorded_scan(
    step: Callable[[State], tuple[State, Records]],
    observe: Callable[[State], Records],
    state: State,
    steps: int,
) -> tuple[State, Records]:
    """Run ``state, records = step(state)`` ``steps`` times (``records`` observe the state
    *before* the update, so that one factorization serves both), then ``observe`` the end:
    records at steps ``0 .. steps``, time axis first."""
    state, records = jax.lax.scan(lambda x, _: step(x), state, None, length=steps)
    last = observe(state)
    return state, jax.tree_util.tree_map(lambda r, x: jnp.concatenate([r, x[None]]), records, last)


def self_consistent_step(
    A: Array, Y: Array, target: Array, tau: Array | float, eta: Array | float
) -> tuple[Array, dict[str, Array]]:
    r"""One Euler step :math:`A - \eta\,\Theta_A(A - Y)` of eq. (1) and the
    :func:`matrix_observables` of :math:`A` (one eigendecomposition for both)."""
    update, s = self_consistent_operator(A, A - Y, tau)
    return A - eta * update, matrix_observables(A, s, target, Y)


def observe_matrix(A: Array, Y: Array, target: Array) -> dict[str, Array]:
    """:func:`matrix_observables` of ``A`` (its singular values computed here)."""
    return matrix_observables(A, jnp.linalg.svd(A, compute_uv=False), target, Y)


def self_consistent_descent(
    A0: Array, Y: Array, target: Array, *, tau: float, eta: float, steps: int
) -> tuple[Array, dict[str, Array]]:
    r"""Explicit Euler steps :math:`A_{n+1} = A_n - \eta\,\Theta_{A_n}(A_n - Y)` of eq. (1) for the
    cost :math:`\frac12\|A - Y\|_F^2`.

    Args:
        A0: the start (the same random :math:`W_2W_1` as gradient descent).
        Y: the observed matrix; ``target`` :math:`A^*` for the test error.
        tau: :math:`\sigma^2 w`; eta: the step; steps: number of updates.

    Returns:
        :math:`A` after the last step, and :func:`matrix_observables` at steps ``0 .. steps``
        (time axis first).
    """
    return recorded_scan(
        lambda A: self_consistent_step(A, Y, target, tau, eta),
        lambda A: observe_matrix(A, Y, target),
        A0,
        steps,
    )


def self_consistent_flow(
    A0: Array,
    Y: Array,
    target: Array,
    *,
    tau: float,
    times: np.ndarray,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 1_000_000,
) -> tuple[dict[str, Array], Array]:
    r"""Gradient flow :math:`\dot A = -\Theta_A(A - Y)` of eq. (1), adaptive ``Tsit5``.

    Args:
        times: increasing save times from 0 (e.g. :math:`n\eta`).
        rtol, atol, max_steps: of the adaptive solve.

    Returns:
        :func:`matrix_observables` at ``times`` (time axis first) and whether the solve succeeded
        (a failed solve fills the records after the failure with ``inf``).
    """
    term = diffrax.ODETerm(lambda t, A, args: -self_consistent_operator(A, A - Y, tau)[0])
    solution = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5(),
        t0=0.0,
        t1=float(times[-1]),
        dt0=None,
        y0=A0,
        saveat=diffrax.SaveAt(ts=jnp.asarray(times)),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps,
        throw=False,
    )
    records = jax.vmap(lambda A: observe_matrix(A, Y, target))(solution.ys)
    return records, solution.result == diffrax.RESULTS.successful
