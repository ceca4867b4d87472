"""Where the tasks run: a dask ``LocalCluster`` made for the sweep, or a given scheduler."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["connect", "check_workers"]


def check_workers(workers: int | None, client: object) -> int | None:
    """Validate a number of local workers (an integer >= 1, and only without a client)."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: must be an integer >= 1, got {workers!r}")
    if client is not None:
        raise ValueError("workers: sets the size of the local cluster; not with a scheduler")
    return workers


@contextlib.contextmanager
def connect(client: Client | str | None, workers: int | None = None) -> Iterator[Client]:
    """A dask client: ``client`` itself, a new one to the scheduler at address ``client``, or
    one on a new ``LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True)``.

    What this function creates (the local cluster, a client to an address) it closes on exit;
    a given client stays open. The local workers ignore Ctrl-C: it reaches the whole process
    group, and only the driver should handle it (by cancelling and closing the cluster).

    Example:
        >>> with connect(None, workers=1) as client:
        ...     client.submit(sum, [1, 2]).result()
        3
    """
    from distributed import Client, LocalCluster

    if client is None:
        with _ctrl_c_ignored():  # by the worker processes, which inherit this
            cluster = LocalCluster(  # dashboard on a free port: sweeps may run side by side
                n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
        with cluster, Client(cluster) as local:
            yield local
    elif isinstance(client, str):
        with Client(client) as remote:
            yield remote
    else:
        yield client


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore SIGINT meanwhile; processes started meanwhile keep ignoring it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
