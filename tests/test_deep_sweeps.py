"""The learning-rate figures of ``deep`` (``deep-lr``, ``deep-residual``) and their DMFT claims.

Spec ``shared/theory/deep_dmft.md`` §4.3 (width transfer under μP, drift under NTK; reference
table at γ0 = γ̄ = 3) and §4.4 (depth transfer with β0/√L, drift with a constant branch).
"""

import json
import math

import numpy as np
import pytest

from lindyn.figures import deep_lr, deep_residual
from lindyn.figures._deep_sweep import (
    argmin_index,
    final_dmft_loss,
    log_grid,
    loss_curves,
    shift_steps,
)

ETAS = log_grid(0.01, 1.0, 6)  # the spec's 13 learning rates
WIDTHS = (0.5, 1.0, 2.0, 4.0)
# §4.3, gamma0 = gamma-bar = 3: argmin per width, and the muP loss there (4 decimals)
NTK_ETA_STAR = (0.0316, 0.0464, 0.0681, 0.1)
MUP_ETA_STAR = (0.0464,) * 4
MUP_LOSS_STAR = (0.0097, 0.0013, 0.0002, 0.0001)


def _dmft_curve(param: str, nu: float) -> np.ndarray:
    setting = dict(alpha=4.0, L=3, gamma0=3.0, steps=20, sigma=0.0, param=param, nu=nu)
    return np.array([final_dmft_loss({**setting, "eta": eta})[0] for eta in ETAS])


@pytest.fixture(scope="module")
def width_sweep() -> dict[str, list[np.ndarray]]:
    return {p: [_dmft_curve(p, nu) for nu in WIDTHS] for p in ("mup", "ntk")}


def test_dmft_reproduces_the_width_table(width_sweep):
    for param, expected in (("mup", MUP_ETA_STAR), ("ntk", NTK_ETA_STAR)):
        stars = [ETAS[int(argmin_index(c))] for c in width_sweep[param]]
        assert np.round(stars, 4).tolist() == list(expected), param
    losses = [float(np.nanmin(c)) for c in width_sweep["mup"]]
    assert np.round(losses, 4).tolist() == list(MUP_LOSS_STAR)


def test_dmft_mup_optimum_transfers_and_ntk_optimum_moves(width_sweep):
    mup = [argmin_index(c) for c in width_sweep["mup"]]
    ntk = [argmin_index(c) for c in width_sweep["ntk"]]
    assert shift_steps(mup) < 1
    assert shift_steps(ntk) >= 2
    assert np.all(np.diff(ntk) >= 0)  # moves right with width


def _saved(result, out) -> dict:
    paths = result.save(out)
    assert {"figure", "data", "metrics"} <= set(paths)
    for name in ("figure.png", "data.nc", "metrics.json"):
        assert (out / name).stat().st_size > 0
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture(scope="module")
def lr_figure(tmp_path_factory):
    return deep_lr.make(quick=True, workdir=tmp_path_factory.mktemp("deep-lr-work"))


@pytest.fixture(scope="module")
def residual_figure(tmp_path_factory):
    return deep_residual.make(quick=True, workdir=tmp_path_factory.mktemp("deep-res-work"))


def test_deep_lr_quick_figure(lr_figure, tmp_path):
    assert (lr_figure.status, lr_figure.message) == ("ok", "ok")
    document = _saved(lr_figure, tmp_path)
    assert document["status"] == "ok"
    m = lr_figure.metrics
    for source in ("theory", "simulation"):
        assert m[f"mup/{source}/shift_steps"] == 0, source
        assert m[f"ntk/{source}/shift_steps"] >= 2, source
        assert m[f"ntk/{source}/eta_star_nu=0.5"] < m[f"ntk/{source}/eta_star_nu=4"]
    assert m["points_ok"] > 0
    # 2 seeds per point at the quick size: the sweep says so rather than judge
    assert (
        lr_figure.verdict.value == "inconclusive" and "points inconclusive" in lr_figure.verdict.why
    )
    assert document["verdict"] == lr_figure.verdict.to_dict()


def test_deep_residual_quick_figure(residual_figure, tmp_path):
    assert (residual_figure.status, residual_figure.message) == ("ok", "ok")
    document = _saved(residual_figure, tmp_path)
    assert document["status"] == "ok"
    m = residual_figure.metrics
    # the claim, on the DMFT at nu = inf: the sqrt-depth argmin does not move
    assert m["sqrt_depth/theory_inf/shift_steps"] < 1
    for source in ("theory_inf", "theory", "simulation"):
        sqrt, constant = (m[f"{b}/{source}/shift_steps"] for b in ("sqrt_depth", "constant"))
        assert constant >= sqrt + 2, source  # the constant branch drifts, to smaller eta
        assert m[f"constant/{source}/eta_star_L=4"] < m[f"constant/{source}/eta_star_L=1"]
    assert residual_figure.verdict.value == "inconclusive"  # 2 seeds per point, quick
    assert residual_figure.verdict.why.startswith("L1: ")  # the worst sweep, named


def test_diverged_points_are_absent_not_values(residual_figure):
    ds = residual_figure.data["L4"]
    theory, sim = loss_curves(ds)
    diverged = np.asarray(ds["status"].values, dtype=object) == "diverged"
    assert diverged.any()  # the grid reaches past the edge of stability
    assert np.all(np.isnan(sim.values[diverged]) | np.isnan(theory.values[diverged]))
    assert math.isfinite(residual_figure.metrics["constant/simulation/eta_star_L=4"])
