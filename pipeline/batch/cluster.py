"""Which Dask cluster a batch runs on. `open_cluster` yields a `distributed.Client`.

    local          distributed.LocalCluster of worker processes (one thread each: proving is
                   CPU-bound Numba code that releases the GIL only inside kernels)
    tcp://HOST:P   join a running scheduler
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from pipeline.errors import InputError


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@contextmanager
def open_cluster(kind: str = "local", workers: int | None = None, options: dict | None = None,
                 log=None) -> Iterator["distributed.Client"]:
    """A client of the chosen cluster, closed (and the cluster stopped) on exit.

    Raises InputError for an unknown kind or options that do not fit it.
    """
    from distributed import Client, LocalCluster

    log = log or (lambda text: print(f"zkp-ledger: {text}", file=sys.stderr))
    options = dict(options or {})
    if kind == "local":
        n = workers or default_workers()
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=40) as cluster, Client(cluster) as client:
            log(f"Dask LocalCluster: {n} worker processes; dashboard {client.dashboard_link}")
            yield client
        return
    if kind.startswith(("tcp://", "tls://", "ucx://")) or ":" in kind:
        with Client(kind, timeout="30s") as client:
            log(f"joined the Dask scheduler at {kind} ({len(client.scheduler_info()['workers'])} workers); "
                f"dashboard {client.dashboard_link}")
            yield client
        return
    raise InputError(f"--cluster {kind}: not local, slurm, local-cuda or a scheduler address (tcp://HOST:PORT)")
