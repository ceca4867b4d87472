r"""Successive saddles and jump times of a diagonal linear network at vanishing initialisation.

Pesme & Flammarion, *Saddle-to-Saddle Dynamics in Diagonal Linear Networks* (NeurIPS 2023,
arXiv 2304.00488), Algorithm 1, Proposition 2 and Theorem 2; the README's saddle notes §5.3–5.5.

For :math:`\beta = u\odot v` trained by gradient flow on
:math:`L(\beta) = \frac1{2n}\|X\beta - y\|^2` from :math:`u_0 = \sqrt2\,\alpha\mathbf 1`,
:math:`v_0 = 0`, the accelerated iterates :math:`\tilde\beta^\alpha_t = \beta^\alpha_{t\ln(1/\alpha)}`
converge as :math:`\alpha \to 0`, uniformly on compacts that avoid the jump times
:math:`t_1 < \dots < t_p`, to the piecewise-constant process :math:`\tilde\beta^\circ_t = \beta_k`
for :math:`t \in (t_k, t_{k+1})` (Theorem 2). Algorithm 1 computes the saddles :math:`\beta_k` and
the jump times exactly, through the dual variable
:math:`s_t = -\int_0^t \nabla L(\tilde\beta^\circ_u)\,du`, which is piecewise linear:

.. math::
    \Delta_k = \min\{\delta > 0 : \exists i,\ r_i \ne 0,\ s_i + \delta r_i = \pm k_i\},
    \qquad s \leftarrow s + \Delta_k r, \qquad t_{k+1} = t_k + \Delta_k,

.. math::
    \beta_{k+1} = \arg\min L(\beta) \ \text{s.t.}\ \beta_i \ge 0\ (s_i = +k_i),\
    \beta_i \le 0\ (s_i = -k_i),\ \beta_i = 0\ \text{otherwise},

with :math:`r = -\nabla L(\beta_k) = X^\top(y - X\beta_k)/n`, until :math:`r = 0`. The thresholds
are :math:`k_i = 1` in the paper; general :math:`k_i > 0` is the weighted variant of §5.5 (start
:math:`[u_0]_i = \alpha^{k_i}`; the end point minimises :math:`\sum_i k_i|\beta_i|`). The
constrained step is a non-negative least-squares problem after flipping the signs of the columns
in :math:`I_-`, solved by :func:`scipy.optimize.nnls` (Lawson–Hanson).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import nnls

from lindyn.data._regression import checked_regression
from lindyn.theory._checks import validate

__all__ = ["PesmeFlammarion", "pesme_flammarion"]

MAX_STEPS = 10_000
"""Default cap on the number of jumps (Prop. 2 bounds them by :math:`\\sum_{k\\le n}\\binom dk`)."""

_MESSAGES = {
    "ok": "converged: the gradient vanishes at the last saddle",
    "max_steps": "not converged: the max_steps cap on the number of jumps was reached",
    "step_bound": "not converged: more jumps than Prop. 2 allows (data not in general position?)",
    "kkt_violation": "failed: a saddle violates its KKT conditions or |s_i| exceeds k_i",
    "nnls_failed": "failed: the non-negative least-squares step did not converge",
}


@dataclasses.dataclass(frozen=True)
class PesmeFlammarion:
    r"""The saddles, jump times and dual certificates of Algorithm 1 (Pesme & Flammarion 2023).

    Row ``k`` of every array describes saddle ``k`` (``k = 0`` is the origin, reached at time 0);
    the limit process sits at ``betas[k]`` for accelerated times in ``(times[k], times[k+1])``.
    The arrays are read-only.

    Attributes:
        times: jump times :math:`0 = t_0 < t_1 < \dots < t_p`, shape ``(p+1,)``.
        betas: saddles :math:`\beta_k`, shape ``(p+1, d)``; the first row is 0 and, if
            ``status == "ok"``, the last is the minimum-(weighted-)ℓ1 minimiser of :math:`L`.
        signs: the sets :math:`I_\pm` after each jump, ``+1`` on :math:`I_+` (:math:`s_i = +k_i`),
            ``-1`` on :math:`I_-`, ``0`` elsewhere; shape ``(p+1, d)``, int8. A coordinate can
            stay in :math:`I_\pm` with :math:`\beta_i = 0`.
        duals: the dual variable :math:`s` right after each jump, shape ``(p+1, d)``; in
            :math:`[-k_i, k_i]`. The last row is the dual certificate of Prop. 2.
        losses: :math:`L(\beta_k)`, shape ``(p+1,)``, strictly decreasing under Assumption 1.
        weights: the thresholds :math:`k_i`, shape ``(d,)`` (ones for the paper's algorithm).
        status: ``"ok"``; or ``"max_steps"``, ``"step_bound"``, ``"kkt_violation"``,
            ``"nnls_failed"``, in which case the rows hold the saddles computed before the
            failure and the last one is *not* the end point.
        kkt_residual: the largest violation over all saddles of the KKT conditions,
            relative to :math:`\|\nabla L(0)\|_\infty`, and of :math:`|s_i| \le k_i`.
    """

    times: np.ndarray
    betas: np.ndarray
    signs: np.ndarray
    duals: np.ndarray
    losses: np.ndarray
    weights: np.ndarray
    status: str
    kkt_residual: float

    @property
    def converged(self) -> bool:
        return self.status == "ok"

    @property
    def message(self) -> str:
        return (
            f"{_MESSAGES[self.status]} ({self.jumps} jumps, KKT residual {self.kkt_residual:.2g})"
        )

    @property
    def jumps(self) -> int:
        """The number :math:`p` of jumps (saddles after the origin)."""
        return self.times.size - 1

    @property
    def endpoint(self) -> np.ndarray:
        r""":math:`\beta^\star_{\ell_1}`, the last saddle.

        Raises:
            RuntimeError: the algorithm did not converge (the last row is not the end point).
        """
        if not self.converged:
            raise RuntimeError(f"no end point: {self.message}")
        return self.betas[-1]

    def plateau(self, t: ArrayLike) -> np.ndarray:
        """Index ``k`` of the saddle the limit process sits at at accelerated times ``t``
        (right-continuous: ``k`` on ``[t_k, t_{k+1})``).

        Raises:
            ValueError: a negative or NaN time (one line naming the first one).
        """
        t = np.asarray(t, dtype=np.float64)
        bad = np.flatnonzero(~(t >= 0))  # NaN too
        if bad.size:
            i = np.unravel_index(int(bad[0]), t.shape)
            where = f"t[{', '.join(map(str, i))}]" if t.ndim else "t"
            raise ValueError(f"t: must be >= 0, got {where} = {float(t[i])!r}")
        return np.searchsorted(self.times, t, side="right") - 1

    def beta_at(self, t: ArrayLike) -> np.ndarray:
        r"""The limit :math:`\tilde\beta^\circ_t` at accelerated times ``t``, shape ``t.shape + (d,)``."""
        return self.betas[self.plateau(t)]

    def loss_at(self, t: ArrayLike) -> np.ndarray:
        r""":math:`L(\tilde\beta^\circ_t)` at accelerated times ``t``, shape ``t.shape``."""
        return self.losses[self.plateau(t)]


@dataclasses.dataclass
class _State:
    """The loop's variables after a jump: time, saddle, dual, gradient residual."""

    t: float
    beta: np.ndarray
    s: np.ndarray
    r: np.ndarray


def pesme_flammarion(
    X: ArrayLike,
    y: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    tol: float = 1e-9,
    max_steps: int = MAX_STEPS,
    throw: bool = True,
) -> PesmeFlammarion:
    r"""Algorithm 1 of Pesme & Flammarion (2023): the saddles and jump times of the limit flow.

    See the module docstring for the maths. Numerically: hitting times
    :math:`\delta_i = (\operatorname{sign}(r_i)k_i - s_i)/r_i` over the coordinates with
    :math:`|r_i| > \mathrm{tol}\,\|r_0\|_\infty`, keeping :math:`\delta_i > 0`; after the update,
    :math:`s_i` within :math:`\mathrm{tol}\cdot k_i` of :math:`\pm k_i` is snapped to it (ties:
    several coordinates switch at once); the loop ends when
    :math:`\|r\|_\infty \le \mathrm{tol}\,\|r_0\|_\infty`. The KKT conditions
    (:math:`\nabla L_i = 0` where :math:`\beta_i \ne 0`, :math:`\nabla L_i \ge 0` on
    :math:`I_+`, :math:`\le 0` on :math:`I_-`) and :math:`|s_i| \le k_i` are checked at every saddle.

    Args:
        X: design, shape ``(n, d)``.
        y: labels, shape ``(n,)``.
        weights: thresholds :math:`k_i > 0`, shape ``(d,)``; ones (the paper) if None.
        tol: relative tolerance of the zero tests and of the snapping, in (0, 1e-3].
        max_steps: cap on the number of jumps, an integer >= 1 (``int`` or a numpy integer:
            any :class:`numbers.Integral`); the effective cap is the smaller of this
            and Prop. 2's bound :math:`\min(2^d, \sum_{k\le n}\binom dk)`.
        throw: raise if the algorithm fails or does not terminate; with ``throw=False`` the
            result carries a ``status`` other than ``"ok"`` instead.

    Returns:
        A :class:`PesmeFlammarion` with ``p + 1`` saddles.

    Raises:
        ValueError: bad shapes or non-finite input (one line naming the argument).
        RuntimeError: with ``throw=True``, no termination within the cap, an NNLS failure or
            a KKT violation.

    Example:
        >>> import numpy as np
        >>> res = pesme_flammarion(np.eye(2), np.array([1.0, 2.0]))
        >>> res.times.tolist(), res.betas.tolist()
        ([0.0, 1.0, 2.0], [[0.0, 0.0], [0.0, 2.0], [1.0, 2.0]])
    """
    X, y, k = _checked(X, y, weights, tol, max_steps)
    origin = np.zeros(X.shape[1])
    state = _State(0.0, origin, origin.copy(), _residual(X, y, origin))
    scale = float(np.max(np.abs(state.r), initial=0.0))
    zero = tol * scale
    cap = min(int(max_steps), _prop2_bound(*X.shape))
    records, status, kkt = [state], "ok", 0.0
    while np.max(np.abs(state.r)) > zero:
        if len(records) > cap:
            status = "max_steps" if cap == max_steps else "step_bound"
            break
        try:
            state = _jump(X, y, state, k, zero, tol)
        except RuntimeError:  # scipy's nnls ran out of iterations
            status = "nnls_failed"
            break
        kkt = max(kkt, _kkt_violation(state, k, scale))
        records.append(state)
        if kkt > tol:
            status = "kkt_violation"
            break
    result = _result(X, y, records, k, status, kkt)
    if throw and not result.converged:
        raise RuntimeError(f"pesme_flammarion: {result.message}")
    return result


def _checked(
    X: ArrayLike, y: ArrayLike, weights: ArrayLike | None, tol: float, max_steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated float64 copies of ``X``, ``y`` and the thresholds."""
    X, y = checked_regression(X, y)
    d = X.shape[1]
    k = np.ones(d) if weights is None else np.asarray(weights, dtype=np.float64)
    validate([("weights", k.shape, k.shape == (d,), f"of shape (d,) = ({d},)")])
    bad = np.flatnonzero(~(np.isfinite(k) & (k > 0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"weights: must be finite and > 0, got weights[{i}] = {float(k[i])!r}")
    validate([("tol", tol, 0 < tol <= 1e-3, "in (0, 1e-3]")])
    if not isinstance(max_steps, numbers.Integral) or isinstance(max_steps, bool):
        raise ValueError(f"max_steps: must be an integer (int or numpy integer), got {max_steps!r}")
    validate([("max_steps", int(max_steps), max_steps >= 1, ">= 1")])
    return X, y, k


def _prop2_bound(n: int, d: int) -> int:
    r"""Prop. 2's bound on the number of iterations, :math:`\min(2^d, \sum_{k\le n}\binom dk)`."""
    return min(2**d, sum(math.comb(d, j) for j in range(min(n, d) + 1)))


def _residual(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    r""":math:`r = -\nabla L(\beta) = X^\top(y - X\beta)/n`."""
    return X.T @ (y - X @ beta) / X.shape[0]


def _jump(
    X: np.ndarray, y: np.ndarray, state: _State, k: np.ndarray, zero: float, tol: float
) -> _State:
    """One iteration of Algorithm 1: the next hitting time, the dual update, the NNLS step."""
    delta = _hitting_times(state.s, state.r, k, zero)
    step = float(delta.min())
    s = state.s + step * state.r
    s[delta == step] = np.sign(state.r[delta == step]) * k[delta == step]  # the hitting ones
    signs = _snap(s, k, tol)
    beta = _constrained_step(X, y, signs)
    return _State(state.t + step, beta, s, _residual(X, y, beta))


def _hitting_times(s: np.ndarray, r: np.ndarray, k: np.ndarray, zero: float) -> np.ndarray:
    r""":math:`\delta_i = (\operatorname{sign}(r_i)k_i - s_i)/r_i` where :math:`|r_i| >` ``zero``
    and :math:`\delta_i > 0`; ``inf`` elsewhere. A coordinate at :math:`+k_i` moving inward hits
    :math:`-k_i` after :math:`2k_i/|r_i|`."""
    live = np.abs(r) > zero
    delta = np.full(s.shape, np.inf)
    delta[live] = (np.sign(r[live]) * k[live] - s[live]) / r[live]
    delta[delta <= 0] = np.inf
    return delta


def _snap(s: np.ndarray, k: np.ndarray, tol: float) -> np.ndarray:
    """Snap ``s`` within ``tol * k`` of ``±k`` onto it, in place; return the signs of I±."""
    upper, lower = np.abs(s - k) <= tol * k, np.abs(s + k) <= tol * k
    s[upper], s[lower] = k[upper], -k[lower]
    return upper.astype(np.int8) - lower.astype(np.int8)


def _constrained_step(X: np.ndarray, y: np.ndarray, signs: np.ndarray) -> np.ndarray:
    r"""argmin :math:`L` with :math:`\operatorname{sign}\beta_i \in \{0, \varsigma_i\}` on
    :math:`I = \{\varsigma \ne 0\}`, 0 off it: ``nnls(X[:, I] * ς, y)``, signs restored."""
    active = np.flatnonzero(signs)
    beta = np.zeros(X.shape[1])
    if active.size:
        columns = X[:, active] * signs[active]
        b, _ = nnls(columns, y, maxiter=max(100, 10 * active.size))
        beta[active] = signs[active] * b
    return beta


def _kkt_violation(state: _State, k: np.ndarray, scale: float) -> float:
    r"""Largest violation at one saddle: :math:`|\nabla L_i|` on the support, the wrong sign of
    :math:`\nabla L_i` on :math:`I_\pm` off it (both relative to ``scale``), :math:`|s_i| - k_i`."""
    r, beta = state.r, state.beta
    on_support = beta != 0
    upper = (state.s == k) & ~on_support  # need grad_i >= 0, i.e. r_i <= 0
    lower = (state.s == -k) & ~on_support  # need r_i >= 0
    gradient = max(
        np.max(np.abs(r[on_support]), initial=0.0),
        np.max(r[upper], initial=0.0),
        np.max(-r[lower], initial=0.0),
    )
    dual = float(np.max(np.abs(state.s) / k - 1.0, initial=0.0))
    return max(gradient / scale, dual)


def _result(
    X: np.ndarray,
    y: np.ndarray,
    records: list[_State],
    k: np.ndarray,
    status: str,
    kkt: float,
) -> PesmeFlammarion:
    """Stack the records into read-only arrays."""
    betas = np.stack([rec.beta for rec in records])
    duals = np.stack([rec.s for rec in records])
    signs = (duals == k).astype(np.int8) - (duals == -k).astype(np.int8)
    losses = 0.5 * np.mean((betas @ X.T - y) ** 2, axis=1)
    arrays = [np.array([rec.t for rec in records]), betas, signs, duals, losses, k.copy()]
    for a in arrays:
        a.flags.writeable = False
    return PesmeFlammarion(*arrays, status=status, kkt_residual=float(kkt))
