r"""Activations and their Gaussian statistics for the storage-capacity theory.

The README's capacity notes §2.5. For :math:`z \sim \mathcal N(0, 1)` and
:math:`(u, v)` standard bivariate normal with correlation :math:`s`:

* the Hermite coefficients :math:`c_n = \mathbb E[g(z)\mathrm{He}_n(z)]`
  (:math:`c_0 = \mathbb Eg`, :math:`c_1 = \mathbb E g'`, :math:`c_2 = \mathbb E g''`);
* :math:`A = \operatorname{Var}g - c_1^2 = \kappa_{\rm nl}(1)` and
  :math:`B = \mathbb E g'^2 - c_1^2 = \kappa_{\rm nl}'(1)`, the weight and slope at :math:`q = 1`
  of the non-linear kernel :math:`\kappa_{\rm nl}(q) = \sum_{n\ge2}c_n^2q^n/n!`;
* its derivative :math:`\kappa_{\rm nl}'(s) = \mathbb E[g'(u)g'(v)] - c_1^2` (Price's identity),
  from which the normalised kernel :math:`\rho(q) = \kappa_{\rm nl}(q)/A` is integrated.

**Quadrature** (:mod:`lindyn.models._gaussian`, shared with the models). Every Gaussian
expectation is a Gauss–Legendre rule on the two half-lines :math:`[-12, 0]` and
:math:`[0, 12]` with the normal density as an explicit weight (the tails beyond 12 weigh
:math:`e^{-72}`), split at the activation's declared kinks: exponentially
accurate for activations that are analytic between kinks, where a plain Gauss–Hermite rule
converges only algebraically across a kink (ReLU: :math:`\mathbb E\,\mathrm{relu}(z)^2` to
:math:`10^{-4}` with 200 Gauss–Hermite nodes, to rounding here). In the two-dimensional
:math:`\mathbb E[g'(u)g'(v)]`, :math:`v = su + \sqrt{1-s^2}\,w`, the inner rule over :math:`w`
is split where :math:`v` crosses a kink. Closed forms (ReLU, quadratic, erf) are the tests.

Derivatives come from JAX (``jax.grad``) when the function traces, else from central
differences (step :math:`10^{-5}`, error about :math:`10^{-10}`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from lindyn.models._activations import ACTIVATIONS as MODEL_ACTIVATIONS
from lindyn.models._activations import KINKS
from lindyn.models._gaussian import CUTOFF, gaussian_mean, pieces, rule

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "activation",
    "ActivationStats",
    "activation_stats",
    "gaussian_mean",
    "derivative_kernel",
]


@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation :math:`g` with the points where it is not analytic (``kinks``)."""

    name: str
    fn: Callable
    kinks: tuple[float, ...] = ()

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(z), dtype=np.float64)

    @functools.cached_property
    def _grad(self) -> Callable:
        return jax.jit(jax.vmap(jax.grad(lambda x: jnp.asarray(self.fn(x), dtype=jnp.float64))))

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """:math:`g'(z)`, elementwise: JAX's gradient (compiled once per activation and shape),
        or central differences for a function JAX cannot trace."""
        z = np.asarray(z, dtype=np.float64)
        try:
            return np.asarray(self._grad(jnp.asarray(z.ravel())), dtype=np.float64).reshape(z.shape)
        except (TypeError, jax.errors.JAXTypeError, jax.errors.ConcretizationTypeError):
            h = 1e-5
            return (self(z + h) - self(z - h)) / (2 * h)


ACTIVATIONS: dict[str, Activation] = {
    name: Activation(name, fn, KINKS.get(name, ())) for name, fn in MODEL_ACTIVATIONS.items()
}
"""The built-in activations of :data:`lindyn.models.ACTIVATIONS` with their kinks. ``erf`` is
:math:`\\operatorname{erf}(z/\\sqrt2)` (spec §1: the reference scaling,
:math:`\\kappa(1) = 1/3`); ``linear`` is the no-storage check."""


