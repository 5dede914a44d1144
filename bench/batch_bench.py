"""Batch proving throughput: in-process `prove` against Dask LocalClusters of 1 and 2 workers, and
the time to resume a killed batch, all in one run on the same dataset and keys.

    python -m bench.batch_bench [--rows 8192] [--chunk-rows 1024] [--range-bits 32] [--skip-resume]

Reports rows/s for each path: in-process (the kernels on every core), 1 worker on 1 kernel thread,
1 worker on every core, 2 workers sharing the cores; the 2-worker speed-up over 1 worker (issue 10's
goal: >= 1.7x on 2 cores), the overhead of the distributed path against the in-process path at the
same core count (goal: <= 10%), the peak RSS of every worker process, and a resume: a batch killed (SIGKILL, client and
workers) once half its chunks are cached, then run again with --resume. Each cluster runs one
warm-up dataset first (workers load the cached kernels), timed apart.
Results: bench/results/batch-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.datasets import write_random_csv
from bench.machine import machine_info, save_result


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    from distributed import Client, LocalCluster

    from ledger import Ledger
    from pipeline.commands.batch_commands import prove_on_cluster
    from pipeline.keystore import KeyStore
    from pipeline.statistics_proof import ProveRequest, prove_statistics

    parser = argparse.ArgumentParser(prog="python -m bench.batch_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--chunk-rows", type=int, default=1024)
    parser.add_argument("--range-bits", type=int, default=32)
    parser.add_argument("--skip-resume", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="zkp-batch-bench-"))
    results: dict = {"rows": args.rows, "chunk_rows": args.chunk_rows, "range_bits": args.range_bits}
    try:
        data, warm = work / "data.csv", work / "warm.csv"
        write_random_csv(data, args.rows, 1, args.range_bits)
        write_random_csv(warm, args.chunk_rows, 1, args.range_bits)
        ledger_path = work / "l" / "ledger.jsonl"
        Ledger.create(ledger_path)
        from pipeline.circuit.statistics import Shape

        shape = Shape(args.chunk_rows, 1, args.range_bits, 9)
        keys = work / "keys"
        t = time.perf_counter()
        KeyStore(keys).keys_for(shape)
        results["setup_seconds"] = time.perf_counter() - t

        def request(path: Path, name: str) -> ProveRequest:
            return ProveRequest(dataset=path, name=name, columns=["c0"], range_bits=args.range_bits,
                                chunk_rows=args.chunk_rows, keys=keys, log=lambda text: None)

        ledger = Ledger.open(ledger_path)
        prove_statistics(ledger, request(warm, "warm-inprocess"))
        t, cpu = time.perf_counter(), _cpu_seconds()
        prove_statistics(ledger, request(data, "inprocess"))
        results["in_process"] = {"seconds": time.perf_counter() - t, "peak_rss_mb": _peak_rss_mb(),
                                 "cpu_seconds": _cpu_seconds() - cpu}
        print(f"in-process: {results['in_process']['seconds']:.1f} s", flush=True)
        cores = os.cpu_count() or 1
        # (workers, kernel threads each): as pipeline.batch.cluster shares the cores, and 1 worker on
        # 1 thread as the baseline of the scaling ratio
        for workers, threads in ((1, 1), (1, cores), (2, max(1, cores // 2))):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                              silence_logs=40, env={"NUMBA_NUM_THREADS": str(threads)}) as cluster, \
                    Client(cluster) as client:
                t = time.perf_counter()
                prove_on_cluster(ledger, request(warm, f"warm-{workers}"), client)
                warm_s = time.perf_counter() - t
                worker_cpu = client.run(_cpu_seconds)
                client_cpu = _cpu_seconds()
                t = time.perf_counter()
                prove_on_cluster(ledger, request(data, f"workers-{workers}"), client)
                seconds = time.perf_counter() - t
                client_cpu = _cpu_seconds() - client_cpu
                worker_cpu = {k: v - worker_cpu[k] for k, v in client.run(_cpu_seconds).items()}
                rss = client.run(_peak_rss_mb)
            # CPU spent by the client process (reading, encoding, the scheduler of LocalCluster) and by
            # each worker during the timed run: where the cores went when scaling falls short.
            results[f"workers_{workers}_threads_{threads}"] = {
                "seconds": seconds, "warmup_seconds": warm_s, "worker_peak_rss_mb": sorted(rss.values()),
                "client_cpu_seconds": client_cpu, "worker_cpu_seconds": sorted(worker_cpu.values())}
            print(f"{workers} worker(s) x {threads} thread(s): {seconds:.1f} s (warm-up {warm_s:.1f} s), worker peak RSS "
                  f"{', '.join(f'{v:.0f}' for v in rss.values())} MB; CPU s: client {client_cpu:.1f}, workers "
                  f"{', '.join(f'{v:.1f}' for v in worker_cpu.values())}", flush=True)
        runs = [k for k in results if k == "in_process" or k.startswith("workers_")]
        for key in runs:
            results[key]["rows_per_s"] = args.rows / results[key]["seconds"]
        one, full, two = (results[k]["seconds"] for k in runs[1:4])
        results["speedup_2_workers_over_1_worker_1_thread"] = one / two
        results["speedup_2_workers_over_1_worker_all_threads"] = full / two
        results["overhead_distributed_vs_in_process_same_cores"] = two / results["in_process"]["seconds"] - 1
        if not args.skip_resume:
            results["resume"] = _resume(work, data, keys, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    payload = {"benchmark": "batch", "machine": machine_info(), "results": results,
               "note": "same dataset and keys for every path; cluster start-up and warm-up timed apart"}
    print(json.dumps({k: v for k, v in results.items() if not isinstance(v, dict)}, indent=1))
    print(f"saved {save_result('batch', payload)}")
    return 0


def _resume(work: Path, data: Path, keys: Path, args) -> dict:
    """Kill a 2-worker batch once half its chunks are cached, then resume it."""
    ledger = work / "r" / "ledger.jsonl"
    subprocess.run([sys.executable, "-m", "pipeline.cli", "init", "--ledger", str(ledger), "--no-key"], check=True,
                   capture_output=True)
    manifest = work / "m.toml"
    manifest.write_text(f'[[dataset]]\npath = "{data}"\nname = "resumed"\ncolumns = ["c0"]\n'
                        f"range_bits = {args.range_bits}\nchunk_rows = {args.chunk_rows}\n")
    chunks = -(-args.rows // args.chunk_rows)
    cmd = [sys.executable, "-m", "pipeline.cli", "batch", str(manifest), "--ledger", str(ledger), "--workers", "2",
           "--keys", str(keys), "--json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = ledger.parent / "batch-cache"
    while len(list(cache.glob("*/*.json"))) < chunks // 2 and proc.poll() is None:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_after = time.perf_counter() - start
    cached = len(list(cache.glob("*/*.json")))
    start = time.perf_counter()
    out = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, check=True).stdout
    doc = json.loads(out)
    out = {"chunks": chunks, "killed_after_seconds": killed_after, "cached_at_kill": cached,
           "resume_seconds": time.perf_counter() - start, "chunks_resumed": doc["chunks_resumed"],
           "chunks_proved_on_resume": doc["chunks_proved"]}
    print(f"resume: killed after {killed_after:.1f} s with {cached} of {chunks} chunks cached; resumed in "
          f"{out['resume_seconds']:.1f} s, proving {doc['chunks_proved']}", flush=True)
    return out


if __name__ == "__main__":
    sys.exit(main())
