"""CPU MSM timings: G1 at 2^12, 2^14, 2^16 and G2 at 2^12, random and witness-like scalars.

    python -m bench.msm_bench [--quick] [--baseline OLD_PIPPENGER.py] [--tables] [--repeats N]

Witness-like scalars model a Groth16 witness: 35% zeros, 35% ones, 20% below 2^32 and 10% full
random field elements. `--baseline` loads another copy of `kernels/msm/pippenger.py` (e.g. the
previous commit's, `git show HEAD~1:kernels/msm/pippenger.py > /tmp/old.py`) and times it in the
same process, alternating old and new calls, so a shared machine's load hits both alike; both
results are checked equal. `--tables` also times the fixed-base MSM (kernels.msm.tables) from tables
built once per point set (build seconds and bytes recorded), alternating with the bucket method.
Saves `bench/results/msm-<machine>.json`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time

import numpy as np

from bench.machine import machine_info, save_result

BASE_POINTS = 64


def random_points(group: str, m: int, seed: int) -> np.ndarray:
    """m distinct pseudo-random affine points: running sums of 64 random multiples of the generator."""
    from numba import njit

    from kernels.ec import points as P
    from kernels.ec.formulas import S_ROWS, T_ROWS
    from kernels.ec.g1 import g1
    from kernels.ec.g2 import g2

    curve, batch, shape = (g1, P._g1b, P.G1_SHAPE) if group == "g1" else (g2, P._g2b, P.G2_SHAPE)
    gen = P.g1_generator() if group == "g1" else P.g2_generator()
    rng = np.random.default_rng(seed)
    base = np.stack([(P.g1_mul if group == "g1" else P.g2_mul)(gen, int(k))
                     for k in rng.integers(1, 1 << 62, BASE_POINTS)])
    jac_madd, aff_to_jac = curve.jac_madd, curve.aff_to_jac
    eshape = shape[1:]

    @njit
    def running_sums(base, m):
        out = np.empty((m, 3) + eshape, np.uint32)
        t = np.empty((T_ROWS,) + eshape, np.uint32)
        s = np.empty((S_ROWS, 12), np.uint32)
        aff_to_jac(out[0], base[0])
        for k in range(1, m):
            jac_madd(out[k], out[k - 1], base[k % base.shape[0]], t, s)
        return out

    jac = running_sums(base, m)
    out = np.empty((m,) + shape, np.uint32)
    batch.batch_to_aff(out, jac)
    return out


def scalars(kind: str, m: int, seed: int) -> np.ndarray:
    """(m, 8) canonical Fr scalars: 'random' or 'witness' (35% 0, 35% 1, 20% < 2^32, 10% random)."""
    from kernels.ff.fields import FR

    rng = np.random.default_rng(seed)
    full = rng.integers(0, 1 << 32, (m, 8), dtype=np.uint64).astype(np.uint32)
    full[:, 7] &= (1 << 28) - 1                       # < 2^252 < r: canonical without a reduction
    full[:, 7] |= np.uint32(1 << 27) * rng.integers(0, 2, m).astype(np.uint32)
    if kind == "random":
        return np.ascontiguousarray(full)
    out = np.zeros((m, FR.nlimbs), np.uint32)
    u = rng.random(m)
    out[(u >= 0.35) & (u < 0.70), 0] = 1
    small = (u >= 0.70) & (u < 0.90)
    out[small, 0] = rng.integers(0, 1 << 32, int(small.sum()), dtype=np.uint64).astype(np.uint32)
    big = u >= 0.90
    out[big] = full[big]
    return out


def load_baseline(path: str):
    spec = importlib.util.spec_from_file_location("msm_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["msm_baseline"] = module          # Numba's disk cache re-imports the module by name
    spec.loader.exec_module(module)
    return module


def time_call(fn) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="G1 up to 2^14 only")
    ap.add_argument("--baseline", help="path of an older pippenger.py to time beside the current one")
    ap.add_argument("--tables", action="store_true", help="also time the fixed-base MSM from window tables")
    ap.add_argument("--sizes", help="log2 sizes of the G1 cases (default 12,14,16; G2 stays at 12)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from kernels.msm import pippenger as new

    old = load_baseline(args.baseline) if args.baseline else None
    g1_sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [12, 14] + ([] if args.quick else [16])
    cases = [("g1", s) for s in g1_sizes] + [("g2", 12)]
    rows = []
    for group, log_m in cases:
        m = 1 << log_m
        pts = random_points(group, m, seed=log_m)
        table_info = {}
        if args.tables:
            from kernels.msm.tables import build_table, msm_with_table
            t0 = time.perf_counter()
            table = build_table(group, pts)
            table_info = {"table_build_s": round(time.perf_counter() - t0, 2), "table_mb": round(table.nbytes / 1e6, 1),
                          "table_window": table.c}
        for kind in ("random", "witness"):
            sc = scalars(kind, m, seed=100 + log_m)
            fns = {"new": getattr(new, f"msm_{group}")}
            if old is not None:
                fns["old"] = getattr(old, f"msm_{group}")
            if args.tables:
                fns["tables"] = lambda p, s, table=table: msm_with_table(table, s)
            best, first, results = {}, {}, {}
            for name, fn in fns.items():                       # first calls (compile or cache load)
                first[name], results[name] = time_call(lambda: fn(pts, sc))
                best[name] = float("inf")
            for _ in range(args.repeats):                      # alternate old and new
                for name, fn in fns.items():
                    best[name] = min(best[name], time_call(lambda: fn(pts, sc))[0])
            row = {"group": group, "log2_m": log_m, "scalars": kind, "new_s": round(best["new"], 4),
                   "new_first_s": round(first["new"], 3)}
            if old is not None:
                if not np.array_equal(results["old"], results["new"]):
                    print(f"MISMATCH {group} 2^{log_m} {kind}", file=sys.stderr)
                    return 1
                row.update(old_s=round(best["old"], 4), speedup=round(best["old"] / best["new"], 2))
            if args.tables:
                if not np.array_equal(results["tables"], results["new"]):
                    print(f"MISMATCH tables {group} 2^{log_m} {kind}", file=sys.stderr)
                    return 1
                row.update(table_info, tables_s=round(best["tables"], 4),
                           tables_speedup=round(best["new"] / best["tables"], 2))
            rows.append(row)
            print(row, flush=True)
    payload = {"benchmark": "msm cpu (msm_g1 / msm_g2), best of warm calls"
                            + ("; tables: kernels.msm.tables.msm_with_table, same points and scalars" if args.tables else ""),
               "threads": __import__("numba").get_num_threads(),
               "scalars": "random: uniform < 2^252-ish; witness: 35% 0, 35% 1, 20% < 2^32, 10% random",
               "machine": machine_info(), "rows": rows}
    print(save_result("msm", payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
