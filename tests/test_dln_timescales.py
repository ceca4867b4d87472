"""Timescales of the diagonal-network DMFT (spec §4, §10 items 9-10): collapses and plateaus."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lindyn.models import DiagonalLinear
from lindyn.theory import dln_dmft, dln_fixed_point, flow_grid, rich_time, search_plateau
from lindyn.train import gradient_flow
from test_dln_flow import _instance

DELTA, LAM = 0.5, 0.1


def _test_curve(alpha, t_max, *, lam=0.0, copies=400):
    grid = flow_grid(t_max, dt_max=0.5, dt_min=min(0.5, 0.1 / (2 * max(alpha**2, 1) * 2.92)))
    res = dln_dmft(DELTA, alpha, lam=lam, times=grid, scheme="flow", copies=copies)
    assert res.solve.converged, res.solve.message
    return res.times, res.test_error, res.train_loss


@pytest.mark.slow
def test_grokking_plateau_drop_and_collapse_in_t_minus_log_alpha_over_lambda():
    """alpha = 3, 6, lambda = 0.1: train loss ~0 while the test error sits on the min-l2 plateau
    (0.11), then drops towards the Lasso value; shifting by ln(alpha)/lambda collapses the drops:
    the spread of the shifted curves is under a fifth of the unshifted one."""
    curves = {a: _test_curve(a, 40.0, lam=LAM) for a in (3.0, 6.0)}
    plateau = dln_fixed_point(DELTA, np.inf).test_error
    lasso = dln_fixed_point(DELTA, 1.0, lam=LAM).test_error
    for a, (t, test, train) in curves.items():
        at = lambda s, y=test, t=t: np.interp(s, t, y)  # noqa: E731
        assert abs(at(2.0) / plateau - 1) < 0.03 and np.interp(2.0, t, train) < 1e-3
        assert at(rich_time(a, LAM) + 20) < plateau - 0.6 * (plateau - lasso), a
    grid = np.linspace(-5.0, 20.0, 60)

    def spread(shift):
        ys = [np.interp(grid + shift(a), t, y) for a, (t, y, _) in curves.items()]
        return np.max(np.abs(ys[0] - ys[1]))

    assert spread(lambda a: rich_time(a, LAM)) < spread(lambda a: rich_time(6.0, LAM)) / 5


def test_search_plateau_holds_until_tau_0_3():
    """lambda = 0, alpha = 1e-2 and 1e-8: the DMFT test error stays at rho (to 1 %) until
    tau = t / ln(1/alpha) = 0.3.

    Why 0.3: a coordinate with frozen field h0 reaches |beta| = 0.1 at
    tau = (1 - ln 5 / (2 ln(1/alpha))) / |h0| >= 0.83 / |h0| (alpha <= 1e-2), so by tau = 0.3
    only |h0| > 2.8 has moved: mass 0.2 P(|N(0, 0.61^2)| > 2.8) < 1e-6. By tau = 1 it has
    left the plateau (the fields |h0| > 1 carry a fifth of the signal).
    """
    _, rho = search_plateau()
    for alpha in (1e-2, 1e-8):
        log_inverse = np.log(1 / alpha)
        t, test, _ = _test_curve(alpha, 1.0 * log_inverse)
        tau = t / log_inverse
        assert np.all(np.abs(test[tau <= 0.3] / rho - 1) < 0.01)
        assert test[-1] < 0.95 * rho


@pytest.mark.slow
def test_finite_d_flow_collapses_in_t_over_log_inverse_alpha():
    """One instance (d = 500), alpha = 1e-2, 1e-4, 1e-8, 1e-16: the test-error curves in
    tau = t / ln(1/alpha) converge (saddle to saddle, Pesme & Flammarion 2023). Activation
    times in tau move by O(1/ln(1/alpha)), which halves along this sequence, so the mean gap
    between consecutive curves must decrease at every step and halve over the sequence."""
    d = 500
    X, b, y = _instance(jax.random.key(5), d)
    taus = np.linspace(0.0, 3.0, 61)
    curves = []
    for alpha in (1e-2, 1e-4, 1e-8, 1e-16):
        model = DiagonalLinear(d, alpha)
        sol = gradient_flow(
            lambda p, m=model: m.grad(p, X, y, scale=1.0),
            model.init(),
            jnp.asarray(taus * np.log(1 / alpha)),
            observe=lambda p, m=model: {"test": jnp.mean((m.beta(p) - b) ** 2)},
        )
        assert int(sol.status) == 0
        curves.append(np.asarray(sol.observables["test"]))
    gaps = [np.mean(np.abs(u - v)) for u, v in itertools.pairwise(curves)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < gaps[0] / 2, gaps
