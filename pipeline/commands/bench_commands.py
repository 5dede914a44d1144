"""`zkp-ledger bench ...`: runs the benchmark scripts of bench/ as separate processes.

The packages never import bench/; the CLI starts `python -m bench.<name>` so a user has one
entry point for measuring their machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

BENCHMARKS = {
    "kernels": "bench.kernels",
    "throughput": "bench.throughput",      # per dataset size, beside b3sum, snarkjs and arkworks
}


def run_benchmark(args: argparse.Namespace) -> int:
    module = BENCHMARKS[args.benchmark]
    return subprocess.run([sys.executable, "-m", module, *args.bench_args]).returncode


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "bench", parents=[common], help="measure throughput on this machine (saved under bench/results/)",
        description="Run a benchmark; extra arguments go to the benchmark (see `zkp-ledger bench throughput --help`).")
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS), help="what to measure")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    parser.set_defaults(func=run_benchmark)
