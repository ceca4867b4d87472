"""One BLAS thread per process, for work split over several processes.

The OpenBLAS under NumPy and SciPy starts a thread per core in every process, and its idle
threads spin. When a report, a sweep or the test suite already runs one process per core, the
spinning threads take the cores from the work: measured on 2 cores with two test workers,
the same 49 tests took 452 s (829 s of CPU) with the default threads and 287 s (519 s of CPU)
with one BLAS thread per process. (XLA's ``--xla_cpu_multi_thread_eigen=false`` does not change
JAX's CPU threads: a 1500² matrix product used twice its wall time in CPU with or without it,
so it is not set.) A single process keeps all of its threads. A local dask cluster's workers
get the same variables from dask itself (``distributed.nanny.pre-spawn-environ``). Inside one
process whose NumPy is loaded, ``threadpoolctl.threadpool_limits(1)`` does the same for a block
(the deep figures' DMFT solves, :mod:`lindyn.figures._deep`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["BLAS_THREADS", "one_thread_env", "one_thread_children"]

BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_env() -> dict[str, str]:
    """The variables that keep a new process to one BLAS thread. They act only when set
    before the process loads NumPy (OpenBLAS reads them once).

    Example:
        >>> sorted(one_thread_env().items())[0]
        ('MKL_NUM_THREADS', '1')
    """
    return dict.fromkeys(BLAS_THREADS, "1")


@contextlib.contextmanager
def one_thread_children() -> Iterator[dict[str, str]]:
    """Meanwhile, processes started from this one (the report's spawned workers) inherit
    :func:`one_thread_env`; this process, whose NumPy is loaded, is not changed."""
    env = one_thread_env()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
