"""Verdicts from the two sides' errors: agree, disagree, outside validity, inconclusive."""

import dataclasses

import numpy as np
import pytest
import xarray as xr

import lindyn
from lindyn.experiments import Verdict, calibrated_error, curve_verdict, observables
from lindyn.experiments._verdict import critical_value, effective_points


@pytest.fixture(scope="module")
def linreg():
    exp = lindyn.get("linreg")
    return exp, exp.config(quick=True)


def test_calibrated_error_covers_95_percent():
    """±2 calibrated errors of 4 normal samples hold the true mean 95 % of the time (the plain
    standard error: 86 %); 40 000 trials give ±0.2 % (one s.e.)."""
    rng = np.random.default_rng(0)
    samples = rng.standard_normal((40_000, 4))
    inside = np.abs(samples.mean(axis=1)) <= 1.96 * calibrated_error(samples, 1)
    plain = np.abs(samples.mean(axis=1)) <= 1.96 * samples.std(axis=1, ddof=1) / 2
    assert inside.mean() == pytest.approx(0.95, abs=0.006)
    assert plain.mean() == pytest.approx(0.86, abs=0.01)


def test_one_sample_has_no_error():
    assert np.isinf(calibrated_error(np.ones((1, 3)))).all()


def test_the_real_theory_agrees_and_a_wrong_one_disagrees(linreg):
    """A test double whose theory is 25 % off must be told apart from the exact theory of the
    same run (8 seeds at quick size resolve about 6 %: a 5 % error is within their tolerance)."""
    exp, config = linreg
    right = lindyn.run(exp, config, seeds=8)
    assert right.verdict.value == "agree", right.verdict.why

    def wrong_predict(c):
        th = exp.predict(c)
        return th.assign(train_loss=th["train_loss"] * 1.25)

    wrong = lindyn.run(dataclasses.replace(exp, predict=wrong_predict), config, seeds=8)
    assert wrong.verdict.value == "disagree", wrong.verdict.why
    assert "train_loss" in wrong.verdict.why and "tolerance" in wrong.verdict.why


def _curves(gap: float, *, seeds: int = 6, valid_from: int | None = None) -> tuple:
    t = np.linspace(0, 4, 41)
    tau = np.exp(-t)
    rng = np.random.default_rng(1)
    noise = 0.01 * rng.standard_normal((seeds, t.size))
    bias = gap * (t > 3)  # a departure late in time only
    sim = xr.Dataset({"loss": (("seed", "time"), tau + bias + noise)}, coords={"time": t})
    th = xr.Dataset({"loss": ("time", tau)}, coords={"time": t})
    if valid_from is not None:
        th["valid"] = ("time", t < t[valid_from])
        th.attrs["validity"] = "the step is past the stability edge"
    return sim, th


def test_a_late_departure_outside_validity_is_not_a_disagreement():
    sim, th = _curves(0.2)
    assert curve_verdict(sim, th).value == "disagree"
    sim, th = _curves(0.2, valid_from=25)  # t = 2.5: the departure (t > 3) lies beyond
    verdict = curve_verdict(sim, th)
    assert verdict.value == "outside_validity", verdict.why
    assert "time=2.5" in verdict.why and "stability edge" in verdict.why
    sim, th = _curves(0.2, valid_from=35)  # t = 3.5: the departure starts inside
    assert curve_verdict(sim, th).value == "disagree"


def test_the_theory_error_widens_the_tolerance():
    """A gap of 0.05 is 15 s.e. of the simulation alone, but within 3 theory errors of 0.02."""
    sim, th = _curves(0.05)
    assert curve_verdict(sim, th).value == "disagree"
    th["loss_err"] = xr.full_like(th["loss"], 0.02)
    assert observables(th) == ["loss"]
    assert curve_verdict(sim, th).value == "agree"


def test_the_systematic_allowance_is_relative_to_the_scale():
    sim, th = _curves(0.05)
    assert curve_verdict(sim, th, systematic=0.03).value == "disagree"
    assert curve_verdict(sim, th, systematic=0.06).value == "agree"


def test_two_seeds_or_a_diverged_simulation_is_inconclusive():
    sim, th = _curves(0.0, seeds=2)
    assert curve_verdict(sim, th).value == "inconclusive"
    sim, th = _curves(0.0)
    sim["loss"][0, -1] = np.inf
    assert curve_verdict(sim, th).value == "inconclusive"


def test_a_verdict_value_is_checked():
    with pytest.raises(ValueError, match="value"):
        Verdict("fine", "")


