"""The same checks for every registered experiment (the experiment contract)."""

import dataclasses
import json

import numpy as np
import pytest
import xarray as xr

import lindyn
import lindyn.experiments._run
from lindyn.experiments import observables
from lindyn.results import load_groups, main_axis

NAMES = lindyn.names()
SEEDS = 8


@pytest.fixture(scope="module", params=NAMES)
def quick_run(request):
    exp = lindyn.get(request.param)
    return exp, lindyn.run(exp, exp.config(quick=True), seeds=SEEDS)


def test_registry_lists_every_paper_experiment():
    assert {"linreg", "saxe", "dln", "mixed", "saddle", "pesme", "deep", "capacity"} <= set(NAMES)


def test_simulation_and_theory_share_coordinates(quick_run):
    _, res = quick_run
    sim, th = res.simulation, res.theory
    assert sim.sizes["seed"] == SEEDS
    axis = main_axis(th)
    assert main_axis(sim) == axis
    np.testing.assert_array_equal(sim[axis].values, th[axis].values)
    shared = set(th.data_vars) & set(sim.data_vars)
    assert shared == set(observables(th))  # the rest: error estimates and validity masks
    for v in shared:
        assert sim[v].dims == ("seed", *th[v].dims)
    assert res.status == "ok" and sim.attrs["kind"] == "simulation" and th.attrs["kind"] == "theory"


def test_quick_config_agrees_with_theory(quick_run):
    """Quick sizes still agree: within 4 standard errors of the seed mean plus 0.1 % of the scale,
    or plus the documented systematic gap of an approximate theory (``Experiment.systematic``)."""
    exp, res = quick_run
    relative = max(1e-3, exp.systematic(res.config) if exp.systematic else 0.0)
    for v in observables(res.theory):
        gap = res.metrics[f"max_abs_{v}"]
        scale = float(np.abs(res.theory[v]).max())
        standard_error = res.metrics[f"seed_std_{v}"] / np.sqrt(SEEDS)
        assert gap <= 4 * standard_error + relative * scale + 1e-12, (exp.name, v, gap)


def test_quick_config_verdict_is_agree(quick_run):
    """The verdict of every quick run at 8 seeds (3 calibrated s.e. of the seeds ⊕ the
    theory's error + max(0.1 %, systematic) of the scale) is ``agree``, with its reason."""
    exp, res = quick_run
    assert res.verdict.value == "agree", (exp.name, res.verdict.why)
    assert "tolerance" in res.verdict.why


def test_a_systematic_gap_is_smaller_than_the_signal(quick_run):
    """An approximate theory's allowance must leave the comparison meaningful (below 25 %)."""
    exp, res = quick_run
    if exp.systematic is not None:
        assert 0 < exp.systematic(res.config) < 0.25


def test_save_round_trip(quick_run, tmp_path):
    _, res = quick_run
    paths = res.save(tmp_path)
    back = load_groups(paths["result"])
    xr.testing.assert_identical(back["simulation"], res.simulation)
    xr.testing.assert_identical(back["theory"], res.theory)
    assert paths["figure"].stat().st_size > 10_000


def test_config_validation(quick_run):
    exp, _ = quick_run
    cfg = exp.config()
    first_numeric = next(f for f in dataclasses.fields(cfg) if f.metadata.get("gt") is not None)
    with pytest.raises(lindyn.ConfigError, match=first_numeric.name):
        cfg.replace(**{first_numeric.name: first_numeric.metadata["gt"]})
    with pytest.raises(lindyn.ConfigError, match="unknown key"):
        cfg.replace(no_such_key=1)


def test_payload_carries_the_saved_values(quick_run, tmp_path):
    _, res = quick_run
    p = json.loads(json.dumps(res.payload(), allow_nan=False))
    assert set(p) >= {"experiment", "config", "status", "metrics", "theory", "simulation"}
    paths = res.save(tmp_path)
    saved = load_groups(paths["result"])
    assert json.loads(paths["metrics"].read_text()) == p["metrics"]
    axis = main_axis(res.theory)
    np.testing.assert_array_equal(p["theory"][axis], saved["theory"][axis].values)
    for v in observables(res.theory):
        np.testing.assert_allclose(p["theory"][v], saved["theory"][v].values, rtol=1e-15)
        sim = saved["simulation"][v]
        np.testing.assert_allclose(p["simulation"][v]["mean"], sim.mean("seed"), rtol=1e-12)
        np.testing.assert_allclose(p["simulation"][v]["std"], sim.std("seed", ddof=1), rtol=1e-12)


def test_non_finite_values_become_null_and_status_names_the_parameters(quick_run):
    _, res = quick_run
    sim = res.simulation.copy(deep=True)
    var = next(iter(res.theory.data_vars))
    sim[var][0, -1] = np.inf
    sim.attrs["status"] = "diverged"
    broken = dataclasses.replace(res, simulation=sim)
    payload = json.loads(json.dumps(broken.payload(), allow_nan=False))
    assert None in np.ravel(np.array(payload["simulation"][var]["mean"], dtype=object))
    status, message = lindyn.experiments._run._status(sim, res.theory, res.config)
    assert status == "diverged" and "diverged" in message
    assert all(f"{k}=" in message for k in res.config.to_dict())
