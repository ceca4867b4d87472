r"""The saddle-to-saddle sequence of deep linear networks from small initialisation.

Setting (Jacot et al. 2021, arXiv 2106.15933, in the notation of the README's saddle notes §1): a depth-:math:`L`
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
  (:func:`lindyn.theory.greedy_low_rank`, spec §3.4): escape from the last saddle along the top singular
  pair of :math:`-\nabla C`, then flow the width-:math:`k` network to its next critical point.

Time (spec §3.2, §3.6): a mode of target strength :math:`s` in a balanced aligned network obeys
:math:`\dot a = L\,a^{2-2/L}(s - a)` (:func:`balanced_mode`); its jump comes at
:math:`\frac1{2s}\ln\frac{s}{w\sigma^2}` for :math:`L = 2` and :math:`\propto\sigma^{-(L-2)}` for
:math:`L \ge 3` (:func:`jump_time`). In the lazy regime (:math:`\gamma < 1`) the loss decays at
rate :math:`2L(w\sigma^2)^{L-1}` instead (:func:`lazy_rate`, spec §1.4 item 5).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
from jax import Array
from numpy.typing import ArrayLike
from scipy.integrate import cumulative_simpson

__all__ = [
    "MatrixCost",
    "balanced_layer_spectrum",
    "balanced_mode",
    "jump_time",
    "lazy_rate",
    "teacher_plateaus",
]


@dataclasses.dataclass(frozen=True)
class MatrixCost:
    r""":math:`C(A) = \frac12\sum_{ij} m_{ij}(A_{ij} - A^*_{ij})^2` with a 0/1 ``mask`` :math:`m`
    (all ones: the teacher cost :math:`\frac12\|A - A^*\|_F^2`; else matrix completion on the
    observed set :math:`\Omega = \{m_{ij} = 1\}`). Works on NumPy and JAX arrays.

    Raises:
        ValueError: ``target`` not a finite matrix, or ``mask`` not a 0/1 matrix of its shape.
    """

    target: np.ndarray
    mask: np.ndarray

    def __post_init__(self) -> None:
        target, mask = np.asarray(self.target), np.asarray(self.mask)
        if target.ndim != 2 or not np.all(np.isfinite(target)):
            raise ValueError(f"target: must be a finite matrix, got shape {target.shape}")
        if mask.shape != target.shape or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"mask: must be a 0/1 matrix of shape {target.shape}")

    @classmethod
    def teacher(cls, target: ArrayLike) -> MatrixCost:
        """The full-mask (teacher) cost."""
        target = np.asarray(target, np.float64)
        return cls(target, np.ones_like(target))

    def value(self, A: ArrayLike) -> Array:
        """:math:`C(A)`."""
        return 0.5 * jnp.sum(self.mask * (A - self.target) ** 2)

    def grad(self, A: ArrayLike) -> Array:
        r""":math:`\nabla C(A) = m \odot (A - A^*)`."""
        return self.mask * (A - self.target)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_L, n_0)``."""
        return self.target.shape


def _check_depth(depth: int) -> None:
    if depth < 2:
        raise ValueError(f"depth: must be >= 2, got {depth}")


def teacher_plateaus(s: ArrayLike) -> np.ndarray:
    r"""Plateau losses :math:`\frac12\sum_{i>k}s_i^2`, :math:`k = 0, \dots, r` (spec §3.5).

    Args:
        s: target singular values, non-negative and decreasing, shape ``(r,)``.

    Returns:
        ``(r+1,)``, decreasing to 0.

    Example:
        >>> teacher_plateaus([2.0, 1.0]).tolist()
        [2.5, 0.5, 0.0]
    """
    s = np.asarray(s, np.float64)
    if np.any(np.diff(s) > 0) or np.any(s < 0):
        raise ValueError("s: must be non-negative and decreasing")
    tails = np.cumsum((s**2)[::-1])[::-1]
    return 0.5 * np.append(tails, 0.0)


def balanced_layer_spectrum(s: ArrayLike, depth: int) -> np.ndarray:
    r"""Singular values :math:`s_i^{1/L}` of every layer of a balanced network with map
    singular values ``s`` (spec §3.1: :math:`W_\ell = O_\ell\Sigma^{1/L}O_{\ell-1}^\top`)."""
    _check_depth(depth)
    return np.asarray(s, np.float64) ** (1.0 / depth)


def balanced_mode(s: ArrayLike, depth: int, a0: float, times: ArrayLike) -> np.ndarray:
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
    _check_depth(depth)
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


def jump_time(s: ArrayLike, depth: int, width: int, sigma: float) -> np.ndarray:
    r"""Idealised time of the jump of each mode ``s`` from an i.i.d. :math:`\mathcal N(0,\sigma^2)`
    start (spec §2.5, §3.6).

    * :math:`L = 2`: :math:`\frac1{2s}\ln\frac{s}{w\sigma^2}`; exact up to :math:`O(1)/s` as
      :math:`\sigma \to 0` (the aligned component of :math:`(W_2^\top u + W_1v)/2` grows as
      :math:`e^{st}` from squared size :math:`w\sigma^2/2`).
    * :math:`L \ge 3`: :math:`\frac{(\sigma\sqrt w)^{2-L}}{(L-2)\,s}`, the blow-up time of the
      aligned balanced mode with per-layer scale :math:`\sigma\sqrt w`. The exact scaling in
      :math:`\sigma` and :math:`w`; the constant carries an :math:`O(1)` factor of the random
      start (measured 1.08 for :math:`L = 3` at large :math:`w`, spec §2.5; 1.1-1.5 at
      :math:`w = 20`, the ``jump_time_ratio_k`` of ``lindyn run saddle``).

    Args:
        s: mode strengths (> 0), shape ``(k,)``.
        depth: :math:`L \ge 2`.
        width: :math:`w \ge 1`.
        sigma: initial standard deviation (> 0).

    Returns:
        ``(k,)`` times; for :math:`L = 2` positive only when :math:`s > w\sigma^2`.
    """
    _check_depth(depth)
    if not (width >= 1 and sigma > 0):
        raise ValueError(f"width, sigma: must be >= 1 and > 0, got {width}, {sigma}")
    s = np.asarray(s, np.float64)
    if depth == 2:
        return np.log(s / (width * sigma**2)) / (2.0 * s)
    return (sigma * np.sqrt(width)) ** (2 - depth) / ((depth - 2) * s)


def lazy_rate(depth: int, width: int, sigma: float) -> float:
    r"""Lazy-regime loss decay rate :math:`2L(w\sigma^2)^{L-1}` of the teacher cost: the NTK
    at init is :math:`L(w\sigma^2)^{L-1}\,\mathrm{Id}` (spec §1.4 item 5).

    Example:
        >>> lazy_rate(3, 256, 256**-0.25)
        1536.0
    """
    _check_depth(depth)
    return 2.0 * depth * (width * sigma**2) ** (depth - 1)
