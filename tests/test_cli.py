"""The command line as a user types it (subprocesses), including bad input."""

import json
import subprocess
import sys

import pytest

import lindyn
from lindyn.cli._app import main
from lindyn.experiments._verdict import VERDICTS
from lindyn.figures import figure_names


def _lindyn(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "lindyn.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_list():
    res = _lindyn("list")
    assert res.returncode == 0
    names = [*lindyn.names(), *figure_names()]
    assert [line.split()[0] for line in res.stdout.splitlines()] == names


def test_run_json_schema(tmp_path):
    res = _lindyn("run", "saxe", "--json", "--quick", "--seeds", "2", "--out", str(tmp_path / "o"))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)  # exactly one JSON object on stdout
    assert set(doc) >= {"experiment", "config", "status", "metrics", "theory", "simulation"}
    assert doc["experiment"] == "saxe" and doc["status"] == "ok"
    assert set(doc["verdict"]) == {"value", "why"} and doc["verdict"]["value"] in VERDICTS
    assert doc["config"]["num_times"] == 80
    n = len(doc["theory"]["time"])
    assert n == len(doc["simulation"]["time"]) == 80
    for obs in ("singular_values", "train_loss"):
        assert len(doc["theory"][obs]) == n
        assert set(doc["simulation"][obs]) == {"mean", "std"}
        assert len(doc["simulation"][obs]["mean"]) == n
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "result.nc",
        "figure.png",
        "metrics.json",
    }


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["run", "saxe", "--set", "a0=-1"], "a0"),
        (["run", "saxe", "--set", "nope=1"], "nope"),
        (["run", "saxe", "--set", "width=2.5"], "width"),
        (["run", "saxe", "--set", "method=rk4"], "method"),
        (["run", "saxe", "--set", "a0"], "--set"),
        (["run", "linreg", "--set", "method=gd", "--set", "eta=5"], "eta"),
        (["run", "saxe", "--seeds", "0"], "seeds"),
        (["run", "nonexistent"], "experiment"),
        (["run", "saxe", "--set", "t_max=inf"], "t_max"),
        (["run", "saxe", "--set", "rank=2", "--set", "rank=3"], "rank"),
        (["run", "linreg", "--set", "data_seed=99999999999"], "data_seed"),
        (["report", "--seeds", "-1"], "seeds"),
        (["show", "nonexistent"], "experiment"),
        (["run", "dln", "--set", "alpha=0"], "alpha"),
        (["run", "dln", "--set", "delta=-1"], "delta"),
        (["run", "dln", "--set", "rho=1.5"], "rho"),
        (["run", "dln", "--set", "dt=2"], "dt"),
        (["run", "dln", "--set", "design=mnist"], "design"),
        (["run", "dln", "--set", "method=flow", "--set", "dt=3"], "dt"),
        (["run", "dln", "--set", "method=flow", "--set", "t_max=100"], "copies"),
        (["reproduce", "dln-nope"], "figure"),
        (["report", "--only", "saxe,nope"], "only"),
        (["report", "--jobs", "0"], "jobs"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path, monkeypatch, capsys, args, field
):
    """In process, through the function behind the script (``lindyn.cli.main`` is
    ``sys.exit(main())``; ``test_script_exit_code_on_bad_input`` runs the script itself)."""
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_script_exit_code_on_bad_input(tmp_path):
    res = _lindyn("run", "dln", "--set", "alpha=0", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [res.stderr.strip()] and "alpha" in res.stderr
    assert res.stdout == "" and list(tmp_path.iterdir()) == []


def test_out_must_be_a_folder(tmp_path):
    (tmp_path / "taken").write_text("x")
    res = _lindyn("run", "saxe", "--quick", "--out", str(tmp_path / "taken"))
    assert res.returncode == 2 and "--out" in res.stderr and res.stdout == ""
    assert (tmp_path / "taken").read_text() == "x"


def test_show_lists_keys_with_ranges():
    res = _lindyn("show", "saxe")
    assert res.returncode == 0
    for key in lindyn.get("saxe").Config.field_names():
        assert key in res.stdout
    assert "(0, inf)" in res.stdout


def test_integer_keys_accept_exponent_notation(tmp_path):
    res = _lindyn(
        "run",
        "linreg",
        "--quick",
        "--json",
        "--seeds",
        "2",
        "--set",
        "n=1e2",
        "--out",
        str(tmp_path),
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["config"]["n"] == 100


def test_report_quick_on_chosen_sections(tmp_path):
    """The report's page, files, status and verdict blocks, on two experiments and a figure
    in two worker processes, as ``make demo`` builds every section (each experiment and
    figure has its own tests); the page lists them in the order asked."""
    chosen = ["linreg", "saxe", "pesme-limit"]
    args = ("report", "--quick", "--seeds", "3", "--jobs", "2", "--only", ",".join(chosen))
    res = _lindyn(*args, "--out", str(tmp_path / "rep"))
    assert res.returncode == 0, res.stderr
    index = tmp_path / "rep" / "index.html"
    assert res.stdout.strip() == str(index.resolve())
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == sorted([*chosen, "index.html"])
    page = index.read_text()
    for name in chosen:
        assert f'src="{name}/figure.png"' in page
        assert (tmp_path / "rep" / name / "figure.png").exists()
    summary = json.loads(page.split('id="summary">')[1].split("</script>")[0])
    assert summary == {name: "ok" for name in chosen}
    verdicts = json.loads(page.split('id="verdicts">')[1].split("</script>")[0])
    assert set(verdicts) == set(chosen)
    for name in chosen:
        assert verdicts[name]["value"] in VERDICTS and verdicts[name]["why"]
    assert verdicts["linreg"]["value"] == "agree"  # exact theory, 3 seeds
    assert verdicts["pesme-limit"]["value"] == "agree"  # the flow nears the limit at its rate
    assert list(summary) == chosen  # all agree or are inconclusive: no reordering
    seconds = json.loads(page.split('id="seconds">')[1].split("</script>")[0])
    assert set(seconds) == set(chosen) and all(s > 0 for s in seconds.values())


def test_capacity_table_json():
    """Every built-in activation; closed forms where they exist (spec capacity §3.1)."""
    res = _lindyn("capacity-table", "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["activation"]: r for r in json.loads(res.stdout)}
    assert set(rows) == {"relu", "erf", "tanh", "quadratic", "sigmoid", "gelu", "silu", "softplus"}
    for r in rows.values():
        assert set(r) <= {"activation", "alpha_c", "transition", "kind", "spinodal"}
        assert r["kind"] in ("continuous", "discontinuous")
        assert ("spinodal" in r) == (r["kind"] == "discontinuous")
        assert 0 < r.get("spinodal", 1e-9) < r["transition"] < r["alpha_c"]
    assert rows["relu"]["alpha_c"] == pytest.approx(2 * 3.141592653589793 / (3.141592653589793 - 2))
    assert rows["quadratic"]["transition"] == pytest.approx(3.141592653589793 / 4)
    assert rows["erf"]["kind"] == rows["tanh"]["kind"] == "discontinuous"
    assert rows["gelu"]["kind"] == "continuous"
