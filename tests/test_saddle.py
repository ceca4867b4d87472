"""Saddle-to-saddle dynamics of deep linear networks: checks D1-D8 of shared/theory/saddle.md §7."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import lindyn
from lindyn.experiments import saddle
from lindyn.results import crossing_times, detect_plateaus
from lindyn.theory import (
    MatrixCost,
    balanced_mode,
    greedy_low_rank,
    jump_time,
    lazy_rate,
    minimum_distance,
    minimum_distance_bound,
    saddle_distance,
    saxe_mode,
    teacher_plateaus,
)

TEACHER = np.diag([4.0, 3.0, 2.0, 1.0])


def gamma_of(sigma: float, width: int) -> float:
    """The exponent with sigma^2 = width^-gamma."""
    return -2.0 * math.log(sigma) / math.log(width)


def config(**kw):
    return saddle.EXPERIMENT.config(**kw)


@pytest.fixture(scope="module")
def deep_runs():
    """L = 3, w = 20, A* = diag(4, 3, 2, 1) at sigma = 1e-3 and 1e-4, the same 3 starts."""
    out = {}
    for sigma in (1e-3, 1e-4):
        cfg = config(depth=3, width=20, gamma=gamma_of(sigma, 20), num_times=160)
        out[sigma] = lindyn.run(saddle.EXPERIMENT, cfg, seeds=3)
    return out


# --- D1: the flow ---------------------------------------------------------------------------


def test_gradient_matches_finite_differences():
    cfg = config(depth=4, width=6, gamma=0.5, target="completion", n=4, rank=2)
    cost, model = saddle.problem(cfg), saddle._model(cfg)
    params = model.init(jax.random.key(3))
    loss = lambda p: cost.value(model.end_to_end(p))  # noqa: E731
    analytic = model.pullback(params, cost.grad(model.end_to_end(params)))
    for a, b in zip(analytic, jax.grad(loss)(params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    direction = jax.tree_util.tree_map(jnp.ones_like, params)
    h = 1e-6
    up, down = (
        jax.tree_util.tree_map(lambda p, d, c=c: p + c * h * d, params, direction)
        for c in (1.0, -1.0)
    )
    fd = (loss(up) - loss(down)) / (2 * h)
    exact = sum(jnp.sum(g * d) for g, d in zip(analytic, direction, strict=True))
    assert abs(fd - exact) <= 1e-6 * abs(exact)


def test_balancedness_is_conserved(deep_runs):
    sim = deep_runs[1e-4].simulation
    D = sim["balancedness"].values
    scale = sim["layer_singular_values"].values.max() ** 2  # the size of the layers' Grams
    assert np.max(np.abs(D - D[:, :1])) <= 1e-6 * scale


# --- D4: plateau values, ranks, balanced layer spectra --------------------------------------


def test_plateaus_are_the_best_low_rank_residuals(deep_runs):
    res = deep_runs[1e-3]
    np.testing.assert_allclose(res.theory.attrs["plateau_losses"], [15, 7, 2.5, 0.5, 0])
    assert res.metrics["plateau_loss_error"] < 1e-3
    assert res.metrics["plateau_rank_misses"] == 0
    assert res.metrics["layer_spectrum_error"] < 1e-3


def test_layers_are_balanced_on_every_plateau(deep_runs):
    """||W_l||_F^2 = sum_{i<=k} s_i^(2/L) on plateau k (top-n layer values; the rest are ~0)."""
    res = deep_runs[1e-3]
    sim, levels = res.simulation.isel(seed=0), res.theory.attrs["plateau_losses"]
    t = sim["time"].values
    jumps = crossing_times(t, sim["train_loss"].values, levels)
    s = np.array([4.0, 3.0, 2.0, 1.0])
    for k in (1, 2, 3):
        i = np.argmin(np.abs(np.log(t[1:]) - 0.5 * np.log(jumps[k - 1] * jumps[k]))) + 1
        frob = np.sum(sim["layer_singular_values"].values[i] ** 2, axis=1)
        np.testing.assert_allclose(frob, np.sum(s[:k] ** (2 / 3)), rtol=2e-3)


def test_detector_finds_one_plateau_per_rank(deep_runs):
    res = deep_runs[1e-3]
    sim = res.simulation.isel(seed=1)
    found = detect_plateaus(
        sim["time"].values, sim["train_loss"].values, sim["singular_values"].values
    )
    assert [p.rank for p in found] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([p.value for p in found], [15, 7, 2.5, 0.5, 0], atol=1e-3)
    assert all(a.end < b.start for a, b in itertools.pairwise(found))


# --- D5: time scaling with sigma ------------------------------------------------------------


def test_deep_jump_times_scale_as_sigma_to_the_two_minus_L(deep_runs):
    """t_k sigma^(L-2) is sigma-independent (< 1 % between 1e-3 and 1e-4, same starts; spec E1)."""
    a, b = (deep_runs[s].metrics for s in (1e-3, 1e-4))
    for k in (1, 2, 3, 4):
        key = f"scaled_jump_time_{k}"
        assert abs(a[key] / b[key] - 1) < 1e-2, (k, a[key], b[key])
    # the random start delays every jump past the idealised aligned one, by an O(1) factor
    assert all(1.0 < b[f"jump_time_ratio_{k}"] < 1.6 for k in (1, 2, 3, 4))


def test_shallow_jump_times_approach_one_over_s_in_log_time():
    """L = 2: t_k s_k / ln(1/sigma) increases towards 1, t_1 within 0.1 of the formula."""
    scaled = []
    for sigma in (1e-3, 1e-6):
        cfg = config(depth=2, width=20, gamma=gamma_of(sigma, 20), num_times=150)
        res = lindyn.run(saddle.EXPERIMENT, cfg, seeds=2)
        scaled.append([res.metrics[f"scaled_jump_time_{k}"] for k in (1, 2, 3, 4)])
        first = jump_time(np.array([4.0]), 2, 20, sigma)[0]
        assert abs(res.metrics["jump_time_1"] - first) < 0.1
    assert np.all(np.array(scaled[0]) < np.array(scaled[1])) and np.all(np.array(scaled[1]) < 1)


# --- D3 / D8: lazy regime against saddles ----------------------------------------------------


def test_lazy_regime_decays_at_the_ntk_rate_without_plateau():
    cfg = config(depth=3, width=256, gamma=0.5, n=4, num_times=60)
    res = lindyn.run(saddle.EXPERIMENT, cfg, seeds=2)
    assert res.theory.attrs["regime"] == "lazy"
    assert abs(res.metrics["lazy_rate_ratio"] - 1) < 0.1
    loss = res.simulation["train_loss"].mean("seed").values
    t = res.simulation["time"].values
    assert loss[np.searchsorted(t, 1.0 / lazy_rate(3, 256, 256**-0.25))] < 0.5 * loss[0]
    # D8: the same teacher shows no intermediate plateau here (the saddle regime's are in
    # test_plateaus_are_the_best_low_rank_residuals and test_detector_finds_one_plateau_per_rank)
    one = res.simulation.isel(seed=0)
    found = detect_plateaus(t, one["train_loss"].values, one["singular_values"].values)
    assert not [p for p in found if 0 < p.value < 0.9 * loss[0]]


def test_transition_distances_scale_with_width():
    """D2: d_sad ~ w^((1-gamma)/2); the bound on the distance to a minimum tends to 5^(1/3)."""
    target = np.diag([5.0, 4.0, 3.0, 2.0, 1.0])
    widths = np.array([64, 256, 1024])
    for gamma, slope in ((1.5, -0.25), (0.5, 0.25)):
        dist, bound, move = [], [], []
        for w in widths:
            model = lindyn.models.DeepLinear(
                d_in=5, width=int(w), d_out=5, depth=3, sigma=float(w) ** (-gamma / 2)
            )
            layers = [np.asarray(W) for W in model.init(jax.random.key(0))]
            dist.append(saddle_distance(layers))
            bound.append(minimum_distance_bound(layers, target))
            move.append(minimum_distance(layers, target))
        fit = np.polyfit(np.log(widths), np.log(dist), 1)[0]
        assert abs(fit - slope) < 0.03, (gamma, fit)
        if gamma > 1:
            assert bound[0] < bound[-1] < 5 ** (1 / 3)
        else:
            assert move[0] > move[-1]


# --- the theory's own pieces ---------------------------------------------------------------


def test_aligned_mode_solves_its_ode():
    times = np.linspace(0.0, 1.5, 7)
    np.testing.assert_allclose(
        balanced_mode(np.array([4.0, 1.0]), 2, 1e-4, times),
        saxe_mode(np.array([4.0, 1.0]), 1e-4, times),
        rtol=1e-9,
    )
    for depth in (3, 4):
        rhs = lambda t, a: depth * a ** (2 - 2 / depth) * (2.0 - a)  # noqa: B023, E731
        ref = solve_ivp(
            rhs,
            (0, 30),
            [1e-3],
            t_eval=np.linspace(0, 30, 11),
            method="DOP853",
            rtol=1e-13,
            atol=1e-16,
        ).y[0]
        got = balanced_mode(np.array([2.0]), depth, 1e-3, np.linspace(0, 30, 11))[:, 0]
        np.testing.assert_allclose(got, ref, rtol=2e-7)


def test_greedy_algorithm_on_a_teacher_is_eckart_young():
    seq = greedy_low_rank(MatrixCost.teacher(TEACHER), 3)
    assert seq.status == "converged"
    np.testing.assert_allclose(seq.losses, teacher_plateaus([4, 3, 2, 1]), atol=1e-8)
    for k in range(5):
        np.testing.assert_allclose(
            seq.matrices[k], np.diag([4, 3, 2, 1] * (np.arange(4) < k)), atol=1e-6
        )


@pytest.mark.slow
def test_greedy_plateau_is_the_dln_plateau_for_matrix_completion():
    """D7 on E4: the greedy rank-1 loss 2.269448 is the DLN's plateau (L = 3, sigma = 1e-4),
    the final map has rank 2 with the greedy endpoint's singular values."""
    cfg = config(
        depth=3,
        width=30,
        gamma=gamma_of(1e-4, 30),
        n=10,
        rank=2,
        s_max=10.0,
        s_min=5.0,
        target="completion",
        num_times=200,
    )
    res = lindyn.run(saddle.EXPERIMENT, cfg, seeds=2)
    th, cost = res.theory.attrs, saddle.problem(cfg)
    assert cost.mask.sum() == 47  # spec E4's draw
    observed = cost.mask * cost.target  # C(0) and the first escape rate in closed form
    np.testing.assert_allclose(th["plateau_losses"][0], 0.5 * np.sum(observed**2), rtol=1e-12)
    np.testing.assert_allclose(th["escape_rates"][0], np.linalg.norm(observed, 2), rtol=1e-12)
    # the spec's numbers, to the digits it gives
    np.testing.assert_allclose(th["plateau_losses"][0], 27.2461, atol=5e-5)
    np.testing.assert_allclose(th["plateau_losses"][1], 2.269448, atol=5e-7)
    np.testing.assert_allclose(th["escape_rates"][:2], [5.3156, 1.7625], atol=5e-5)
    assert res.metrics["plateau_loss_error"] < 1e-5
    final = res.simulation["singular_values"].values[:, -1]
    greedy = th["plateau_singular_values"].reshape(3, 10)[-1]
    np.testing.assert_allclose(final[:, :2], np.broadcast_to(greedy[:2], (2, 2)), atol=0.05)
    assert np.all(final[:, 2] < 1e-3)


