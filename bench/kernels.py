"""Kernel throughput beside py_ecc (or Python ints) doing the same work in the same run.

    python -m bench.kernels [--quick] [--device cpu|cuda]      (also: zkp-ledger bench kernels)

Prints a table and saves `bench/results/kernels-<machine>.json`. The figure that matters is the
ratio to the reference measured in the same process. Where the reference would take minutes
(py_ecc MSM at 2^16, a Python-int NTT at 2^20) it runs on a smaller size and is scaled by its
complexity; the row says so. First-call (compile) and warm times are reported apart.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time

import numpy as np

from bench.machine import machine_info, save_result


def best_of(fn, repeats: int = 3) -> float:
    """Best wall time of `repeats` warm calls (seconds)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def first_call(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_field_products(rows: list, quick: bool) -> None:
    from py_ecc.optimized_bls12_381 import FQ as PyEccFQ

    from kernels.ff.fields import FQ, FR

    n = 1 << (16 if quick else 18)
    for name, field in (("Fq", FQ), ("Fr", FR)):
        xs = [secrets.randbelow(field.modulus) for _ in range(1024)]
        a = np.tile(field.from_ints(xs), (n // 1024, 1))
        b = np.roll(a, 1, axis=0).copy()
        out = np.empty_like(a)
        compile_s = first_call(lambda: field.mul_vec(out, a, b))
        ours = n / best_of(lambda: field.mul_vec(out, a, b))
        m = 20000
        if name == "Fq":
            pa, pb = [PyEccFQ(x) for x in xs], [PyEccFQ(x) for x in reversed(xs)]
            ref_label = "py_ecc FQ"
        else:
            pa, pb = xs, list(reversed(xs))
            ref_label = "Python int"
        modulus = field.modulus

        def reference():
            for k in range(m):
                if name == "Fq":
                    pa[k % 1024] * pb[k % 1024]
                else:
                    pa[k % 1024] * pb[k % 1024] % modulus

        ref = m / best_of(reference, 2)
        rows.append({"op": f"{name} product", "size": n, "ours_per_s": ours, "ref_per_s": ref,
                     "reference": ref_label, "first_call_s": compile_s})


def bench_g1_add(rows: list, quick: bool) -> None:
    from py_ecc.optimized_bls12_381 import G1, add, multiply

    from kernels.ec import points
    from kernels.msm import pippenger

    n = 1 << (14 if quick else 16)
    base = points.g1_from_ints([_py_ecc_affine(multiply(G1, secrets.randbelow(1 << 64))) for _ in range(64)])
    pts = np.tile(base, (n // 64, 1, 1))
    compile_s = first_call(lambda: pippenger.g1_sum_affine(pts))
    ours = n / best_of(lambda: pippenger.g1_sum_affine(pts))
    p, q = multiply(G1, 3), multiply(G1, 5)
    m = 5000
    ref = m / best_of(lambda: [add(p, q) for _ in range(m)], 2)
    rows.append({"op": "G1 addition (mixed, into XYZZ)", "size": n, "ours_per_s": ours, "ref_per_s": ref,
                 "reference": "py_ecc add (Jacobian)", "first_call_s": compile_s})


def _py_ecc_affine(pt):
    from py_ecc.optimized_bls12_381 import normalize

    x, y = normalize(pt)
    return (int(x), int(y))


def bench_msm(rows: list, quick: bool, device: str) -> None:
    from py_ecc.optimized_bls12_381 import G1, add, multiply

    from kernels.ec import points
    from kernels.ff.fields import FR
    from kernels.msm.pippenger import msm_g1

    r = FR.modulus
    ref_points = 32
    ref_scalars = [secrets.randbelow(r) for _ in range(ref_points)]

    def reference():
        acc = None
        for k, s in enumerate(ref_scalars):
            term = multiply(G1, s + k)
            acc = term if acc is None else add(acc, term)

    ref_per_point = best_of(reference, 1) / ref_points
    sizes = (12, 14) if quick else (12, 14, 16)
    base = points.g1_from_ints([_py_ecc_affine(multiply(G1, secrets.randbelow(r))) for _ in range(256)])
    for log_n in sizes:
        n = 1 << log_n
        pts = np.tile(base, (n // 256, 1, 1))
        scalars = FR.canonical([secrets.randbelow(r) for _ in range(n)])
        compile_s = first_call(lambda: msm_g1(pts, scalars, device=device))
        seconds = best_of(lambda: msm_g1(pts, scalars, device=device), 1 if log_n >= 16 else 2)
        rows.append({"op": f"MSM G1 2^{log_n} ({device})", "size": n, "ours_s": seconds,
                     "ref_s": ref_per_point * n, "first_call_s": compile_s,
                     "reference": f"py_ecc multiply+add, {ref_points} points scaled linearly"})


def bench_ntt(rows: list, quick: bool) -> None:
    from kernels.ff.fields import FR
    from kernels.ntt import domain_root, ntt

    r = FR.modulus

    def python_ntt(values, omega):
        # Iterative radix-2 over Python ints: the same work, the slow reference.
        n = len(values)
        a = list(values)
        j = 0
        for i in range(1, n):
            bit = n >> 1
            while j & bit:
                j ^= bit
                bit >>= 1
            j |= bit
            if i < j:
                a[i], a[j] = a[j], a[i]
        length = 2
        while length <= n:
            w_len = pow(omega, n // length, r)
            for start in range(0, n, length):
                w = 1
                for k in range(length // 2):
                    u, v = a[start + k], a[start + k + length // 2] * w % r
                    a[start + k], a[start + k + length // 2] = (u + v) % r, (u - v) % r
                    w = w * w_len % r
            length <<= 1
        return a

    ref_log = 12
    ref_n = 1 << ref_log
    ref_vals = [secrets.randbelow(r) for _ in range(ref_n)]
    ref_s = best_of(lambda: python_ntt(ref_vals, domain_root(ref_n)), 1)
    for log_n in ((16,) if quick else (16, 20)):
        n = 1 << log_n
        vals = FR.from_ints([secrets.randbelow(r) for _ in range(1024)])
        vals = np.tile(vals, (n // 1024, 1))
        compile_s = first_call(lambda: ntt(vals))
        seconds = best_of(lambda: ntt(vals), 2)
        scaled = ref_s * (n * log_n) / (ref_n * ref_log)
        rows.append({"op": f"NTT Fr 2^{log_n}", "size": n, "ours_s": seconds, "ref_s": scaled,
                     "first_call_s": compile_s,
                     "reference": f"Python-int radix-2 at 2^{ref_log}, scaled by n log n"})


def bench_pairing(rows: list, quick: bool) -> None:
    from py_ecc.optimized_bls12_381 import G1, G2, multiply, normalize
    from py_ecc.optimized_bls12_381 import pairing as py_pairing

    from kernels.ec import points
    from kernels.pairing import pairing

    a, b = secrets.randbelow(1 << 64), secrets.randbelow(1 << 64)
    P, Q = multiply(G1, a), multiply(G2, b)
    px, py = normalize(P)
    qx, qy = normalize(Q)
    p_arr = points.g1_from_ints([(int(px), int(py))])[0]
    q_arr = points.g2_from_ints([((int(qx.coeffs[0]), int(qx.coeffs[1])), (int(qy.coeffs[0]), int(qy.coeffs[1])))])[0]
    compile_s = first_call(lambda: pairing(p_arr, q_arr))
    ours = best_of(lambda: pairing(p_arr, q_arr), 5)
    ref = best_of(lambda: py_pairing(Q, P), 1)
    rows.append({"op": "pairing", "size": 1, "ours_s": ours, "ref_s": ref, "first_call_s": compile_s,
                 "reference": "py_ecc pairing"})


SECTIONS = {
    "fields": bench_field_products,
    "g1": bench_g1_add,
    "msm": bench_msm,
    "ntt": bench_ntt,
    "pairing": bench_pairing,
}


def ratio(row: dict) -> float:
    if "ours_per_s" in row:
        return row["ours_per_s"] / row["ref_per_s"]
    return row["ref_s"] / row["ours_s"]


def print_table(rows: list, machine: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"kernels on {machine['cpu']} ({machine['cores']} cores, gpu: {machine['gpu']})")
    for col in ("operation", "ours", "reference", "speed-up", "first call", "reference is"):
        table.add_column(col)
    for row in rows:
        if "error" in row:
            table.add_row(row["op"], "not measured", "", "", "", row["error"])
            continue
        if "ours_per_s" in row:
            ours, ref = f"{row['ours_per_s']:.3g}/s", f"{row['ref_per_s']:.3g}/s"
        else:
            ours, ref = f"{row['ours_s'] * 1e3:.1f} ms", f"{row['ref_s'] * 1e3:.1f} ms"
        table.add_row(row["op"], ours, ref, f"{ratio(row):.1f}x", f"{row['first_call_s']:.1f} s", row["reference"])
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kernels", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not for the record)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ",".join(SECTIONS))
    args = parser.parse_args(argv)
    machine = machine_info()
    rows: list = []
    for name in args.only.split(","):
        section = SECTIONS[name]
        try:
            if name == "msm":
                section(rows, args.quick, args.device)
            else:
                section(rows, args.quick)
        except ImportError as exc:
            # A kernel that is not built yet is reported as such, never given a number.
            rows.append({"op": name, "error": f"not available: {exc}"})
    for row in rows:
        if "error" not in row:
            row["speedup"] = ratio(row)
    print_table(rows, machine)
    payload = {"benchmark": "kernels", "quick": args.quick, "device": args.device, "machine": machine, "rows": rows}
    if not args.quick:
        print(f"saved {save_result('kernels', payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
