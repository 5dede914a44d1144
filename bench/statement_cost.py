"""Constraints per value of the statistics statement, beside statement v1 at the same shapes.

    python -m bench.statement_cost [--rows 1024] [--columns 1,4] [--bits 32] [--widths 9,12]

Counts are exact (the R1CS of each shape is built, or loaded from the circuit cache). The v1 counts
are those recorded by bench/statistics_bench.py before statement v2 replaced v1 (bench/results/
statistics-cpu2-amd-epyc.json, r1024, k32, t9), read from that file, not rebuilt: the v1 circuit
code is gone, only its verifier remains. Results: bench/results/statement-cost-<machine>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.machine import machine_info, save_result

V1_RESULTS = Path(__file__).parent / "results" / "statistics-cpu2-amd-epyc.json"


def v1_counts() -> dict[int, int]:
    """{columns: constraints per chunk} of statement v1 at r1024-k32-t9, from the recorded bench."""
    rows = json.loads(V1_RESULTS.read_text())["rows"]
    return {r["columns"]: r["constraints_per_chunk"] for r in rows
            if r["chunk_rows"] == 1024 and r["range_bits"] == 32}


def main(argv: list[str] | None = None) -> int:
    from pipeline.circuit.statistics import STATEMENT, Shape, circuit

    parser = argparse.ArgumentParser(prog="python -m bench.statement_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1024)
    parser.add_argument("--columns", default="1,4")
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--widths", default="9,12")
    args = parser.parse_args(argv)
    baseline = v1_counts()
    out = []
    for width in (int(w) for w in args.widths.split(",")):
        for m in (int(c) for c in args.columns.split(",")):
            shape = Shape(args.rows, m, args.bits, width)
            r1cs = circuit(shape)
            values = args.rows * m
            row = {"shape": shape.key_id(), "constraints": r1cs.n_constraints, "public_inputs": r1cs.n_public,
                   "constraints_per_value": r1cs.n_constraints / values}
            v1 = baseline.get(m) if (args.rows, args.bits, width) == (1024, 32, 9) else None
            if v1:
                row |= {"v1_constraints": v1, "v1_constraints_per_value": v1 / values,
                        "ratio_to_v1": r1cs.n_constraints / v1}
            out.append(row)
            extra = f", {row['ratio_to_v1']:.4f}x v1 ({v1})" if v1 else ""
            print(f"{shape.key_id()}: {r1cs.n_constraints} constraints, {row['constraints_per_value']:.2f} per value"
                  f"{extra}", flush=True)
    print(f"saved {save_result('statement-cost', {'benchmark': 'statement cost', 'statement': STATEMENT, 'machine': machine_info(), 'shapes': out})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
