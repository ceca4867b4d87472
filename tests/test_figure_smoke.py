"""The figures without their own physics tests, at sizes below their quick ones: each runs,
saves its three files, and its metrics, caption and verdict are well formed.

These check the figures' code, not their claims: the claims are the quick and full figures'
(``make demo``, ``lindyn reproduce``), and the physics under each figure has its own tests
(``test_dln_flow.py``, ``test_dln_timescales.py``, ``test_mixed.py``, ``test_pesme.py``).
"""

import json
import math

import pytest

from lindyn.experiments._verdict import VERDICTS
from lindyn.figures import dln_curves, dln_grokking, dln_real, dln_search, get_figure, mixed_phase
from lindyn.figures._dln import Sizes

TINY_DLN = Sizes(d=100, copies=200, seeds=3, dt=1.0)
TINY_MIXED = mixed_phase.Size(12, 2, 100, 3)


@pytest.mark.parametrize("module", [dln_curves, dln_grokking, dln_search, dln_real, mixed_phase])
def test_figure_runs_saves_and_judges_itself(module, monkeypatch, tmp_path):
    if module is mixed_phase:
        monkeypatch.setattr(module, "_size", lambda quick: TINY_MIXED)
    else:
        monkeypatch.setattr(module, "sizes", lambda quick: TINY_DLN)
    if module is dln_curves:  # two of its five alphas: the code path is the same
        monkeypatch.setattr(module, "ALPHAS", (0.3, 1.0))
    result = get_figure(module.NAME)(quick=True)
    assert (result.status, result.message) == ("ok", "ok")
    result.save(tmp_path)
    assert (tmp_path / "figure.png").stat().st_size > 10_000
    assert (tmp_path / "data.nc").exists()
    document = json.loads((tmp_path / "metrics.json").read_text())
    assert document["figure"] == module.NAME and document["status"] == "ok"
    assert result.metrics and all(isinstance(v, float) for v in result.metrics.values())
    assert any(math.isfinite(v) for v in result.metrics.values())
    assert result.caption and "nan" not in result.caption.lower()
    assert result.verdict.value in VERDICTS and result.verdict.why
