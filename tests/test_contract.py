"""The same checks for every registered experiment (the experiment contract)."""

import dataclasses

import numpy as np
import pytest
import xarray as xr

import lindyn
from lindyn.results import load_groups

NAMES = lindyn.names()


@pytest.fixture(scope="module", params=NAMES)
def quick_run(request):
    exp = lindyn.get(request.param)
    return exp, lindyn.run(exp, exp.config(quick=True), seeds=2)


def test_registry_lists_both_foundation_experiments():
    assert {"linreg", "saxe"} <= set(NAMES)


def test_simulation_and_theory_share_coordinates(quick_run):
    _, res = quick_run
    sim, th = res.simulation, res.theory
    assert sim.sizes["seed"] == 2
    np.testing.assert_array_equal(sim.time.values, th.time.values)
    shared = set(th.data_vars) & set(sim.data_vars)
    assert shared == set(th.data_vars)
    for v in shared:
        assert sim[v].dims == ("seed", *th[v].dims)
    assert res.status == "ok" and sim.attrs["kind"] == "simulation" and th.attrs["kind"] == "theory"


def test_quick_config_agrees_with_theory(quick_run):
    """Quick sizes still agree: within 3 seed standard deviations plus 1 % of the curve scale."""
    exp, res = quick_run
    for v in res.theory.data_vars:
        gap = res.metrics[f"max_abs_{v}"]
        scale = float(np.abs(res.theory[v]).max())
        assert gap <= 3 * res.metrics[f"seed_std_{v}"] + 0.01 * scale, (exp.name, v, gap)


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


def test_payload_is_json_schema(quick_run):
    _, res = quick_run
    p = res.payload()
    assert set(p) >= {"experiment", "config", "status", "metrics", "theory", "simulation"}
    assert len(p["theory"]["time"]) == len(p["simulation"]["time"])
    for v in res.theory.data_vars:
        assert set(p["simulation"][v]) == {"mean", "std"}
        assert np.shape(p["theory"][v]) == np.shape(p["simulation"][v]["mean"])
