"""Ceremony contribution times: a .ptau contribution at 2^power and a .zkey contribution for a
statistics shape, with snarkjs's time on the same file beside ours when asked.

    python -m bench.ceremony_bench [--ptau-powers 14,18] [--shapes r1024-c4-k32-t9] [--snarkjs]

The .ptau starts from `ceremony new` (the contribution's cost does not depend on earlier ones).
The .zkey starts from `ceremony circuit` (ours, timed apart) on a one-party prepared ptau
(`write_ptau`, benchmarks only); `--snarkjs-zkey-new` also times `snarkjs zkey new` on the same
files (about 20 minutes at 175k constraints on 2 cores). Results (seconds, points, points/s) are
written after each case to bench/results/ceremony-<machine>.json, with the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.machine import machine_info, save_result

SNARKJS = Path(__file__).resolve().parents[1] / ".cache" / "npm" / "node_modules" / ".bin" / "snarkjs"


def _timed(fn, *args, **kw) -> float:
    start = time.perf_counter()
    fn(*args, **kw)
    return round(time.perf_counter() - start, 2)


def _snarkjs(*args, timeout=7200) -> float:
    start = time.perf_counter()
    subprocess.run([str(SNARKJS), *map(str, args)], check=True, capture_output=True, timeout=timeout)
    return round(time.perf_counter() - start, 2)


def bench_ptau(power: int, work: Path, with_snarkjs: bool) -> dict:
    from pipeline.ceremony.powersoftau_contribute import contribute_ptau
    from pipeline.ceremony.powersoftau_new import new_ptau

    new_ptau(power, work / "p0.ptau")
    row = {"case": "ptau contribute", "power": power, "load_average_1min": round(os.getloadavg()[0], 2),
           "points_g1": 2 ** (power + 1) - 1 + 2 ** (power + 1), "points_g2": 2 ** power + 1}
    row["ours_seconds"] = _timed(contribute_ptau, work / "p0.ptau", work / "p1.ptau", "bench")
    if with_snarkjs:
        row["snarkjs_seconds"] = _snarkjs("powersoftau", "contribute", work / "p0.ptau", work / "s1.ptau",
                                          "--name=bench", "-e=bench")
    for p in work.glob("*.ptau"):
        p.unlink()
    return row


def bench_zkey(shape_text: str, work: Path, with_snarkjs: bool, snarkjs_zkey_new: bool) -> dict:
    from pipeline.ceremony.zkey_contribute import contribute_zkey
    from pipeline.ceremony.zkey_new import circuit_zkey
    from pipeline.circuit.statistics import Shape, circuit
    from pipeline.groth16.r1cs_to_qap import qap_matrices
    from pipeline.snarkjs.ptau_file import write_ptau

    r1cs = circuit(Shape.parse(shape_text))
    power = qap_matrices(r1cs).domain_size.bit_length() - 1
    row = {"case": "zkey contribute", "shape": shape_text, "constraints": r1cs.n_constraints, "domain_power": power}
    row["ptau_one_party_seconds"] = _timed(write_ptau, work / "p.ptau", power + 1)
    row["zkey_new_ours_seconds"] = _timed(circuit_zkey, shape_text, work / "p.ptau", work / "c0.zkey")
    if snarkjs_zkey_new:
        row["snarkjs_zkey_new_seconds"] = _snarkjs("zkey", "new", work / "c0.r1cs", work / "p.ptau", work / "s0.zkey")
    row["points_g1"] = r1cs.n_vars - r1cs.n_public - 1 + 2 ** power
    row["load_average_1min"] = round(os.getloadavg()[0], 2)
    row["ours_seconds"] = _timed(contribute_zkey, work / "c0.zkey", work / "c1.zkey", "bench")
    if with_snarkjs:
        row["snarkjs_seconds"] = _snarkjs("zkey", "contribute", work / "c0.zkey", work / "s1.zkey",
                                          "--name=bench", "-e=bench")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ptau-powers", default="18")
    ap.add_argument("--shapes", default="r1024-c4-k32-t9")
    ap.add_argument("--snarkjs", action="store_true", help="also time snarkjs's contributions on the same input")
    ap.add_argument("--snarkjs-zkey-new", action="store_true", help="also time `snarkjs zkey new` (slow)")
    ap.add_argument("--work", help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    rows = []
    payload = {"machine": machine_info(), "benchmark": "ceremony contributions (ours vs snarkjs)", "rows": rows}
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        for power in [int(p) for p in args.ptau_powers.split(",") if p]:
            rows.append(bench_ptau(power, work, args.snarkjs))
            print(rows[-1], flush=True)
            save_result("ceremony", payload)
        for shape in [s for s in args.shapes.split(",") if s]:
            rows.append(bench_zkey(shape, work, args.snarkjs, args.snarkjs_zkey_new))
            print(rows[-1], flush=True)
            save_result("ceremony", payload)
    print(save_result("ceremony", payload))


if __name__ == "__main__":
    main()
