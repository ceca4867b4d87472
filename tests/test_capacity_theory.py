"""Storage-capacity theory (spec ``shared/theory/capacity.md`` §6, checks 1-13).

Closed forms are computed here from their formulas and compared with the general numerical
route (quadrature of the activation, Chebyshev kernel, branch and transition solvers), which
never sees them.
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from lindyn.theory._activations import activation_stats, derivative_kernel
from lindyn.theory._capacity import capacity_theory, gardner_energy, gardner_slope
from lindyn.theory._capacity_finite import (
    finite_width_capacity,
    gardner_threshold_capacity,
    single_unit_capacity,
)
from lindyn.theory._capacity_kernel import nonlinear_kernel

Q = np.array([0.0, 0.1, 0.5, 0.9, 0.999, 1.0])


# The rounding of a Gaussian rule's weighted sum of a few hundred O(1) terms, in whatever order
# the BLAS kernel of the CPU adds them (measured 1e-14 on AVX2): well above it, far below any
# quadrature or formula error the tests are there to catch.
SUM = 1e-12


@pytest.fixture(scope="module")
def theories():
    return {name: capacity_theory(name) for name in ("relu", "erf", "quadratic", "tanh")}


def test_gaussian_statistics_match_closed_forms():
    """To the rounding of the rule's sums (:data:`SUM`)."""
    relu = activation_stats("relu")
    assert relu.mean == pytest.approx(1 / math.sqrt(2 * math.pi), abs=SUM)
    assert relu.var + relu.mean**2 == pytest.approx(0.5, abs=SUM)  # kappa(1)
    assert pytest.approx((math.pi - 2) / (4 * math.pi), abs=SUM) == relu.A
    assert relu.c2 == pytest.approx(1 / math.sqrt(2 * math.pi), abs=SUM)
    assert pytest.approx(0.25, abs=SUM) == relu.B
    erf = activation_stats("erf")
    assert erf.var == pytest.approx(1 / 3, abs=SUM)
    assert erf.c1**2 == pytest.approx(1 / math.pi, abs=SUM)
    assert erf.slope2 == pytest.approx(2 / (math.pi * math.sqrt(3)), abs=SUM)
    quad = activation_stats("quadratic")
    assert (quad.A, quad.B, quad.c2) == pytest.approx((2.0, 4.0, 2.0), abs=SUM)


def test_kernels_match_closed_forms():
    np.testing.assert_allclose(
        derivative_kernel("relu", Q), 0.25 + np.arcsin(Q) / (2 * np.pi), atol=1e-13
    )
    np.testing.assert_allclose(
        derivative_kernel("erf", Q), 2 / (np.pi * np.sqrt(4 - Q**2)), atol=1e-13
    )
    for name, rho in {
        "relu": lambda q: (np.sqrt(1 - q**2) + q * np.arcsin(q) - 1) / (math.pi - 2) * 2,
        "erf": lambda q: (2 / np.pi * np.arcsin(q / 2) - q / np.pi) / (1 / 3 - 1 / np.pi),
        "quadratic": lambda q: q**2,
    }.items():
        kernel = nonlinear_kernel(name, activation_stats(name))
        assert kernel.residual < 1e-9
        q = np.concatenate([-Q, Q])
        np.testing.assert_allclose(kernel.rho(q), rho(q), atol=1e-9)
    relu = nonlinear_kernel("relu", activation_stats("relu"))
    exact = 1 - rho_relu_near_one(1e-8)
    assert float(relu.one_minus_rho(1 - 1e-8)) == pytest.approx(exact, rel=1e-6)


def rho_relu_near_one(eps: float) -> float:
    q = 1 - eps
    return (math.sqrt(1 - q * q) + q * math.asin(q) - 1) / (math.pi - 2) * 2


def test_gardner_integrals():
    assert gardner_energy(0.0) == pytest.approx(-math.log(2), abs=1e-12)
    assert gardner_slope(0.0) == pytest.approx(1 / math.pi, abs=1e-12)
    assert gardner_energy(0.5) == pytest.approx(-1.0, abs=1e-10)
    assert gardner_energy(0.1) == pytest.approx(-0.728342, abs=1e-6)
    assert gardner_energy(0.9) == pytest.approx(-3.202049, abs=1e-6)
    assert gardner_slope(0.1) == pytest.approx(0.389185, abs=1e-6)
    assert gardner_slope(0.5) == pytest.approx(1.191271, abs=1e-6)
    h = 1e-5  # J = -dI/drho
    for rho in (0.2, 0.7):
        slope = -(gardner_energy(rho + h) - gardner_energy(rho - h)) / (2 * h)
        assert gardner_slope(rho) == pytest.approx(slope, rel=1e-7)


def test_entropic_eigenvalues_of_the_replica_matrix():
    K, n, q, C, D = 4, 3, 0.4, -0.2, -0.1
    block = lambda d, o: d * np.eye(K) + o * (np.ones((K, K)) - np.eye(K))  # noqa: E731
    Q_ = np.kron(np.eye(n), block(1.0, C)) + np.kron(np.ones((n, n)) - np.eye(n), block(q, D))
    l2 = 1 - C - q + D
    l1 = l2 + n * (q - D)
    l4 = 1 + (K - 1) * C - q - (K - 1) * D
    l3 = l4 + n * (q + (K - 1) * D)
    product = l2 ** ((K - 1) * (n - 1)) * l1 ** (K - 1) * l4 ** (n - 1) * l3
    assert np.linalg.det(Q_) == pytest.approx(product, rel=1e-12)


def test_capacity_closed_forms(theories):
    assert theories["relu"].alpha_c == pytest.approx(2 * math.pi / (math.pi - 2), abs=1e-8)
    assert theories["quadratic"].alpha_c == pytest.approx(4.0, abs=1e-10)
    erf = 6 * (2 - math.sqrt(3)) / (math.sqrt(3) * (math.pi - 3))
    assert theories["erf"].alpha_c == pytest.approx(erf, abs=1e-8)
    assert theories["tanh"].alpha_c == pytest.approx(7.1145, abs=1e-4)
    for theory in theories.values():  # FC >= 4; odd >= 6; and above the tree value
        s = theory.stats
        assert theory.alpha_c >= 4 - 1e-9
        tree = 2 * s.slope2 / s.var
        assert theory.alpha_c > tree or abs(s.c1) < 1e-9
    assert min(theories["erf"].alpha_c, theories["tanh"].alpha_c) >= 6


def test_branch_approaches_the_capacity_slowly(theories):
    relu = theories["relu"]
    assert relu.branch_alpha(1 - 1e-3) == pytest.approx(5.433, abs=1e-3)
    assert relu.branch_alpha(1 - 1e-5) == pytest.approx(5.4985, abs=1e-4)


def test_parametric_branch_points(theories):
    relu, erf, quad = theories["relu"], theories["erf"], theories["quadratic"]
    for q, a in ((0.1, 1.0866), (0.3, 1.5384), (0.5, 2.1124), (0.7, 2.8802), (0.9, 4.0908)):
        assert relu.branch_alpha(q) == pytest.approx(a, abs=1e-4)
    assert relu.free_entropy(0.5, relu.branch_alpha(0.5)) == pytest.approx(-1.50241, abs=1e-5)
    assert relu.free_entropy(0.9, relu.branch_alpha(0.9)) == pytest.approx(-3.65646, abs=1e-5)
    assert quad.branch_alpha(0.5) == pytest.approx(1.8158, abs=1e-4)
    assert erf.branch_alpha(0.9) == pytest.approx(5.2400, abs=1e-4)
    assert erf.free_entropy(0.7, erf.branch_alpha(0.7)) == pytest.approx(-2.87101, abs=1e-5)


def test_continuous_transitions(theories):
    for name, expected in (("relu", math.pi * (math.pi - 2) / 4), ("quadratic", math.pi / 4)):
        theory = theories[name]
        t = theory.transition()
        assert t.kind == "continuous"
        assert t.alpha == pytest.approx(expected, abs=1e-9)
        q = np.linspace(1e-3, 0.99, 60)
        branch = np.array([theory.branch_alpha(x) for x in q])
        assert branch[0] == pytest.approx(expected, rel=1e-2)
        assert np.all(np.diff(branch) > 0)  # the branch rises from the transition
        for x, a in zip(q[5::10], branch[5::10], strict=True):  # and is below the PS phase
            assert theory.free_entropy(x, a) < -a * math.log(2)


def test_discontinuous_transition_of_erf(theories):
    erf = theories["erf"]
    t = erf.transition()
    assert t.kind == "discontinuous"
    assert t.spinodal == pytest.approx(3.555, abs=2e-3)
    assert t.q_spinodal == pytest.approx(0.44, abs=0.01)
    assert t.alpha == pytest.approx(3.731, abs=2e-3)
    assert t.q == pytest.approx(0.58, abs=0.01)
    assert t.residual < 1e-10
    # the symmetric phase stays locally stable: phi(q) - phi(0) > 0 for small q at any load
    assert erf.free_entropy(0.05, 5.0) > erf.free_entropy(0.0, 5.0)
    assert erf.overlap(t.alpha - 0.01) == 0.0
    assert erf.overlap(t.alpha + 0.01) == pytest.approx(t.q, abs=0.02)


