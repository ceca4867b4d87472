"""Least squares: the flow against the exact expm solution, GD at first order in eta."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from lindyn.experiments import linreg
from lindyn.theory import linreg_flow
from lindyn.train import gradient_flow, log_times


def _expm_solution(X, y, beta0, times):
    """beta(t) from one matrix exponential of the augmented generator [[-H, b], [0, 0]] t."""
    n, d = X.shape
    gen = np.zeros((d + 1, d + 1))
    gen[:d, :d], gen[:d, d] = -X.T @ X / n, X.T @ y / n
    return np.array([(scipy.linalg.expm(gen * t) @ np.append(beta0, 1.0))[:d] for t in times])


def test_flow_and_eigen_solution_equal_expm_to_1e8():
    cfg = linreg.Config(n=60, d=90, t_max=30.0)  # n < d: singular Hessian
    X, y, _ = linreg.instance(cfg)
    beta0 = np.asarray(jax.random.normal(jax.random.key(5), (cfg.d,))) / np.sqrt(cfg.d)
    times = log_times(cfg.t_max, 25)
    sol = gradient_flow(
        lambda b: (X @ b - y) @ X / cfg.n,
        jnp.asarray(beta0),
        times,
        observe=lambda b: {"beta": b},
        rtol=1e-11,
    )
    reference = _expm_solution(X, y, beta0, times)
    assert np.max(np.abs(np.asarray(sol.observables["beta"]) - reference)) < 1e-8
    assert np.max(np.abs(linreg_flow(X, y, times, beta0=beta0).beta_mean - reference)) < 1e-10


def test_exact_solution_limits():
    """t = 0 gives the start; t -> inf gives the minimum-norm-shift least-squares solution."""
    cfg = linreg.Config(n=80, d=20)
    X, y, _ = linreg.instance(cfg)
    out = linreg_flow(X, y, np.array([0.0, 1e4]))
    np.testing.assert_allclose(out.beta_mean[0], 0.0, atol=1e-15)
    np.testing.assert_allclose(out.beta_mean[1], np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-9)


def test_expected_errors_match_many_seeds():
    """The exact expectation over the random start against a 400-seed average (tolerance 5 SE)."""
    cfg = linreg.Config(n=50, d=30, t_max=5.0, num_times=8, init_scale=1.0)
    sim, theory = linreg.simulate(cfg, seeds=400), linreg.predict(cfg)
    for v in ("train_loss", "test_error"):
        se = sim[v].std("seed") / np.sqrt(400)
        gap = np.abs(sim[v].mean("seed") - theory[v])
        assert bool((gap <= 5 * se + 1e-12).all()), v


def test_gd_converges_to_flow_at_first_order():
    """GD at t = eta k against the exact flow at the same t: the gap is O(eta), slope 1 +- 0.1."""
    base = linreg.Config(n=100, d=40, t_max=2.0, num_times=10, init_scale=0.0, method="gd")
    etas = np.array([0.04, 0.02, 0.01, 0.005])
    errors = []
    for eta in etas:
        cfg = dataclasses.replace(base, eta=float(eta))
        sim, theory = linreg.simulate(cfg, seeds=1), linreg.predict(cfg)
        errors.append(float(np.abs(sim.test_error[0] - theory.test_error).max()))
    slope = np.polyfit(np.log(etas), np.log(errors), 1)[0]
    assert abs(slope - 1.0) < 0.1, (slope, errors)
