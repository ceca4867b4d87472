"""The experiment ``capacity``: training on random labels against the replica theory
(spec ``shared/theory/capacity.md`` §4, §6 checks 14-15)."""

import json
import subprocess
import sys

import numpy as np
import pytest

import lindyn
from lindyn.results import main_axis

EXP = lindyn.get("capacity")


@pytest.fixture(scope="module")
def quick():
    return lindyn.run(EXP, EXP.config(quick=True), seeds=8)


def test_quick_run_is_labelled_by_load(quick):
    assert quick.status == "ok"
    assert main_axis(quick.simulation) == main_axis(quick.theory) == "alpha"
    np.testing.assert_allclose(quick.simulation.alpha.values, np.linspace(0.5, 3.0, 5))
    assert set(quick.simulation.data_vars) >= {"solved", "train_error", "KC", "sum_vector"}


def test_training_stops_well_below_the_rs_capacity(quick):
    """Check 15: every instance stored at the smallest load, none at the largest, and the
    50 % load far below alpha_c(K) (about 30 % of it, spec §4), itself below alpha_c(inf)."""
    m = quick.metrics
    solved = quick.simulation["solved"].mean("seed").values
    assert solved[0] == 1.0 and solved[-1] == 0.0
    assert 0.5 < m["threshold"] < 0.5 * m["alpha_c_K"]
    assert m["alpha_c_K"] < m["alpha_c"]


def test_hidden_units_anticorrelate_as_the_theory_says(quick):
    """Check 14: KC < 0 at every load, near -1 beyond the smallest, and the seed mean within
    4 standard errors + 10 % of the finite-K saddle point."""
    kc = quick.simulation["KC"]
    assert np.all(kc.values < 0)
    mean, theory = kc.mean("seed").values, quick.theory["KC"].values
    assert np.all(np.abs(mean[1:] + 1) < 0.15)
    sem = kc.std("seed", ddof=1).values / np.sqrt(kc.sizes["seed"])
    assert np.all(np.abs(mean - theory) <= 4 * sem + 0.1 * np.abs(theory))


def test_storage_sharpens_with_n():
    """Below the threshold the fraction stored rises with N (K = 4, alpha = 1.5, 16 instances;
    measured 0.375 at N = 12 against 0.875 at N = 36, a 3.4 sigma difference)."""
    fractions = []
    for N in (12, 36):
        config = EXP.config(N=N, K=4, loads=1, alpha_min=1.5, alpha_max=1.5, steps=1500)
        fractions.append(float(EXP.simulate(config, seeds=16)["solved"].mean()))
    assert fractions[1] > fractions[0] + 0.25


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"activation": "relu6"}, "activation"),
        ({"alpha_min": 0.0}, "alpha_min"),
        ({"alpha_min": 2.0, "alpha_max": 1.0}, "alpha_max"),
        ({"K": 1}, "K"),
        ({"N": -3}, "N"),
    ],
)
def test_bad_configs_name_the_field(overrides, field):
    with pytest.raises(lindyn.ConfigError, match=field):
        EXP.config().replace(**overrides)


def test_command_line_run(tmp_path):
    args = [
        "run",
        "capacity",
        "--quick",
        "--set",
        "activation=erf",
        "--set",
        "loads=2",
        "--seeds",
        "2",
        "--json",
        "--out",
        str(tmp_path / "cap"),
    ]
    res = subprocess.run(
        [sys.executable, "-m", "lindyn.cli", *args], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["config"]["activation"] == "erf"
    assert payload["theory"]["alpha"] == [0.5, 3.0]
    assert payload["metrics"]["alpha_c"] == pytest.approx(6.55545, abs=1e-4)


def test_capacity_figure(tmp_path):
    """The figure at quick sizes: saved, every 50 % load far below the RS capacity at K = 8,
    and the capacities of the lines are the theory's."""
    from lindyn.figures import get_figure

    result = get_figure("capacity-curves")(quick=True)
    assert result.status == "ok", result.message
    result.save(tmp_path)
    assert (tmp_path / "figure.png").stat().st_size > 10_000
    m = result.metrics
    for act, alpha_c in (("relu", 5.50388), ("erf", 6.55545)):
        for N in (12, 24):
            label = f"{act}_N={N}"
            assert m[f"{label}/alpha_c"] == pytest.approx(alpha_c, abs=1e-4)
            assert 0.5 <= m[f"{label}/threshold"] < 0.5 * m[f"{label}/alpha_c_K"]
