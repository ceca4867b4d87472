"""Finite deep linear networks against the deep-linear DMFT (spec ``deep_dmft.md`` §6)."""

import dataclasses
import math

import jax
import numpy as np
import pytest

import lindyn
from lindyn.experiments import deep
from lindyn.experiments._deep_data import deep_spectrum

SPEC_TIMES = [0, 1, 2, 5, 10, 20, 30]


def _rank_one_step(model, params, X, y, rate_unit):
    r"""The §1.5 updates: forward :math:`v`, backward :math:`w`, then rank-one spikes.

    ``rate_unit`` is :math:`\eta\gamma_0`; branch scale :math:`b` multiplies the blocks'.
    """
    D, N, b = model.d_in, model.width, model.branch_scale()
    gamma0 = 1 / (model.multipliers()[-1] * N / math.sqrt(D))
    beta = model.end_to_end(params)[0] * math.sqrt(D)
    v = math.sqrt(D) * X.T @ (y - X @ beta / math.sqrt(D)) / X.shape[0]
    hs = [params[0] @ v / math.sqrt(D)]
    for W in params[1:-1]:
        step = W @ hs[-1] / math.sqrt(N)
        hs.append(hs[-1] + b * step if model.residual else step)
    gs = [params[-1][0]]
    for W in reversed(params[1:-1]):
        back = W.T @ gs[0] / math.sqrt(N)
        gs.insert(0, gs[0] + b * back if model.residual else back)
    new = [params[0] + rate_unit * np.outer(gs[0], v) / math.sqrt(D)]
    for i, W in enumerate(params[1:-1]):
        new.append(W + rate_unit * b * np.outer(gs[i + 1], hs[i]) / math.sqrt(N))
    new.append(params[-1] + rate_unit * hs[-1][None, :])
    return new, gamma0


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("parameterization", ["mup", "ntk"])
def test_gd_step_is_the_rank_one_update(residual, parameterization):
    """§6 item 1: one GD step at raw rate eta gamma0^2 N is the §1.5 spike update (D=5, N=4,
    P=7, L=3), with the gradient checked against autodiff and f(x) = beta.x / sqrt(D)."""
    cfg = deep.Config(
        D=5, nu=0.8, alpha=1.4, L=3, gamma0=1.3, eta=0.07, residual=residual, param=parameterization
    )
    model, eta = cfg.model(), cfg.eta
    params = model.init(jax.random.key(1))
    X = jax.random.normal(jax.random.key(2), (7, 5))
    y = jax.random.normal(jax.random.key(3), (7,))
    auto = jax.grad(lambda p: model.loss(p, X, y[:, None]))(params)
    grad = model.grad(params, X, y[:, None])
    for g, a in zip(grad, auto, strict=True):
        np.testing.assert_allclose(g, a, atol=1e-12)
    beta = math.sqrt(5) * model.end_to_end(params)[0]
    np.testing.assert_allclose(model.output(params, X)[:, 0], X @ beta / math.sqrt(5), atol=1e-13)
    expected, gamma0 = _rank_one_step(model, params, X, y, eta * cfg.richness)
    assert gamma0 == pytest.approx(cfg.richness, rel=1e-13)
    rate = deep._run(cfg).rate
    assert rate == pytest.approx(eta * cfg.richness**2 * 4, rel=1e-13)
    for p, g, e in zip(params, grad, expected, strict=True):
        np.testing.assert_allclose(p - rate * g, e, atol=1e-12)


@pytest.mark.parametrize(
    ("overrides", "closed_form"),
    [
        ({"nu": 0.5, "sigma": 0.3}, 0.5 * (1 + 0.09 + 2)),
        ({"residual": True, "L": 2, "beta0": 1.0}, 1.625),
        ({"param": "ntk", "nu": 2.0, "gamma0": 1.0, "sigma": 0.2}, 0.5 * (1 + 0.04 + 1)),
    ],
)
def test_initial_losses(overrides, closed_form):
    """§6 item 2: the seed mean of L(0) and of the train loss at 0 is the closed form, exactly in
    expectation at any D (E|g^1|^2 = N (1 + beta_res^2)^L at init); tolerance 4 standard errors."""
    seeds = 48
    sim = deep.simulate(deep.Config(D=96, steps=1, **overrides), seeds)
    for v in ("test_loss", "train_loss"):
        start = sim[v].isel(time=0)
        se = float(start.std(ddof=1)) / math.sqrt(seeds)
        assert abs(float(start.mean()) - closed_form) < 4 * se, (v, float(start.mean()), se)
    th = deep.predict(deep.Config(D=96, steps=1, **overrides))
    assert th.test_loss.values[0] == pytest.approx(closed_form, rel=1e-12)


