"""The DLN DMFT's own error estimate: independent replicas, calibrated against a large solve."""

import numpy as np
import pytest

from lindyn.theory import dln_dmft

SETTING = {"delta": 0.5, "alpha": 0.5, "rho": 0.2, "sigma": 0.1, "steps": 15, "dt": 0.1}


@pytest.fixture(scope="module")
def reference():
    """M = 16 000 copies, 20 times those of the solves it judges (spread 4.5x smaller)."""
    return dln_dmft(copies=16_000, seed=12345, **SETTING).test_error


def test_replica_error_is_calibrated(reference):
    """±2 err of 4 replicas of M = 400 holds the large solve in >= 90 % of the points, over 16
    independent estimates (t > 0: at t = 0 both are exact), and the band is not vacuous:
    within ±err/2 lies well under 80 % of the points (a calibrated err, 1.5 standard
    deviations on average at 4 replicas, holds 55 %; one 5 times too wide, 98 %)."""
    inside, narrow = [], []
    for seed in range(16):
        res = dln_dmft(copies=400, seed=100 * seed, replicas=4, **SETTING)
        assert res.replicas == 4 and res.solve.status == "converged"
        err, miss = res.test_error_err[1:], np.abs(res.test_error - reference)[1:]
        inside.append(miss <= 2 * err)
        narrow.append(miss <= err / 2)
    assert np.mean(inside) >= 0.9, np.mean(inside)
    assert np.mean(narrow) < 0.8, np.mean(narrow)


def test_one_replica_is_the_plain_solve():
    one = dln_dmft(copies=100, seed=3, **SETTING)
    again = dln_dmft(copies=100, seed=3, replicas=1, **SETTING)
    assert one.test_error_err is None and one.replicas == 1
    np.testing.assert_array_equal(one.test_error, again.test_error)


def test_replicas_average_independent_solves():
    """The mean of the replicas is the mean of solves at their seeds (replica 0: ``seed``)."""
    from lindyn.theory._dln_dmft import replica_seeds

    res = dln_dmft(copies=100, seed=3, replicas=3, **SETTING)
    seeds = replica_seeds(3, 3)
    assert seeds[0] == 3 and len(set(seeds)) == 3
    solves = [dln_dmft(copies=100, seed=s, **SETTING).test_error for s in seeds]
    np.testing.assert_allclose(res.test_error, np.mean(solves, axis=0), rtol=1e-12)
    assert np.all(res.test_error_err[1:] > 0)


def test_bad_replicas_are_refused():
    with pytest.raises(ValueError, match="replicas"):
        dln_dmft(copies=100, replicas=0, **SETTING)


def test_rtol_is_met():
    """A solve at rtol = 1e-2 reaches it and lies within 1 % of one at rtol = 2.5e-3."""
    coarse = dln_dmft(copies=800, seed=1, rtol=1e-2, **SETTING)
    fine = dln_dmft(copies=800, seed=2, rtol=2.5e-3, **SETTING)
    assert coarse.accuracy <= 1e-2 and fine.accuracy <= 2.5e-3
    assert coarse.replicas < fine.replicas
    for a, b in ((coarse.test_error, fine.test_error), (coarse.train_loss, fine.train_loss)):
        np.testing.assert_allclose(a, b, rtol=1e-2)


def test_rtol_capped_says_what_it_reached():
    res = dln_dmft(copies=100, seed=1, rtol=1e-4, max_replicas=6, **SETTING)
    assert res.replicas == 6 and res.accuracy > 1e-4


def test_the_experiment_reports_an_unmet_rtol():
    import lindyn

    exp = lindyn.get("dln")
    config = exp.config(d=100, t_max=1.0, copies=100, rtol=1e-4, max_replicas=4)
    theory = exp.predict(config)
    assert theory.attrs["replicas"] == 4 and theory.attrs["accuracy"] > 1e-4
    assert "rtol" in theory.attrs["accuracy_note"]
    verdict = exp.judge(exp.simulate(config, seeds=3), theory, config)
    assert "not the rtol" in verdict.why
