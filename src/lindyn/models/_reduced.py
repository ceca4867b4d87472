r"""Two-layer linear networks of any width in :math:`O(d^2)` memory: gradient descent in the span of the start.

Gradient descent on :math:`\frac12\|W_2W_1 - Y\|_F^2`, :math:`W_1 \in \mathbb R^{w\times d_{in}}`,
:math:`W_2 \in \mathbb R^{d_{out}\times w}`, changes :math:`W_1` by :math:`W_2^\top R` and
:math:`W_2` by :math:`RW_1^\top`: the columns of :math:`W_1` and the rows of :math:`W_2` stay in
the span of their initial values, of dimension :math:`m \le d_{in} + d_{out}`
(the README's mixed notes §2.4.3). With an orthonormal basis :math:`Q \in \mathbb R^{w\times m}`
of that span, :math:`W_1 = QX_1`, :math:`W_2 = X_2Q^\top`, and gradient descent acts on
:math:`(X_1, X_2)` exactly as on :math:`(W_1, W_2)`, with the same products
:math:`A = X_2X_1`, :math:`C_1 = X_1^\top X_1`, :math:`C_2 = X_2X_2^\top`.

The law of the start: :math:`[W_1, W_2^\top] = \sigma G` with :math:`G \in \mathbb R^{w\times m}`
standard Gaussian, :math:`G = QT` its QR factorization, so :math:`[X_1, X_2^\top] = \sigma T` with
:math:`T` the Bartlett factor of the Wishart matrix :math:`G^\top G = T^\top T`: upper triangular,
:math:`T_{ii} = \sqrt{\chi^2_{w-i}}` (0-based :math:`i`), :math:`T_{ij} \sim \mathcal N(0, 1)` above
the diagonal, all independent. Equal in distribution to the full network for
:math:`w \ge d_{in} + d_{out}`; below that the full weights are as cheap and are drawn directly.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["reduced_two_layer_init", "bartlett_factor", "gauss_seidel_step"]


def bartlett_factor(key: Array, w: int | Array, m: int) -> Array:
    r"""The ``(m, m)`` upper-triangular :math:`T` of :math:`G = QT`, :math:`G` a ``(w, m)``
    standard Gaussian matrix (``w >= m``), sampled directly (module docstring). ``w`` may be a
    traced scalar (one compilation serves every width)."""
    return _bartlett(key, jnp.asarray(w, dtype=jnp.float64), m)


@partial(jax.jit, static_argnums=2)
def _bartlett(key: Array, w: Array, m: int) -> Array:
    k_diag, k_upper = jax.random.split(key)
    diag = jnp.sqrt(2.0 * jax.random.gamma(k_diag, (w - jnp.arange(m)) / 2.0))
    return jnp.triu(jax.random.normal(k_upper, (m, m)), k=1) + jnp.diag(diag)


def reduced_two_layer_init(
    key: Array, d_out: int, d_in: int, w: int, sigma: float
) -> tuple[Array, Array]:
    r"""Start :math:`(X_1, X_2)` of a width-``w`` two-layer linear network with i.i.d.
    :math:`\mathcal N(0, \sigma^2)` weights, ``(m, d_in)`` and ``(d_out, m)``,
    :math:`m = \min(w, d_{in} + d_{out})`: the reduced coordinates for ``w >= d_in + d_out``
    (module docstring), the weights themselves below.

    Example:
        >>> import jax
        >>> X1, X2 = reduced_two_layer_init(jax.random.key(0), 3, 4, 10**6, 0.01)
        >>> X1.shape, X2.shape
        ((7, 4), (3, 7))
    """
    m = d_in + d_out
    if w < 1 or min(d_in, d_out) < 1:
        raise ValueError(f"w, d_in, d_out: must be >= 1, got {w}, {d_in}, {d_out}")
    if w >= m:
        T = sigma * bartlett_factor(key, w, m)
        return T[:, :d_in], T[:, d_in:].T
    k1, k2 = jax.random.split(key)
    return sigma * jax.random.normal(k1, (w, d_in)), sigma * jax.random.normal(k2, (d_out, w))


def gauss_seidel_step(X1: Array, X2: Array, Y: Array, eta: Array | float) -> tuple[Array, Array]:
    r"""One step of gradient descent on :math:`\frac12\|X_2X_1 - Y\|_F^2` in the order of the
    paper's code (§1.3): :math:`R = X_2X_1 - Y`, :math:`X_1 \leftarrow X_1 - \eta X_2^\top R`, then
    :math:`X_2 \leftarrow X_2 - \eta R X_1^\top` with the *updated* :math:`X_1` and the old
    :math:`R`."""
    R = X2 @ X1 - Y
    X1 = X1 - eta * X2.T @ R
    return X1, X2 - eta * R @ X1.T
