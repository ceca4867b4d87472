"""The README's example of the deep linear network experiment runs (pattern of ``test_docs``)."""

import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def test_readme_deep_example_runs(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    block = next(
        b for b in re.findall(r"```python\n(.*?)```", text, re.S) if 'lindyn.run("deep"' in b
    )
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    result = scope["result"]
    assert result.status == "ok" and result.theory.attrs["status"] == "ok"
    assert result.config.D <= 128 and result.config.steps <= 10  # a quick example
    np.testing.assert_allclose(float(result.theory.test_loss[0]), 1.0, rtol=1e-12)  # ½(1 + 0 + 1)
    final = result.metrics["final_test_loss"]
    assert abs(final - result.metrics["theory_final_test_loss"]) < 0.25 * final
