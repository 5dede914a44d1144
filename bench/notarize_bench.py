"""Notarize of a quoted CSV beside b3sum on the same cached file: speed and anonymous memory.

    python -m bench.notarize_bench [--size-gb 2] [--dir /tmp] [--compressed-mb 256] [--keep]

Generates a CSV whose every row holds a quoted field with the delimiter in it (`"k, 17"`, the
case of issue 11: it used to send the whole file to pyarrow), and a second one with escaped
quotes (`""`), quoted newlines and CRLF line ends. On each, in one run and on the page-cached file:
- `b3sum` on all cores and on one (best of three);
- `notarize` (root + schema + rows + ragged/quote/UTF-8 check) in a child process, best of three,
  timed from after its imports: as a fresh process runs it (Numba's start, about 1 CPU-second,
  included) and with the compiled kernel already loaded (`notarize_kernel_loaded`: the rate a
  larger file approaches); wall and CPU seconds. The parent samples the child's RssAnon from
  /proc every 5 ms (anonymous memory: file pages of the page cache are not the program's) and
  records the peak, and the child's RssAnon after its imports (before notarize);
- the row scan alone (the compiled kernel over 1 MiB pieces, one thread), in GB/s of CPU time
  (per core, whatever else runs) and of wall time.
Optionally (`--compressed-mb`) the first N MB as .csv.gz and .csv.zst: notarize's time and peak
RssAnon, and the rows it counts (the decompressed ones).
The load average before and after tells whether others shared the 2 cores. Ratios are notarize
GB/s over b3sum GB/s (wall); `cpu_efficiency_ratio_to_b3sum` is b3sum's CPU seconds over
notarize's, the ratio on cores that nothing else uses. Saves `bench/results/notarize-<machine>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.machine import machine_info, save_result

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, re, sys, tempfile, time
def anon():
    return int(re.search(r"RssAnon:\s+(\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
from pipeline.notarize import notarize
import pipeline.csv_scan, pyarrow.csv  # the imports notarize makes, before the baseline
base = anon()
if sys.argv[2] == "warm":  # load the compiled kernel (Numba's start) on a tiny file first
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write('a,b\n1,"x"\n')
    notarize(f.name)
    os.unlink(f.name)
t = time.perf_counter()
c = time.process_time()
n = notarize(sys.argv[1])
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "cpu_seconds": time.process_time() - c, "root": n.root, "rows": n.rows,
                  "size": n.size, "format": n.format, "compression": n.files[0].compression,
                  "rss_anon_after_imports_mb": base}))
"""


def quoted_rows(start: int, count: int, hard: bool) -> str:
    """`count` rows from id `start`: id, a quoted key with a comma, a float, a label; `hard`
    adds escaped quotes and a quoted newline to every third row."""
    rows = []
    for i in range(start, start + count):
        key = f'"k, {i % 97}"'
        if hard and i % 3 == 0:
            key = f'"say ""hi"", {i % 89}\nnext line"'
        rows.append(f"{i},{key},{(i * 7919 % 10**6) / 1e6:.6f},label{i % 13}")
    return ("\r\n" if hard else "\n").join(rows) + ("\r\n" if hard else "\n")


def generate(path: Path, size: int, hard: bool) -> int:
    """Write about `size` bytes: a 32 MB block of distinct rows, repeated. Returns the rows."""
    block = quoted_rows(0, 1_000_000, hard).encode()
    nrows = 1_000_000
    head = b"id,key,x,label" + (b"\r\n" if hard else b"\n")
    with open(path, "wb") as f:
        f.write(head)
        written, rows = len(head), 0
        while written + len(block) <= size or rows == 0:
            f.write(block)
            written += len(block)
            rows += nrows
    return rows


