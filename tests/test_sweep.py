"""Sweeps: grid parsing, the zarr store, resume, refusal, interruption, the CLI, every experiment.

Most tests share one in-process dask cluster (threads: no fresh JAX import per worker) and
sweep the quick ``linreg``; the CLI and killed-worker tests use the sweep's own process-based
``LocalCluster``, and the contract over every experiment a shared one (in a thread of an
in-process cluster, ``mixed`` ran 3x slower than alone or did not finish).
"""

import doctest
import json
import os
import shutil
import subprocess
import sys
import warnings

import dask
import numpy as np
import pytest
import xarray as xr
import zarr
from distributed import Client

import lindyn
from lindyn.cli._app import main
from lindyn.experiments import VERDICTS
from lindyn.sweep import (
    STORE_NAME,
    StoreMismatchError,
    SweepInterrupted,
    SweepStore,
    _grid,
    _store,
    _summary,
    make_grid,
    parse_grid,
    sweep_verdict,
)
from lindyn.sweep import _sweep as sweep_module
from lindyn.sweep import _task as task_module
from lindyn.sweep._store import store_attrs

# Gradient descent: the quick linreg run in about a second (the adaptive flow compiles longer).
GRID = {"sigma": [0.0, 0.5], "n": [100, 200]}
FIXED = {"method": "gd"}
SEEDS = 2
LINREG = lindyn.get("linreg")


@pytest.fixture(scope="module")
def client():
    with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as c:
        yield c


def _sweep(out, client, **changes):
    kwargs = {
        "fixed": FIXED,
        "seeds": SEEDS,
        "quick": True,
        "client": client,
        "out": out,
        "progress": False,
        **changes,
    }
    grid = kwargs.pop("grid", GRID)
    return lindyn.sweep(kwargs.pop("experiment", "linreg"), grid, **kwargs)


@pytest.fixture(scope="module")
def swept(client, tmp_path_factory):
    """A finished 2x2 sweep: its folder and the returned dataset."""
    out = tmp_path_factory.mktemp("swept")
    return out, _sweep(out, client)


@pytest.fixture
def copied(swept, tmp_path):
    """A private copy of the finished sweep's folder."""
    return shutil.copytree(swept[0], tmp_path / "copy")


def _set_status(out, index, status):
    zarr.open_group(out / STORE_NAME, mode="r+")["status"][index] = status


def _metrics(ds):
    return ds.drop_vars(["status", "error"]).drop_attrs()


