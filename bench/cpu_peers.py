"""The CPU kernels beside arkworks in one process: G1 MSM per core and one pairing, as ratios.

    RAYON_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python -m bench.cpu_peers [--sizes 14,16,18] [--g2-sizes 12,14]
                                                                   [--repeats N] [--portable-too]

The peer is arkworks through PyPI `py-arkworks-bls12381` (`G1Point.multiexp_unchecked`,
`G2Point.multiexp_unchecked`, `GT.pairing`). Both run on the same points and scalars, alternating call by call so that the load
of a shared machine hits both alike, and the results are checked equal. Per core: run with one
thread each (the variables above; the script refuses otherwise unless --threads-ok). Also times
our MSM without GLV and the Fq product and square. Saves `bench/results/cpu-peers-<machine>.json`;
ratio = ours / arkworks (below 1 is faster than arkworks).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from bench.machine import machine_info, save_result


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# What is compared: CPU seconds of this process (time.process_time), both sides single-threaded,
# so that other work on a shared machine (load 2 to 10 while these were measured) inflates neither
# side much; wall seconds are recorded beside them.
WALL = {}


def _interleaved(fns: dict, repeats: int) -> dict:
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            w0, t0 = time.perf_counter(), time.process_time()
            fn()
            cpu = time.process_time() - t0
            if cpu < best[name]:
                best[name] = cpu
                WALL[name] = time.perf_counter() - w0
    return best


def _ark_g1(ark, xy: tuple[int, int]):
    x, y = xy
    return ark.G1Point.from_xy_bytes_unchecked_be(x.to_bytes(48, "big") + y.to_bytes(48, "big"))


def _ark_xy(point) -> tuple[int, int]:
    raw = point.to_xy_bytes_be()
    return int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:96], "big")


def _peer_row(case, log_m, ours, arkworks, plain_name, plain, repeats) -> dict:
    """One MSM row: ours, arkworks and ours without the endomorphism split, interleaved."""
    best = _interleaved({"ours": ours, "arkworks": arkworks, plain_name: plain}, repeats)
    return {"case": case, "log2_m": log_m, "scalars": "random ~252-bit",
            "ours_s": round(best["ours"], 4), "arkworks_s": round(best["arkworks"], 4),
            f"{plain_name}_s": round(best[plain_name], 4),
            "wall_s": {k: round(WALL[k], 4) for k in ("ours", "arkworks", plain_name)},
            "ratio_ours_over_arkworks": round(best["ours"] / best["arkworks"], 3),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def msm_rows(ark, sizes, repeats):
    from bench.msm_bench import random_points, scalars
    from kernels.ec import points as P
    from kernels.ff.fields import FR
    from kernels.msm.pippenger import msm_g1

    rows = []
    for log_m in sizes:
        m = 1 << log_m
        pts = random_points("g1", m, seed=log_m)
        sc = scalars("random", m, seed=200 + log_m)
        ark_pts = [_ark_g1(ark, xy) for xy in P.g1_to_ints(pts)]
        ark_sc = [ark.Scalar.from_le_bytes(k.to_bytes(32, "little")) for k in FR.canonical_to_ints(sc)]
        ours = msm_g1(pts, sc)                                    # compile or cache load
        theirs = ark.G1Point.multiexp_unchecked(ark_pts, ark_sc)
        if tuple(P.g1_to_ints(ours[None])[0]) != _ark_xy(theirs):
            raise SystemExit(f"MISMATCH G1 MSM 2^{log_m}")
        msm_g1(pts, sc, glv=False)
        row = _peer_row("g1 msm", log_m, lambda: msm_g1(pts, sc),
                        lambda: ark.G1Point.multiexp_unchecked(ark_pts, ark_sc),
                        "ours_no_glv", lambda: msm_g1(pts, sc, glv=False), repeats)
        rows.append(row)
        print(row, flush=True)
    return rows


def g2_msm_rows(ark, sizes, repeats):
    """G2 MSM beside arkworks' G2 multiexp: ours (psi split, GLS) and ours without it."""
    from bench.msm_bench import random_points, scalars
    from kernels.ec.encoding import g2_compress, g2_compress_many
    from kernels.ff.fields import FR
    from kernels.msm.pippenger import msm_g2

    rows = []
    for log_m in sizes:
        m = 1 << log_m
        pts = random_points("g2", m, seed=300 + log_m)
        sc = scalars("random", m, seed=400 + log_m)
        raw = g2_compress_many(pts)
        ark_pts = [ark.G2Point.from_compressed_bytes_unchecked(raw[96 * i:96 * (i + 1)]) for i in range(m)]
        ark_sc = [ark.Scalar.from_le_bytes(k.to_bytes(32, "little")) for k in FR.canonical_to_ints(sc)]
        ours = msm_g2(pts, sc)
        theirs = ark.G2Point.multiexp_unchecked(ark_pts, ark_sc)
        if g2_compress(ours) != bytes(theirs.to_compressed_bytes()) or not np.array_equal(ours, msm_g2(pts, sc, gls=False)):
            raise SystemExit(f"MISMATCH G2 MSM 2^{log_m}")
        row = _peer_row("g2 msm", log_m, lambda: msm_g2(pts, sc),
                        lambda: ark.G2Point.multiexp_unchecked(ark_pts, ark_sc),
                        "ours_no_gls", lambda: msm_g2(pts, sc, gls=False), repeats)
        row["ratio_gls_over_plain"] = round(row["ours_s"] / row["ours_no_gls_s"], 3)
        rows.append(row)
        print(row, flush=True)
    return rows


