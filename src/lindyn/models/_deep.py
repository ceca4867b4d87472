"""Deep linear networks: plain products, residual branches, standard / muP / NTK scalings."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
from jax import Array

from lindyn.models._base import Model

__all__ = ["DeepLinear", "two_layer_linear"]

PARAMETERIZATIONS = ("standard", "mup", "ntk")


@dataclasses.dataclass(frozen=True)
class DeepLinear(Model):
    r"""Deep linear network :math:`f(x) = A x`, :math:`A = M_L \cdots M_1`, :math:`M_\ell = c_\ell W_\ell`.

    ``depth`` counts weight matrices: :math:`W_1 \in \mathbb R^{w\times d_{in}}`, hidden
    :math:`W_\ell \in \mathbb R^{w\times w}`, :math:`W_L \in \mathbb R^{d_{out}\times w}`.
    With ``residual=True`` every hidden layer is a block :math:`M_\ell = I + b\, c_\ell W_\ell`
    with branch scale :math:`b = \beta_0/\sqrt{L_{res}}` over the :math:`L_{res} = L - 2` residual
    blocks (``branch="sqrt_depth"``, depth-muP: the :math:`1/\sqrt{L}` of Bordelon & Pehlevan,
    whose :math:`L` counts blocks) or :math:`b = \beta_0` (``branch="constant"``).

    Parameterizations (multipliers :math:`c_\ell`, initial entries i.i.d. :math:`\mathcal N(0, s^2)`):

    * ``"standard"`` (Saxe; Jacot et al.): :math:`c_\ell = 1`, :math:`s = \sigma`.
    * ``"mup"`` (Bordelon & Pehlevan 2025, in the normalisation of the README's deep notes
      §1.2, where :math:`f = \frac{\sqrt D}{\gamma_0 N} w\cdot h^L`): :math:`s = 1`,
      :math:`c_1 = 1/\sqrt{d_{in}}`, hidden :math:`c_\ell = 1/\sqrt w`,
      readout :math:`c_L = \sqrt{d_{in}}/(\gamma_0 w)`.
    * ``"ntk"``: as ``"mup"`` with :math:`\gamma_0 \to \bar\gamma/\sqrt{w/d_{in}}`, i.e. readout
      :math:`c_L = 1/(\bar\gamma\sqrt w)`; ``gamma0`` holds :math:`\bar\gamma`.

    Under gradient flow on the non-residual network,
    :math:`W_{\ell+1}^\top W_{\ell+1} - W_\ell W_\ell^\top` is conserved for every scaling.
    The gradient is evaluated by propagating the :math:`d_{out}`-column matrices
    :math:`G^\top` forward and :math:`I_{d_{out}}` backward, so one evaluation costs
    :math:`O(L\,w^2 d_{out} + w\,d_{in} d_{out})`, never :math:`O(w^3)`.
    """

    d_in: int
    width: int
    d_out: int = 1
    depth: int = 2
    parameterization: str = "standard"
    sigma: float = 1.0
    gamma0: float = 1.0
    residual: bool = False
    beta0: float = 1.0
    branch: str = "sqrt_depth"

    def __post_init__(self) -> None:
        for name in ("d_in", "width", "d_out", "depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"parameterization: must be one of {', '.join(PARAMETERIZATIONS)}, "
                f"got {self.parameterization!r}"
            )
        if not self.sigma > 0 or not self.gamma0 > 0:
            raise ValueError("sigma, gamma0: must be > 0")
        if self.residual and self.depth < 3:
            raise ValueError(f"depth: must be >= 3 with residual blocks, got {self.depth}")
        if self.branch not in ("sqrt_depth", "constant"):
            raise ValueError(f"branch: must be 'sqrt_depth' or 'constant', got {self.branch!r}")

    def shapes(self) -> list[tuple[int, int]]:
        if self.depth == 1:
            return [(self.d_out, self.d_in)]
        hidden = [(self.width, self.width)] * (self.depth - 2)
        return [(self.width, self.d_in), *hidden, (self.d_out, self.width)]

    def multipliers(self) -> list[float]:
        """The forward multipliers :math:`c_\\ell`, one per weight matrix."""
        if self.parameterization == "standard":
            return [1.0] * self.depth
        readout = (
            math.sqrt(self.d_in) / (self.gamma0 * self.width)
            if self.parameterization == "mup"
            else 1.0 / (self.gamma0 * math.sqrt(self.width))
        )
        if self.depth == 1:
            return [readout]
        hidden = [1.0 / math.sqrt(self.width)] * (self.depth - 2)
        return [1.0 / math.sqrt(self.d_in), *hidden, readout]

    def branch_scale(self) -> float:
        """Residual branch scale :math:`b` (1 when there are no residual blocks)."""
        if not self.residual:
            return 1.0
        blocks = self.depth - 2
        return self.beta0 / math.sqrt(blocks) if self.branch == "sqrt_depth" else self.beta0

    def _gains(self) -> list[float]:
        """Multiplier of each weight matrix inside its layer map (branch scale included)."""
        c = self.multipliers()
        b = self.branch_scale()
        return [ci * (b if self._is_block(i) else 1.0) for i, ci in enumerate(c)]

    def _is_block(self, i: int) -> bool:
        return self.residual and 0 < i < self.depth - 1

    def init(self, key: Array) -> tuple[Array, ...]:
        std = self.sigma if self.parameterization == "standard" else 1.0
        keys = jax.random.split(key, self.depth)
        return tuple(
            std * jax.random.normal(k, shape, dtype=jnp.float64)
            for k, shape in zip(keys, self.shapes(), strict=True)
        )

    def _apply(self, i: int, W: Array, gain: float, H: Array) -> Array:
        """Layer map ``M_i`` applied to the columns of ``H``."""
        out = gain * (W @ H)
        return H + out if self._is_block(i) else out

    def _apply_t(self, i: int, W: Array, gain: float, H: Array) -> Array:
        """Transposed layer map ``M_i^T`` applied to the columns of ``H``."""
        out = gain * (W.T @ H)
        return H + out if self._is_block(i) else out

    def _left_products(self, params: tuple[Array, ...]) -> tuple[list[Array], Array]:
        """``[(M_L ... M_{l+1})^T for each l]`` and :math:`A^\\top`, from the output side."""
        gains = self._gains()
        left: list[Array] = [jnp.eye(self.d_out)] * self.depth
        Z = jnp.eye(self.d_out)
        for i in reversed(range(self.depth)):
            left[i] = Z
            Z = self._apply_t(i, params[i], gains[i], Z)
        return left, Z

    def end_to_end(self, params: tuple[Array, ...]) -> Array:
        """The end-to-end matrix :math:`A`, shape ``(d_out, d_in)``."""
        return self._left_products(params)[1].T

    def output(self, params: tuple[Array, ...], X: Array) -> Array:
        return X @ self.end_to_end(params).T

    def pullback(self, params: tuple[Array, ...], G: Array) -> tuple[Array, ...]:
        r"""Parameter gradient of a cost whose gradient in :math:`A` is ``G`` (``(d_out, d_in)``).

        :math:`\partial/\partial W_\ell = g_\ell\, (M_L\cdots M_{\ell+1})^\top G\, (M_{\ell-1}\cdots M_1)^\top`.
        """
        gains = self._gains()
        left, _ = self._left_products(params)
        grads = []
        T = G.T  # T = (M_{l-1} ... M_1) G^T, shape (cols of M_l, d_out)
        for i in range(self.depth):
            grads.append(gains[i] * (left[i] @ T.T))
            T = self._apply(i, params[i], gains[i], T)
        return tuple(grads)

    def output_vjp(self, params: tuple[Array, ...], X: Array, R: Array) -> tuple[Array, ...]:
        return self.pullback(params, R.T @ X)


def two_layer_linear(d_in: int, width: int, d_out: int, sigma: float) -> DeepLinear:
    r"""Two-layer linear network :math:`W_2 W_1`, width ``width``, entries i.i.d. :math:`\mathcal N(0,\sigma^2)`."""
    return DeepLinear(d_in=d_in, width=width, d_out=d_out, depth=2, sigma=sigma)