def activation(spec: str | Callable | Activation, kinks: Sequence[float] = ()) -> Activation:
    """A built-in activation by name, or a Python/JAX function of one array (with its kinks).

    Example:
        >>> activation("relu").kinks
        (0.0,)
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"activation: must be one of {sorted(ACTIVATIONS)}, got {spec!r}")
        return ACTIVATIONS[spec]
    if not callable(spec):
        raise ValueError(f"activation: must be a name or a function, got {spec!r}")
    return Activation(getattr(spec, "__name__", "custom"), spec, tuple(float(k) for k in kinks))


@dataclasses.dataclass(frozen=True)
class ActivationStats:
    r"""Gaussian statistics of an activation (module docstring).

    Attributes:
        mean: :math:`c_0 = \mathbb Eg`.
        c1, c2: :math:`\mathbb E[zg] = \mathbb Eg'` and :math:`\mathbb E[g(z^2-1)] = \mathbb Eg''`.
        var: :math:`\operatorname{Var}g`.
        slope2: :math:`\mathbb E g'^2`.
        A, B: :math:`\operatorname{Var}g - c_1^2` and :math:`\mathbb Eg'^2 - c_1^2`.
    """

    mean: float
    c1: float
    c2: float
    var: float
    slope2: float
    A: float
    B: float

    @property
    def nonlinear(self) -> bool:
        """Whether :math:`g` has a non-linear part, :math:`A > 0` (up to rounding)."""
        tolerance = 1e-12 * max(1.0, self.var)
        return tolerance < self.A


def _check_tails(a: Activation, g2: float, dg2: float) -> None:
    """Refuse an activation whose :math:`\\mathbb Eg^2` or :math:`\\mathbb Eg'^2` is not
    finite: its integrand does not vanish at the cut-off :math:`|z| = 12`."""
    edge = np.array([-CUTOFF, CUTOFF])
    density = math.exp(-(CUTOFF**2) / 2) / math.sqrt(2 * math.pi)
    tails = density * np.array([a(edge) ** 2, a.derivative(edge) ** 2])
    scale = np.array([[max(1.0, g2)], [max(1.0, dg2)]])
    if not np.all(np.isfinite(tails)) or np.any(tails > 1e-10 * scale):
        raise ValueError(
            f"activation {a.name!r}: E g^2 or E g'^2 is not finite (the Gaussian tail at "
            f"|z| = {CUTOFF:g} does not vanish); need E[g'(z)^2] < inf"
        )


def activation_stats(act: str | Callable | Activation) -> ActivationStats:
    """The statistics of ``act``; a clear error for non-finite moments or a (nearly)
    constant function.

    Example:
        >>> s = activation_stats("relu")
        >>> round(s.A, 6), round(s.B, 12)
        (0.090845, 0.25)
    """
    a = activation(act)
    z, w = rule(a.kinks)
    g, dg = a(z), a.derivative(z)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(dg))):
        raise ValueError(f"activation {a.name!r}: g or g' is not finite on |z| <= {CUTOFF:g}")
    _check_tails(a, float(w @ g**2), float(w @ dg**2))
    mean, c1 = float(w @ g), float(w @ (z * g))
    c2 = float(w @ (g * (z**2 - 1)))
    var, slope2 = float(w @ (g - mean) ** 2), float(w @ dg**2)
    scale = max(1.0, float(w @ g**2))
    if var <= 1e-12 * scale:
        raise ValueError(f"activation {a.name!r}: constant under N(0, 1) (Var g = {var:.3g})")
    return ActivationStats(mean, c1, c2, var, slope2, var - c1**2, slope2 - c1**2)


def derivative_kernel(act: str | Callable | Activation, s: np.ndarray) -> np.ndarray:
    r""":math:`\mathbb E[g'(u)g'(v)]` for correlations ``s`` in :math:`[-1, 1]` (any shape).

    Outer rule over :math:`u` split at the kinks and around the layer where the inner
    average jumps (:func:`_outer_breaks`); inner rule over :math:`w` split where
    :math:`su + \sqrt{1-s^2}w` crosses a kink. At :math:`|s| = 1`: :math:`\mathbb E g'(u)g'(\pm u)`.

    Example:
        >>> np.round(derivative_kernel("relu", np.array([0.0, 1.0])), 12).tolist()
        [0.25, 0.5]
    """
    a = activation(act)
    s = np.asarray(s, dtype=np.float64)
    if np.any(np.abs(s) > 1):
        raise ValueError("s: must lie in [-1, 1]")
    out = np.array([_kernel_at(a, float(si)) for si in s.ravel()])
    return out.reshape(s.shape)


def _outer_breaks(a: Activation, s: float, c: float) -> tuple[float, ...]:
    """Breaks of the outer rule: the kinks, and around :math:`u = k/s` (for each kink
    :math:`k`) the layer of width :math:`c/|s|` where the inner average jumps; as
    :math:`s \\to \\pm1` that layer is too thin for a rule over the whole half-line."""
    if not a.kinks or abs(s) < 1e-12:
        return a.kinks
    width = c / abs(s)
    layer = [k / s + m * width for k in a.kinks for m in (-16, -4, -1, 1, 4, 16)]
    return (*a.kinks, *layer)


def _kernel_at(a: Activation, s: float) -> float:
    c = math.sqrt(max(0.0, 1.0 - s * s))
    u, wu = rule(_outer_breaks(a, s, c))
    du = a.derivative(u)
    if c < 1e-12:
        return float(wu @ (du * a.derivative(math.copysign(1.0, s) * u)))
    kinks = np.asarray(sorted({0.0, *a.kinks}))
    crossing = (kinks[None, :] - s * u[:, None]) / c  # (nu, nk): w where v hits a kink
    crossing = np.sort(np.clip(crossing, -CUTOFF, CUTOFF), axis=1)
    w, ww = pieces(crossing)
    dv = a.derivative(s * u[:, None] + c * w)
    return float(wu @ (du * np.sum(ww * dv, axis=1)))
