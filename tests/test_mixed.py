"""Mixed dynamics of two-layer linear networks: identities, closed forms, limits and reference numbers.

Reference numbers are those of ``shared/theory/mixed.md`` §6 (their own seeds; ours differ, so
statistical checks carry the spec's tolerances: about 10 % on errors, 15 % on iterations).
"""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import lindyn
from lindyn.experiments import mixed
from lindyn.models import bartlett_factor, gauss_seidel_step, reduced_two_layer_init
from lindyn.theory import (
    aligned_mode,
    gram_vector_field,
    lazy_optimum,
    self_consistent_descent,
    self_consistent_flow,
    self_consistent_operator,
)

EXP = lindyn.get("mixed")


def _psd_sqrt(M):
    w, Q = np.linalg.eigh(0.5 * (M + M.T))
    return (Q * np.sqrt(np.clip(w, 0, None))) @ Q.T


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def test_gram_identities_hold_for_any_weights():
    """§6.1 item 1: C1^2 = A^T A + W1^T D W1, C2^2 = A A^T - W2 D W2^T, A C1 - C2 A = W2 D W1."""
    W1, W2 = _random((9, 4), 0), _random((5, 9), 1)
    A, C1, C2 = W2 @ W1, W1.T @ W1, W2 @ W2.T
    D = W1 @ W1.T - W2.T @ W2
    np.testing.assert_allclose(C1 @ C1, A.T @ A + W1.T @ D @ W1, atol=1e-10)
    np.testing.assert_allclose(C2 @ C2, A @ A.T - W2 @ D @ W2.T, atol=1e-10)
    np.testing.assert_allclose(A @ C1 - C2 @ A, W2 @ D @ W1, atol=1e-10)


@pytest.mark.parametrize("shape", [(6, 6), (4, 7), (7, 4)])
def test_operator_equals_two_square_roots(shape):
    """One eigendecomposition gives both roots: against two explicit PSD square roots, also at
    rank-deficient A (zero singular values)."""
    tau = 0.7
    for A in (_random(shape, 2), _random((shape[0], 2), 3) @ _random((2, shape[1]), 4)):
        G = _random(shape, 5)
        left = _psd_sqrt(A @ A.T + tau**2 * np.eye(shape[0]))
        right = _psd_sqrt(A.T @ A + tau**2 * np.eye(shape[1]))
        got, s = self_consistent_operator(jnp.asarray(A), jnp.asarray(G), tau)
        np.testing.assert_allclose(got, left @ G + G @ right, atol=1e-10)
        # singular values as square roots of eigenvalues: absolute error ~ sqrt(eps) s_max
        exact = np.linalg.svd(A, compute_uv=False)
        np.testing.assert_allclose(s, exact, atol=1e-7 * exact[0])


def test_gram_system_on_the_manifold_is_the_self_consistent_flow():
    """§6.1 item 2: (A, C1, C2) started on C1 = sqrt(A^T A + tau^2), C2 = sqrt(A A^T + tau^2) stays
    there, and its A is the solution of eq. (1), over t in [0, 1] at d = 6."""
    d, tau = 6, 0.8
    A0, Y = 0.3 * _random((d, d), 6), _random((d, d), 7)
    C1, C2 = _psd_sqrt(A0.T @ A0 + tau**2 * np.eye(d)), _psd_sqrt(A0 @ A0.T + tau**2 * np.eye(d))
    times = np.linspace(0.0, 1.0, 11)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: gram_vector_field(y, jnp.asarray(Y))),
        diffrax.Dopri8(),
        t0=0.0,
        t1=1.0,
        dt0=1e-3,
        y0=tuple(jnp.asarray(x) for x in (A0, C1, C2)),
        saveat=diffrax.SaveAt(ts=jnp.asarray(times)),
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
        max_steps=100_000,
    )
    A, C1t, C2t = (np.asarray(x) for x in sol.ys)
    for k in range(times.size):
        eye = tau**2 * np.eye(d)
        np.testing.assert_allclose(C1t[k] @ C1t[k] - A[k].T @ A[k], eye, atol=1e-9)
        np.testing.assert_allclose(C2t[k] @ C2t[k] - A[k] @ A[k].T, eye, atol=1e-9)
    records, ok = self_consistent_flow(
        jnp.asarray(A0),
        jnp.asarray(Y),
        jnp.asarray(Y),
        tau=tau,
        times=times,
        rtol=1e-12,
        atol=1e-12,
    )
    assert bool(ok)
    sv = np.stack([np.linalg.svd(a, compute_uv=False) for a in A])
    np.testing.assert_allclose(records["singular_values"], sv, atol=1e-8)
    np.testing.assert_allclose(
        records["train_error"], np.mean((A - Y) ** 2, axis=(1, 2)), atol=1e-10
    )


