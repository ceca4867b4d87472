"""The committee-machine trainer of the capacity experiment (spec capacity §4)."""

import jax
import numpy as np
import pytest

from lindyn.experiments._capacity_sim import Trainer, _spheres, _train, train_instances
from lindyn.models import Committee
from lindyn.theory import capacity_theory


def _trainer(name: str, N: int, K: int, alpha: float, steps: int = 1500) -> Trainer:
    return Trainer(Committee(N, K, name), round(alpha * N * K), steps, 2)


def test_weights_stay_on_their_spheres():
    t = _trainer("relu", 20, 4, 1.0, steps=50)
    key = jax.random.PRNGKey(1)
    X = jax.random.normal(key, (t.P, t.N))
    y = np.sign(np.asarray(jax.random.normal(jax.random.PRNGKey(2), (t.P,))))
    W = _train(t, _spheres(jax.random.normal(key, (t.K, t.N)), t.N), X, y, np.ones(t.P))
    np.testing.assert_allclose(np.sum(np.asarray(W) ** 2, axis=1), t.N, rtol=1e-12)


def test_small_load_is_stored_with_anticorrelated_units():
    """Well below the GD threshold every instance is solved; the units anticorrelate
    (KC < 0, near -1) and the sum vector is near the predicted pi A / (K alpha c1^2)."""
    alpha, K = 0.75, 8
    out = train_instances(
        _trainer("relu", 40, K, alpha), jax.random.split(jax.random.PRNGKey(0), 4)
    )
    assert np.all(np.asarray(out["solved"]) == 1.0)
    assert np.all(np.asarray(out["train_error"]) == 0.0)
    kc = np.asarray(out["KC"])
    assert np.all(kc < -0.5)
    predicted = capacity_theory("relu").sum_vector(alpha, K)
    assert np.mean(out["sum_vector"]) == pytest.approx(predicted, rel=0.5)  # spec: factor ~2


def test_overload_is_not_stored():
    """Far above the RS capacity (5.5 for ReLU) no instance can be solved."""
    out = train_instances(
        _trainer("relu", 20, 4, 8.0, steps=300), jax.random.split(jax.random.PRNGKey(0), 2)
    )
    assert np.all(np.asarray(out["solved"]) == 0.0)
    assert np.all(np.asarray(out["train_error"]) > 0)


def test_masked_patterns_are_a_smaller_instance():
    """Masking leaves a smaller instance: 10 of 192 patterns on 64 weights are stored, the
    full set is not; the error fraction counts the active patterns only."""
    t = _trainer("relu", 16, 4, 3.0, steps=200)
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    small = train_instances(t, keys, patterns=10)
    assert np.all(np.asarray(small["solved"]) == 1.0)  # 10 patterns, 64 weights
    full = train_instances(t, keys)
    assert np.all(np.asarray(full["train_error"]) > 0)
    with pytest.raises(ValueError, match="patterns"):
        train_instances(t, keys, patterns=t.P + 1)
