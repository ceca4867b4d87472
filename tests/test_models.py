"""Every model's analytic gradient against jax.grad of its loss."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import tol
from lindyn.models import Committee, DeepLinear, DiagonalLinear, two_layer_linear

MODELS = {
    "dln_uv": (DiagonalLinear(7, 0.3), 1),
    "dln_pm": (DiagonalLinear(7, 0.3, parametrization="pm"), 1),
    "two_layer": (two_layer_linear(7, 5, 3, sigma=0.4), 3),
    "deep_standard": (DeepLinear(7, 6, d_out=2, depth=4, sigma=0.5), 2),
    "deep_mup": (DeepLinear(7, 6, depth=3, parameterization="mup", gamma0=0.7), 1),
    "deep_ntk": (DeepLinear(7, 6, depth=3, parameterization="ntk", gamma0=1.3), 1),
    "deep_residual": (DeepLinear(7, 6, depth=5, parameterization="mup", residual=True), 1),
    "deep_residual_const": (
        DeepLinear(7, 6, d_out=2, depth=4, residual=True, branch="constant", beta0=0.5),
        2,
    ),
    "committee_relu": (Committee(7, 4, "relu"), None),
    "committee_erf": (Committee(7, 4, "erf", second_layer=(1.0, -1.0, 0.5, 2.0)), None),
    "committee_custom": (Committee(7, 3, lambda z: jnp.sin(z) + z**3, center=False), None),
}


def _problem(model, d_out, seed=0):
    kp, kx, ky, kn = jax.random.split(jax.random.key(seed), 4)
    params = model.init(kp)
    if isinstance(model, DiagonalLinear):  # move away from the symmetric start
        params = jax.tree_util.tree_map(lambda a: a + 0.3 * jax.random.normal(kn, a.shape), params)
    X = jax.random.normal(kx, (11, 7))
    shape = (11,) if d_out in (None, 1) and not isinstance(model, DeepLinear) else (11, d_out)
    Y = jax.random.normal(ky, shape)
    return params, X, Y


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(("scale", "lam"), [(None, 0.0), (1.0, 0.3)])
def test_grad_matches_autodiff(name, scale, lam):
    model, d_out = MODELS[name]
    params, X, Y = _problem(model, d_out)
    auto = jax.grad(lambda p: model.loss(p, X, Y, scale=scale, lam=lam))(params)
    mine = model.grad(params, X, Y, scale=scale, lam=lam)
    for a, b in zip(jax.tree_util.tree_leaves(auto), jax.tree_util.tree_leaves(mine), strict=True):
        np.testing.assert_allclose(b, a, rtol=tol(a), atol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_grad_under_jit_and_vmap(name):
    """Every trainer traces the gradient: it must work under jit and vmap over parameters."""
    model, d_out = MODELS[name]
    params, X, Y = _problem(model, d_out)
    batch = jax.tree_util.tree_map(lambda a: jnp.stack([a, 2 * a]), params)
    traced = jax.jit(jax.vmap(lambda p: model.grad(p, X, Y)))(batch)
    eager = model.grad(params, X, Y)
    for a, b in zip(
        jax.tree_util.tree_leaves(eager), jax.tree_util.tree_leaves(traced), strict=True
    ):
        np.testing.assert_allclose(b[0], a, rtol=tol(a))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # deep_dmft.md §1.2: muP initial output variance 1 / (gamma0^2 nu), nu = width / d_in
        ({"parameterization": "mup", "gamma0": 0.5}, 1 / (0.25 * (32 / 16))),
        # NTK: 1 / gamma_bar^2, independent of the width
        ({"parameterization": "ntk", "gamma0": 2.0}, 0.25),
        # §1.3: residual blocks multiply it by (1 + b^2)^blocks, b = beta0 / sqrt(blocks)
        (
            {"parameterization": "mup", "gamma0": 1.0, "residual": True, "beta0": 1.5},
            (1 + 1.5**2 / 2) ** 2 / (32 / 16),
        ),
    ],
)
def test_initial_output_variance_matches_the_scalings(kwargs, expected):
    """E f(x)^2 over random inits, for |x|^2 = d_in: an independent check of the multipliers."""
    model = DeepLinear(16, 32, depth=4, **kwargs)
    x = jnp.ones((1, 16))
    keys = jax.random.split(jax.random.key(0), 4000)
    f2 = np.asarray(jax.vmap(lambda k: model.output(model.init(k), x)[0, 0] ** 2)(keys))
    assert abs(f2.mean() - expected) < 5 * f2.std() / np.sqrt(f2.size)


def test_deep_end_to_end_is_the_product():
    model = DeepLinear(5, 4, d_out=3, depth=4, parameterization="mup", gamma0=0.5)
    Ws = model.init(jax.random.key(1))
    c = model.multipliers()
    A = c[3] * Ws[3] @ (c[2] * Ws[2]) @ (c[1] * Ws[1]) @ (c[0] * Ws[0])
    np.testing.assert_allclose(model.end_to_end(Ws), A, rtol=1e-12)
    res = DeepLinear(5, 4, d_out=3, depth=4, residual=True, beta0=2.0)
    b = 2.0 / np.sqrt(2)
    A = Ws[3] @ (np.eye(4) + b * Ws[2]) @ (np.eye(4) + b * Ws[1]) @ Ws[0]
    np.testing.assert_allclose(res.end_to_end(Ws), A, rtol=1e-12)


def test_mup_and_ntk_coincide_at_unit_width_ratio():
    """At width = d_in the NTK readout 1/(g sqrt(w)) equals the muP one sqrt(d)/(g w)."""
    mup = DeepLinear(6, 6, depth=3, parameterization="mup", gamma0=0.8)
    ntk = DeepLinear(6, 6, depth=3, parameterization="ntk", gamma0=0.8)
    np.testing.assert_allclose(mup.multipliers(), ntk.multipliers(), rtol=1e-15)


def test_dln_initialization_conventions():
    uv = DiagonalLinear(3, 0.5)
    p = uv.init()
    np.testing.assert_allclose(p.u**2 - p.v**2, 2 * 0.25)
    assert float(jnp.max(jnp.abs(uv.beta(p)))) == 0.0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: DiagonalLinear(0, 1.0), "d: must be >= 1"),
        (lambda: DiagonalLinear(3, -1.0), "alpha: must be > 0"),
        (lambda: DeepLinear(3, 3, depth=2, residual=True), "depth: must be >= 3"),
        (lambda: DeepLinear(3, 3, parameterization="sp"), "parameterization"),
        (lambda: Committee(3, 2, "swish2"), "activation: unknown"),
        (lambda: Committee(3, 2, lambda z: jnp.log(z)), "finite"),
    ],
)
def test_bad_model_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("name", "mean"),
    [("relu", 1 / np.sqrt(2 * np.pi)), ("quadratic", 1.0), ("erf", 0.0), ("softplus", None)],
)
def test_committee_centres_with_the_exact_gaussian_mean(name, mean):
    """At zero pre-activations the centred committee outputs -sqrt(K) E g(z): ReLU's
    1/sqrt(2 pi) to rounding (the kink-split rule; Gauss-Hermite was 3e-3 off), z^2's 1."""
    K = 4
    model = Committee(3, K, name)
    out = float(model.output(jnp.zeros((K, 3)), jnp.ones((1, 3)))[0])
    at_zero = float(np.log(2.0)) if name == "softplus" else 0.0
    if mean is None:  # softplus: against a fine trapezoid rule on [-12, 12] (spectral here)
        z = np.linspace(-12, 12, 200_001)
        mean = np.trapezoid(np.logaddexp(0, z) * np.exp(-(z**2) / 2), z) / np.sqrt(2 * np.pi)
    # to the rounding of the rule's sums and of the trapezoid's (1e-14 measured; CPU-dependent)
    assert at_zero - out / np.sqrt(K) == pytest.approx(mean, abs=1e-12)