@pytest.mark.parametrize("y, tau, s0", [(100, 0.1, 0), (100, 8.3, 0.5), (5, 50, 0), (30, 12, 60)])
def test_aligned_mode_closed_form(y, tau, s0):
    """§6.1 item 3: the closed form against a high-precision ODE solve, errors < 1e-9 (relative
    to the scale of s)."""
    t = np.linspace(0.0, 0.1 if y == 100 else 0.05, 9)
    ode = solve_ivp(
        lambda _, s: 2 * np.sqrt(s**2 + tau**2) * (y - s),
        (0, t[-1]),
        [s0],
        t_eval=t,
        method="DOP853",
        rtol=1e-13,
        atol=1e-12,
    )
    got = aligned_mode(y, tau, s0, t)
    np.testing.assert_allclose(got, ode.y[0], atol=1e-9 * max(y, s0))


def test_self_consistent_flow_of_aligned_modes_follows_the_closed_form():
    """A start sharing the singular vectors of Y evolves mode by mode (§2.3): the matrix flow
    against the scalar closed form of each mode."""
    d, tau = 5, 2.0
    U, _ = np.linalg.qr(_random((d, d), 8))
    V, _ = np.linalg.qr(_random((d, d), 9))
    y, s0 = np.array([40.0, 20.0, 6.0, 1.0, 0.2]), np.full(d, 0.01)
    times = np.linspace(0, 0.6, 7)
    records, ok = self_consistent_flow(
        jnp.asarray(U * s0 @ V.T),
        jnp.asarray(U * y @ V.T),
        jnp.zeros((d, d)),
        tau=tau,
        times=times,
        rtol=1e-11,
        atol=1e-12,
    )
    assert bool(ok)
    expected = np.stack([aligned_mode(yi, tau, si, times) for yi, si in zip(y, s0, strict=True)], 1)
    np.testing.assert_allclose(records["singular_values"], expected, atol=1e-7)


def test_reduced_coordinates_reproduce_full_width_descent():
    """§2.4.3: descent on (X1, X2) with [X1, X2^T] = R of the QR of [W1, W2^T] is descent on
    (W1, W2), step by step, to rounding."""
    d, w, sigma, eta = 6, 40, 0.4, 0.02
    W1, W2 = sigma * _random((w, d), 10), sigma * _random((d, w), 11)
    Y = _random((d, d), 12)
    _, T = np.linalg.qr(np.concatenate([W1, W2.T], axis=1))
    X1, X2 = T[:, :d], T[:, d:].T
    for _ in range(60):
        W1, W2 = gauss_seidel_step(W1, W2, Y, eta)
        X1, X2 = gauss_seidel_step(X1, X2, Y, eta)
        np.testing.assert_allclose(X2 @ X1, W2 @ W1, atol=1e-10)
        np.testing.assert_allclose(X1.T @ X1, W1.T @ W1, atol=1e-10)
        np.testing.assert_allclose(X2 @ X2.T, W2 @ W2.T, atol=1e-10)


