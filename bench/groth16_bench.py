"""Groth16 proving throughput: our prover against `snarkjs groth16 prove` on the same circom circuit.

For each size 2^k the circuit is `tests/groth16/circuits/chain.circom` with N = 2^k − 3 squarings
(so the QAP domain, constraints plus public-input rows, is exactly 2^k), compiled by circom2 with
`--prime bls12381`, its witness computed by snarkjs, and its .zkey made by `snarkjs groth16 setup`
from a phase-2-ready powers of tau of power max(k) that we write ourselves
(`pipeline.snarkjs.ptau_file.write_ptau`: one party, secrets from the OS CSPRNG and erased, labelled
as a test ceremony; its Lagrange sections are byte-identical to what snarkjs's own `prepare phase2`
computes, which took 6 min 47 s at 2^12 here). The zkey is snarkjs's initial one (no phase-2
contribution, δ = γ = generator): fine for timing, never for use. Both provers then prove the same
.zkey and .wtns; snarkjs verifies both proofs. Reported per size: constraints/s for each prover (ours
warm, and our first call and the key load apart), the ratio, and end to end: `zkp-ledger snarkjs
prove` as a fresh process (start-up and key load included) against `snarkjs groth16 prove`.

"Ours only" rows (`--ours-only`, default 2^12..2^16) make keys for the same circuit with our own
one-party setup (`pipeline.groth16.setup`, no snarkjs), prove warm and first call, and check the
proof with our verifier and with `snarkjs groth16 verify` on the exported verification key.

Everything made along the way is cached under .cache/groth16-bench/ (the ptau, circuits, zkeys; the
ptau and setup times of the run that made them are kept in meta files and reported).

    python -m bench.groth16_bench [--sizes 10,...,16] [--ours-only 12,...,16] [--device cpu|cuda] [--repeats 2]

Results: bench/results/groth16-<machine>.json (see bench.machine).
"""

from __future__ import annotations

import argparse
import json
import os
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


