"""The diagonal-network DMFT under gradient descent marks where finite d leaves it: from the
first step where its residual multiplier s(t) exceeds 1 (``lindyn.experiments._validity``).

Measured (delta = 0.5, alpha = 1, t = 15, d = 400, 6 seeds, 1000 copies): at step 0.33 (the
config's a-priori limit is 0.343) s(t) climbs to 1.84 and the runs end 100 % off the DMFT with
a 96 % seed spread; at step 0.1, s <= 0.3 and the runs follow the DMFT within their errors.
"""

import numpy as np
import pytest

import lindyn
from lindyn.theory._dln_dmft import dln_dmft
from lindyn.theory._stability import residual_multiplier

EXP = lindyn.get("dln")


def _config(dt):
    return EXP.config(
        method="gd",
        dt=dt,
        t_max=15.0,
        alpha=1.0,
        delta=0.5,
        d=400,
        copies=1000,
        replicas=1,
        rtol=0.0,
    )


def test_residual_correlation_carries_the_train_loss():
    """Its diagonal is twice the train loss the solver reports (computed apart)."""
    cfg = _config(0.25)
    res = dln_dmft(
        0.5, 1.0, sigma=cfg.sigma, rho=cfg.rho, times=cfg.grid(), scheme="gd", copies=400, seed=0
    )
    C = res.residual_correlation(cfg.sigma)
    np.testing.assert_allclose(np.diag(C) / 2, res.train_loss, rtol=1e-8)
    s = residual_multiplier(C)
    assert np.isnan(s[0]) and np.all((s[1:] > 0) & (s[1:] < 1))


@pytest.mark.parametrize(("dt", "verdict"), [(0.1, "agree"), (0.33, "outside_validity")])
def test_steps_at_the_edge_are_outside_validity(dt, verdict):
    res = lindyn.run(EXP, _config(dt), seeds=6)
    th = res.theory
    s = th["edge_sharpness"].values
    assert res.verdict.value == verdict, res.verdict.why
    if verdict == "agree":
        assert bool(th["valid"].all()) and np.nanmax(s) < 0.5
    else:
        first = int(np.argmax(~th["valid"].values))
        assert s[first] > 1 and np.all(np.nan_to_num(s[:first]) <= 1)
        assert "residual multiplier" in th.attrs["validity"]
        assert f"time={th['time'].values[first]:.4g}" in res.verdict.why
