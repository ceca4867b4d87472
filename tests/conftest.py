"""Strict test settings: float64 on (importing lindyn enables it), warnings are errors (pyproject)."""

import os

# A worker per core: one BLAS thread each (lindyn._threads), set before NumPy loads.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.update(
        dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
    )

import jax
import numpy as np
import pytest
from distributed import Client, LocalCluster

import lindyn  # noqa: F401  (enables x64)

# One dtype-keyed tolerance table for "equal up to floating point" checks.
TOLERANCE = {np.dtype("float64"): 1e-10, np.dtype("float32"): 1e-4}


@pytest.fixture(autouse=True)
def _x64():
    assert jax.config.jax_enable_x64
    yield


def tol(x) -> float:
    """The tolerance of the dtype of ``x``."""
    return TOLERANCE[np.asarray(x).dtype]


@pytest.fixture(scope="module")
def process_client():
    """Worker processes, as a sweep makes by default (each with its own JAX runtime)."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c