def test_overlap_is_the_global_minimum(theories):
    relu = theories["relu"]
    assert relu.overlap(0.5) == 0.0
    assert relu.overlap(2.8802) == pytest.approx(0.7, abs=1e-3)


def test_single_unit_is_the_perceptron():
    assert single_unit_capacity("tanh") == pytest.approx(2.0, abs=1e-10)
    assert single_unit_capacity("erf") == pytest.approx(2.0, abs=1e-10)
    threshold = 1 / math.sqrt(2 * math.pi)  # relu(z) > E relu  <=>  z > 1/sqrt(2 pi)
    assert single_unit_capacity("relu") == pytest.approx(
        gardner_threshold_capacity(threshold), abs=1e-10
    )
    assert gardner_threshold_capacity(threshold) < 2.0


@pytest.mark.parametrize(
    "name, K, alpha_c, KC",
    [
        ("relu", 3, 4.138, -1.330),
        ("relu", 10, 5.042, -1.092),
        ("relu", 100, 5.456, -1.009),
        ("erf", 3, 5.155, -1.492),
        ("erf", 10, 6.108, -1.109),
    ],
)
def test_finite_width_capacity(name, K, alpha_c, KC):
    r = finite_width_capacity(name, K)
    assert r.alpha_c == pytest.approx(alpha_c, abs=1.5e-3)
    assert pytest.approx(KC, abs=2e-3) == K * r.C


def test_finite_width_grows_to_the_infinite_width_limit(theories):
    values = [finite_width_capacity("relu", K).alpha_c for K in (3, 10, 100, 1000)]
    assert np.all(np.diff(values) > 0)
    assert values[-1] == pytest.approx(theories["relu"].alpha_c, abs=6e-3)


@pytest.mark.parametrize("K", [2, 3, 10, 100])
def test_linear_unit_stores_what_a_perceptron_stores(K):
    # rel 1e-3: the inner minimum is reached as theta -> -1/(K-1), which the solver
    # approaches to 1e-11, leaving (K-1)^2 1e-11 / 1e-3 of the excluded corner
    assert finite_width_capacity("linear", K).alpha_c == pytest.approx(2 / K, rel=1e-3)
    with pytest.raises(ValueError, match="no non-linear part"):
        capacity_theory("linear")


def test_bad_activations():
    with pytest.raises(ValueError, match="activation: must be one of"):
        capacity_theory("relu6")
    with pytest.raises(ValueError, match="constant"):
        activation_stats(lambda z: 0.0 * z + 3.0)
    with pytest.raises(ValueError, match="not finite"):
        activation_stats(lambda z: jnp.exp(z**2))  # E g^2 diverges
    with pytest.raises(ValueError, match="not finite"):
        activation_stats(lambda z: jnp.exp(z**2 / 4))  # g^2 phi is constant: E g^2 diverges
    with pytest.raises(ValueError, match="K: must be"):
        finite_width_capacity("relu", 1)


def test_python_function_without_jax():
    def softsign(z):
        return np.asarray(z) / (1 + np.abs(np.asarray(z)))

    stats = activation_stats(softsign)  # numpy only: central differences for g'
    assert stats.c2 == pytest.approx(0.0, abs=1e-9)
    assert capacity_theory(softsign).transition().kind == "discontinuous"


def test_finite_width_saddle_point():
    """Spec §6 item 12: K = 1024, ReLU, alpha = 2.8802 -> q = 0.7005, KC = -1.0007,
    KD = -0.7010; and the gradient it zeroes is phi_K's (finite differences)."""
    from lindyn.theory._capacity_finite import _Saddle, finite_width_saddle

    r = finite_width_saddle("relu", 1024, 2.8802)
    assert r.status == "converged", r.message
    assert (r.q, 1024 * r.C, 1024 * r.D) == pytest.approx((0.7005, -1.0007, -0.7010), abs=2e-4)
    small = finite_width_saddle("relu", 64, 2.8802)  # K = 64: q within 0.01 of K = inf
    assert small.q == pytest.approx(capacity_theory("relu").overlap(2.8802), abs=0.01)
    saddle = _Saddle(capacity_theory("relu").kernel, 64, 2.8802)
    x, h = np.array([0.7, -1.0 / 64, -0.7 / 64]), 1e-7
    numeric = [
        (saddle.value(*(x + h * e)) - saddle.value(*(x - h * e))) / (2 * h) for e in np.eye(3)
    ]
    np.testing.assert_allclose(saddle.gradient(*x), numeric, rtol=1e-5)


