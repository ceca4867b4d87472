r"""Finite deep linear networks trained as in the deep-linear DMFT (spec §1.2–§1.5, §3.4).

One seed draws its weights, teacher :math:`\beta_\star`, design and label noise; gradient
descent on :math:`\hat{\mathcal L} = \frac1{2n}\sum_\mu(y_\mu - f(x_\mu))^2` with the raw
learning rate :math:`\eta\gamma_0^2N` on every weight (the §1.5 rank-one updates, see
``tests/test_deep.py``). Step ``t = 0..T`` records, *before* its update,

* ``train_loss`` :math:`\hat{\mathcal L}` on the step's samples (the fixed :math:`X` for
  repeated data; the fresh batch for one-pass SGD, §1.4);
* ``test_loss`` :math:`\frac12\big(\frac1D(\beta_\star - \beta)^\top\Lambda(\beta_\star - \beta)
  + \sigma^2\big)` with the effective predictor :math:`\beta = \sqrt D A^\top`,
  :math:`f(x) = Ax = \beta\cdot x/\sqrt D`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from lindyn.experiments._deep_data import draw_samples, draw_teacher
from lindyn.models import DeepLinear
from lindyn.train import Solution, status_code

__all__ = ["Run", "run_seeds"]


@dataclasses.dataclass(frozen=True)
class Run:
    """What one simulation needs: the network, its raw rate and the data law.

    Attributes:
        model: the :class:`DeepLinear` network (``d_in = D``, ``d_out = 1``).
        rate: raw learning rate :math:`\\eta\\gamma_0^2N` (effective :math:`\\gamma_0`).
        samples: :math:`P` (repeated data) or the batch size :math:`B` (one-pass SGD).
        fresh: one-pass SGD (a new batch every step) instead of repeated data.
        lam: covariance eigenvalues ``(D,)``, None when isotropic.
        bk: teacher powers :math:`\\mathbb E\\beta_{\\star k}^2`, ``(D,)``.
        sigma: label noise.
        steps: :math:`T`.
    """

    model: DeepLinear
    rate: float
    samples: int
    fresh: bool
    lam: np.ndarray | None
    bk: np.ndarray
    sigma: float
    steps: int

    def test_loss(self, beta: Array, beta_star: Array) -> Array:
        r""":math:`\frac12\big(\frac1D\sum_k\lambda_k(\beta_{\star k} - \beta_k)^2 + \sigma^2\big)`."""
        e = beta_star - beta
        weight = 1.0 if self.lam is None else self.lam
        return 0.5 * (jnp.mean(weight * e**2) + self.sigma**2)


def _step(run: Run, params: tuple[Array, ...], X: Array, y: Array, beta_star: Array):
    """Losses at ``params`` and the parameters after one gradient step on ``(X, y)``."""
    model = run.model
    A = model.end_to_end(params)[0]
    residual = y - X @ A
    records = {
        "train_loss": 0.5 * jnp.mean(residual**2),
        "test_loss": run.test_loss(np.sqrt(model.d_in) * A, beta_star),
    }
    grad = model.pullback(params, -(residual @ X)[None, :] / X.shape[0])
    return records, tuple(p - run.rate * g for p, g in zip(params, grad, strict=True))


def _run_one(run: Run, key: Array) -> Solution:
    kw, kt, kd = jax.random.split(key, 3)
    beta_star = draw_teacher(kt, jnp.asarray(run.bk))
    fixed = draw_samples(kd, run.samples, run.lam, beta_star, run.sigma)

    def body(params, k):
        X, y = (
            draw_samples(jax.random.fold_in(kd, k), run.samples, run.lam, beta_star, run.sigma)
            if run.fresh
            else fixed
        )
        records, params = _step(run, params, X, y, beta_star)
        return params, records

    _, records = lax.scan(body, run.model.init(kw), jnp.arange(run.steps + 1))
    times = jnp.arange(run.steps + 1, dtype=jnp.float64)
    return Solution(times, records, status_code(records))


_COMPILED: dict[tuple, Callable[[Array, Array], Solution]] = {}
_CACHE_SIZE = 16


def _signature(run: Run) -> tuple:
    """A hashable key equal for runs that trace to the same program (the rate is an argument
    of the program, so a learning-rate sweep compiles once)."""
    arrays = tuple(None if a is None else (a.shape, a.tobytes()) for a in (run.lam, run.bk))
    return (run.model, run.samples, run.fresh, run.sigma, run.steps, arrays)


def run_seeds(run: Run, keys: Array) -> Solution:
    """:func:`_run_one` for every key (``vmap``; leading seed axis on every field).

    The jitted program is kept per run up to its rate (the last :data:`_CACHE_SIZE`), so
    calling again with the same run or another rate, e.g. the repeats of a benchmark or the
    points of a learning-rate sweep, does not trace and compile again.
    """
    signature = _signature(run)
    if signature not in _COMPILED:
        if len(_COMPILED) >= _CACHE_SIZE:
            _COMPILED.pop(next(iter(_COMPILED)))
        seeds = jax.vmap(lambda k, r: _run_one(dataclasses.replace(run, rate=r), k), (0, None))
        _COMPILED[signature] = jax.jit(seeds)
    return _COMPILED[signature](keys, jnp.float64(run.rate))
