"""The README's Python example and the docstring examples run as tests."""

import doctest
import importlib
import inspect
import os
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import lindyn
import lindyn._registry
import lindyn._threads
import lindyn.data._gaussian
import lindyn.experiments._run
import lindyn.experiments.capacity
import lindyn.figures._deep_sweep
import lindyn.models._gaussian
import lindyn.models._reduced
import lindyn.report._build
import lindyn.theory._activations
import lindyn.theory._capacity
import lindyn.theory._capacity_finite
import lindyn.theory._checks
import lindyn.theory._deep_powerlaw
import lindyn.theory._dln_conventions
import lindyn.theory._dln_timescales
import lindyn.theory._fixed_point
import lindyn.theory._grids
import lindyn.theory._stability
import lindyn.theory.capacity
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
    path, X, y = scope["path"], scope["X"], scope["y"]
    assert path.times[0] == 0 and np.all(np.diff(path.times) > 0)
    np.testing.assert_allclose(X @ path.betas[-1], y, atol=1e-10)  # n < d: an interpolator
    assert np.all(np.diff(path.losses) < 0)


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
        lindyn.theory._deep_powerlaw,
        lindyn.theory._activations,
        lindyn.theory._capacity,
        lindyn.theory._capacity_finite,
        lindyn.figures._deep_sweep,
        lindyn.experiments.capacity,
        lindyn.models._gaussian,
        lindyn.theory.capacity,
        lindyn._stats,
        lindyn.experiments._verdict,
        lindyn.theory._dln_dmft,
        lindyn.report._build,
        lindyn.theory._stability,
        lindyn._threads,
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_no_docstring_holds_a_control_character():
    """A backslash in a non-raw docstring (``"\\frac"``, ``"\\alpha"``) silently becomes a form
    feed or a bell: every docstring with LaTeX must be a raw string."""
    bad = []
    for info in pkgutil.walk_packages(lindyn.__path__, "lindyn."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        owned = [
            obj
            for _, obj in inspect.getmembers(
                module, lambda o: inspect.isfunction(o) or inspect.isclass(o)
            )
            if getattr(obj, "__module__", "") == module.__name__
        ]
        methods = [
            f
            for c in owned
            if inspect.isclass(c)
            for _, f in inspect.getmembers(c, inspect.isfunction)
        ]
        for obj in [module, *owned, *methods]:
            if any(c in (obj.__doc__ or "") for c in "\a\b\f\v\t\r\x00"):
                bad.append(f"{info.name}:{getattr(obj, '__qualname__', '')}")
    assert not bad
