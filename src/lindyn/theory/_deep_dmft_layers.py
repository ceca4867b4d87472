r"""Hidden-layer sites of the deep-linear DMFT (``deep_dmft.md`` §2.3 and §2.6).

All kernels are ``(n, n)`` on the time grid; :math:`\Theta\circ C` is ``tril(C, -1)``, and the
layer quantities are stacks ``(layers, n, n)``:

* non-residual network, ``L`` hidden layers: ``Ch``, ``Rh``, ``Cg``, ``Rg`` for
  :math:`\ell = 1..L` (``Cg[L-1]`` is the readout :math:`g^L = w^L`);
* residual network, ``L`` blocks: ``Ch``, ``Rh`` for :math:`h^1..h^L` and ``Cg``, ``Rg`` for
  :math:`g^1..g^{L+1}` (:math:`g^{L+1} = w`).

``Rh`` is the response of :math:`h^\ell` to the backward noise of the matrix it feeds, ``Rg``
that of :math:`g^\ell` to the forward noise of the matrix that produces it (spec §2.2).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.linalg.lapack import dtrtri

from lindyn.theory._deep_dmft_data import unit_lower_inverse

__all__ = ["Layers", "hidden_layers", "residual_stream"]


@dataclasses.dataclass(frozen=True)
class Layers:
    """Hidden-layer order parameters, each a stack ``(layers, n, n)`` (module docstring)."""

    Ch: np.ndarray
    Cg: np.ndarray
    Rh: np.ndarray
    Rg: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.Ch, self.Cg, self.Rh, self.Rg)


def _site(C_u: np.ndarray, A: np.ndarray, C_r: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, ...]:
    r"""The site :math:`h = u + Ag`, :math:`g = r + Bh` with independent
    :math:`u \sim \mathcal{GP}(0, C_u)`, :math:`r \sim \mathcal{GP}(0, C_r)`:

    .. math::
        C_h = P(C_u + AC_rA^\top)P^\top,\quad C_g = Q(C_r + BC_uB^\top)Q^\top,\quad R_h = PA,\quad R_g = QB,

    with :math:`P = (I - AB)^{-1}`, :math:`Q = (I - BA)^{-1}` (:math:`AB` strictly lower triangular).
    """
    n = A.shape[0]
    P, Q = unit_lower_inverse(np.eye(n) - A @ B), unit_lower_inverse(np.eye(n) - B @ A)
    C_h = P @ (C_u + A @ C_r @ A.T) @ P.T
    C_g = Q @ (C_r + B @ C_u @ B.T) @ Q.T
    return C_h, C_g, P @ A, Q @ B


def hidden_layers(C_v: np.ndarray, R_vxi: np.ndarray, old: Layers, spike: float) -> Layers:
    r"""One Gauss–Seidel sweep over the layers :math:`\ell = 1..L` of a non-residual network (§2.3).

    Layer :math:`\ell` is the site of :func:`_site` with
    :math:`A^1 = R_{v\xi} + \eta\gamma_0\Theta\circ C_v`,
    :math:`A^\ell = R_h^{\ell-1} + \eta\gamma_0\Theta\circ C_h^{\ell-1}` (this sweep's values),
    :math:`B^\ell = R_g^{\ell+1} + \eta\gamma_0\Theta\circ C_g^{\ell+1}` (the previous sweep's),
    :math:`B^L = \eta\gamma_0\Theta`; noises :math:`C_u^1 = C_v`, :math:`C_u^\ell = C_h^{\ell-1}`,
    :math:`C_r^\ell = C_g^{\ell+1}`, :math:`C_r^L = J` (the readout at initialisation).

    Args:
        C_v, R_vxi: ``(n, n)`` from the data side.
        old: the previous sweep's layers.
        spike: :math:`\eta\gamma_0`.
    """
    L, n = old.Ch.shape[0], C_v.shape[0]
    readout = (np.ones((n, n)), spike * np.tril(np.ones((n, n)), -1))
    sites, C_in, R_in = [], C_v, R_vxi
    for ell in range(L):
        A = R_in + spike * np.tril(C_in, -1)
        if ell < L - 1:
            C_r = old.Cg[ell + 1]
            B = old.Rg[ell + 1] + spike * np.tril(C_r, -1)
        else:
            C_r, B = readout
        sites.append(_site(C_in, A, C_r, B))
        C_in, _, R_in, _ = sites[-1]
    return Layers(*(np.stack(column) for column in zip(*sites, strict=True)))


def _blocks(L: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Positions of :math:`h^1..h^{L+1}` and :math:`g^1..g^{L+1}` in the stream, ordered
    :math:`g^{L+1}, \dots, g^1, h^1, \dots, h^{L+1}`: equal-time couplings then only point
    backwards, so with time-major order :math:`I - M` is unit lower triangular."""
    ell = np.arange(1, L + 2)
    return L + ell, L + 1 - ell


def _stream_matrix(
    C_v: np.ndarray, R_vxi: np.ndarray, old: Layers, spike: float, beta: float
) -> np.ndarray:
    r"""The map :math:`M` of the residual stream :math:`Z = MZ + \text{noise}` (§2.6), shape
    ``(blocks, n, blocks, n)`` in the order of :func:`_blocks`."""
    L, n = old.Ch.shape[0], C_v.shape[0]
    h, g = _blocks(L)
    M = np.zeros((2 * (L + 1), n, 2 * (L + 1), n))
    eye, theta = np.eye(n), np.tril(np.ones((n, n)), -1)
    M[h[0], :, g[0]] = R_vxi + spike * np.tril(C_v, -1)
    for i in range(L):  # block l = i + 1
        M[h[i + 1], :, h[i]] = eye
        M[h[i + 1], :, g[i + 1]] = beta * old.Rh[i] + spike * beta**2 * np.tril(old.Ch[i], -1)
        M[g[i], :, g[i + 1]] = eye
        M[g[i], :, h[i]] = beta * old.Rg[i + 1] + spike * beta**2 * np.tril(old.Cg[i + 1], -1)
    M[g[L], :, h[L]] = spike * theta
    return M


def _stream_inverse(M: np.ndarray) -> np.ndarray:
    r""":math:`\Phi = (I - M)^{-1}` for ``M`` ``(blocks, n, blocks, n)``, by a triangular
    inverse in time-major order (a third of the cost of a general inverse, and exactly causal)."""
    blocks, n = M.shape[:2]
    size = blocks * n
    lower = np.eye(size) - M.transpose(1, 0, 3, 2).reshape(size, size)
    Phi, info = dtrtri(np.asfortranarray(lower), lower=1, unitdiag=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dtrtri failed with info={info}")
    return Phi.reshape(n, blocks, n, blocks).transpose(1, 0, 3, 2)


def residual_stream(
    C_v: np.ndarray, R_vxi: np.ndarray, old: Layers, spike: float, beta: float
) -> Layers:
    r"""One sweep of the cross-layer residual site (§2.6), all layers at once.

    .. math::
        h^1 &= u^0 + (R_{v\xi} + \eta\gamma_0\Theta\circ C_v)\,g^1,\qquad
        h^{\ell+1} = h^\ell + \beta u^\ell + (\beta R_h^\ell + \eta\gamma_0\beta^2\Theta\circ C_h^\ell)\,g^{\ell+1},\\
        g^{L+1} &= w(0)\mathbf 1 + \eta\gamma_0\Theta h^{L+1},\qquad
        g^\ell = g^{\ell+1} + \beta r^\ell + (\beta R_g^{\ell+1} + \eta\gamma_0\beta^2\Theta\circ C_g^{\ell+1})\,h^\ell,

    with independent :math:`u^0 \sim C_v`, :math:`u^\ell \sim C_h^\ell`, :math:`r^\ell \sim C_g^{\ell+1}`,
    :math:`w(0)\mathbf 1 \sim J`. With :math:`\Phi = (I - M)^{-1}` the same-layer covariances are the
    diagonal blocks of :math:`\Phi\Sigma\Phi^\top` and the responses
    :math:`R_h^\ell = \beta\Phi_{h^\ell g^\ell}`, :math:`R_g^\ell = \beta\Phi_{g^\ell h^\ell}`
    (:math:`\ell \ge 2`), :math:`R_g^1 = \Phi_{g^1h^1}`. Cost :math:`O((Ln)^3)`.

    Args:
        C_v, R_vxi: ``(n, n)`` from the data side.
        old: the previous sweep's layers (``Ch``, ``Rh``: ``L``; ``Cg``, ``Rg``: ``L + 1``).
        spike: :math:`\eta\gamma_0`.
        beta: the branch scale :math:`\beta_{\rm res}`.
    """
    L, n = old.Ch.shape[0], C_v.shape[0]
    blocks, (h, g) = 2 * (L + 1), _blocks(L)
    Phi = _stream_inverse(_stream_matrix(C_v, R_vxi, old, spike, beta))
    sources = np.empty((blocks, n, n))
    sources[h] = np.concatenate([C_v[None], beta**2 * old.Ch])
    sources[g] = np.concatenate([beta**2 * old.Cg[1:], np.ones((1, n, n))])
    by_source = Phi.transpose(2, 0, 1, 3).reshape(blocks, blocks * n, n)  # (b, a i, k)
    Y = (by_source @ sources).reshape(blocks, blocks, n, n).transpose(1, 2, 0, 3)
    C = Y.reshape(blocks, n, blocks * n) @ Phi.reshape(blocks, n, blocks * n).transpose(0, 2, 1)
    Rh = beta * Phi[h[:L], :, g[:L]]
    Rg = Phi[g, :, h] * np.r_[1.0, np.full(L, beta)][:, None, None]
    return Layers(Ch=C[h[:L]], Cg=C[g], Rh=Rh, Rg=Rg)
