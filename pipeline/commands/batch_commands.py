"""`zkp-ledger batch MANIFEST.toml`: prove many datasets on a Dask cluster, resumably, with metrics.

The client reads the manifest, opens the cluster (pipeline/batch/cluster.py), and proves the
datasets one after another in manifest order, each one's chunks as tasks across the workers; it
alone appends to the ledger, one complete entry per dataset. A dataset with bad input fails with
its one line and the others are still recorded; the exit status is 1 when any failed.
"""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

from ledger.errors import LedgerError
from pipeline.commands.ledger_commands import _emit, _open
from pipeline.device import resolve_device
from pipeline.errors import InputError, PipelineError


def _batch_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def prove_on_cluster(ledger, request, client, cache=None, metrics=None, progress=None, lost_after: float = 600.0):
    """prove_statistics with the chunks and partitions as tasks on `client`'s cluster; stops with
    ClusterLostError when no worker is left for `lost_after` seconds."""
    from pipeline.batch.tasks import dask_partitions, dask_runner
    from pipeline.circuit.statistics import Shape, circuit
    from pipeline.statistics_proof import prove_statistics

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    constraints = []

    def on_chunk(proof, resumed: bool) -> None:
        if metrics is None:
            return
        if not constraints:
            constraints.append(circuit(Shape(request.chunk_rows, len(request.columns), request.range_bits,
                                             request.width)).n_constraints)
        metrics.chunk(proof.active_rows, len(request.columns), constraints[0], proof.seconds, resumed)

    request.progress = progress
    return prove_statistics(ledger, request, run=dask_runner(client, 2 * workers, lost_after),
                            compute=dask_partitions(client, lost_after=lost_after), cache=cache, on_chunk=on_chunk)


def cmd_batch(args) -> int:
    from pipeline.batch.cluster import open_cluster
    from pipeline.batch.manifest import load_manifest
    from pipeline.batch.metrics import BatchMetrics
    from pipeline.batch.resume import ResumeCache
    from pipeline.batch.tasks import ClusterLostError
    from pipeline.commands.proof_commands import chunk_progress

    manifest = load_manifest(args.manifest, device=resolve_device(args.device),
                             keys=Path(args.keys) if args.keys else None)
    kind = args.cluster or manifest.cluster.get("kind", "local")
    options = {k: v for k, v in manifest.cluster.items() if k != "kind"}
    options.update({key: getattr(args, key) for key in SLURM_CLI if getattr(args, key) is not None})
    if args.print_job_script:
        from pipeline.batch.cluster import job_script

        print(job_script(options))
        return 0
    ledger = _open(args)
    batch_id = _batch_id()
    metrics = BatchMetrics()
    if args.metrics_port:
        metrics.serve(args.metrics_port)
        print(f"zkp-ledger batch: metrics on http://0.0.0.0:{args.metrics_port}/metrics", file=sys.stderr)
    cache = ResumeCache(ledger.dir / "batch-cache", resume=args.resume)
    results = []
    started = time.perf_counter()
    with open_cluster(kind, args.workers, options) as client:
        try:
            client.wait_for_workers(1, timeout=args.worker_timeout)
        except TimeoutError:
            raise InputError(f"--cluster {kind}: no Dask worker joined within {args.worker_timeout:g} s "
                             "(for SLURM: see squeue and the job logs); raise --worker-timeout to wait longer") from None
        for request in manifest.datasets:
            where = f"{request.name} ({request.dataset})"
            try:
                with chunk_progress(f"batch {request.name}") as progress:
                    entry = prove_on_cluster(ledger, request, client, cache, metrics, progress, args.worker_timeout)
            except ClusterLostError:
                raise                               # no dataset after this one could run either
            except (PipelineError, LedgerError, OSError, ValueError) as exc:
                metrics.failures.labels(reason=type(exc).__name__).inc()
                results.append({"name": request.name, "dataset": str(request.dataset), "ok": False, "error": str(exc)})
                print(f"zkp-ledger batch: error: {where}: {exc}", file=sys.stderr)
                continue
            metrics.datasets.inc()
            metrics.bytes_notarized.inc(entry.record["data"]["size"])
            results.append({"name": request.name, "dataset": str(request.dataset), "ok": True, "entry": entry.index,
                            "version": entry.version, "rows": entry.record["rows"],
                            "chunks": entry.record["circuit"]["chunks"]})
    seconds = time.perf_counter() - started
    resumed = int(metrics.resumed._value.get())
    pushed = metrics.push(args.pushgateway, batch_id) if args.pushgateway else None
    failed = [r for r in results if not r["ok"]]
    doc = {"batch": batch_id, "manifest": str(args.manifest), "cluster": kind, "seconds": seconds,
           "datasets": results, "chunks_proved": int(metrics.chunks._value.get()), "chunks_resumed": resumed,
           "cache_rejected": cache.rejected, "failed": len(failed), "pushed": pushed}
    lines = [f"batch {batch_id}: {len(results) - len(failed)} of {len(results)} datasets recorded in {seconds:.1f} s "
             f"({doc['chunks_proved']} chunks proved, {resumed} resumed from the cache)"]
    for r in results:
        lines.append(f"  {r['name']}: " + (f"entry {r['entry']} ({r['name']}@{r['version']}), {r['rows']} rows in "
                                           f"{r['chunks']} chunks" if r["ok"] else f"FAILED: {r['error']}"))
    if pushed:
        lines.append(f"  metrics pushed to {args.pushgateway} (job zkp-ledger, {pushed})")
    _emit(args, doc, "\n".join(lines))
    return 1 if failed else 0