def test_overlay_draws_the_theory_error_and_the_invalid_region():
    from lindyn.plot import new_figure, overlay

    sim, th = _curves(0.0, valid_from=30)
    th["loss_err"] = xr.full_like(th["loss"], 0.01)
    _, (ax,) = new_figure(1)
    overlay(ax, sim, th, "loss")
    band = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    np.testing.assert_allclose(band[1].get_ydata() - band[0].get_ydata(), 0.04)
    shaded = [p for p in ax.patches if p.get_label() == "outside the theory's validity"]
    assert len(shaded) == 1 and shaded[0].get_x() == pytest.approx(3.0)


def _noise_verdicts(shape, trials, family=1, smooth=False):
    """Verdicts of ``trials`` noisy simulations of an exact theory (value 1 on 200 points):
    white noise, or (``smooth``) one random offset per seed and a slow random walk."""
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 1.0, shape[1])
    theory = xr.Dataset({"y": ("time", np.ones_like(t))}, coords={"time": t})
    values = []
    for _ in range(trials):
        noise = rng.normal(0.0, 0.05, shape)
        if smooth:
            noise = rng.normal(0.0, 0.05, (shape[0], 1)) + 0.005 * np.cumsum(noise, axis=1)
        sim = xr.Dataset({"y": (("seed", "time"), 1.0 + noise)}, coords={"time": t})
        values.append(curve_verdict(sim, theory, family=family).value)
    return values


@pytest.mark.parametrize("smooth", [False, True])
def test_noise_alone_rarely_disagrees_over_many_points(smooth):
    """The largest of many gaps is judged at a raised critical value: 400 verdicts of seed
    noise around an exact theory (3 seeds x 200 points, white or smooth, as one of a figure's
    3 runs) disagree at most 9 times (the design rate is 1 %: 4 expected; P(> 9) < 1 % by the
    binomial law). With the single-comparison value 3 on every point, the smooth curves
    disagreed 10 times in 400."""
    values = _noise_verdicts((3, 200), 400, family=3, smooth=smooth)
    assert values.count("disagree") <= 9, values.count("disagree")
    assert set(values) <= {"agree", "disagree"}


def test_effective_points_count_independent_comparisons():
    rng = np.random.default_rng(1)
    white = xr.DataArray(rng.normal(size=(5, 300)), dims=("seed", "time"))
    walk = xr.DataArray(np.cumsum(rng.normal(size=(5, 300)), axis=1), dims=("seed", "time"))
    assert effective_points(white, "time") > 200
    assert effective_points(walk, "time") < 30
    assert critical_value(1, 64) == 3.0
    assert critical_value(effective_points(white, "time"), 64) > 3.9


def _sweep(codes, status=None):
    """A one-axis sweep whose points hold the verdict ``codes`` (NaN: not judged)."""
    n = len(codes)
    data = {"status": ("eta", status or ["ok"] * n), "verdict": ("eta", np.asarray(codes, float))}
    return xr.Dataset(data, coords={"eta": [0.01 * (i + 1) for i in range(n)]})


@pytest.mark.parametrize(
    ("codes", "value", "said"),
    [
        ([0, 0, 2], "agree", "2 of 3 points agree, 1 outside the theory's validity"),
        ([0, 1, 1], "disagree", "2 points disagree (first eta=0.02)"),
        ([0, 3, np.nan], "inconclusive", "1 not judged"),
        ([2, 2], "outside_validity", "0 of 2 points agree"),
        ([np.nan, np.nan], "inconclusive", "no point judged"),
    ],
)
def test_a_sweep_is_judged_where_its_theory_applies(codes, value, said):
    from lindyn.sweep import sweep_verdict

    verdict = sweep_verdict(_sweep(codes))
    assert verdict.value == value and said in verdict.why


def test_diverged_points_are_counted_not_judged():
    """Past the stability edge a run has no curve to compare: its own verdict is inconclusive
    (a non-finite simulation), and the sweep counts it apart instead of being inconclusive."""
    from lindyn.sweep import sweep_verdict

    verdict = sweep_verdict(_sweep([0, 2, 3, 3], status=["ok", "ok", "diverged", "ok"]))
    assert verdict.value == "inconclusive" and "1 diverged" in verdict.why  # the ok point counts
    verdict = sweep_verdict(_sweep([0, 2, 3], status=["ok", "ok", "diverged"]))
    assert (
        verdict.value == "agree" and "1 diverged" in verdict.why and "not judged" not in verdict.why
    )


def test_a_sweep_without_verdicts_is_not_judged():
    from lindyn.sweep import sweep_verdict

    verdict = sweep_verdict(_sweep([0]).drop_vars("verdict"))
    assert verdict.value == "inconclusive" and "no verdicts" in verdict.why