def test_bartlett_factor_has_the_wishart_law():
    """T^T T of the sampled factor has the Wishart mean w I; T_ii^2 ~ chi^2_{w-i} (mean and
    variance within 4 standard errors over 4000 draws), T_ij ~ N(0, 1) above the diagonal."""
    w, m, n = 12, 4, 4000
    T = np.asarray(
        jax.vmap(lambda k: bartlett_factor(k, w, m))(jax.random.split(jax.random.key(0), n))
    )
    diag2 = np.diagonal(T, axis1=1, axis2=2) ** 2
    df = w - np.arange(m)
    np.testing.assert_array_less(np.abs(diag2.mean(0) - df), 4 * np.sqrt(2 * df / n))
    np.testing.assert_array_less(
        np.abs(diag2.var(0) / (2 * df) - 1), 4 * np.sqrt(6 / n) + 4 * np.sqrt(12 / df / n)
    )
    upper = T[:, np.triu_indices(m, 1)[0], np.triu_indices(m, 1)[1]]
    assert np.all(np.abs(upper.mean(0)) < 4 / np.sqrt(n)) and np.all(
        np.abs(upper.var(0) - 1) < 4 * np.sqrt(2 / n)
    )
    assert np.all(np.tril(T, -1) == 0)
    gram = np.einsum("nij,nik->jk", T, T) / n
    np.testing.assert_allclose(gram, w * np.eye(m), atol=4 * np.sqrt(2 * w / n) * 1.5)


def test_reduced_start_uses_the_full_weights_below_2d():
    X1, X2 = reduced_two_layer_init(jax.random.key(0), 3, 4, 5, 0.1)
    assert X1.shape == (5, 4) and X2.shape == (3, 5)
    X1, X2 = reduced_two_layer_init(jax.random.key(0), 3, 4, 10**8, 0.1)
    assert X1.shape == (7, 4) and X2.shape == (3, 7)
    assert abs(float(jnp.sum(X1**2)) / (4 * 0.01 * 1e8) - 1) < 1e-2


def _run(**changes):
    config = EXP.config(d=200, K=5, **changes)
    sim, theory = EXP.simulate(config, 1), EXP.predict(config)
    return config, EXP.compare(sim, theory)


def test_lazy_region_optimum():
    """§6.2 item 7: in the lazy wedge the minimum test error is (1 + s^4 w)/(2 + s^4 w) within
    5 %, at step ln(2 + s^4 w)/(-ln(1 - 2/c)) within 15 %; for GD and the theory alike."""
    for point in ((-1.524, 2.8), (-1.234, 2.8)):
        config, m = _run(gamma_sigma2=point[0], gamma_w=point[1], c=50.0, steps=80)
        value, step = lazy_optimum(config.sigma2**2 * config.width, config.c)
        for prefix in ("", "theory_"):
            assert abs(m[f"{prefix}min_test_error"] / value - 1) < 0.05, (point, prefix, m)
            assert abs(m[f"{prefix}iterations_to_min"] / step - 1) < 0.15, (point, prefix, m)
        assert m["stable_rank_at_min"] > 5.5  # the rank of Y, not K = 5 (§6.3 item 16)


def test_active_region_small_init_reaches_the_rank_k_truncation():
    """§6.2 item 8: deep in the active region with small initialization, min test error
    2K/d = 0.05 within 10 % (d = 200) and stable rank near that of A* (3.4-3.5 in the spec)."""
    config, m = _run(gamma_sigma2=-2.5, gamma_w=1.0, c=50.0, steps=700)
    assert abs(m["min_test_error"] / (2 * config.K / config.d) - 1) < 0.10, m
    assert abs(m["theory_min_test_error"] / (2 * config.K / config.d) - 1) < 0.10, m
    assert 3.0 < m["stable_rank_at_min"] < 4.2, m
    assert m["iterations_to_min"] < 700


def test_descent_against_self_consistent_reference_numbers():
    """§6.2 item 12 at (-1.85, 2.25), d = 200, c = 5: GD min test 0.188 at step 12 against 0.205
    at 13 for the self-consistent dynamics, ln max distance -4.85 (10 %, 1 step, 0.5)."""
    _, m = _run(gamma_sigma2=-1.85, gamma_w=2.25, c=5.0, steps=40)
    assert abs(m["min_test_error"] / 0.188 - 1) < 0.10, m
    assert abs(m["theory_min_test_error"] / 0.205 - 1) < 0.10, m
    assert abs(m["iterations_to_min"] - 12) <= 1 and abs(m["theory_iterations_to_min"] - 13) <= 1
    assert abs(m["log_max_distance"] + 4.85) < 0.5, m