SLURM_CLI = ("queue", "account", "walltime", "cores", "memory", "gpus_per_job", "jobs")


def add_cluster_options(p) -> None:
    p.add_argument("--cluster", help="local (default: worker processes on this machine), slurm (dask-jobqueue), "
                   "local-cuda (one worker per GPU), or a scheduler address tcp://HOST:PORT")
    p.add_argument("--workers", type=int, help="worker processes (local), or jobs/processes to scale to (slurm); "
                   "default: one per core")


def register(subparsers, common) -> None:
    from pipeline.commands.proof_commands import _positive

    p = subparsers.add_parser("batch", parents=[common], help="prove the datasets of a manifest on a Dask cluster",
                              description=__doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("manifest", type=Path, help="TOML manifest: [[dataset]] tables (path, name, columns, scale, "
                   "range, range_bits, chunk_rows, width) and an optional [cluster] table")
    add_cluster_options(p)
    p.add_argument("--resume", action="store_true", help="reuse the chunk proofs a killed run left in "
                   "<ledger dir>/batch-cache (damaged ones are proved again)")
    p.add_argument("--metrics-port", type=_positive, help="serve Prometheus metrics on this port while the job runs")
    p.add_argument("--pushgateway", metavar="URL", help="push the job's metrics to this Prometheus Pushgateway at the end")
    p.add_argument("--keys", metavar="DIR", help="take the keys from DIR (made by `setup --out DIR` or a ceremony)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--worker-timeout", type=float, default=600.0, metavar="SECONDS",
                   help="fail when no Dask worker has joined after this long, or when every worker has been "
                   "gone this long with work outstanding (default 600)")
    g = p.add_argument_group("SLURM (--cluster slurm; override the manifest's [cluster] table)")
    g.add_argument("--queue", help="partition")
    g.add_argument("--account")
    g.add_argument("--walltime", help="per job, e.g. 02:00:00")
    g.add_argument("--cores", type=_positive, help="cores per job (= worker processes per job)")
    g.add_argument("--memory", help="memory per job, e.g. 16GB")
    g.add_argument("--gpus-per-job", type=_positive)
    g.add_argument("--jobs", type=_positive, help="jobs to scale to (default: from --workers)")
    g.add_argument("--print-job-script", action="store_true", help="print the sbatch script dask-jobqueue would "
                   "submit, and exit")
    p.set_defaults(func=cmd_batch)
