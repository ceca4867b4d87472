"""Gradient flow from a tiny initialization (alpha = 1e-8): long plateaus, exact escape times."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from lindyn.models import DiagonalLinear, DiagonalParams
from lindyn.theory import to_lindyn_units
from lindyn.train import gradient_flow


def _exact_time_to(beta: float, s: float, alpha: float) -> float:
    r"""Time for :math:`\dot\beta = -2\sqrt{\beta^2+\alpha^4}(\beta - s)` to go from 0 to ``beta``.

    With :math:`\beta = \alpha^2\sinh x` the integrand is smooth: :math:`dx / (2(s - \alpha^2\sinh x))`.
    """
    a2 = alpha**2
    value, _ = quad(
        lambda x: 0.5 / (s - a2 * np.sinh(x)),
        0.0,
        np.arcsinh(beta / a2),
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )
    return value


@pytest.mark.parametrize("alpha", [1e-2, 1e-8])
def test_dln_escapes_plateau_at_the_exact_time(alpha):
    """Orthogonal design: each coordinate follows the 1-D flow; check beta at the exact half time."""
    s = np.array([2.0, 1.0, 0.5])
    model = DiagonalLinear(3, alpha)
    X, y = jnp.eye(3), jnp.asarray(s)
    half = np.array([_exact_time_to(si / 2, si, alpha) for si in s])
    order = np.argsort(half)
    times = np.concatenate([[0.0], half[order], [2 * half.max()]])
    sol = gradient_flow(
        lambda p: model.grad(p, X, y, scale=1.0),
        model.init(),
        times,
        observe=lambda p: {"beta": model.beta(p)},
    )
    assert int(sol.status) == 0
    beta = np.asarray(sol.observables["beta"])
    at_half = beta[1 + np.arange(3), order]
    np.testing.assert_allclose(at_half, s[order] / 2, rtol=1e-5)
    # the plateau lasts ~ ln(1/alpha^2) / (2 s): half times grow logarithmically
    np.testing.assert_allclose(half * 2 * s / np.log(s / alpha**2), 1.0, rtol=0.2)


def test_pm_and_uv_parametrizations_are_one_flow():
    """'pm' at scale alpha and time t equals 'uv' at scale sqrt(2) alpha and time 2t."""
    rng = np.random.default_rng(0)
    X, y = jnp.asarray(rng.normal(size=(5, 8))), jnp.asarray(rng.normal(size=5))
    pm, uv = DiagonalLinear(8, 0.3, "pm"), DiagonalLinear(8, np.sqrt(2) * 0.3, "uv")
    t = jnp.array([0.0, 0.5, 1.0, 3.0])
    a = gradient_flow(lambda p: pm.grad(p, X, y), pm.init(), t, observe=lambda p: {"b": pm.beta(p)})
    b = gradient_flow(
        lambda p: uv.grad(p, X, y), uv.init(), 2 * t, observe=lambda p: {"b": uv.beta(p)}
    )
    np.testing.assert_allclose(a.observables["b"], b.observables["b"], atol=1e-7)


_THEIR_BETA = {
    "pm": lambda p: p.u**2 - p.v**2,  # beta = w+^2 - w-^2
    "pm_half": lambda p: (p.u**2 - p.v**2) / 2,
    "uv_unit": lambda p: p.u * p.v,
}


@pytest.mark.parametrize("parametrization", sorted(_THEIR_BETA))
def test_convention_conversion_gives_the_same_flow(parametrization):
    """Their model (mean loss, weight decay on their factors, their init) at their time equals
    lindyn's at the converted scale, time and weight decay (spec §1.4); their gradient by
    autodiff, independent of lindyn's models."""
    rng = np.random.default_rng(1)
    n, d, alpha, decay, t = 6, 9, 0.4, 0.3, 2.0
    X, y = jnp.asarray(rng.normal(size=(n, d))), jnp.asarray(rng.normal(size=n))
    beta = _THEIR_BETA[parametrization]

    def their_loss(p):
        return 0.5 / n * jnp.sum((y - X @ beta(p)) ** 2) + 0.5 * decay * (p.u @ p.u + p.v @ p.v)

    ones = jnp.ones(d)
    start = DiagonalParams(alpha * ones, (0 if parametrization == "uv_unit" else alpha) * ones)
    a = gradient_flow(
        jax.grad(their_loss), start, jnp.array([0.0, t]), observe=lambda p: {"b": beta(p)}
    )
    units = to_lindyn_units(parametrization, alpha, time=t, weight_decay=decay, loss_scale=1 / n)
    ours = DiagonalLinear(d, units.alpha, "uv")
    b = gradient_flow(
        lambda p: ours.grad(p, X, y, scale=1.0, lam=units.lam),
        ours.init(),
        jnp.array([0.0, units.time]),
        observe=lambda p: {"b": ours.beta(p)},
    )
    np.testing.assert_allclose(a.observables["b"][-1], b.observables["b"][-1], atol=1e-7)