def test_distance_to_self_consistent_dynamics_falls_like_one_over_width():
    """§3.1 and §6.2 item 13: at d = 100, gamma_sigma2 + gamma_w = 0.5, c = 50, the squared
    distance between GD and eq. (1) falls about like 1/w: slope of ln distance against ln w in
    [-1.3, -0.7] (the spec's table: -3.35, -4.72, -7.10, -9.15 for gamma_w = 1.25 ... 2.5)."""
    widths, distances = [], []
    for gamma_w in (1.5, 2.0, 2.5):
        config = EXP.config(
            d=100, K=5, gamma_sigma2=0.5 - gamma_w, gamma_w=gamma_w, c=50.0, steps=300
        )
        sim = EXP.simulate(config, 1)
        widths.append(config.width)
        distances.append(float(sim["sc_distance"].max()))
    slope = np.polyfit(np.log(widths), np.log(distances), 1)[0]
    assert -1.3 < slope < -0.7, (slope, distances)


def test_euler_self_consistent_steps_converge_to_the_flow_at_first_order():
    """Euler steps of eq. (1) against its continuous flow (both from the same start, at the same
    flow times): the largest gap of the test error halves when the step halves (ratio 2 +- 0.3)."""
    gaps = []
    for c in (20.0, 40.0):
        config = EXP.config(d=60, K=3, gamma_sigma2=-1.8, gamma_w=2.0, c=c, steps=int(6 * c))
        euler, flow = EXP.predict(config), EXP.predict(config.replace(discretization="flow"))
        assert flow.attrs["status"] == "ok"
        gaps.append(float(np.max(np.abs(euler["test_error"] - flow["test_error"]))))
    assert abs(gaps[0] / gaps[1] - 2) < 0.3, gaps


def test_bad_configs_are_refused():
    for changes, field in (({"K": 600}, "K"), ({"c": 1.0}, "c"), ({"gamma_w": -0.5}, "gamma_w")):
        with pytest.raises(lindyn.ConfigError, match=field):
            EXP.config(**changes)


def test_descent_divergence_is_reported():
    """A step far beyond stability (c = 1.01 on the lazy side, eta * 2 tau = 1.98, plus the
    growth of the singular values) is reported as diverged with its parameters, not returned."""
    config = EXP.config(d=40, K=2, gamma_sigma2=-1.0, gamma_w=1.5, c=1.5, noise=5.0, steps=400)
    res = lindyn.run(EXP, config, seeds=1, throw=False)
    assert res.status == "diverged" and "gamma_w=1.5" in res.message


def test_learning_rate_follows_the_side_of_the_line():
    config = EXP.config(d=100, gamma_sigma2=-1.0, gamma_w=2.5, c=50.0)
    target, _ = mixed.problem(config)
    assert mixed.learning_rate(config, target) == pytest.approx(1 / (50 * 100**-1.0 * 100**2.5))
    config = config.replace(gamma_w=1.5)
    op = float(np.linalg.norm(np.asarray(target), 2))
    assert mixed.learning_rate(config, target) == pytest.approx(1 / (50 * op))
    assert pytest.approx(float(np.mean(np.asarray(target) ** 2)), rel=0.15) == 1.0


def test_self_consistent_descent_records_steps_zero_to_n():
    A0, Y = jnp.zeros((4, 4)), jnp.asarray(_random((4, 4), 13))
    A, rec = self_consistent_descent(A0, Y, Y, tau=1.0, eta=0.01, steps=5)
    assert rec["train_error"].shape == (6,)
    assert float(rec["train_error"][0]) == pytest.approx(float(jnp.mean(Y**2)))
    assert float(rec["train_error"][-1]) == pytest.approx(float(jnp.mean((A - Y) ** 2)))