def time_b3sum(path: Path, threads: int | None) -> dict | None:
    exe = shutil.which("b3sum")
    if exe is None:
        return None
    cmd = [exe, "--no-names", str(path)] + (["--num-threads", str(threads)] if threads else [])
    best = cpu = None
    for _ in range(3):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t
        if status:
            raise SystemExit(f"b3sum failed on {path}")
        if best is None or dt < best:
            best, cpu = dt, usage.ru_utime + usage.ru_stime
    return {"seconds": best, "cpu_seconds": cpu, "gb_per_s": path.stat().st_size / best / 1e9,
            "threads": threads or "all"}


def _sample_anon(pid: int, peak: list, done: threading.Event) -> None:
    status = f"/proc/{pid}/status"
    while not done.is_set():
        try:
            m = re.search(r"RssAnon:\s+(\d+) kB", Path(status).read_text())
        except OSError:
            break
        if m:
            peak[0] = max(peak[0], int(m.group(1)) / 1024)
        time.sleep(0.005)


def run_notarize(path: Path, repeats: int, warm: bool = False) -> dict:
    """Best time of `repeats` child processes; the peak RssAnon over all of them. `warm`: the
    child loads the compiled kernel (Numba's start, a fixed cost) before the timed call."""
    best, peak_all = None, 0.0
    for _ in range(repeats):
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), "warm" if warm else "cold"],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
        peak, done = [0.0], threading.Event()
        sampler = threading.Thread(target=_sample_anon, args=(proc.pid, peak, done), daemon=True)
        sampler.start()
        out, err = proc.communicate()
        done.set()
        sampler.join()
        if proc.returncode:
            raise SystemExit(f"notarize failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}")
        r = json.loads(out)
        peak_all = max(peak_all, peak[0])
        if best is None or r["seconds"] < best["seconds"]:
            best = r
    best["gb_per_s"] = best["size"] / best["seconds"] / 1e9
    best["peak_rss_anon_mb"] = round(peak_all, 1)
    return best


def scan_only(path: Path, passes: int = 2) -> dict:
    """The compiled row scan alone over the file in 1 MiB pieces, one thread, as notarize calls it
    (the first piece of every 8 MiB unit under both in-quote hypotheses)."""
    import numpy as np

    from pipeline import csv_scan as cs
    from pipeline.notarize import PIECE_PAD, SCAN_PIECE, SCAN_UNIT

    size = path.stat().st_size
    buf = bytearray(SCAN_PIECE + PIECE_PAD)
    a, out = np.frombuffer(buf, np.uint8), np.zeros((2, cs.NFIELDS), np.int64)
    view = memoryview(buf)
    best_cpu = best_wall = None
    with open(path, "rb", buffering=0) as f:
        for _ in range(passes):
            cpu = wall = 0.0
            q, rows, prev = 0, 0, 10
            for pos in range(0, size, SCAN_PIECE):
                n = min(SCAN_PIECE, size - pos)
                got = os.preadv(f.fileno(), [view[:n + min(3, size - pos - n)]], pos)
                first = pos % SCAN_UNIT == 0 and pos > 0
                t0, c0 = time.perf_counter(), time.thread_time()
                cs.scan_piece(a, n, got, pos + got >= size, prev, q == 0 or first, q == 1 or first,
                              buf.find(b'"', 0, n) >= 0, 44, 3, out)
                cpu += time.thread_time() - c0
                wall += time.perf_counter() - t0
                if out[q, cs.ERR]:
                    raise SystemExit(f"scan error at {pos}: {out[q].tolist()}")
                rows += out[q, cs.ROWS] + 1
                q, prev = int(out[q, cs.END_Q]), buf[n - 1]
            best_cpu = min(best_cpu or 1e9, cpu)
            best_wall = min(best_wall or 1e9, wall)
    return {"cpu_seconds": best_cpu, "gb_per_s_per_core": size / best_cpu / 1e9,
            "wall_seconds": best_wall, "gb_per_s_wall": size / best_wall / 1e9}


