"""Which Dask cluster a batch runs on. `open_cluster` yields a `distributed.Client`.

    local          distributed.LocalCluster of worker processes (one thread each: proving is
                   CPU-bound Numba code that releases the GIL only inside kernels)
    slurm          dask_jobqueue.SLURMCluster: SLURM jobs of `cores` worker processes, one thread
                   each, sized and placed by the manifest's [cluster] table or CLI options
                   (queue, account, walltime, cores, memory, gpus_per_job, jobs); `job_script`
                   prints what will be submitted
    local-cuda     dask_cuda.LocalCUDACluster: one worker per visible GPU
    tcp://HOST:P   join a running scheduler

dask_jobqueue and dask_cuda are optional (`pip install 'zkp-dataset-ledger[cluster]'`) and imported
only when their kind is asked for.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import Iterator

from pipeline.errors import InputError

# Keys of the manifest's [cluster] table (and the CLI options of the same names) for kind "slurm".
SLURM_OPTIONS = ("queue", "account", "walltime", "cores", "memory", "gpus_per_job", "jobs", "processes",
                 "job_script_prologue", "interface", "local_directory", "log_directory")
SLURM_DEFAULTS = {"cores": 1, "memory": "4GB", "walltime": "01:00:00"}
_WALLTIME = re.compile(r"^(\d+-)?\d+(:\d{1,2}){0,2}$")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _positive_int(options: dict, key: str, minimum: int = 1) -> int | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, str) and value.isdigit()):
        raise InputError(f"[cluster] {key} = {value!r}: not a whole number")
    value = int(value)
    if value < minimum:
        raise InputError(f"[cluster] {key} = {value}: must be at least {minimum}")
    return value


def slurm_cluster_kwargs(options: dict | None) -> dict:
    """The dask_jobqueue.SLURMCluster keyword arguments for these options (unset ones are None).

    Raises InputError naming the key for an unknown option or a value SLURM would refuse.
    """
    options = {k.replace("-", "_"): v for k, v in (options or {}).items() if v is not None}
    unknown = sorted(set(options) - set(SLURM_OPTIONS))
    if unknown:
        raise InputError(f"[cluster] {', '.join(unknown)}: not an option of --cluster slurm "
                         f"(known: {', '.join(SLURM_OPTIONS)})")
    options = {**SLURM_DEFAULTS, **options}
    cores = _positive_int(options, "cores")
    processes = _positive_int(options, "processes") or cores  # one thread per worker process
    if cores % processes:
        raise InputError(f"[cluster] processes = {processes} does not divide cores = {cores}")
    gpus = _positive_int(options, "gpus_per_job", minimum=0) or 0
    memory = str(options["memory"])
    from dask.utils import parse_bytes
    try:
        parse_bytes(memory)
    except ValueError:
        raise InputError(f"[cluster] memory = {memory!r}: not a size such as '8GB' or '16GiB'") from None
    walltime = str(options["walltime"])
    if not _WALLTIME.match(walltime):
        raise InputError(f"[cluster] walltime = {walltime!r}: not a SLURM time such as '02:00:00' or '1-00:00:00'")
    prologue = options.get("job_script_prologue") or []
    if isinstance(prologue, str):
        prologue = [prologue]
    kwargs = dict(
        cores=cores, processes=processes, memory=memory, walltime=walltime,
        queue=options.get("queue"), account=options.get("account"),
        job_extra_directives=[f"--gres=gpu:{gpus}"] if gpus else [],
        # `python -m distributed.cli.dask_worker` would put the submit directory first on sys.path,
        # where a folder named ledger/ or pipeline/ shadows this package (Python >= 3.11 honours this).
        job_script_prologue=["export PYTHONSAFEPATH=1", *prologue], job_name="zkp-ledger",
        python=sys.executable, scheduler_options={"dashboard_address": ":0"},
    )
    for key in ("interface", "local_directory", "log_directory"):
        if options.get(key):
            kwargs[key] = str(options[key])
    return kwargs


def _import_jobqueue():
    try:
        import dask_jobqueue
    except ImportError:
        raise InputError("--cluster slurm needs dask-jobqueue: pip install 'zkp-dataset-ledger[cluster]'") from None
    return dask_jobqueue


def job_script(options: dict | None = None) -> str:
    """The sbatch script each SLURM job of `--cluster slurm` would run with these options."""
    dask_jobqueue = _import_jobqueue()
    kwargs = slurm_cluster_kwargs(options)
    # A cluster object is the only public way to render the template; it submits nothing until scaled.
    with dask_jobqueue.SLURMCluster(**kwargs) as cluster:
        return cluster.job_script()


def _slurm_scale(options: dict | None, workers: int | None) -> dict:
    jobs = _positive_int({k.replace("-", "_"): v for k, v in (options or {}).items()}, "jobs")
    if jobs:
        return {"jobs": jobs}
    if workers:
        return {"n": workers}
    return {"jobs": 1}


def _visible_gpus() -> int:
    try:
        import pynvml
        pynvml.nvmlInit()
        try:
            return pynvml.nvmlDeviceGetCount()
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no driver, no library, no device: all mean "no GPU here"
        return 0


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
        # Each worker's Numba kernels (the MSM) get an equal share of the cores: no oversubscription.
        numba_threads = max(1, default_workers() // n)
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=40, env={"NUMBA_NUM_THREADS": str(numba_threads)}) as cluster, \
                Client(cluster) as client:
            log(f"Dask LocalCluster: {n} worker processes, {numba_threads} kernel thread(s) each; "
                f"dashboard {client.dashboard_link}")
            yield client
        return
    if kind == "slurm":
        dask_jobqueue = _import_jobqueue()
        kwargs = slurm_cluster_kwargs(options)
        scale = _slurm_scale(options, workers)
        with dask_jobqueue.SLURMCluster(**kwargs) as cluster, Client(cluster) as client:
            cluster.scale(**scale)
            what = f"{scale['jobs']} jobs" if "jobs" in scale else f"{scale['n']} worker processes"
            log(f"Dask SLURMCluster: {what} of {kwargs['cores']} cores, {kwargs['memory']}, "
                f"walltime {kwargs['walltime']} (scheduler {cluster.scheduler_address}); "
                f"dashboard {client.dashboard_link}")
            yield client
        return
    if kind == "local-cuda":
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            raise InputError("--cluster local-cuda needs dask-cuda and an NVIDIA GPU: "
                             "pip install 'zkp-dataset-ledger[cluster]', or use --cluster local") from None
        gpus = _visible_gpus()
        if gpus == 0:
            raise InputError("--cluster local-cuda: no NVIDIA GPU is visible here (nvidia-smi); "
                             "use --cluster local, or --cluster slurm with --gpus-per-job")
        n = min(workers or gpus, gpus)
        with LocalCUDACluster(n_workers=n, threads_per_worker=1, dashboard_address=":0",
                              silence_logs=40) as cluster, Client(cluster) as client:
            log(f"Dask LocalCUDACluster: {n} workers, one per GPU; dashboard {client.dashboard_link}")
            yield client
        return
    if kind.startswith(("tcp://", "tls://", "ucx://")) or ":" in kind:
        with Client(kind, timeout="30s") as client:
            log(f"joined the Dask scheduler at {kind} ({len(client.scheduler_info()['workers'])} workers); "
                f"dashboard {client.dashboard_link}")
            yield client
        return
    raise InputError(f"--cluster {kind}: not local, slurm, local-cuda or a scheduler address (tcp://HOST:PORT)")
