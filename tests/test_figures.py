"""Reproducible figures: registry, one figure end to end from the command line."""

import json
import subprocess
import sys

import numpy as np
import pytest

import lindyn
from lindyn.figures import figure_names, get_figure
from lindyn.figures.dln_alpha import fitted_rate
from lindyn.results import load_groups
from lindyn.theory import field_quantile


def test_every_issue_figure_is_registered():
    assert {
        "dln-curves",
        "dln-alpha",
        "dln-grokking",
        "dln-search",
        "dln-real",
        "mixed-phase",
        "saddle-depth",
        "pesme-limit",
        "deep-width",
        "deep-depth",
        "deep-lr",
        "deep-residual",
        "deep-data",
        "deep-sgd",
        "deep-powerlaw",
        "capacity-curves",
    } <= set(figure_names())


def test_figure_and_experiment_names_differ():
    """The report saves both under report/NAME: a shared name would overwrite one of them."""
    assert not set(figure_names()) & set(lindyn.names())


def test_unknown_figure_names_the_known_ones():
    with pytest.raises(
        ValueError, match=r"^figure: unknown 'x'; one of capacity-curves, deep-data, .*, dln-alpha"
    ):
        get_figure("x")


def test_fitted_rate_recovers_the_edge_law_not_a_plain_exponential():
    """The late law t^(-3/2) e^(-2 kappa t) gives kappa back; on a plain exponential (no edge
    prefactor) this fit reads about 3/(4t) slower, the plain fit's bias on the edge law the
    other way round."""
    t = np.linspace(1.0, 100.0, 200)
    edge = 3.0 * t**-1.5 * np.exp(-2 * 0.07 * t)
    assert fitted_rate(t, edge, 100.0) == pytest.approx(0.07, rel=1e-10)
    plain = fitted_rate(t, np.exp(-2 * 0.07 * t), 100.0)
    assert plain == pytest.approx(0.07 - 0.75 * np.polyfit(t[t >= 50], np.log(t[t >= 50]), 1)[0])


def test_field_quantile_of_the_search_fields():
    """P(|h0| > h_q) = 1 % for h0 = delta beta* + s Z, checked by Monte Carlo (1e6 draws)."""
    h = field_quantile(0.99, 0.5)
    rng = np.random.default_rng(0)
    n = 1_000_000
    beta = rng.standard_normal(n) * (rng.random(n) < 0.2)
    h0 = 0.5 * beta + np.sqrt(0.5 * 0.21) * rng.standard_normal(n)
    assert np.mean(np.abs(h0) > h) == pytest.approx(0.01, abs=4 * np.sqrt(0.01 / n))


def test_reproduce_writes_figure_data_and_metrics(tmp_path):
    """dln-alpha at quick sizes: end points of gradient flow against the static theory."""
    out = tmp_path / "alpha"
    cmd = [
        sys.executable,
        "-m",
        "lindyn.cli",
        "reproduce",
        "dln-alpha",
        "--quick",
        "--out",
        str(out),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert (out / "figure.png").stat().st_size > 10_000
    document = json.loads((out / "metrics.json").read_text())
    assert document["status"] == "ok"
    metrics = document["metrics"]
    for a in ("0.3", "1"):
        # finite d = 400 and 3 seeds (seed spread about 9 % and 7 %): end points and the late
        # rate fitted with the spectral edge's t^(-3/2) within 15 % of the static values
        sim, static = metrics[f"α={a}/test_error_sim"], metrics[f"α={a}/test_error_static"]
        assert abs(sim / static - 1) < 0.15
        assert abs(metrics[f"α={a}/kappa_sim"] / metrics[f"α={a}/kappa_theory"] - 1) < 0.15
    assert document["verdict"]["value"] == "agree", document["verdict"]
    groups = load_groups(out / "data.nc")
    assert np.all(np.diff(groups["theory"]["test_error"].values) > 0)


@pytest.mark.parametrize(
    ("quick", "value", "noted"),
    [(True, "inconclusive", True), (False, "inconclusive", False), (True, "agree", False)],
)
def test_a_quick_figure_too_small_to_judge_says_it_is_an_illustration(quick, value, noted):
    from matplotlib.figure import Figure

    from lindyn.experiments import Verdict
    from lindyn.figures._registry import FigureRecipe, FigureResult

    def make(*, quick, progress):
        return FigureResult("x", Figure(), {}, {}, "Claim.", verdict=Verdict(value, "2 seeds"))

    caption = FigureRecipe("x", "a figure", make)(quick=quick).caption
    assert caption.startswith("Claim.")
    assert ("an illustration, not a finding" in caption) is noted
    assert ("lindyn reproduce x" in caption) is noted and ("2 seeds" in caption) is noted
