"""The diagonal-network DMFT: closed-form reductions, limits, and finite-d simulation."""

import jax
import jax.numpy as jnp
import numpy as np

from lindyn.data import gaussian_design, noisy_labels, sparse_teacher
from lindyn.models import DiagonalLinear
from lindyn.theory import damped_fixed_point, dln_dmft, linear_curves, mp_integral
from lindyn.theory._dln_dmft import matched_noise, quadrature_teacher
from lindyn.train import gradient_descent

DELTA, RHO, SIGMA, DT = 0.5, 0.2, 0.1, 0.1


def test_fixed_point_reports_convergence_and_failure():
    ok = damped_fixed_point(np.cos, np.array(1.0), damping=0.8, tol=1e-12)
    assert ok.converged and abs(float(ok.value) - 0.7390851332151607) < 1e-11
    slow = damped_fixed_point(np.cos, np.array(1.0), damping=0.8, tol=1e-12, max_iter=3)
    assert slow.status == "max_iter" and slow.residual > 1e-12 and "residual" in slow.message
    bad = damped_fixed_point(lambda x: x * np.inf, np.array(1.0))
    assert bad.status == "diverged"


def test_marchenko_pastur_integral_masses_and_moments():
    for delta in (0.3, 0.5, 2.0):
        assert abs(mp_integral(delta, np.ones_like) - min(1.0, 1.0 / delta)) < 1e-12
        # mean eigenvalue of XX^T (entries var 1/d, n = delta d) is 1
        assert abs(mp_integral(delta, lambda x: x) - 1.0) < 1e-12


def test_linear_closed_form_limits():
    """t = 0: (sigma^2 + rho)/2 and rho; t -> inf: min-l2 (delta < 1) and OLS (delta > 1)."""
    train, test = linear_curves(0.5, RHO, SIGMA, np.array([0.0, 1e5]))
    np.testing.assert_allclose(train, [(SIGMA**2 + RHO) / 2, 0.0], atol=1e-12)
    np.testing.assert_allclose(test, [RHO, (1 - 0.5) * RHO + 0.5 * SIGMA**2 / 0.5], rtol=1e-6)
    train, test = linear_curves(2.0, RHO, SIGMA, np.array([1e5]))
    np.testing.assert_allclose([train[0], test[0]], [0.0025, 0.01], rtol=1e-6)


def test_matched_noise_moments():
    beta_star = quadrature_teacher(300, RHO)
    assert abs(float(jnp.mean(beta_star**2)) - RHO) < 1e-14
    assert int(jnp.sum(beta_star != 0)) == 60
    Z = matched_noise(jax.random.key(1), 300, 20, beta_star)
    np.testing.assert_allclose(Z.T @ Z / 300, np.eye(21), atol=1e-12)
    np.testing.assert_allclose(Z.T @ beta_star, 0, atol=1e-10)
    np.testing.assert_allclose(Z.sum(axis=0), 0, atol=1e-10)


def test_linear_reduction_equals_marchenko_pastur():
    """phi = 1: the discrete DMFT equals the closed form (spec §2.8) to rounding."""
    res = dln_dmft(DELTA, 1.0, steps=40, dt=DT, copies=200, linear=True, tol=1e-11)
    assert res.solve.converged
    train, test = linear_curves(DELTA, RHO, SIGMA, res.times, dt=DT)
    np.testing.assert_allclose(res.train_loss, train, atol=1e-10)
    np.testing.assert_allclose(res.test_error, test, atol=1e-10)


def _simulate(d: int, alpha: float, steps: int, seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent (step DT, summed loss) on (u, v) at finite d; (train, test) per seed."""
    n = round(DELTA * d)
    model = DiagonalLinear(d, alpha)

    def one(key):
        kx, kb, ke = jax.random.split(key, 3)
        X = gaussian_design(kx, n, d, variance=1 / d)
        b = sparse_teacher(kb, d, RHO, stratified=True)
        b = b * jnp.sqrt(RHO / jnp.mean(b**2))  # teacher power normalised, spec §3
        y = noisy_labels(ke, X @ b, SIGMA)
        observe = lambda p: {  # noqa: E731
            "train": 0.5 * jnp.sum((X @ model.beta(p) - y) ** 2) / n,
            "test": jnp.mean((model.beta(p) - b) ** 2),
        }
        grad = lambda p: model.grad(p, X, y, scale=1.0)  # noqa: E731
        return gradient_descent(
            grad, model.init(), eta=DT, record_steps=np.arange(steps + 1), observe=observe
        )

    sol = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(3), seeds))
    return np.asarray(sol.observables["train"]), np.asarray(sol.observables["test"])


def test_dmft_matches_simulation_small():
    """d = 500, 16 seeds; DMFT with M = 1000 copies at two seeds; t = 0..3, alpha = 0.5.

    Tolerance: 4 combined standard errors, from the simulation's seeds and from the spread of
    the two DMFT solutions (its Monte-Carlo error), plus an O(1/d) finite-size allowance of
    2/d of the initial error.
    """
    steps, seeds, d = 30, 16, 500
    train, test = _simulate(d, 0.5, steps, seeds)
    runs = [dln_dmft(DELTA, 0.5, steps=steps, dt=DT, copies=1000, seed=s) for s in (0, 1)]
    assert all(r.solve.converged for r in runs)
    for sim, curve, scale in ((test, "test_error", RHO), (train, "train_loss", RHO / 2)):
        theory = np.mean([getattr(r, curve) for r in runs], axis=0)
        mc_se = np.abs(getattr(runs[0], curve) - getattr(runs[1], curve)) / 2
        se = np.sqrt(sim.var(axis=0, ddof=1) / seeds + mc_se**2)
        gap = np.abs(sim.mean(axis=0) - theory)
        assert np.all(gap <= 4 * se + 2 / d * scale), (curve, (gap / se).max())


def test_initial_values():
    """Spec §10 check 1: L(0) = (sigma^2 + rho)/2, E(0) = rho."""
    res = dln_dmft(DELTA, 0.3, steps=5, dt=DT, copies=300)
    assert abs(res.train_loss[0] - (SIGMA**2 + RHO) / 2) < 1e-12
    assert abs(res.test_error[0] - RHO) < 1e-12