def _agree_within_spec_tolerance(cfg, seeds, dmft_test):
    """§6: seed mean within 3 s.e.m. + 3 % of the DMFT at the spec's times; the DMFT itself
    matches the spec's printed values to 1e-3 relative or 2e-3 absolute."""
    sim, th = deep.simulate(cfg, seeds), deep.predict(cfg)
    assert sim.attrs["status"] == "ok" and th.attrs["status"] == "ok"
    got = th.test_loss.values[SPEC_TIMES]
    np.testing.assert_allclose(got, dmft_test, rtol=1e-3, atol=2e-3)
    for v in deep.OBSERVABLES:
        curve = sim[v].isel(time=SPEC_TIMES)
        sem = curve.std("seed", ddof=1).values / math.sqrt(seeds)
        theory = th[v].values[SPEC_TIMES]
        gap = np.abs(curve.mean("seed").values - theory)
        assert np.all(gap <= 3 * sem + 0.03 * theory), (v, gap, sem)
    return sim, th


def test_full_batch_matches_dmft():
    """§6 item 5, row 1: (alpha, nu, L, gamma0, eta, sigma) = (2, 1, 1, 1, 0.2, 0) at D = 256
    (the spec's simulation: .960 .410 .288 .149 .068 .021 .008)."""
    cfg = deep.Config(D=256, alpha=2.0, nu=1.0, L=1, gamma0=1.0, eta=0.2, steps=30)
    dmft = [1.0, 0.4264, 0.2998, 0.1549, 0.0709, 0.0219, 0.0084]
    _, th = _agree_within_spec_tolerance(cfg, 8, dmft)
    train = [1.0, 0.2644, 0.1507, 0.0536, 0.0176, 0.0040, 0.0013]
    np.testing.assert_allclose(th.train_loss.values[SPEC_TIMES], train, rtol=1e-3, atol=2e-3)


def test_one_pass_sgd_matches_dmft():
    """§6 item 5, online row alpha_B = 0.25, (nu, L, gamma0, eta, sigma) = (0.5, 1, 1.5, 0.1, 0)
    at D = 400; the on-batch train loss has the test loss's expectation (§1.4)."""
    cfg = deep.Config(
        D=400, nu=0.5, L=1, gamma0=1.5, eta=0.1, steps=30, protocol="sgd", batch_ratio=0.25
    )
    dmft = [0.9444, 0.7239, 0.5791, 0.3582, 0.1948, 0.0510, 0.0116]
    _, th = _agree_within_spec_tolerance(cfg, 8, dmft)
    np.testing.assert_array_equal(th.train_loss.values, th.test_loss.values)


def test_mup_and_ntk_coincide_at_unit_width_ratio():
    """§1.2: at nu = 1 and gamma-bar = gamma0 the two parameterizations are the same network
    (same multipliers, same raw rate); at nu = 4 the NTK readout is 2x the muP one."""
    cfg = deep.Config(D=32, nu=1.0, L=2, gamma0=1.7, param="mup")
    ntk = cfg.replace(param="ntk")
    assert ntk.model().multipliers() == pytest.approx(cfg.model().multipliers(), rel=1e-14)
    assert deep._run(ntk).rate == pytest.approx(deep._run(cfg).rate, rel=1e-14)
    wide, wide_ntk = cfg.replace(nu=4.0), ntk.replace(nu=4.0)
    ratio = wide_ntk.model().multipliers()[-1] / wide.model().multipliers()[-1]
    assert ratio == pytest.approx(2.0, rel=1e-14)
    assert wide_ntk.richness == pytest.approx(1.7 / 2, rel=1e-14)