def _files(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- grids ---------------------------------------------------------------------------------


def test_grid_parsing_lists_ranges_and_types():
    axes = parse_grid(
        ["n=100,1e3", "sigma=0:1:5", "method=gd,flow", "d=10:30:3", "eta=0.1"], LINREG.Config
    )
    assert axes == {
        "n": [100, 1000],
        "sigma": [0.0, 0.25, 0.5, 0.75, 1.0],
        "method": ["gd", "flow"],
        "d": [10, 20, 30],
        "eta": [0.1],
    }
    assert [type(v) for v in (axes["n"][0], axes["sigma"][1], axes["d"][0])] == [int, float, int]
    np.testing.assert_array_equal(
        parse_grid(["sigma=0.1:0.9:7"], LINREG.Config)["sigma"], np.linspace(0.1, 0.9, 7)
    )


def test_make_grid_coerces_and_validates_every_point():
    grid = make_grid(
        "linreg",
        {"sigma": np.array([0, 1]), "n": [100.0, 200]},
        fixed={"d": np.int64(40)},
        quick=True,
    )
    assert grid.axes == {"sigma": (0.0, 1.0), "n": (100, 200)} and grid.fixed == {"d": 40}
    assert [(c.sigma, c.n) for c in grid.configs] == [
        (0.0, 100),
        (0.0, 200),
        (1.0, 100),
        (1.0, 200),
    ]
    assert all(c.d == 40 and c.num_times == LINREG.quick["num_times"] for c in grid.configs)
    bad = [
        ({"n": []}, "n: no values"),
        ({"n": "100"}, "n: grid values must be a sequence"),
        ({"n": [2.5]}, "n: must be of type int"),
        ({"n": [100, 100.0]}, "n: value 100 given twice"),
        ({}, "grid: no axes"),
        ({"status": [1]}, "status: unknown key"),
    ]
    for axes, message in bad:
        with pytest.raises(lindyn.ConfigError, match=message):
            make_grid("linreg", axes, quick=True)
    with pytest.raises(lindyn.ConfigError, match=r"eta: must be < .* \(at grid point eta=5.0\)"):
        make_grid("linreg", {"eta": [0.1, 5.0]}, fixed={"method": "gd"}, quick=True)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--grid", "n="], "n: no values"),
        (["--grid", "n=1,,2"], "n: empty value"),
        (["--grid", "sigma=a:b:3"], "sigma: start:stop:num must be numbers"),
        (["--grid", "sigma=0:1:0"], "sigma: num in start:stop:num must be an integer >= 1"),
        (["--grid", "sigma=0:1:2.5"], "sigma: num"),
        (["--grid", "sigma=0:1"], "sigma: expected one range"),
        (["--grid", "n=10:15:3"], "n: '10:15:3' gives non-integer values"),
        (["--grid", "n=100,100"], "n: value 100 given twice"),
        (["--grid", "n=100,1e2"], "n: value 100 given twice"),
        (["--grid", "sigma=0:0:2"], "sigma: value 0.0 given twice"),
        (["--grid", "nope=1,2"], "nope: unknown key"),
        (["--grid", "n=1,2", "--grid", "n=3"], "n: given twice in --grid"),
        (["--grid", "n=100,200", "--set", "n=50"], "n: given both"),
        (["--grid", "n=100,0"], "n: must be in [1, 100000], got 0 (at grid point n=0)"),
        (["--grid", "n=2.5"], "n: must be of type int"),
        (["--grid", "method=gd,rk4"], "method: must be one of flow, gd"),
        (["--grid", "eta=0.1,5", "--set", "method=gd"], "(at grid point eta=5.0)"),
        (["--grid", "sigma"], "--grid: expected key=v1,v2,..."),
        ([], "--grid: give at least one axis"),
        (["--grid", "n=100", "--seeds", "0"], "seeds"),
        (["--grid", "n=100", "--workers", "0"], "workers"),
        (["--grid", "n=100", "--workers", "1", "--scheduler", "tcp://1.2.3.4:1"], "workers"),
        (["--grid", "n=100", "--set", "sigma"], "--set"),
    ],
)
def test_bad_sweep_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, field):
    out = tmp_path / "out"
    assert main(["sweep", "linreg", "--quick", *args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lindyn: error: "), captured.err
    assert field in lines[0], lines[0]
    assert captured.out == ""
    assert not out.exists()


def test_unknown_experiment_and_missing_out_exit_2(tmp_path, capsys):
    assert main(["sweep", "nonexistent", "--grid", "n=1", "--out", str(tmp_path / "o")]) == 2
    assert main(["sweep", "linreg", "--grid", "n=1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "experiment: unknown 'nonexistent'" in err[0] and "--out" in err[1]


# --- the store -----------------------------------------------------------------------------


def test_store_round_trips_strings_and_commits_status_last(tmp_path):
    grid = make_grid("linreg", {"method": ["flow", "gd"], "n": [100, 200, 300]}, quick=True)
    path = tmp_path / STORE_NAME
    store = SweepStore.open(path, grid, store_attrs(grid, 2, True))
    message = "RuntimeError: crème brûlée ✓\nsecond line"
    store.write_point((0, 2), {"gap": 0.25}, "failed", message)
    store.write_point((1, 0), {"gap": 1.5, "other": -1.0}, "diverged", "simulation: diverged")

    class Crash:  # the status write never happens: a crash after the values
        def __setitem__(self, index, value):
            raise KeyboardInterrupt

    store._arrays["status"] = Crash()
    with pytest.raises(KeyboardInterrupt):
        store.write_point((1, 1), {"gap": 7.0}, "ok", "")

    ds = xr.open_zarr(path, consolidated=False).load()  # warnings are errors here
    assert ds.status.dims == ("method", "n") and ds.method.values.tolist() == ["flow", "gd"]
    assert ds.status.values.tolist() == [
        ["pending", "pending", "failed"],
        ["diverged", "pending", "pending"],
    ]
    assert ds.error.values[0, 2] == message and ds.error.values[1, 1] == ""
    np.testing.assert_array_equal(ds.gap.values, [[np.nan, np.nan, 0.25], [1.5, 7.0, np.nan]])
    np.testing.assert_array_equal(ds.other.values, [[np.nan] * 3, [-1.0, np.nan, np.nan]])
    group = zarr.open_group(path, mode="r")
    assert all(group[v].chunks == (1, 1) for v in ("status", "error", "gap", "other"))
    assert json.loads(ds.attrs["grid"]) == {"method": ["flow", "gd"], "n": [100, 200, 300]}
    reopened = SweepStore.open(path, grid, store_attrs(grid, 2, True))
    assert reopened.count() == (1, 1) and set(reopened.metrics) == {"gap", "other"}
    for name in ("n", "status"):
        with pytest.raises(ValueError, match=f"metric '{name}': clashes"):
            reopened.write_point((0, 0), {"gap": 1.0, name: 1.0}, "ok", "")
    assert reopened.statuses()[0, 0] == "pending" and np.isnan(reopened.load().gap[0, 0])
    assert not [p for p in tmp_path.iterdir() if p.name != STORE_NAME]  # no temporary left


def test_killed_worker_is_a_failed_point(tmp_path, monkeypatch):
    """A task that kills its worker process (own LocalCluster, no retry) is recorded failed."""
    monkeypatch.setattr(sweep_module, "run_point", lambda *args: os._exit(1))
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Port 8787 is already in use")  # another cluster's
        ds = _sweep(tmp_path, None, workers=1, grid={"n": [100]})
    assert ds.status.values.tolist() == ["failed"]
    assert ds.error.values[0].startswith("KilledWorker: ")


@pytest.mark.parametrize("module", [_grid, _store, _summary])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- sweeps --------------------------------------------------------------------------------


def test_sweep_equals_direct_runs(swept):
    out, ds = swept
    assert ds.status.dims == ("sigma", "n")
    assert ds.sigma.values.tolist() == GRID["sigma"] and ds.n.values.tolist() == GRID["n"]
    assert (ds.status == "ok").all() and (ds.error == "").all()
    assert ds.attrs["points_computed"] == 4
    names = set(ds.data_vars) - {"status", "error"}
    for sigma in GRID["sigma"]:
        for n in GRID["n"]:
            config = LINREG.config(quick=True, **FIXED, sigma=sigma, n=n)
            run = lindyn.run(LINREG, config, seeds=SEEDS, family=ds.status.size)
            direct = run.metrics | {"verdict": float(VERDICTS.index(run.verdict.value))}
            assert names == set(direct)
            stored = {k: ds[k].sel(sigma=sigma, n=n).item() for k in direct}
            assert stored == direct  # exactly: the runs are deterministic
    assert sweep_verdict(ds).value == "inconclusive"  # 2 seeds per point
    attrs = ds.attrs
    assert (attrs["experiment"], attrs["seeds"], attrs["quick"]) == ("linreg", SEEDS, True)
    assert json.loads(attrs["grid"]) == GRID and json.loads(attrs["fixed"]) == FIXED
    assert json.loads(attrs["config"]) == LINREG.config(quick=True).to_dict()
    assert attrs["version_lindyn"] == lindyn.__version__
    on_disk = xr.open_zarr(out / STORE_NAME, consolidated=False).load()
    returned = ds.copy()
    del returned.attrs["points_computed"]  # about the call, not stored
    xr.testing.assert_identical(on_disk, returned)


def test_resume_runs_only_the_pending_point(copied, swept, client, monkeypatch):
    _set_status(copied, (1, 0), "pending")
    submitted = []
    submit = client.submit
    monkeypatch.setattr(
        client, "submit", lambda f, *a, **k: submitted.append(a[1]) or submit(f, *a, **k)
    )
    ds = _sweep(copied, client)
    assert len(submitted) == 1 and ds.attrs["points_computed"] == 1
    assert (submitted[0]["sigma"], submitted[0]["n"]) == (0.5, 100)
    assert (ds.status == "ok").all()
    xr.testing.assert_identical(_metrics(ds), _metrics(swept[1]))
    assert _sweep(copied, client).attrs["points_computed"] == 0  # nothing left: no task


def test_failed_point_records_its_error_and_is_retried(copied, swept, client, monkeypatch):
    real_run = task_module.run

    def run(exp, config, **kwargs):
        if config.n == 200 and config.sigma == 0.5:
            raise RuntimeError("no memory left for n=200")
        return real_run(exp, config, **kwargs)

    _set_status(copied, (1, 1), "pending")
    monkeypatch.setattr(task_module, "run", run)
    ds = _sweep(copied, client)
    assert ds.status.values.tolist() == [["ok", "ok"], ["ok", "failed"]]
    assert ds.error.values[1, 1] == "RuntimeError: no memory left for n=200"
    assert np.isnan(ds.rel_l2_test_error.values[1, 1])  # the earlier attempt's values are gone
    monkeypatch.undo()
    again = _sweep(copied, client)
    assert again.attrs["points_computed"] == 1 and (again.status == "ok").all()
    xr.testing.assert_identical(_metrics(again), _metrics(swept[1]))


@pytest.mark.parametrize(
    ("changes", "difference"),
    [
        ({"grid": {"sigma": [0.0, 0.5], "n": [100, 300]}}, "grid n is [100, 200] in the store"),
        ({"grid": {"n": [100, 200], "sigma": [0.0, 0.5]}}, "grid keys are ['sigma', 'n']"),
        ({"fixed": {"method": "gd", "d": 40}}, "fixed keys are ['method'] in the store"),
        ({"seeds": 3}, "seeds is 2 in the store, 3 here"),
        ({"quick": False}, "quick is True in the store, False here"),
        ({"experiment": "dln", "grid": {"d": [400]}, "fixed": {}}, "experiment is 'linreg'"),
    ],
)
def test_a_different_sweep_is_refused_and_the_store_unchanged(copied, client, changes, difference):
    before = _files(copied)
    with pytest.raises(StoreMismatchError, match="holds a different sweep") as info:
        _sweep(copied, client, **changes)
    assert difference in str(info.value) and "\n" not in str(info.value)
    assert _files(copied) == before


def test_a_folder_that_is_not_a_sweep_store_is_refused(tmp_path, client):
    (tmp_path / STORE_NAME).mkdir()
    (tmp_path / STORE_NAME / "notes.txt").write_text("mine")
    with pytest.raises(StoreMismatchError, match="not a lindyn sweep store"):
        _sweep(tmp_path, client)
    assert [p.name for p in (tmp_path / STORE_NAME).iterdir()] == ["notes.txt"]


def test_cli_refuses_a_different_grid(copied, capsys):
    before = _files(copied)
    args = ["sweep", "linreg", "--quick", "--grid", "sigma=0,0.5", "--grid", "n=100,300"]
    assert main([*args, "--set", "method=gd", "--seeds", "2", "--out", str(copied)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "grid n is [100, 200] in the store, [100, 300] here" in err[0]
    assert _files(copied) == before


def test_interrupt_keeps_finished_points_and_the_rerun_completes(tmp_path, swept, client):
    def progress(text, done, total):
        if done >= 1:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted, match="1 of 4 points done") as info:
        _sweep(tmp_path, client, progress=progress)
    assert (info.value.done, info.value.total) == (1, 4)
    ds = xr.open_zarr(tmp_path / STORE_NAME, consolidated=False).load()
    assert sorted(ds.status.values.ravel().tolist()) == ["ok"] + ["pending"] * 3
    assert int(ds.rel_l2_test_error.notnull().sum()) == 1
    again = _sweep(tmp_path, client)
    assert again.attrs["points_computed"] == 3 and (again.status == "ok").all()
    xr.testing.assert_identical(_metrics(again), _metrics(swept[1]))


def test_cli_sweep_end_to_end(tmp_path, swept, capsys):
    """Default cluster (worker processes), then the identical command: nothing left to do."""
    args = ["sweep", "linreg", "--quick", "--seeds", "2", "--grid", "n=100,200"]
    args += ["--set", "method=gd", "--set", "sigma=0.5", "--workers", "1", "--out", str(tmp_path)]
    command = [sys.executable, "-m", "lindyn.cli", *args]
    first = subprocess.run(command, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    path = (tmp_path / STORE_NAME).resolve()
    assert first.stdout.splitlines() == [str(path), "2 points: 2 ok; 2 computed by this run"]
    ds = xr.open_zarr(path, consolidated=False).load()
    expected = _metrics(swept[1]).sel(sigma=0.5, drop=True)  # same configs, in this process
    xr.testing.assert_identical(_metrics(ds), expected)
    assert main(args) == 0  # in this process; no cluster is started for zero tasks
    assert capsys.readouterr().out.splitlines()[1] == "2 points: 2 ok; 0 computed by this run"


def test_cli_on_a_scheduler_reports_failures_and_exits_1(tmp_path, client, monkeypatch, capsys):
    def run(*args, **kwargs):
        raise RuntimeError("no luck [here]")

    monkeypatch.setattr(task_module, "run", run)
    address = client.scheduler.address  # an existing scheduler (in this process)
    args = ["sweep", "linreg", "--quick", "--grid", "n=100,200", "--scheduler", address]
    assert main([*args, "--out", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[1] == "2 points: 2 failed; 2 computed by this run"
    assert "failed at n=100: RuntimeError: no luck [here]" in err.splitlines()


@pytest.mark.slow
@pytest.mark.parametrize("name", lindyn.names())
def test_every_experiment_sweeps(name, process_client, tmp_path):
    """The contract: a one-point sweep of the quick config over its first number is ok."""
    config = lindyn.get(name).config(quick=True)
    key = next(k for k in config.field_names() if isinstance(getattr(config, k), int | float))
    grid = {key: [getattr(config, key)]}
    ds = lindyn.sweep(name, grid, seeds=2, quick=True, client=process_client, out=tmp_path)
    assert ds.status.values.tolist() == ["ok"], ds.error.values
    metrics = [v for v in ds.data_vars if v not in ("status", "error")]
    assert metrics and all(np.isfinite(ds[v].item()) for v in metrics)