def test_crossing_times_and_detector_on_a_synthetic_staircase():
    t = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 400)])
    step = lambda t0: 1 / (1 + (t / t0) ** 12)  # noqa: E731
    loss = 4 * step(0.1) + 2 * step(10.0) + 1.0
    np.testing.assert_allclose(crossing_times(t, loss, [7.0, 3.0, 1.0]), [0.1, 10.0], rtol=2e-2)
    found = detect_plateaus(t, loss)
    np.testing.assert_allclose([p.value for p in found], [7.0, 3.0, 1.0], rtol=1e-3)
    with pytest.raises(ValueError, match="loss"):
        detect_plateaus(t, loss[:-1])


def test_lazy_completion_decays_only_on_the_observed_entries():
    cfg = config(depth=3, width=256, gamma=0.5, target="completion", rank=2, num_times=60)
    res = lindyn.run(saddle.EXPERIMENT, cfg, seeds=8)
    assert abs(res.metrics["lazy_rate_ratio"] - 1) < 0.1
    # the start: 1/2 (sum_Omega A*^2 + |Omega| E A0_ij^2), only observed entries count; the
    # full-matrix sum would be ~2x larger at observed = 0.5
    start = res.simulation["train_loss"].isel(time=0)
    error = float(start.std(ddof=1)) / np.sqrt(start.size)
    assert abs(float(start.mean()) - float(res.theory["train_loss"][0])) < 4 * error
    assert np.isnan(res.metrics["minimum_distance_bound"])  # no bound for completion


