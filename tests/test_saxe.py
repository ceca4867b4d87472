"""Saxe et al.'s exact solution against simulated two-layer networks."""

import numpy as np
import pytest

from lindyn.experiments import saxe
from lindyn.theory import saxe_half_time, saxe_mode


def test_closed_form_solves_the_mode_ode():
    s, a0 = np.array([3.0, 1.5]), 1e-3
    t = np.linspace(0, 6, 2001)
    u = saxe_mode(s, a0, t)
    du = np.gradient(u, t, axis=0)
    np.testing.assert_allclose(du[5:-5], (2 * u * (s - u))[5:-5], atol=2e-4)
    np.testing.assert_allclose(saxe_mode(s, a0, np.array([0.0, 1e3])), [[a0, a0], s])
    half = saxe_mode(s, a0, saxe_half_time(s, a0))
    np.testing.assert_allclose(np.diag(half), s / 2)


def test_aligned_start_matches_exactly():
    """The aligned balanced start stays aligned: only the ODE tolerance (rtol 1e-8) separates them."""
    cfg = saxe.Config(num_times=60)
    sim, theory = saxe.simulate(cfg, seeds=3), saxe.predict(cfg)
    gap = np.abs(sim.singular_values - theory.singular_values).max()
    assert gap < 1e-6 * cfg.s_max
    assert float(sim.singular_values.std("seed").max()) < 1e-6  # rotation invariance
    assert float(sim.imbalance.max()) < 1e-10  # the balanced start stays balanced


@pytest.mark.slow
def test_perturbed_start_deviates_at_first_order():
    """A random perturbation of relative operator norm p moves the curves by O(p).

    Tolerance from the init scale: each W gets Gaussian entries of size
    eps = p sqrt(a0) / (sqrt(w) + sqrt(d)), so a mode's start a0 changes by
    delta ln a0 ~ sqrt(2) p / (sqrt(w) + sqrt(d)) (two layers), which shifts its sigmoid by
    delta ln a0 / (2s); the steepest slope of u is s^2 / 2, so the gap is about
    (s / 4) delta ln a0 per standard deviation. Three standard deviations: 1.1 s p / (sqrt(w) + sqrt(d)).
    """
    sizes = np.array([1e-3, 4e-3, 1.6e-2])
    gaps = []
    for p in sizes:
        cfg = saxe.Config(num_times=60, perturb=float(p))
        sim, theory = saxe.simulate(cfg, seeds=4), saxe.predict(cfg)
        gaps.append(float(np.abs(sim.singular_values - theory.singular_values).max()))
        bound = 1.1 * cfg.s_max * p / (np.sqrt(cfg.width) + np.sqrt(cfg.d_in))
        assert gaps[-1] < bound, (p, gaps[-1], bound)
    slope = np.polyfit(np.log(sizes), np.log(gaps), 1)[0]
    assert abs(slope - 1.0) < 0.1, (slope, gaps)


def test_gd_variant_runs_at_eta_k():
    cfg = saxe.Config(method="gd", eta=0.01, num_times=30)
    sim, theory = saxe.simulate(cfg, seeds=1), saxe.predict(cfg)
    np.testing.assert_allclose(sim.time, theory.time)
    assert float(np.abs(sim.singular_values - theory.singular_values).max()) < 0.05 * cfg.s_max