def test_divergence_shows_in_both_statuses():
    """A learning rate far beyond the stable range: the simulation and the DMFT say so."""
    cfg = deep.Config(D=32, L=2, eta=3.0, steps=20)
    assert deep.simulate(cfg, 2).attrs["status"] == "diverged"
    th = deep.predict(cfg)
    assert th.attrs["status"] == "diverged" and "diverged" in th.attrs["message"]


def test_powerlaw_spectrum_is_normalised():
    """§2.5: mean eigenvalue 1 and (1/D) sum lam_k b_k = 1; a = 1/2, b = 0 is §6 item 7's."""
    lam, bk = deep_spectrum(300, 0.5, 0.0)
    assert lam.mean() == pytest.approx(1.0) and np.mean(lam * bk) == pytest.approx(1.0)
    k = np.arange(1, 301)
    np.testing.assert_allclose(bk * np.sqrt(k), bk[0], rtol=1e-12)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"param": "standard"}, "param"),
        ({"protocol": "sgd"}, "batch_ratio"),
        ({"protocol": "sgd", "batch_ratio": -1.0}, "batch_ratio"),
        ({"steps": 5000}, "steps"),
        ({"D": 10, "nu": 0.01}, "nu"),
        ({"spectrum": "flat"}, "spectrum"),
        ({"residual": True, "L": 16, "steps": 600}, "steps"),
        ({"D": 4096, "alpha": 64.0}, "D"),
    ],
)
def test_bad_configs_name_the_field(overrides, field):
    with pytest.raises(lindyn.ConfigError, match=f"^{field}: "):
        deep.Config(**overrides)


def test_config_round_trip_and_fields():
    cfg = deep.Config()
    assert deep.Config(**cfg.to_dict()) == cfg
    assert {f.name for f in dataclasses.fields(cfg)} == {
        *[
            "D",
            "alpha",
            "nu",
            "L",
            "param",
            "gamma0",
            "eta",
            "steps",
            "sigma",
            "residual",
            "beta0",
            "protocol",
        ],
        *["batch_ratio", "spectrum", "a", "b", "seed"],
    }


@pytest.mark.slow
def test_anisotropic_data_matches_dmft():
    """§6 item 7: lambda_k, b_k ~ k^-1/2 (a = 1/2, b = 0), alpha = 2, sigma = 0.1, D = 300,
    (nu, L, gamma0, eta) = (1, 2, 1, 0.015)."""
    cfg = deep.Config(D=300, L=2, eta=0.015, sigma=0.1, spectrum="powerlaw", a=0.5, b=0.0, steps=30)
    dmft = [1.0050, 0.7629, 0.6311, 0.4411, 0.3133, 0.2120, 0.1648]
    _agree_within_spec_tolerance(cfg, 8, dmft)


@pytest.mark.slow
def test_residual_blocks_match_dmft():
    """§6.6, first row: residual blocks with branch beta0/sqrt(L), (alpha, nu, L, gamma0, eta,
    beta0) = (2, 1, 2, 1, 0.02, 1) at D = 256; L(0) = (1 + (1 + 1/2)^2)/2 = 1.625."""
    cfg = deep.Config(D=256, L=2, eta=0.02, residual=True, beta0=1.0, steps=30)
    dmft = [1.6250, 1.0731, 0.8425, 0.5600, 0.3869, 0.2445, 0.1734]
    _agree_within_spec_tolerance(cfg, 8, dmft)


def test_simulation_compiles_once_per_run():
    """A second simulation of the same config, or at another rate, reuses the program."""
    from lindyn.experiments import _deep_sim

    exp = lindyn.get("deep")
    config = exp.config(D=16, steps=3, L=2, eta=0.013)
    first = exp.simulate(config, seeds=2)
    programs = len(_deep_sim._COMPILED)
    second = exp.simulate(config, seeds=2)
    assert len(_deep_sim._COMPILED) == programs
    np.testing.assert_array_equal(first["test_loss"].values, second["test_loss"].values)
    other = exp.simulate(config.replace(eta=0.014), seeds=2)  # the rate is an argument
    assert len(_deep_sim._COMPILED) == programs
    assert not np.array_equal(other["test_loss"].values, first["test_loss"].values)
    exp.simulate(config.replace(L=1), seeds=2)
    assert len(_deep_sim._COMPILED) == min(programs + 1, _deep_sim._CACHE_SIZE)
