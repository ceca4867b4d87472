import jax
import numpy as np
import pytest

from lindyn import data


def test_gaussian_design_entry_variance_and_spectrum():
    key = jax.random.key(0)
    X = np.asarray(data.gaussian_design(key, 20000, 5, variance=0.2))
    np.testing.assert_allclose(X.var(axis=0), 0.2, rtol=0.05)
    spec = data.powerlaw_spectrum(5, 1.5)
    X = np.asarray(data.gaussian_design(key, 20000, 5, spectrum=spec))
    np.testing.assert_allclose(X.var(axis=0), np.arange(1, 6) ** -1.5, rtol=0.05)


def test_whitened_design_is_white():
    X = np.asarray(data.whitened_design(jax.random.key(1), 30, 7))
    np.testing.assert_allclose(X.T @ X / 30, np.eye(7), atol=1e-12)
    with pytest.raises(ValueError, match="n: must be >= d"):
        data.whitened_design(jax.random.key(1), 3, 7)


def test_sparse_teacher_density():
    beta = np.asarray(data.sparse_teacher(jax.random.key(2), 40000, 0.1))
    assert abs(np.mean(beta != 0) - 0.1) < 0.01
    assert abs(np.mean(beta**2) - 0.1) < 0.01
    strat = np.asarray(data.sparse_teacher(jax.random.key(2), 1000, 0.1, stratified=True))
    assert np.sum(strat != 0) == 100
    with pytest.raises(ValueError, match=r"rho: must be in \(0, 1\]"):
        data.sparse_teacher(jax.random.key(2), 10, 0.0)


def test_lowrank_teacher_rank():
    A = np.asarray(data.lowrank_teacher(jax.random.key(3), 12, 9, 3))
    s = np.linalg.svd(A, compute_uv=False)
    assert s[2] > 1e-8 and s[3] < 1e-10


@pytest.mark.parametrize("name", data.REAL_DATASETS)
def test_real_datasets_standardized(name):
    X, y = data.load_real(name)
    assert X.shape[0] == y.shape[0] > 100
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=1e-10)
    np.testing.assert_allclose([y.mean(), y.std()], [0, 1], atol=1e-10)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="design: unknown data set"):
        data.load_real("mnist")