def test_a_run_too_short_for_its_jumps_says_so():
    res = lindyn.run(saddle.EXPERIMENT, saddle.EXPERIMENT.config(quick=True, horizon=0.3), seeds=2)
    assert res.metrics["plateaus_unreached"] > 0
    assert np.isnan(res.metrics["jump_time_4"])


def test_greedy_edge_cases():
    zero = greedy_low_rank(MatrixCost.teacher(np.zeros((3, 3))), 2)
    assert zero.status == "converged" and zero.ranks.tolist() == [0]
    capped = greedy_low_rank(MatrixCost.teacher(TEACHER), 2, max_rank=1)
    assert capped.status == "max_rank" and capped.ranks.tolist() == [0, 1]
    with pytest.raises(ValueError, match="mask"):
        MatrixCost(TEACHER, 0.5 * np.ones((4, 4)))
    with pytest.raises(ValueError, match="max_rank"):
        greedy_low_rank(MatrixCost.teacher(TEACHER), 2, max_rank=9)


def test_bad_configs_name_the_field():
    for bad, field in (
        ({"rank": 5, "n": 4}, "rank"),
        ({"width": 3, "n": 4}, "width"),
        ({"depth": 1}, "depth"),
        ({"target": "other"}, "target"),
        ({"gamma": -1.0}, "gamma"),
        ({"gamma": 1.0, "depth": 3, "width": 20}, "gamma"),  # a0 = 1: not a small start
        ({"gamma": 40.0, "depth": 8, "width": 2000}, "gamma"),  # a0 underflows
    ):
        with pytest.raises(lindyn.ConfigError, match=field):
            config(**bad)