def pairing_rows(ark, repeats):
    from kernels.ec import points as P
    from kernels.pairing import pairing

    rng = np.random.default_rng(3)
    a, b = (int(k) for k in rng.integers(1, 1 << 62, 2))
    p, q = P.g1_mul(P.g1_generator(), a), P.g2_mul(P.g2_generator(), b)
    (px, py), = P.g1_to_ints(p[None])
    ark_p = _ark_g1(ark, (px, py))
    from kernels.ec.encoding import g1_compress, g2_compress

    ark_q = ark.G2Point.from_compressed_bytes(g2_compress(q))

    if (bytes(ark_p.to_compressed_bytes()) != g1_compress(p)
            or bytes(ark_q.to_compressed_bytes()) != g2_compress(q)):
        raise SystemExit("MISMATCH: the pairing inputs differ between arkworks and ours")
    pairing(p, q)
    ark.GT.pairing(ark_p, ark_q)
    n = 20
    best = _interleaved({"ours": lambda: [pairing(p, q) for _ in range(n)],
                         "arkworks": lambda: [ark.GT.pairing(ark_p, ark_q) for _ in range(n)]}, repeats)
    row = {"case": "pairing", "ours_ms": round(best["ours"] / n * 1e3, 3),
           "arkworks_ms": round(best["arkworks"] / n * 1e3, 3),
           "ratio_ours_over_arkworks": round(best["ours"] / best["arkworks"], 3),
           "wall_ms": {k: round(WALL[k] / n * 1e3, 3) for k in ("ours", "arkworks")},
           "goal_ms": 1.5, "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(row, flush=True)
    return [row]


def field_rows(repeats):
    from numba import njit

    from kernels.ff.fields import FQ, fq

    mul, sqr = fq.mul, fq.sqr

    @njit
    def chain_mul(a, b, k):
        for _ in range(k):
            mul(a, a, b)

    @njit
    def chain_sqr(a, k):
        for _ in range(k):
            sqr(a, a)

    a, b = FQ.element(123456789), FQ.element(987654321)
    chain_mul(a, b, 10)
    chain_sqr(a, 10)
    k = 200_000
    best = _interleaved({"mul": lambda: chain_mul(a, b, k), "sqr": lambda: chain_sqr(a, k)}, repeats)
    row = {"case": "fq product chain", "mul_ns": round(best["mul"] / k * 1e9, 1),
           "sqr_ns": round(best["sqr"] / k * 1e9, 1), "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(row, flush=True)
    return [row]


def _build_ratios(rows: list, portable: list) -> dict:
    """Ours with the assembly product over ours with the portable build, case by case."""
    out = {}
    for new, old in zip(rows, portable):
        if new["case"] == "fq product chain":
            out["fq mul"] = round(new["mul_ns"] / old["mul_ns"], 3)
            out["fq sqr"] = round(new["sqr_ns"] / old["sqr_ns"], 3)
        elif new["case"] == "pairing":
            out["pairing"] = round(new["ours_ms"] / old["ours_ms"], 3)
        else:
            out[f"{new['case']} 2^{new['log2_m']}"] = round(new["ours_s"] / old["ours_s"], 3)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="14,16", help="log2 of the MSM sizes (default 14,16)")
    ap.add_argument("--g2-sizes", default="", help="log2 of G2 MSM sizes beside arkworks' G2 multiexp (default none)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads-ok", action="store_true", help="allow more than one thread (not per core)")
    ap.add_argument("--portable-too", action="store_true",
                    help="first run the same measurements with the portable field build (ZKP_LEDGER_NO_ASM=1) "
                         "in a child process and record them beside, with the ratio assembly / portable")
    ap.add_argument("--out-name", default="cpu-peers", help="results file stem (default cpu-peers)")
    ap.add_argument("--json-out", help=argparse.SUPPRESS)     # where a child writes its rows
    args = ap.parse_args(argv)
    if not args.threads_ok and (os.environ.get("RAYON_NUM_THREADS") != "1"
                                or os.environ.get("NUMBA_NUM_THREADS") != "1"):
        print("set RAYON_NUM_THREADS=1 NUMBA_NUM_THREADS=1 for per-core figures (or --threads-ok)", file=sys.stderr)
        return 2
    import py_arkworks_bls12381 as ark

    from kernels.ff import x86_mont

    portable = None
    if args.portable_too and x86_mont.available():
        import json
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            child = [sys.executable, "-m", "bench.cpu_peers", "--sizes", args.sizes, "--g2-sizes", args.g2_sizes,
                     "--repeats", str(args.repeats),
                     "--json-out", os.path.join(tmp, "rows.json")] + (["--threads-ok"] if args.threads_ok else [])
            subprocess.run(child, check=True, env={**os.environ, "ZKP_LEDGER_NO_ASM": "1"})
            portable = json.loads(open(os.path.join(tmp, "rows.json")).read())
    rows = field_rows(args.repeats)
    rows += pairing_rows(ark, args.repeats)
    rows += msm_rows(ark, [int(s) for s in args.sizes.split(",") if s], args.repeats)
    rows += g2_msm_rows(ark, [int(s) for s in args.g2_sizes.split(",") if s], args.repeats)
    if args.json_out:
        import json

        with open(args.json_out, "w") as f:
            json.dump(rows, f)
        return 0
    payload = {"benchmark": "CPU kernels beside arkworks (py-arkworks-bls12381), same inputs, best of interleaved "
                            "calls; *_s / *_ms are CPU seconds of the process (one thread each), wall beside",
               "threads": {"numba": os.environ.get("NUMBA_NUM_THREADS"), "rayon": os.environ.get("RAYON_NUM_THREADS")},
               "field_build": "x86-64 assembly product (MULX/ADCX/ADOX)" if x86_mont.available() else "portable LLVM",
               "machine": machine_info(), "rows": rows}
    if portable is not None:
        payload["portable_build_rows"] = portable
        payload["assembly_over_portable"] = _build_ratios(rows, portable)
        print({"assembly_over_portable": payload["assembly_over_portable"]})
    print(save_result(args.out_name, payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
