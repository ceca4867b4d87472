r"""Gradient flow of a diagonal linear network, integrated in its dual variable and in
accelerated time, for initialisations as small as :math:`\alpha = e^{-2000}`.

For :math:`\beta = u\odot v`, :math:`L(\beta) = \frac1{2n}\|X\beta - y\|^2`, gradient flow
:math:`\dot u = -v\odot\nabla L`, :math:`\dot v = -u\odot\nabla L` from
:math:`u_0 = \sqrt2\,\alpha_i`, :math:`v_0 = 0` keeps :math:`u_i^2 - v_i^2 = 2\alpha_i^2`, so
:math:`u_i = \sqrt2\alpha_i\cosh w_i`, :math:`v_i = \sqrt2\alpha_i\sinh w_i` with
:math:`\dot w = -\nabla L(\beta)` and :math:`\beta_i = \alpha_i^2\sinh(2w_i)`. In accelerated
time :math:`\tilde t = t/\ln(1/\alpha)` the dual variable :math:`z = w/\ln(1/\alpha)` obeys
(Pesme & Flammarion 2023, §2 and eq. (4); the README's saddle notes §5.2, §5.7)

.. math::
    \dot z = -\nabla L(\beta(z)),\quad z(0) = 0,\qquad
    \beta_i(z) = \alpha_i^2 \sinh(c z_i),\quad c = 2\ln(1/\alpha),

the mirror flow of the hyperbolic entropy, :math:`z = \nabla\tilde\phi_\alpha(\beta)`. This is
**the network's gradient flow itself**, exactly reparametrised (no approximation): the network's
:math:`\beta` at time :math:`t` is this :math:`\beta` at :math:`\tilde t = t/\ln(1/\alpha)`. As
:math:`\alpha \to 0`, :math:`z` tends to the dual variable :math:`s` of Algorithm 1
(:func:`lindyn.theory.pesme_flammarion`).

Here :math:`\alpha_i = u'_i\,\alpha^{k_i}` (an initialisation shape :math:`u'` and the exponents
:math:`k` of the weighted variant, both 1 in the paper). :math:`\beta` is evaluated in the log
domain, :math:`\beta_i = \operatorname{sign}(z_i)\,\tfrac12 e^{a_i + c|z_i|}(1 - e^{-2c|z_i|})`
with :math:`a_i = \ln\alpha_i^2`, so neither :math:`\alpha^2` nor :math:`\alpha^4` is ever formed
(plain float64 fails below :math:`\alpha \approx 10^{-150}`). The flow is stiff at the jumps; it
is integrated by :func:`scipy.integrate.solve_ivp` with the implicit Radau IIA method and the
exact Jacobian :math:`-\tfrac1n X^\top X\operatorname{diag}(c\,\alpha_i^2\cosh(cz_i))`, where
:math:`c\,\alpha_i^2\cosh(cz_i) = c\sqrt{\beta_i^2 + \alpha_i^4}`. (diffrax's implicit
``Kvaerno5`` at the same tolerances, on Fig. 2 right and the P2 reference run: 9–33 thousand
steps and 0.4–1.7 s after a 2.5–4.5 s compilation, against 0.16–0.53 s for Radau, which needs
none; ``benchmarks/pesme.py``.)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.integrate import solve_ivp

from lindyn.data._regression import checked_regression
from lindyn.train._solution import Solution, Status

__all__ = ["diagonal_mirror_flow"]

_EXPONENT_CAP = 300.0
"""Cap on :math:`a_i + c|z_i|`: :math:`|\\beta| \\le e^{300}` at the solver's trial points, far
beyond any iterate (bounded by :math:`3\\|\\beta^\\star_{\\ell_1}\\|_1 + 1`, Prop. 5), so that a
rejected Newton iterate never overflows."""


@dataclasses.dataclass(frozen=True)
class _DualMap:
    r""":math:`z \mapsto \beta(z) = e^{a}\sinh(cz)` and its derivative, in the log domain."""

    log_scale: np.ndarray  # a_i = ln(alpha_i^2)
    c: float

    def _parts(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self.c * np.abs(z)
        return 0.5 * np.exp(np.minimum(self.log_scale + x, _EXPONENT_CAP)), np.exp(-2.0 * x)

    def beta(self, z: np.ndarray) -> np.ndarray:
        half, decay = self._parts(z)
        return np.sign(z) * half * (1.0 - decay)

    def slope(self, z: np.ndarray) -> np.ndarray:
        r""":math:`d\beta_i/dz_i = c\,e^{a_i}\cosh(cz_i)`."""
        half, decay = self._parts(z)
        return self.c * half * (1.0 + decay)


def diagonal_mirror_flow(
    X: ArrayLike,
    y: ArrayLike,
    times: ArrayLike,
    *,
    log_inv_alpha: float,
    weights: ArrayLike | None = None,
    init_shape: ArrayLike | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-11,
) -> Solution:
    r"""Gradient flow of :math:`\beta = u\odot v` from a tiny start, in accelerated time.

    See the module docstring: :math:`\dot z = -\nabla L(\beta(z))` with
    :math:`\beta_i = \alpha_i^2\sinh(2\ln(1/\alpha)z_i)`, :math:`\alpha_i = u'_i\alpha^{k_i}`,
    which is the network's gradient flow from :math:`u_0 = \sqrt2\alpha_i`, :math:`v_0 = 0`
    observed at times :math:`t = \tilde t\ln(1/\alpha)`.

    Args:
        X: design, shape ``(n, d)``.
        y: labels, shape ``(n,)``.
        times: accelerated times :math:`\tilde t`, strictly increasing, :math:`\ge 0`, ``(T,)``.
        log_inv_alpha: :math:`\ln(1/\alpha) > 0` (pass ``-math.log(alpha)``; the logarithm lets
            :math:`\alpha` go below the float64 range, e.g. :math:`\ln(1/\alpha) = 2000`).
        weights: exponents :math:`k_i > 0`, shape ``(d,)``; ones if None.
        init_shape: :math:`u'_i > 0`, shape ``(d,)``; ones (the paper's start) if None.
        rtol, atol: Radau tolerances on :math:`z`. An error :math:`\epsilon` in :math:`z_i`
            is a relative error :math:`c\epsilon` in :math:`\beta_i`. The defaults keep
            :math:`\beta` within about :math:`10^{-9}` of a ``rtol = 1e-12`` solve on plateaus
            and :math:`4\cdot10^{-7}` inside jumps (P2 instance and Fig. 2 right,
            :math:`\alpha = 10^{-30}\ldots10^{-300}`).

    Returns:
        A :class:`lindyn.train.Solution` at ``times`` with observables ``beta`` ``(T, d)``,
        ``dual`` (:math:`z`, ``(T, d)``) and ``train_loss`` ``(T,)``. Its status is
        ``Status.OK``, or ``Status.MAX_STEPS`` (named ``"not_converged"`` in an experiment's
        dataset) if Radau stopped before ``times[-1]``; then every observable is NaN at the
        record times after the last one it reached, and finite before. The status is the
        solver's verdict, not read off the records.

    Raises:
        ValueError: bad shapes, non-finite input or non-positive scales (one line naming the
            argument and the first offending entry).

    Example:
        >>> import numpy as np
        >>> sol = diagonal_mirror_flow(np.eye(2), np.array([1.0, 2.0]), [0.0, 1.5, 3.0],
        ...                            log_inv_alpha=200.0)
        >>> np.round(sol.observables["beta"], 6).tolist()
        [[0.0, 0.0], [0.0, 2.0], [1.0, 2.0]]
    """
    X, y = checked_regression(X, y)
    times = _checked_times(times)
    k = _positive("weights", weights, X.shape[1])
    shape = _positive("init_shape", init_shape, X.shape[1])
    _check_scalars(log_inv_alpha, rtol, atol)
    dual_map = _DualMap(2.0 * (np.log(shape) - k * log_inv_alpha), 2.0 * log_inv_alpha)
    z, ok = _integrate(X, y, times, dual_map, rtol, atol)
    beta = dual_map.beta(z)  # NaN rows stay NaN
    loss = 0.5 * np.mean((beta @ X.T - y) ** 2, axis=1)
    observables = {"beta": beta, "dual": z, "train_loss": loss}
    return Solution(times, observables, np.int64(Status.OK if ok else Status.MAX_STEPS))


def _checked_times(times: ArrayLike) -> np.ndarray:
    """Finite, non-negative, strictly increasing record times; the error names the first bad one."""
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"times: must be a non-empty 1-D array, got shape {times.shape}")
    bad = np.flatnonzero(~np.isfinite(times) | (times < 0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"times: must be finite and >= 0, got times[{i}] = {float(times[i])!r}")
    bad = np.flatnonzero(np.diff(times) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise ValueError(
            f"times: must be strictly increasing, got times[{i}] = {float(times[i])!r} "
            f"after times[{i - 1}] = {float(times[i - 1])!r}"
        )
    return times


def _positive(name: str, value: ArrayLike | None, d: int) -> np.ndarray:
    """A per-coordinate vector of finite positive entries (ones if None)."""
    v = np.ones(d) if value is None else np.asarray(value, dtype=np.float64)
    if v.shape != (d,):
        raise ValueError(f"{name}: must have shape (d,) = ({d},), got shape {v.shape}")
    bad = np.flatnonzero(~(np.isfinite(v) & (v > 0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}: must be finite and > 0, got {name}[{i}] = {float(v[i])!r}")
    return v


def _check_scalars(log_inv_alpha: float, rtol: float, atol: float) -> None:
    for name, value, allowed, ok in (
        ("log_inv_alpha", log_inv_alpha, "finite and > 0", lambda v: math.isfinite(v) and v > 0),
        ("rtol", rtol, "in (0, 1)", lambda v: 0 < v < 1),
        ("atol", atol, "finite and > 0", lambda v: math.isfinite(v) and v > 0),
    ):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: must be a real number, got {value!r}") from None
        if not ok(number):
            raise ValueError(f"{name}: must be {allowed}, got {number!r}")


def _integrate(
    X: np.ndarray, y: np.ndarray, times: np.ndarray, dual_map: _DualMap, rtol: float, atol: float
) -> tuple[np.ndarray, bool]:
    """Radau from :math:`z = 0` to ``times[-1]``; the dual at ``times`` (NaN after a failure)."""
    n, d = X.shape
    gram, target = X.T @ X / n, X.T @ y / n

    def rhs(_t: float, z: np.ndarray) -> np.ndarray:
        return target - gram @ dual_map.beta(z)

    def jac(_t: float, z: np.ndarray) -> np.ndarray:
        return -gram * dual_map.slope(z)[None, :]

    z = np.full((times.size, d), np.nan)
    if times[-1] == 0.0:
        z[:] = 0.0
        return z, True
    sol = solve_ivp(
        rhs,
        (0.0, times[-1]),
        np.zeros(d),
        method="Radau",
        t_eval=times,
        jac=jac,
        rtol=rtol,
        atol=atol,
    )
    z[: sol.y.shape[1]] = sol.y.T
    return z, bool(sol.success)
