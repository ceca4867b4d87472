r"""The one-step multiplier of a residual, from its two-time correlation: a DMFT's own
stability diagnostic (used by the deep and the diagonal-network DMFTs)."""

from __future__ import annotations

import numpy as np

__all__ = ["residual_multiplier"]


def residual_multiplier(C: np.ndarray) -> np.ndarray:
    r""":math:`s(t) = 1 - C(t, t-1)/C(t-1, t-1)` for a residual's correlation ``C`` on a grid of
    steps.

    On a mode of the residual that one step multiplies by :math:`1 - \eta\lambda`,
    :math:`s = \eta\lambda`; over the modes that carry the residual, :math:`s(t)` is their
    effective step times curvature. Near 0 the residual sits in slow, stable modes; above 1 it
    is carried by overshooting (sign-flipping) modes, and :math:`s \to 2` at the edge of
    stability.

    Returns:
        ``(K,)``, NaN at the first step and where :math:`C(t-1, t-1) = 0`.

    Example:
        >>> r = np.array([1.0, -0.5, 0.25])  # one mode, multiplied by 1 - 1.5 each step
        >>> residual_multiplier(np.outer(r, r))
        array([nan, 1.5, 1.5])
    """
    out = np.full(C.shape[0], np.nan)
    previous = np.diag(C)[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1.0 - np.diag(C, -1) / previous
    out[1:] = np.where(previous > 0, s, np.nan)
    return out
