"""The README's Python example and the docstring examples run as tests."""

import doctest
import os
import re
from pathlib import Path

import pytest

import lindyn._registry
import lindyn.data._gaussian
import lindyn.experiments._run
import lindyn.models._reduced
import lindyn.theory._checks
import lindyn.theory._dln_conventions
import lindyn.theory._dln_timescales
import lindyn.theory._fixed_point
import lindyn.theory._grids
import lindyn.train._flow
import lindyn.train._observe

ROOT = Path(__file__).resolve().parents[1]


def test_readme_example_runs(tmp_path):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert (tmp_path / "runs" / "saxe" / "figure.png").exists()


def test_readme_saddle_example_runs():
    text = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "pesme" in b)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["path"].times[0] == 0 and not scope["path"].betas[0].any()


@pytest.mark.parametrize(
    "module",
    [
        lindyn.train._flow,
        lindyn.train._observe,
        lindyn.experiments._run,
        lindyn.data._gaussian,
        lindyn.theory._grids,
        lindyn.theory._dln_conventions,
        lindyn.theory._checks,
        lindyn._registry,
        lindyn.theory._dln_timescales,
        lindyn.theory._fixed_point,
        lindyn.models._reduced,
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
