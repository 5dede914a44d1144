"""Rows proved per second by `zkp-ledger prove`, with constraints per value and peak memory.

    python -m bench.statistics_bench [--sizes 1e3,1e4,1e5] [--columns 1,4] [--chunk-rows 1024]
                                     [--range-bits 32] [--device cpu|cuda] [--tables] [--builds native,portable]

Each case writes a CSV of random 32-bit values (in /tmp), proves it in a child process, and reads
that child's own peak RSS (os.wait4). Keys are made once per shape before timing (`zkp-ledger
setup`, timed separately), so the rows/s figure is proving alone: ingest through Dask, witness,
Groth16 proofs, ledger append. Constant peak RSS across sizes is the streaming claim: memory is
bounded by the partition and the chunk, not by the file. `--tables` builds the shape's fixed-base
tables (`zkp-ledger keys tables`, build time and size recorded) and proves every case twice, without
and with them (the file is moved aside for the first), so the ratio comes from the same run.
Results: bench/results/statistics-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.datasets import write_random_csv
from bench.machine import machine_info, save_result


BUILD_ENV = {"native": {}, "portable": {"ZKP_LEDGER_NO_ASM": "1"}}


def popen_with_rusage(argv: list[str], build: str = "native") -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of that child alone, stdout): reaped with wait4 for its own rusage.
    `build`: "native" (the field build this host gets) or "portable" (ZKP_LEDGER_NO_ASM=1)."""
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "ZKP_LEDGER_NO_ASM"} | BUILD_ENV[build]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "?"
        raise RuntimeError(f"{' '.join(argv[1:3])} failed: {last}")
    return wall, usage.ru_maxrss / 1024, stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statistics_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e3,1e4,1e5")
    parser.add_argument("--columns", default="1,4")
    parser.add_argument("--chunk-rows", default="1024",
                        help="rows per chunk, or a comma list to compare in one run (e.g. 1024,1440: 1440 rows "
                             "fill the same 2^16 domain for one 32-bit column)")
    parser.add_argument("--range-bits", type=int, default=32)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--tables", action="store_true", help="also prove each case with fixed-base tables")
    parser.add_argument("--builds", default="native",
                        help="field builds to prove with, comma list: native (x86-64 assembly product where the host "
                             "has BMI2+ADX), portable (ZKP_LEDGER_NO_ASM=1); each case runs once per build")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--out-name", default="statistics", help="results file stem (default statistics)")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    column_counts = [int(c) for c in args.columns.split(",")]
    chunk_rows_list = [int(c) for c in args.chunk_rows.split(",")]
    builds = [b.strip() for b in args.builds.split(",") if b.strip()]
    if not builds or set(builds) - set(BUILD_ENV):
        parser.error(f"--builds takes {', '.join(BUILD_ENV)}")
    zkp = [sys.executable, "-m", "pipeline.cli"]
    work = Path(tempfile.mkdtemp(prefix="zkp-stats-bench-"))
    ledger = work / "ledger.jsonl"
    rows_out = []
    try:
        popen_with_rusage(zkp + ["init", "--ledger", str(ledger), "--no-key"])
        for chunk_rows in chunk_rows_list:
            for m in column_counts:
                shape = f"rows={chunk_rows},columns={m},bits={args.range_bits},width=9"
                setup_wall, _, out = popen_with_rusage(zkp + ["setup", "--shape", shape, "--ledger", str(ledger), "--json"])
                setup = json.loads(out)
                print(f"setup {shape}: {setup_wall:.1f} s, {setup['constraints']} constraints "
                      f"({setup['constraints_per_value']:.1f} per value)", flush=True)
                # Warm-up: the first prove of a process tree loads (or, after a change, compiles) the
                # kernels; it is timed apart so the rows/s figures are steady-state.
                warm = work / f"warm-{m}-r{chunk_rows}.csv"
                write_random_csv(warm, 8, m, args.range_bits)
                for build in builds:
                    warm_wall, warm_rss, _ = popen_with_rusage(zkp + [
                        "prove", str(warm), "--ledger", str(ledger), "--name", f"warm-{m}-r{chunk_rows}-{build}",
                        "--columns", ",".join(f"c{j}" for j in range(m)), "--range-bits", str(args.range_bits),
                        "--chunk-rows", str(chunk_rows), "--device", args.device], build)
                    print(f"warm-up prove (8 rows, {build} build): {warm_wall:.1f} s, peak RSS {warm_rss:.0f} MB",
                          flush=True)
                shape_id = Path(setup["key_dir"]).name
                tables_file = Path(setup["key_dir"]) / "proving.tables" if args.tables else None
                table_doc = {}
                if tables_file is not None:
                    table_wall, table_rss, out = popen_with_rusage(zkp + ["keys", "tables", shape_id, "--ledger",
                                                                          str(ledger), "--json"])
                    table_doc = json.loads(out)
                    print(f"fixed-base tables: {table_doc['bytes'] / 2**20:.0f} MiB in {table_wall:.1f} s "
                          f"(peak RSS {table_rss:.0f} MB)", flush=True)
                    aside = tables_file.with_suffix(".aside")
                    for build in builds:
                        warm_tables, _, _ = popen_with_rusage(zkp + [     # the table path's first use compiles too
                            "prove", str(warm), "--ledger", str(ledger), "--name", f"warm-tables-{m}-r{chunk_rows}-{build}",
                            "--columns", ",".join(f"c{j}" for j in range(m)), "--range-bits", str(args.range_bits),
                            "--chunk-rows", str(chunk_rows), "--device", args.device], build)
                        print(f"warm-up prove with tables ({build} build): {warm_tables:.1f} s", flush=True)
                for n in sizes:
                    data = work / f"data-{m}-{n}.csv"
                    write_random_csv(data, n, m, args.range_bits)
                    cols = ",".join(f"c{j}" for j in range(m))
                    for build, with_tables in [(b, t) for b in builds
                                               for t in ([False, True] if tables_file is not None else [False])]:
                        if tables_file is not None:
                            os.replace(*((aside, tables_file) if with_tables else (tables_file, aside)))
                        tag = ("-tables" if with_tables else "") + f"-{build}"
                        wall, rss, out = popen_with_rusage(zkp + [
                            "prove", str(data), "--ledger", str(ledger), "--name", f"bench-{m}-{n}-r{chunk_rows}{tag}", "--columns",
                            cols, "--range-bits", str(args.range_bits), "--chunk-rows", str(chunk_rows),
                            "--device", args.device, "--json"], build)
                        row = {"rows": n, "columns": m, "values": n * m, "seconds": wall, "rows_per_s": n / wall,
                               "values_per_s": n * m / wall, "peak_rss_mb": rss, "file_bytes": data.stat().st_size,
                               "chunk_rows": chunk_rows, "range_bits": args.range_bits,
                               "constraints_per_chunk": setup["constraints"],
                               "constraints_per_value": setup["constraints_per_value"],
                               "setup_seconds_for_shape": setup_wall, "field_build": build}
                        if tables_file is not None:
                            row["fixed_base_tables"] = with_tables
                            if with_tables:
                                plain = rows_out[-1]
                                row.update(tables_bytes=table_doc["bytes"], tables_build_seconds=table_doc["seconds"],
                                           speedup_over_no_tables=round(plain["seconds"] / wall, 3))
                        rows_out.append(row)
                        print(f"{m} column(s), {n} rows{' with tables' if with_tables else ''} ({build} build): {wall:.1f} s, "
                              f"{n / wall:.1f} rows/s, peak RSS {rss:.0f} MB"
                              + (f", {row['speedup_over_no_tables']:.2f}x" if with_tables else ""), flush=True)
                    data.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if len(chunk_rows_list) > 1:        # throughput against the first chunk size's, same columns and rows
        for row in rows_out:
            base = next((r for r in rows_out if r["chunk_rows"] == chunk_rows_list[0] and r["columns"] == row["columns"]
                         and r["rows"] == row["rows"] and r.get("fixed_base_tables") == row.get("fixed_base_tables")
                         and r["field_build"] == row["field_build"]), None)
            if base is not None:
                row[f"values_per_s_ratio_to_r{chunk_rows_list[0]}"] = round(row["values_per_s"] / base["values_per_s"], 3)
    if "portable" in builds and len(builds) > 1:   # the assembly product's gain, same case and run
        for row in rows_out:
            base = next((r for r in rows_out if r["field_build"] == "portable" and all(
                r.get(k) == row.get(k) for k in ("chunk_rows", "columns", "rows", "fixed_base_tables"))), None)
            row["values_per_s_ratio_to_portable"] = round(row["values_per_s"] / base["values_per_s"], 3)
    payload = {"benchmark": "statistics", "device": args.device, "machine": machine_info(), "rows": rows_out,
               "note": "wall time of `zkp-ledger prove` in a child process, keys made beforehand; "
                       "includes process start and loading cached kernels"}
    print(f"saved {save_result(args.out_name, payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
