"""Phase diagrams of sweeps: `lindyn plot phase-diagram`, the mixed panels, bad input."""

import numpy as np
import pytest
import xarray as xr

import lindyn
from lindyn.cli._app import main
from lindyn.experiments import phase_figure
from lindyn.theory import active_optimum

# a corner of each region of Figure 2 at d = 24: active with small init, lazy with small init
GRID = {"gamma_sigma2": [-2.5, -1.2], "gamma_w": [1.5, 2.8]}
FIXED = {"d": 24, "K": 2, "c": 50.0, "steps": 500}


@pytest.fixture(scope="module")
def mixed_sweep(process_client, tmp_path_factory):
    out = tmp_path_factory.mktemp("mixed")
    ds = lindyn.sweep(
        "mixed", GRID, fixed=FIXED, seeds=1, client=process_client, out=out, progress=False
    )
    return out, ds


def test_mixed_summaries_separate_the_regions(mixed_sweep):
    """Active with small init (-2.5, 1.5): the rank-K truncation, stable rank near K; lazy
    (-1.2, 2.8): fits signal and noise alike, error >= 1/2 and rank above K (§3.2-3.3)."""
    _, ds = mixed_sweep
    assert (ds["status"] == "ok").all()
    active = ds.sel(gamma_sigma2=-2.5, gamma_w=1.5)
    lazy = ds.sel(gamma_sigma2=-1.2, gamma_w=2.8)
    assert float(active["min_test_error"]) < 1.6 * active_optimum(2, 24)
    assert float(lazy["min_test_error"]) > 0.5
    assert float(active["stable_rank_at_min"]) < float(lazy["stable_rank_at_min"])
    assert float(lazy["iterations_to_min"]) < float(active["iterations_to_min"])


def test_plot_phase_diagram_command(mixed_sweep, tmp_path, capsys):
    out, _ = mixed_sweep
    image = tmp_path / "phase.png"
    assert main(["plot", "phase-diagram", str(out), "--out", str(image)]) == 0
    assert image.stat().st_size > 20_000
    assert str(image) in capsys.readouterr().out


def test_mixed_phase_figure_has_the_four_panels_and_three_lines(mixed_sweep):
    _, ds = mixed_sweep
    fig = phase_figure(ds)
    maps = [ax for ax in fig.axes if ax.get_title()]
    assert len(maps) == 4
    assert all(len(ax.get_lines()) >= 3 for ax in maps)
    assert "d=24" in fig._suptitle.get_text()


def test_plot_refuses_a_missing_store_and_a_one_dimensional_sweep(process_client, tmp_path, capsys):
    assert main(["plot", "phase-diagram", str(tmp_path / "none")]) == 2
    assert "no sweep store" in capsys.readouterr().err
    out = tmp_path / "line"
    lindyn.sweep(
        "linreg",
        {"sigma": [0.0, 0.5]},
        quick=True,
        seeds=2,
        client=process_client,
        out=out,
        progress=False,
    )
    assert main(["plot", "phase-diagram", str(out)]) == 2
    err = capsys.readouterr().err
    assert "lindyn: error:" in err and "2 keys" in err and err.count("\n") == 1


def test_generic_maps_for_experiments_without_their_own():
    """An experiment without its own drawing gets one map per summary; linreg's metrics are all
    curve gaps, so its maps are the relative gaps to the theory (a synthetic store)."""
    coords = {"sigma": [0.0, 0.3, 0.6], "init_scale": [0.2, 0.5, 1.0]}
    values = np.arange(9.0).reshape(3, 3)
    ds = xr.Dataset(
        {
            name: (("sigma", "init_scale"), values + i)
            for i, name in enumerate(
                [
                    "rel_l2_train_loss",
                    "max_abs_train_loss",
                    "seed_std_test_error",
                    "rel_l2_test_error",
                ]
            )
        }
        | {"status": (("sigma", "init_scale"), np.full((3, 3), "ok", dtype=object))},
        coords=coords,
        attrs={"experiment": "linreg"},
    )
    fig = phase_figure(ds)
    titles = {ax.get_title() for ax in fig.axes if ax.get_title()}
    assert titles == {"rel_l2_train_loss", "rel_l2_test_error"}
    ds["gap_free"] = ds["rel_l2_test_error"] * 0 + 1.0
    titles = {ax.get_title() for ax in phase_figure(ds).axes if ax.get_title()}
    assert titles == {"gap_free"}
