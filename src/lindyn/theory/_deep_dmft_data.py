r"""Data side of the deep-linear DMFT: input sites and sample sites (``deep_dmft.md`` §2.3–§2.5).

Given the learning-rate kernel :math:`K = \eta\,\Theta\circ C_g^1 + \gamma_0^{-1}R_g^1` and the
initial-function covariance :math:`C_{\beta^0} = c_0 C_g^1` from the hidden layers, this module
returns what the layers need back (:math:`C_v`, :math:`R_{v\xi}`) and the losses
(:math:`C_e`, :math:`C_\Delta`). Data modes :math:`k` (eigenvalues :math:`\lambda_k`, teacher
powers :math:`b_k`, weights :math:`w_k = 1/D`) enter through the per-mode transfer functions
:math:`G_k = (I + \lambda_k K R_\Delta)^{-1}` and :math:`H_k = (I + \lambda_k R_\Delta K)^{-1}`,
stacked ``(modes, n, n)``; isotropic data is the single mode :math:`\lambda = b = w = 1`.
With the gradient noise of mode :math:`k` written :math:`\lambda_k N`:

.. math::
    C_e &= \textstyle\sum_k w_k\lambda_k G_k\big[b_kJ + C_{\beta^0} + \lambda_k K N K^\top\big]G_k^\top,\\
    C_v &= \textstyle\sum_k w_k H_k\big[\lambda_k N + \lambda_k^2R_\Delta(b_kJ + C_{\beta^0})R_\Delta^\top\big]H_k^\top,
    \qquad R_{v\xi} = -\frac{1}{\gamma_0\nu}\textstyle\sum_k w_k\lambda_k H_k R_\Delta,

* repeated data (§2.3, §2.5): :math:`N = C_\Delta/\alpha`,
  :math:`C_\Delta = R_\Delta(\sigma^2J + C_e)R_\Delta^\top`,
  :math:`R_\Delta = \big(I + \alpha^{-1}\sum_k w_k\lambda_k G_k K\big)^{-1}`;
* one-pass SGD (§2.4): :math:`R_\Delta = I`, white noise
  :math:`N = \alpha_B^{-1}\mathrm{diag}(C_e(t,t) + \sigma^2)`;
* :math:`\alpha = \infty`: :math:`R_\Delta = I`, :math:`N = 0`.

:math:`R_\Delta` and :math:`C_\Delta` are part of the Picard state of
:func:`lindyn.theory.deep_dmft`: each sweep updates them once from the previous sweep's
values. Both updates are strictly causal (:math:`K` is strictly lower triangular, so row
:math:`t` depends only on rows :math:`< t`). Solving them to convergence inside every sweep,
as the spec's reference code does, gave the same number of sweeps and the same fixed point at
twice the cost (measured on §6 items 5 and 7).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["DataSide", "Modes", "Sampling", "data_side"]


@dataclasses.dataclass(frozen=True)
class Modes:
    """Data modes: eigenvalues ``lam``, teacher powers ``b`` and weights, each ``(modes,)``."""

    lam: np.ndarray
    b: np.ndarray
    weight: np.ndarray

    @classmethod
    def isotropic(cls) -> Modes:
        r""":math:`\Sigma = I`, :math:`\mathbb E\beta_\star^2 = 1`: one mode of weight 1."""
        one = np.ones(1)
        return cls(one, one, one)

    @classmethod
    def from_spectrum(cls, lam: np.ndarray, b: np.ndarray) -> Modes:
        r"""``D`` modes of weight ``1/D`` (averages :math:`\frac1D\sum_k`, spec §2.5)."""
        lam, b = np.asarray(lam, np.float64), np.asarray(b, np.float64)
        return cls(lam, b, np.full(lam.size, 1.0 / lam.size))

    @property
    def count(self) -> int:
        return self.lam.size


@dataclasses.dataclass(frozen=True)
class Sampling:
    """How the data is drawn: ``alpha`` (``inf``: population gradient), ``batch_ratio``
    (one-pass SGD when given; ``alpha`` is then unused) and the label noise ``sigma``."""

    alpha: float
    batch_ratio: float | None
    sigma: float

    @property
    def repeated(self) -> bool:
        r"""Finite repeated data: the sample sites carry a response :math:`R_\Delta \ne I`."""
        return self.batch_ratio is None and math.isfinite(self.alpha)


@dataclasses.dataclass(frozen=True)
class DataSide:
    """Output of :func:`data_side`, all ``(n, n)``."""

    C_e: np.ndarray
    C_delta: np.ndarray
    R_delta: np.ndarray
    C_v: np.ndarray
    R_vxi: np.ndarray


def unit_lower_inverse(X: np.ndarray) -> np.ndarray:
    """Inverse of (a stack of) unit lower-triangular matrices, kept exactly lower triangular."""
    return np.tril(np.linalg.inv(X))


def _mode_sum(c: np.ndarray, S: np.ndarray) -> np.ndarray:
    r""":math:`\sum_k c_k S_k` over a stack ``S`` ``(modes, n, n)``."""
    return np.tensordot(c, S, axes=1)


def _congruences(G: np.ndarray, X: np.ndarray, coefficients: list[np.ndarray]) -> list[np.ndarray]:
    r""":math:`\sum_k c_k G_k X G_k^\top` for a stack ``G``, one matrix ``X`` and each ``c``."""
    if not np.any(X):
        return [np.zeros_like(X) for _ in coefficients]
    Z = G @ X
    return [np.tensordot(Z * c[:, None, None], G, axes=([0, 2], [0, 2])) for c in coefficients]


def _outer_sum(E: np.ndarray, c: np.ndarray) -> np.ndarray:
    r""":math:`\sum_k c_k e_k e_k^\top` for the rows ``e_k`` of ``E`` ``(modes, n)``."""
    return (E * c[:, None]).T @ E


def _transfer(K: np.ndarray, R: np.ndarray, lam: np.ndarray) -> np.ndarray:
    r"""The stack :math:`G_k = (I + \lambda_k K R_\Delta)^{-1}`."""
    n = K.shape[0]
    return unit_lower_inverse(np.eye(n) + lam[:, None, None] * (K @ R))


def _noise(C_delta: np.ndarray, data: Sampling) -> np.ndarray:
    r"""The gradient-noise kernel :math:`N` read from :math:`C_\Delta` (module docstring)."""
    if data.repeated:
        return C_delta / data.alpha
    if data.batch_ratio is not None:
        return np.diag(np.diag(C_delta)) / data.batch_ratio
    return np.zeros_like(C_delta)


def _sample_response(K: np.ndarray, R: np.ndarray, modes: Modes, alpha: float) -> np.ndarray:
    r"""One update :math:`R_\Delta \leftarrow (I + \alpha^{-1}\sum_k w_k\lambda_kG_kK)^{-1}`."""
    S1 = _mode_sum(modes.weight * modes.lam, _transfer(K, R, modes.lam))
    return unit_lower_inverse(np.eye(K.shape[0]) + S1 @ K / alpha)


def data_side(
    K: np.ndarray,
    C_beta0: np.ndarray,
    R_delta: np.ndarray,
    C_delta: np.ndarray,
    modes: Modes,
    data: Sampling,
    rx: float,
) -> DataSide:
    r"""One Gauss–Seidel update of the data block from the previous sweep's :math:`(R_\Delta, C_\Delta)`.

    In order: :math:`R_\Delta` (repeated data), the transfer functions :math:`G_k` at the new
    :math:`R_\Delta`, :math:`C_e` with the previous noise :math:`N`, the new :math:`C_\Delta` and
    :math:`N`, then :math:`C_v` with the new :math:`N`. :math:`H_k` is never formed: with
    :math:`H_k = I - \lambda_kR_\Delta G_kK` (push-through), :math:`H_kR_\Delta = R_\Delta G_k`
    and :math:`S_j = \sum_k w_k\lambda_k^jG_k`,

    .. math::
        \textstyle\sum_k w_k\lambda_kH_kNH_k^\top = S_1^{0}N - R_\Delta S_2KN - (R_\Delta S_2KN)^\top
            + R_\Delta\big(\sum_k w_k\lambda_k^3G_kKNK^\top G_k^\top\big)R_\Delta^\top,

    :math:`S_1^0 = \sum_k w_k\lambda_k`, and :math:`R_{v\xi} = -r_xR_\Delta S_1`. Cost
    :math:`O(\text{modes}\cdot n^3)`: two stack inverses (one without repeated data) and three
    stack products.

    Args:
        K: ``(n, n)`` learning-rate kernel, strictly lower triangular.
        C_beta0: ``(n, n)`` covariance :math:`c_0 C_g^1` of the initial-function field.
        R_delta, C_delta: ``(n, n)``, the previous sweep's values.
        modes: data modes; data: sampling protocol and label noise.
        rx: the prefactor :math:`1/(\gamma_0\nu)` of :math:`R_{v\xi}` (0 at :math:`\nu = \infty`).

    Returns:
        :class:`DataSide` with the updated :math:`R_\Delta` and :math:`C_\Delta`; without
        repeated data :math:`R_\Delta = I` and :math:`C_\Delta = C_e + \sigma^2 J` (the train
        loss is the test loss).
    """
    n = K.shape[0]
    eye, J, lam, w = np.eye(n), np.ones((n, n)), modes.lam, modes.weight
    R = _sample_response(K, R_delta, modes, data.alpha) if data.repeated else eye
    G = _transfer(K, R, lam)
    ends = G.sum(axis=2)  # rows G_k 1
    init, init_v = _congruences(G, C_beta0, [w * lam, w * lam**2])
    (fluct,) = _congruences(G, K @ _noise(C_delta, data) @ K.T, [w * lam**2])
    C_e = _outer_sum(ends, w * lam * modes.b) + init + fluct
    C_delta = R @ (data.sigma**2 * J + C_e) @ R.T if data.repeated else C_e + data.sigma**2 * J
    N = _noise(C_delta, data)
    (fluct_v,) = _congruences(G, K @ N @ K.T, [w * lam**3])
    RS2KN = R @ _mode_sum(w * lam**2, G) @ K @ N
    noise_v = np.sum(w * lam) * N - RS2KN - RS2KN.T + R @ fluct_v @ R.T
    C_v = noise_v + R @ (_outer_sum(ends, w * lam**2 * modes.b) + init_v) @ R.T
    R_vxi = -rx * R @ _mode_sum(w * lam, G)
    return DataSide(C_e=C_e, C_delta=C_delta, R_delta=R, C_v=C_v, R_vxi=R_vxi)
