"""Groth16 proving throughput: our prover against `snarkjs groth16 prove` on the same circom circuit.

For each size 2^k the circuit is `tests/groth16/circuits/chain.circom` with N = 2^k − 3 squarings
(so the QAP domain, constraints plus public-input rows, is exactly 2^k), compiled by circom2 with
`--prime bls12381`, its witness computed by snarkjs, and its .zkey made by snarkjs from a one-
contribution powers of tau of power k + 1 (snarkjs's H points need the 2^(k+1) Lagrange basis).
Both provers then prove the same .zkey and .wtns; snarkjs verifies both proofs. Reported per size:
constraints/s for each prover (ours warm, and our first call with its compilation apart), and the
ratio. Everything snarkjs makes is cached under .cache/groth16-bench/ (the ceremony dominates).

    python -m bench.groth16_bench [--sizes 10,12,14,16] [--device cpu|cuda] [--repeats 2]

The ceremony is snarkjs's `powersoftau prepare phase2`, which alone takes minutes at 2^12 on two
cores and grows about 2.2x per power: make the 2^17 file once on a bigger machine and drop it in
.cache/groth16-bench/pot17_final.ptau to run 2^16 here.

Results: bench/results/groth16-<machine>.json (see bench.machine).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench.machine import machine_info, save_result

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "groth16-bench"
NPM_BIN = REPO / ".cache" / "npm" / "node_modules" / ".bin"
CHAIN = REPO / "tests" / "groth16" / "circuits" / "chain.circom"


def sh(cmd, timeout=7200, cwd=None) -> float:
    """Run a command (raising with its output on failure); return its wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def ensure_tools() -> dict:
    tools = {"snarkjs": NPM_BIN / "snarkjs", "circom2": NPM_BIN / "circom2"}
    if not all(p.exists() for p in tools.values()):
        sh(["npm", "install", "--prefix", REPO / ".cache" / "npm", "snarkjs", "circom2"])
    return tools


def ensure_ptau(tools: dict, power: int) -> Path:
    """A prepared powers of tau of at least `power` (a larger cached one serves smaller circuits)."""
    for p in range(power, 29):
        if (CACHE / f"pot{p}_final.ptau").exists():
            return CACHE / f"pot{p}_final.ptau"
    final = CACHE / f"pot{power}_final.ptau"
    if not final.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        s = tools["snarkjs"]
        p0, p1 = CACHE / f"pot{power}_0.ptau", CACHE / f"pot{power}_1.ptau"
        print(f"  powers of tau 2^{power} (once; cached) ...", flush=True)
        sh([s, "powersoftau", "new", "bls12-381", power, p0])
        sh([s, "powersoftau", "contribute", p0, p1, "--name=bench", "-e=zkp-ledger bench entropy"])
        tmp = final.with_suffix(".tmp")
        sh([s, "powersoftau", "prepare", "phase2", p1, tmp])
        tmp.rename(final)
        p0.unlink()
        p1.unlink()
    return final


def ensure_circuit(tools: dict, k: int) -> dict:
    """Compiled chain circuit with a domain of 2^k, its witness, zkey and verification key (cached)."""
    d = CACHE / f"chain{k}"
    files = {"r1cs": d / "main.r1cs", "wasm": d / "main_js" / "main.wasm", "wtns": d / "witness.wtns",
             "zkey": d / "main.zkey", "vk": d / "verification_key.json"}
    if all(p.exists() for p in files.values()):
        return files
    d.mkdir(parents=True, exist_ok=True)
    steps = (1 << k) - 3
    source = CHAIN.read_text().replace("component main {public [k]} = Chain(8);",
                                       f"component main {{public [k]}} = Chain({steps});")
    (d / "main.circom").write_text(source)
    s, c = tools["snarkjs"], tools["circom2"]
    # circom2 is a WASI program that sees only its working directory: compile with relative paths.
    sh([c, "main.circom", "--r1cs", "--wasm", "--prime", "bls12381", "-o", "."], cwd=d)
    (d / "input.json").write_text(json.dumps({"x": "2", "k": "3"}))
    sh([s, "wtns", "calculate", files["wasm"], d / "input.json", files["wtns"]])
    ptau = ensure_ptau(tools, k + 1)
    sh([s, "groth16", "setup", files["r1cs"], ptau, files["zkey"]])
    sh([s, "zkey", "export", "verificationkey", files["zkey"], files["vk"]])
    return files