@pytest.mark.parametrize("alpha", [0.5, 2.5])
def test_finite_width_saddle_in_both_phases(alpha):
    """Symmetric phase (0.5, below the K = inf PSB load 0.897; at K = 16 it reaches beyond 1):
    q = D, small; broken phase: q large and D ~ -q/(K-1). The units anticorrelate in both."""
    from lindyn.theory._capacity_finite import finite_width_saddle

    r = finite_width_saddle("relu", 16, alpha)
    assert r.status == "converged", r.message
    assert 16 * r.C < -0.8
    if alpha < 0.897:
        same = r.q - r.D
        assert abs(same) < 1e-12 and 0 < r.q < 0.05
    else:
        assert r.q > 0.3
        scaled = 15 * r.D
        assert scaled == pytest.approx(-r.q, abs=0.05)


def test_kernel_is_normalised_exactly():
    """rho(0) = 0 and rho(1) = 1 hold exactly (the quadrature's own integral divides), so a
    trivial saddle point q = C = D = 0 is stationary and inside the domain rho_K >= 0."""
    for name in ("relu", "quadratic", "erf"):
        kernel = capacity_theory(name).kernel
        assert float(kernel.rho(0.0)) == 0.0 and float(kernel.rho(1.0)) == 1.0
        assert float(kernel.rho(-1e-300)) == 0.0


@pytest.mark.parametrize("K", [2, 8, 64])
def test_finite_width_saddle_without_linear_part(K, theories):
    """z^2 has c1 = 0: on the plane C = D = 0 (exactly stationary, kappa'(0) = c1^2 = 0)
    phi_K is phi_inf, so the 3-d solve must return C = D = 0 and the K = inf overlap of the
    1-d minimisation, on both sides of the PSB load pi/4 (q = 0 below it)."""
    from lindyn.theory._capacity_finite import finite_width_saddle

    quad = theories["quadratic"]
    for alpha in (0.25, 0.7, 1.0, 2.0, 3.0, 3.9):
        r = finite_width_saddle("quadratic", K, alpha)
        assert r.status == "converged", (alpha, r.message)
        assert abs(r.C) < 1e-12 and abs(r.D) < 1e-12
        assert r.q == pytest.approx(quad.overlap(alpha), abs=1e-7)  # a minimiser's accuracy
        if alpha < math.pi / 4:
            assert abs(r.q) < 1e-12
        else:  # and exactly on the stationary branch alpha(q) of spec §2.7
            assert quad.branch_alpha(r.q) == pytest.approx(alpha, rel=1e-10)


def test_saddle_residual_is_scaled_to_its_terms():
    """Near q -> 1 both terms of the gradient are ~5e3 (z^2, alpha = 3.9): the reported
    residual is relative to them, so rounding stays far below ``tol`` on any CPU, while a
    point 1e-9 off the saddle in q is still told apart from it (residual >= 1e-10)."""
    from lindyn.theory._capacity_finite import _Saddle, finite_width_saddle

    K, alpha = 64, 3.9
    r = finite_width_saddle("quadratic", K, alpha)
    saddle = _Saddle(capacity_theory("quadratic").kernel, K, alpha)
    entropic, energetic = saddle.terms(r.q, r.C, r.D)
    assert entropic[0] > 1e3 and energetic[0] > 1e3  # the scale the residual divides by
    assert r.status == "converged" and r.residual < 1e-12, r.message
    assert saddle.scaled_residual(r.q + 1e-9, r.C, r.D) > 1e-10


def test_saddle_runaway_is_reported():
    """The spec's generic start 1 + (K-1)C = 1/(K alpha) leads z^2 into the corner
    C = -1/(K-1), D = -q/(K-1), where phi_K -> -inf: the solver must say it did not converge."""
    from lindyn.theory._capacity_finite import finite_width_saddle

    K, alpha = 8, 2.5
    start = (0.72, (1 / (K * alpha) - 1) / (K - 1), -0.72 / (K - 1))
    r = finite_width_saddle("quadratic", K, alpha, start=start)
    assert r.status == "not_converged" and r.residual > 1e-3, r.message
