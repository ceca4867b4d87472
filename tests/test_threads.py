"""One BLAS thread per process where processes share the cores (lindyn._threads)."""

import os
import subprocess
import sys

import pytest

from lindyn._threads import BLAS_THREADS, one_thread_children


@pytest.mark.skipif(
    int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) < 2, reason="one test process"
)
def test_test_workers_run_one_blas_thread():
    """conftest.py sets the library's variables in each of several workers."""
    assert all(os.environ.get(key) == "1" for key in BLAS_THREADS)


def test_children_inherit_one_thread_and_the_parent_is_restored(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with one_thread_children():
        code = "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.split() == ["1", "1"]
    assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ
