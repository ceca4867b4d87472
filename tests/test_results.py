import numpy as np
import pytest
import xarray as xr

from lindyn import results


def _dataset(kind="simulation"):
    rng = np.random.default_rng(0)
    lead = (3, 5) if kind == "simulation" else (5,)
    return results.trajectory(
        {"loss": rng.random(lead), "sv": rng.random((*lead, 2))},
        np.linspace(0, 1, 5),
        experiment="toy",
        kind=kind,
        config={"alpha": 0.1, "name": "x"},
        extra_dims={"sv": ("mode",)},
        coords={"mode": np.arange(2)},
        attrs={"status": "ok"},
    )


def test_netcdf_round_trip_is_exact(tmp_path):
    ds = _dataset()
    results.save(ds, tmp_path / "r.nc")
    back = results.load(tmp_path / "r.nc")
    xr.testing.assert_identical(back, ds)
    assert results.config_of(back) == {"alpha": 0.1, "name": "x"}
    assert back.attrs["version_jax"] and back.sv.dims == ("seed", "time", "mode")


def test_groups_round_trip_is_exact(tmp_path):
    groups = {"simulation": _dataset(), "theory": _dataset("theory")}
    results.save_groups(groups, tmp_path / "g.nc")
    back = results.load_groups(tmp_path / "g.nc")
    for name, ds in groups.items():
        xr.testing.assert_identical(back[name], ds)


def test_failed_save_leaves_nothing(tmp_path):
    bad = _dataset()
    bad.attrs["unstorable"] = {"a": 1}  # dicts are not valid netCDF attributes
    with pytest.raises((TypeError, ValueError)):
        results.save(bad, tmp_path / "bad.nc")
    assert list(tmp_path.iterdir()) == []


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="does not match dims"):
        results.trajectory(
            {"x": np.zeros((2, 3))}, np.zeros(3), experiment="t", kind="theory", config={}
        )