def snarkjs_verifies(tools, vk, public, proof) -> bool:
    proc = subprocess.run([str(tools["snarkjs"]), "groth16", "verify", str(vk), str(public), str(proof)],
                          capture_output=True, text=True, timeout=600)
    return proc.returncode == 0


def bench_size(tools: dict, k: int, device: str, repeats: int) -> dict:
    from kernels.ff.fields import FR
    from pipeline.groth16 import prove
    from pipeline.snarkjs import read_r1cs, read_wtns, read_zkey
    from pipeline.snarkjs.json_io import proof_to_json, public_to_json, write_json

    files = ensure_circuit(tools, k)
    d = files["zkey"].parent
    constraints = read_r1cs(files["r1cs"]).n_constraints

    snark_times = []
    for _ in range(repeats):
        snark_times.append(sh([tools["snarkjs"], "groth16", "prove", files["zkey"], files["wtns"],
                               d / "proof_snarkjs.json", d / "public_snarkjs.json"]))

    t0 = time.perf_counter()
    zkey = read_zkey(files["zkey"])
    load_s = time.perf_counter() - t0
    witness = read_wtns(files["wtns"])
    ours, proof = [], None
    for _ in range(repeats + 1):            # the first call includes any compilation
        t0 = time.perf_counter()
        proof = prove(zkey.pk, zkey.qap, witness, device=device)
        ours.append(time.perf_counter() - t0)
    write_json(d / "proof_ours.json", proof_to_json(proof))
    write_json(d / "public_ours.json", public_to_json(FR.canonical_to_ints(witness[1:zkey.qap.n_public + 1])))
    ok_ours = snarkjs_verifies(tools, files["vk"], d / "public_ours.json", d / "proof_ours.json")
    ok_snark = snarkjs_verifies(tools, files["vk"], d / "public_snarkjs.json", d / "proof_snarkjs.json")
    warm = min(ours[1:])
    snark = min(snark_times)
    row = {"log2_domain": k, "constraints": constraints, "device": device,
           "ours_first_s": round(ours[0], 3), "ours_warm_s": round(warm, 3), "ours_key_load_s": round(load_s, 3),
           "snarkjs_s": round(snark, 3),
           "ours_constraints_per_s": round(constraints / warm), "snarkjs_constraints_per_s": round(constraints / snark),
           "speedup_vs_snarkjs": round(snark / warm, 2),
           "speedup_incl_key_load": round(snark / (warm + load_s), 2),
           "snarkjs_accepts_ours": ok_ours, "snarkjs_accepts_its_own": ok_snark}
    print(f"  2^{k}: {constraints} constraints  ours {warm:.2f} s (first {ours[0]:.2f} s, key load {load_s:.2f} s)"
          f"  snarkjs {snark:.2f} s  ratio {snark / warm:.2f}x  verified {ok_ours}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,12,14,16", help="log2 of the domain sizes (default 10,12,14,16)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    tools = ensure_tools()
    rows = []
    for k in [int(x) for x in args.sizes.split(",")]:
        rows.append(bench_size(tools, k, args.device, args.repeats))
    path = save_result("groth16", {"machine": machine_info(), "benchmark": "groth16 prove vs snarkjs groth16 prove",
                                   "circuit": "tests/groth16/circuits/chain.circom, N = 2^k - 3 squarings",
                                   "rows": rows})
    print(f"results: {path}")
    return 0 if all(r["snarkjs_accepts_ours"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