def bench_file(path: Path, expect_rows: int) -> dict:
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    res = {"file_bytes": path.stat().st_size, "load_avg_before": [round(x, 2) for x in os.getloadavg()],
           "b3sum_all_threads": time_b3sum(path, None), "b3sum_1_thread": time_b3sum(path, 1),
           "notarize": run_notarize(path, 3), "notarize_kernel_loaded": run_notarize(path, 3, warm=True),
           "row_scan_only": scan_only(path)}
    res["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    res["rows_expected"] = expect_rows
    b3 = res["b3sum_all_threads"]
    for name in ("notarize", "notarize_kernel_loaded"):
        r = res[name]
        assert r["rows"] == expect_rows, (r["rows"], expect_rows)
        for key, peer in (("ratio_to_b3sum", b3), ("ratio_to_b3sum_1_thread", res["b3sum_1_thread"])):
            if peer:
                r[key] = round(r["gb_per_s"] / peer["gb_per_s"], 3)
        if b3:  # GB per CPU-second against b3sum's: what the ratio would be on otherwise idle cores
            r["cpu_efficiency_ratio_to_b3sum"] = round(b3["cpu_seconds"] / r["cpu_seconds"], 3)
    res["numba_start_seconds"] = round(res["notarize"]["seconds"] - res["notarize_kernel_loaded"]["seconds"], 3)
    return res


def bench_compressed(path: Path, mb: int, workdir: Path) -> dict:
    """The first `mb` MB of `path` (whole rows), gzip- and zstd-compressed: notarize's time, peak
    RssAnon and rows."""
    part = workdir / "part.csv"
    with open(path, "rb") as src, open(part, "wb") as dst:
        data = src.read(mb << 20)
        dst.write(data[:data.rfind(b"\n") + 1])
    rows = data[:data.rfind(b"\n") + 1].count(b"\n") - 1
    out = {"decompressed_bytes": part.stat().st_size, "rows_expected": rows}
    for tool, suffix in (("gzip", ".gz"), ("zstd", ".zst")):
        exe = shutil.which(tool)
        if exe is None:
            out[tool] = f"'{tool}' is not installed"
            continue
        target = workdir / f"part.csv{suffix}"
        subprocess.run([exe, "-q", "-k", "-f", "-6" if tool == "gzip" else "-3", str(part)], check=True)
        r = run_notarize(target, 1)
        r["compressed_bytes"] = target.stat().st_size
        r["decompressed_gb_per_s"] = out["decompressed_bytes"] / r["seconds"] / 1e9
        assert r["rows"] == rows, (r["rows"], rows)
        out[tool] = r
        target.unlink()
    part.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-gb", type=float, default=2.0)
    ap.add_argument("--hard-size-gb", type=float, default=0.5, help="the file with escaped quotes, quoted newlines, CRLF")
    ap.add_argument("--compressed-mb", type=int, default=256, help="0: skip the compressed runs")
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    payload = {"machine": machine_info(), "benchmark": "notarize-quoted-csv"}
    workdir = Path(tempfile.mkdtemp(prefix="notarize-bench-", dir=args.dir))
    try:
        for name, gb, hard in (("quoted", args.size_gb, False), ("quoted_escapes_newlines_crlf", args.hard_size_gb, True)):
            if gb <= 0:
                continue
            path = workdir / f"{name}.csv"
            t = time.perf_counter()
            rows = generate(path, int(gb * 1e9), hard)
            res = {"generate_seconds": round(time.perf_counter() - t, 1), **bench_file(path, rows)}
            payload[name] = res
            print(json.dumps({name: res}, indent=1), flush=True)
            if name == "quoted" and args.compressed_mb:
                payload["compressed"] = bench_compressed(path, args.compressed_mb, workdir)
                print(json.dumps({"compressed": payload["compressed"]}, indent=1), flush=True)
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    payload["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"saved {save_result('notarize', payload)}")


if __name__ == "__main__":
    main()
