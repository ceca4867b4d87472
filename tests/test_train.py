import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lindyn.train import (
    Status,
    TrainingError,
    gradient_descent,
    gradient_flow,
    log_steps,
    log_times,
    one_pass_batches,
    raise_if_failed,
    repeated_batches,
    sgd,
)

H = jnp.diag(jnp.array([1.0, 0.1, 0.01]))
X0 = jnp.ones(3)
observe = lambda x: {"x": x}  # noqa: E731


def test_flow_matches_exponential_at_log_times():
    times = log_times(50.0, 20)
    sol = gradient_flow(lambda x: H @ x, X0, times, observe=observe)
    exact = np.exp(-np.outer(times, np.diag(H)))
    np.testing.assert_allclose(sol.observables["x"], exact, rtol=1e-7, atol=1e-10)
    assert int(sol.status) == Status.OK


def test_flow_reports_step_budget_exhaustion():
    sol = gradient_flow(lambda x: H @ x, X0, jnp.array([0.0, 1e3]), observe=observe, max_steps=3)
    assert int(sol.status) == Status.MAX_STEPS


def test_gd_is_exact_geometric_and_records_at_eta_k():
    eta = 0.5
    steps = log_steps(100, 10)
    sol = gradient_descent(lambda x: H @ x, X0, eta=eta, record_steps=steps, observe=observe)
    np.testing.assert_allclose(sol.times, eta * steps)
    exact = (1 - eta * np.diag(H))[None, :] ** steps[:, None]
    np.testing.assert_allclose(sol.observables["x"], exact, rtol=1e-12)


def test_gd_divergence_detected_and_reported_with_parameters():
    sol = gradient_descent(
        lambda x: H @ x, X0, eta=2.5e3, record_steps=log_steps(400, 5), observe=observe
    )
    assert int(sol.status) == Status.DIVERGED
    with pytest.raises(TrainingError, match=r"diverged.*eta=2500"):
        raise_if_failed(sol, {"eta": 2500.0})


def test_exploding_but_finite_run_is_divergence():
    """GD just past the stability edge: values reach 1e20 while still finite."""
    sol = gradient_descent(
        lambda x: H @ x, X0, eta=2.3, record_steps=np.array([0, 100, 200]), observe=observe
    )
    assert np.all(np.isfinite(sol.observables["x"]))
    assert float(np.abs(sol.observables["x"]).max()) > 1e20
    assert int(sol.status) == Status.DIVERGED


def test_vmap_over_seeds():
    keys = jax.random.split(jax.random.key(0), 3)
    run = lambda k: gradient_flow(  # noqa: E731
        lambda x: H @ x, jax.random.normal(k, (3,)), jnp.array([0.0, 1.0]), observe=observe
    )
    sol = jax.jit(jax.vmap(run))(keys)
    assert sol.observables["x"].shape == (3, 2, 3) and sol.status.shape == (3,)
    starts = jax.vmap(lambda k: jax.random.normal(k, (3,)))(keys)
    np.testing.assert_allclose(sol.observables["x"][:, 1], starts * np.exp(-np.diag(H)), rtol=1e-7)


def _lsq(n=40, d=5, seed=0):
    kx, ky = jax.random.split(jax.random.key(seed))
    X = jax.random.normal(kx, (n, d))
    return X, X @ jnp.arange(1.0, d + 1) + 0.1 * jax.random.normal(ky, (n,))


def test_repeated_full_batches_equal_gd():
    X, y = _lsq()
    grad = lambda b, batch: batch[0].T @ (batch[0] @ b - batch[1]) / batch[0].shape[0]  # noqa: E731
    steps = log_steps(50, 6)
    full = gradient_descent(
        lambda b: grad(b, (X, y)), jnp.zeros(5), eta=0.1, record_steps=steps, observe=observe
    )
    batches = repeated_batches(X, y, X.shape[0], jax.random.key(1))
    stoch = sgd(grad, jnp.zeros(5), eta=0.1, record_steps=steps, batches=batches, observe=observe)
    np.testing.assert_allclose(stoch.observables["x"], full.observables["x"], rtol=1e-10)


def test_one_pass_sgd_mean_follows_population_gd():
    """E[b_{k+1}] = (1 - eta) E[b_k] + eta b* for fresh isotropic samples (exact in expectation)."""
    d, batch, eta = 4, 8, 0.1
    target = jnp.arange(1.0, d + 1)

    def sample(key):
        x = jax.random.normal(key, (batch, d))
        return x, x @ target

    grad = lambda b, bt: bt[0].T @ (bt[0] @ b - bt[1]) / batch  # noqa: E731
    steps = np.array([0, 10, 30])
    run = lambda k: sgd(  # noqa: E731
        grad,
        jnp.zeros(d),
        eta=eta,
        record_steps=steps,
        batches=one_pass_batches(sample, k),
        observe=observe,
    )
    sol = jax.vmap(run)(jax.random.split(jax.random.key(2), 400))
    mean = np.asarray(sol.observables["x"]).mean(axis=0)
    expected = (1 - (1 - eta) ** steps)[:, None] * np.asarray(target)[None, :]
    spread = np.asarray(sol.observables["x"]).std(axis=0) / np.sqrt(400)
    assert np.all(np.abs(mean - expected) < 5 * spread + 1e-12)


def test_bad_training_inputs():
    with pytest.raises(ValueError, match="t_max"):
        log_times(-1.0, 5)
    with pytest.raises(ValueError, match="record_steps"):
        gradient_descent(lambda x: x, X0, eta=0.1, record_steps=np.array([3, 2]), observe=observe)
    with pytest.raises(ValueError, match="batch_size"):
        repeated_batches(jnp.ones((3, 2)), jnp.ones(3), 5, jax.random.key(0))
