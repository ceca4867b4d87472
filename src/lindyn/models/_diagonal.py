"""Diagonal linear networks."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax.numpy as jnp
from jax import Array

from lindyn.models._base import Model

__all__ = ["DiagonalLinear", "DiagonalParams"]


class DiagonalParams(NamedTuple):
    u: Array
    v: Array


@dataclasses.dataclass(frozen=True)
class DiagonalLinear(Model):
    r"""Diagonal linear network :math:`f(x) = \langle \beta, x \rangle`.

    Two parametrizations of the same predictor family:

    * ``"uv"``: :math:`\beta = u \odot v`, :math:`u(0) = \sqrt2\,\alpha\,\mathbf 1`, :math:`v(0) = 0`
      (the diagonal-network DMFT convention). Under gradient flow without weight decay
      :math:`u_i^2 - v_i^2 = 2\alpha^2` is conserved.
    * ``"pm"``: :math:`\beta = u^2 - v^2`, :math:`u(0) = v(0) = \alpha\,\mathbf 1` (Woodworth et al.).

    The two give the same trajectories up to scale and time: with :math:`u = w_+ + w_-`,
    :math:`v = w_+ - w_-`, ``"pm"`` at scale :math:`\alpha` and time :math:`t` equals ``"uv"`` at
    scale :math:`\sqrt2\,\alpha` and time :math:`2t`.

    Args:
        d: input dimension (>= 1).
        alpha: initialization scale (> 0).
        parametrization: ``"uv"`` or ``"pm"``.
    """

    d: int
    alpha: float
    parametrization: str = "uv"

    def __post_init__(self) -> None:
        if self.d < 1:
            raise ValueError(f"d: must be >= 1, got {self.d}")
        if not self.alpha > 0:
            raise ValueError(f"alpha: must be > 0, got {self.alpha}")
        if self.parametrization not in ("uv", "pm"):
            raise ValueError(f"parametrization: must be 'uv' or 'pm', got {self.parametrization!r}")

    def init(self, key: Array | None = None) -> DiagonalParams:
        ones = jnp.ones(self.d, dtype=jnp.float64)
        if self.parametrization == "uv":
            return DiagonalParams(jnp.sqrt(2.0) * self.alpha * ones, 0.0 * ones)
        return DiagonalParams(self.alpha * ones, self.alpha * ones)

    def beta(self, params: DiagonalParams) -> Array:
        """The end-to-end linear predictor."""
        if self.parametrization == "uv":
            return params.u * params.v
        return params.u**2 - params.v**2

    end_to_end = beta

    def conserved(self, params: DiagonalParams) -> Array:
        r"""The per-coordinate invariant: :math:`u^2 - v^2` (``"uv"``) or :math:`uv` (``"pm"``).

        Constant under gradient flow without weight decay; with weight decay :math:`\lambda` it
        decays as :math:`e^{-2\lambda t}`.
        """
        if self.parametrization == "uv":
            return params.u**2 - params.v**2
        return params.u * params.v

    def output(self, params: DiagonalParams, X: Array) -> Array:
        return X @ self.beta(params)

    def pullback(self, params: DiagonalParams, g: Array) -> DiagonalParams:
        r"""Parameter gradient of a cost whose gradient in :math:`\beta` is ``g``."""
        if self.parametrization == "uv":
            return DiagonalParams(params.v * g, params.u * g)
        return DiagonalParams(2 * params.u * g, -2 * params.v * g)

    def output_vjp(self, params: DiagonalParams, X: Array, R: Array) -> DiagonalParams:
        # ``R @ X`` rather than ``X.T @ R``: XLA on CPU lowers the latter to a copied
        # transpose (about 15x slower at d = 4000, benchmarks/simulate.py).
        return self.pullback(params, R @ X)