def _meta(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def ensure_ptau(power: int) -> tuple[Path, dict]:
    """Our phase-2-ready powers of tau of at least `power` (a larger cached one serves smaller circuits),
    with {"power", "bytes", "seconds", "label", "made_this_run"}."""
    from pipeline.snarkjs.ptau_file import read_ptau_header, write_ptau

    CACHE.mkdir(parents=True, exist_ok=True)
    for p in range(power, 29):
        path = CACHE / f"pot{p}_ours.ptau"
        if path.exists():
            info = _meta(path.with_suffix(".json")) or {"power": read_ptau_header(path)["power"]}
            return path, {**info, "made_this_run": False}
    path = CACHE / f"pot{power}_ours.ptau"
    print(f"  powers of tau 2^{power}, ours (once; cached) ...", flush=True)
    info = write_ptau(path, power, log=lambda msg: print(f"    {msg}", flush=True))
    path.with_suffix(".json").write_text(json.dumps(info))
    print(f"  powers of tau 2^{power}: {info['seconds']:.1f} s, {info['bytes'] / 2**20:.0f} MiB", flush=True)
    return path, {**info, "made_this_run": True}


def ensure_circuit(tools: dict, k: int, ptau: Path) -> dict:
    """Compiled chain circuit with a domain of 2^k, its witness, and a zkey + verification key made by
    `snarkjs groth16 setup` from `ptau` (all cached; the zkey is remade when the ptau changes)."""
    d = CACHE / f"chain{k}"
    files = {"r1cs": d / "main.r1cs", "wasm": d / "main_js" / "main.wasm", "wtns": d / "witness.wtns",
             "zkey": d / "main.zkey", "vk": d / "verification_key.json", "meta": d / "setup.json"}
    d.mkdir(parents=True, exist_ok=True)
    if not all(files[x].exists() for x in ("r1cs", "wasm", "wtns")):
        steps = (1 << k) - 3
        source = CHAIN.read_text().replace("component main {public [k]} = Chain(8);",
                                           f"component main {{public [k]}} = Chain({steps});")
        (d / "main.circom").write_text(source)
        # circom2 is a WASI program that sees only its working directory: compile with relative paths.
        sh([tools["circom2"], "main.circom", "--r1cs", "--wasm", "--prime", "bls12381", "-o", "."], cwd=d)
        (d / "input.json").write_text(json.dumps({"x": "2", "k": "3"}))
        sh([tools["snarkjs"], "wtns", "calculate", files["wasm"], d / "input.json", files["wtns"]])
    meta = _meta(files["meta"])
    if meta.get("ptau") != ptau.name or not files["zkey"].exists() or not files["vk"].exists():
        print(f"  2^{k}: snarkjs groth16 setup with {ptau.name} ...", flush=True)
        setup_s = sh([tools["snarkjs"], "groth16", "setup", files["r1cs"], ptau, files["zkey"]])
        sh([tools["snarkjs"], "zkey", "export", "verificationkey", files["zkey"], files["vk"]])
        meta = {"ptau": ptau.name, "snarkjs_setup_s": round(setup_s, 3), "made_this_run": True}
        files["meta"].write_text(json.dumps({**meta, "made_this_run": False}))
    files["setup"] = meta
    return files


def snarkjs_verifies(tools, vk, public, proof) -> bool:
    proc = subprocess.run([str(tools["snarkjs"]), "groth16", "verify", str(vk), str(public), str(proof)],
                          capture_output=True, text=True, timeout=600)
    return proc.returncode == 0 and "OK" in proc.stdout


def _timed_proofs(prove_once, repeats: int) -> tuple[list[float], object]:
    times, proof = [], None
    for _ in range(repeats + 1):            # the first call includes any compilation / first touches
        t0 = time.perf_counter()
        proof = prove_once()
        times.append(time.perf_counter() - t0)
    return times, proof


def bench_size(tools: dict, k: int, ptau: Path, device: str, repeats: int) -> dict:
    """Both provers on the snarkjs zkey of size 2^k."""
    from kernels.ff.fields import FR
    from pipeline.groth16 import prove
    from pipeline.snarkjs import read_r1cs, read_wtns, read_zkey
    from pipeline.snarkjs.json_io import proof_to_json, public_to_json, write_json

    files = ensure_circuit(tools, k, ptau)
    d = files["zkey"].parent
    constraints = read_r1cs(files["r1cs"]).n_constraints

    snark_times = [sh([tools["snarkjs"], "groth16", "prove", files["zkey"], files["wtns"],
                       d / "proof_snarkjs.json", d / "public_snarkjs.json"]) for _ in range(repeats)]

    # End to end, as a user runs it: a fresh process each time (start-up, key load and proof); the
    # first also checks the key (remembered by content hash), the rest reuse that check.
    cli = [sys.executable, "-m", "pipeline.cli", "snarkjs", "prove", files["zkey"], files["wtns"],
           d / "proof_cli.json", d / "public_cli.json"]
    cli_times = [sh(cli) for _ in range(repeats + 1)]
    ok_cli = snarkjs_verifies(tools, files["vk"], d / "public_cli.json", d / "proof_cli.json")

    t0 = time.perf_counter()
    zkey = read_zkey(files["zkey"])          # maps the file and checks every point
    load_s = time.perf_counter() - t0
    witness = read_wtns(files["wtns"])
    ours, proof = _timed_proofs(lambda: prove(zkey.pk, zkey.qap, witness, device=device), repeats)
    write_json(d / "proof_ours.json", proof_to_json(proof))
    write_json(d / "public_ours.json", public_to_json(FR.canonical_to_ints(witness[1:zkey.qap.n_public + 1])))
    ok_ours = snarkjs_verifies(tools, files["vk"], d / "public_ours.json", d / "proof_ours.json")
    ok_snark = snarkjs_verifies(tools, files["vk"], d / "public_snarkjs.json", d / "proof_snarkjs.json")
    warm, snark = min(ours[1:]), min(snark_times)
    row = {"log2_domain": k, "constraints": constraints, "device": device, "ptau": ptau.name,
           "snarkjs_setup_s": files["setup"]["snarkjs_setup_s"],
           "snarkjs_setup_made_this_run": files["setup"]["made_this_run"],
           "ours_first_s": round(ours[0], 3), "ours_warm_s": round(warm, 3), "ours_key_load_s": round(load_s, 3),
           "snarkjs_s": round(snark, 3),
           "ours_constraints_per_s": round(constraints / warm), "snarkjs_constraints_per_s": round(constraints / snark),
           "speedup_vs_snarkjs": round(snark / warm, 2),
           "speedup_incl_key_load": round(snark / (warm + load_s), 2),
           "cli_ours_first_s": round(cli_times[0], 3), "cli_ours_s": round(min(cli_times[1:]), 3),
           "cli_speedup_vs_snarkjs": round(snark / min(cli_times[1:]), 2), "snarkjs_accepts_cli_proof": ok_cli,
           "snarkjs_accepts_ours": ok_ours, "snarkjs_accepts_its_own": ok_snark,
           "load_average_1min": round(os.getloadavg()[0], 2)}   # shared machine: other work slows both
    print(f"  2^{k}: {constraints} constraints  ours {warm:.2f} s (first {ours[0]:.2f} s, key load {load_s:.2f} s)"
          f"  snarkjs {snark:.2f} s  ratio {snark / warm:.2f}x  verified {ok_ours}; end to end `zkp-ledger snarkjs prove`"
          f" {min(cli_times[1:]):.2f} s (first, checking the key, {cli_times[0]:.2f} s), {snark / min(cli_times[1:]):.2f}x",
          flush=True)
    return row


def bench_ours_only(tools: dict, k: int, ptau: Path, device: str, repeats: int) -> dict:
    """Our setup and prover on the same circuit, no snarkjs key: setup time, first and warm proofs."""
    from pipeline.groth16 import prove, qap_matrices, setup, verify
    from pipeline.snarkjs import read_r1cs, read_wtns
    from pipeline.snarkjs.json_io import proof_to_json, public_to_json, vk_to_json, write_json

    files = ensure_circuit(tools, k, ptau)
    d = files["zkey"].parent
    r1cs = read_r1cs(files["r1cs"])
    witness = read_wtns(files["wtns"])
    r1cs.check_witness(witness)
    public = r1cs.public_inputs(witness)
    t0 = time.perf_counter()
    pk, vk = setup(r1cs)
    setup_s = time.perf_counter() - t0
    qap = qap_matrices(r1cs)
    ours, proof = _timed_proofs(lambda: prove(pk, qap, witness, device=device), repeats)
    ok = verify(vk, public, proof)
    write_json(d / "vk_ours_setup.json", vk_to_json(vk))
    write_json(d / "proof_ours_setup.json", proof_to_json(proof))
    write_json(d / "public_ours_setup.json", public_to_json(public))
    ok_snark = snarkjs_verifies(tools, d / "vk_ours_setup.json", d / "public_ours_setup.json",
                                d / "proof_ours_setup.json")
    warm = min(ours[1:])
    row = {"log2_domain": k, "constraints": r1cs.n_constraints, "device": device, "keys": "ours (one-party setup)",
           "ours_setup_s": round(setup_s, 3), "ours_first_s": round(ours[0], 3), "ours_warm_s": round(warm, 3),
           "ours_constraints_per_s": round(r1cs.n_constraints / warm),
           "verified_by_ours": ok, "snarkjs_accepts_ours": ok_snark,
           "load_average_1min": round(os.getloadavg()[0], 2)}
    print(f"  2^{k} (our keys): setup {setup_s:.1f} s  prove {warm:.2f} s (first {ours[0]:.2f} s)"
          f"  {r1cs.n_constraints / warm:.0f} constraints/s  verified {ok} / snarkjs {ok_snark}", flush=True)
    return row


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,11,12,13,14,15,16",
                        help="log2 of the domain sizes proved by both provers (default 10..16)")
    parser.add_argument("--ours-only", default="12,13,14,15,16",
                        help="log2 sizes proved with our own setup's keys, no snarkjs (default 12..16; '' for none)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    sizes, ours_only = _sizes(args.sizes), _sizes(args.ours_only)
    tools = ensure_tools()
    ptau, ptau_info = ensure_ptau(max(sizes + ours_only))
    rows = [bench_size(tools, k, ptau, args.device, args.repeats) for k in sizes]
    own = [bench_ours_only(tools, k, ptau, args.device, args.repeats) for k in ours_only]
    path = save_result("groth16", {
        "machine": machine_info(), "benchmark": "groth16 prove vs snarkjs groth16 prove",
        "circuit": "tests/groth16/circuits/chain.circom, N = 2^k - 3 squarings",
        "ptau": {**ptau_info, "file": ptau.name,
                 "note": "written by pipeline.snarkjs.ptau_file (one-party test ceremony); "
                         "snarkjs groth16 setup takes it, powersoftau verify does not (no transcript)"},
        "zkey": "snarkjs groth16 setup output, no phase-2 contribution (delta = gamma = generator): timing only",
        "rows": rows, "rows_ours_setup": own})
    print("\n  log2  constraints   ours s  snarkjs s  ratio   ours c/s  snarkjs c/s")
    for r in rows:
        print(f"  {r['log2_domain']:>4}  {r['constraints']:>11}  {r['ours_warm_s']:>7.2f}  {r['snarkjs_s']:>9.2f}"
              f"  {r['speedup_vs_snarkjs']:>5.2f}  {r['ours_constraints_per_s']:>9}  {r['snarkjs_constraints_per_s']:>11}")
    for r in own:
        print(f"  {r['log2_domain']:>4}  {r['constraints']:>11}  {r['ours_warm_s']:>7.2f}  {'(our keys)':>9}"
              f"  {'':>5}  {r['ours_constraints_per_s']:>9}")
    print(f"results: {path}")
    ok = all(r["snarkjs_accepts_ours"] and r["snarkjs_accepts_cli_proof"] for r in rows) and all(r["verified_by_ours"] and r["snarkjs_accepts_ours"]
                                                              for r in own)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
