r"""The :math:`\gamma = 1` transition: is the start near a saddle or near a global minimum?

For a deep linear network with entries i.i.d. :math:`\mathcal N(0, w^{-\gamma})` and the
teacher cost :math:`\frac12\|A - A^*\|_F^2` (the README's saddle notes §2):

* the explicit saddle :math:`\theta^s = (0, W_2, \dots, W_{L-1}, 0)` (first and last layer
  zeroed; every gradient block contains one of them) lies at
  :math:`d_{sad} = (\|W_1\|_F^2 + \|W_L\|_F^2)^{1/2} \approx \sqrt{n_0 + n_L}\,w^{(1-\gamma)/2}`
  (:func:`saddle_distance`): it shrinks with :math:`w` iff :math:`\gamma > 1`;
* the explicit global minimum that changes only :math:`W_1`,
  :math:`W_1 + (W_L\cdots W_2)^+(A^* - A_{\theta_0})`, lies at :math:`d_{min}`
  (:func:`minimum_distance`), which shrinks iff :math:`\gamma < 1`;
* any global minimum is at least :func:`minimum_distance_bound` away: some layer must move by
  :math:`\delta` with :math:`\prod_\ell(\|W_\ell\|_{op} + \delta) \ge \|A^*\|_{op}`, which tends
  to :math:`\|A^*\|_{op}^{1/L}` when every layer is small (:math:`\gamma > 1`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import brentq

__all__ = ["minimum_distance", "minimum_distance_bound", "saddle_distance"]


def saddle_distance(layers: Sequence[np.ndarray]) -> float:
    r""":math:`\|\theta_0 - \theta^s\| = (\|W_1\|_F^2 + \|W_L\|_F^2)^{1/2}` (spec §2.1)."""
    return float(np.hypot(np.linalg.norm(layers[0]), np.linalg.norm(layers[-1])))


def minimum_distance(layers: Sequence[np.ndarray], target: np.ndarray) -> float:
    r""":math:`\|(W_L\cdots W_2)^+(A^* - A_{\theta_0})\|_F`, the move of :math:`W_1` onto a global
    minimum (spec §2.2; exact when :math:`W_L\cdots W_2` has full row rank)."""
    top = np.linalg.multi_dot(layers[:0:-1]) if len(layers) > 2 else layers[1]
    A = top @ layers[0]
    return float(np.linalg.norm(np.linalg.pinv(top) @ (target - A)))


def minimum_distance_bound(layers: Sequence[np.ndarray], target: np.ndarray) -> float:
    r"""The :math:`\delta \ge 0` solving :math:`\prod_\ell(\|W_\ell\|_{op} + \delta) = \|A^*\|_{op}`
    (0 if the start already satisfies the inequality): a lower bound on the distance from
    :math:`\theta_0` to any global minimum (spec §2.3)."""
    norms = np.array([np.linalg.norm(W, 2) for W in layers])
    goal = np.linalg.norm(target, 2)
    gap = lambda d: float(np.sum(np.log(norms + d)) - np.log(goal))  # noqa: E731
    if gap(0.0) >= 0:
        return 0.0
    return float(brentq(gap, 0.0, goal + 1.0, xtol=1e-12))
