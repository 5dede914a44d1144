"""One call on a GPU machine: install the carried wheels, run the GPU tests, run the GPU benchmarks,
print the static build table (bench/gpu_static.py: registers and spills for sm_80/sm_90, no GPU
involved) and a short table last. The static table needs libNVVM, ptxas and nvdisasm (wheels
nvidia-cuda-nvcc-cu12 and nvidia-cuda-nvdisasm, 46 MB, more than the carry holds beside the
others); where they are absent it says so and the rest runs (`--skip-static` leaves it out).

    python3 bench/gpu_check.py                 # on the GPU machine (device tool: carry ".whl")
    python3 bench/gpu_check.py --simulate      # dry run here, in Numba's CUDA simulator, tiny sizes
    python3 bench/gpu_check.py --only-msm --skip-static     # the device MSM only: tests, G1/G2 2^16..2^20
    python3 bench/gpu_check.py --only-prove --skip-static   # the device prover only: its tests, one chunk

The prover row proves one statistics chunk (`--prove-shape`, default r256-c1-k32-t9, keys made here
by the one-party setup, timed apart) with device "cuda" (the key resident on the GPU, H's transforms
there) and with the CPU, checks every proof under the verifying key and that the key went to the
device once, and reports proofs/s; under --simulate it proves a 3-constraint circuit instead.

Wheels: `../shared/tools/offline-wheels.sh .whl cryptography cffi pycparser` on the development
machine, `.whl` named in the device call's `carry`. Results go to bench/results/gpu-<machine>.json
and, when $OUT is set, to $OUT/gpu_check.json. Every figure is measured in this run beside the
CPU doing the same work; nothing is carried over from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE = Path("/tmp/zkp-site")


def install_wheels() -> None:
    """pip-install .whl/*.whl into SITE (no network there) and re-exec with it on the path."""
    wheels = sorted((REPO / ".whl").glob("*.whl"))
    if not wheels or os.environ.get("ZKP_GPU_CHECK_INSTALLED") == "1":
        return
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                    "--target", str(SITE), *map(str, wheels)], check=True)
    env = dict(os.environ, ZKP_GPU_CHECK_INSTALLED="1",
               PYTHONPATH=os.pathsep.join([str(SITE), str(REPO), os.environ.get("PYTHONPATH", "")]))
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


DEVICE_PROVER_TESTS = ["tests/kernels/test_msm_resident.py", "tests/groth16/test_device_prover.py"]


def run_gpu_tests(simulate: bool, only_msm: bool = False, only_prove: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SITE), str(REPO), os.environ.get("PYTHONPATH", "")]))
    if not simulate:
        env["ZKP_GPU_TESTS"] = "1"
    # the device prover's modules by name: their tests say "device", not "cuda"
    selection = ("cuda or gpu" if not simulate else "cuda") + " or test_msm_resident or test_device_prover"
    if only_msm:
        where = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests/kernels").glob("test_msm_cuda*.py"))
    elif only_prove:
        where = DEVICE_PROVER_TESTS
    else:
        where = ["tests/kernels", DEVICE_PROVER_TESTS[1]]
    # `gpu` tests take sizes only a GPU runs in seconds (the simulator would take hours)
    marks = "not slow" if not simulate else "not slow and not gpu"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-m", marks,
           "-k", selection, *where]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    tail = (proc.stdout + proc.stderr).strip().splitlines()
    print("\n".join(tail[-25:]), flush=True)
    return {"command": " ".join(cmd), "exit": proc.returncode, "seconds": time.perf_counter() - start,
            "summary": tail[-1] if tail else ""}


MSM_KERNELS = ("msm_recode", "msm_chunk_g1", "msm_chunk_g2", "msm_combine_g1", "msm_combine_g2",
               "msm_reduce_g1", "msm_reduce_g2", "msm_windows_g1", "msm_windows_g2")
PROVER_KERNELS = MSM_KERNELS + ("ntt_bit_reverse", "ntt_stage", "ntt_mul_rows", "ntt_scale", "ntt_sub_rows",
                                "ntt_from_mont")


def run_static_check(names=None) -> dict:
    """bench.gpu_static for sm_80 and sm_90 (`names`, default all kernels), or why it could not run
    (its tools are absent here)."""
    from bench import gpu_static

    absent = gpu_static.missing_tools(gpu_static.find_toolchain())
    if absent:
        return {"error": "not run, missing " + ", ".join(absent) + " (carry the wheels in .whl)"}
    try:
        return gpu_static.run_static(names=names)
    except Exception as exc:  # reported beside the GPU figures, never hides them
        return {"error": f"{type(exc).__name__}: {exc}"[:1000]}


def timed(fn, repeats: int = 3) -> tuple[float, float]:
    """(first call seconds, best warm seconds)."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return first, best


def bench_fq_products(rows: list, n: int) -> None:
    import numpy as np
    from numba import cuda

    from bench.gpu_kernels import fq_mul_chain_kernel
    from kernels.ff.fields import FQ

    reps = 64
    a = FQ.from_ints([3 + k for k in range(1024)])
    a = np.tile(a, (n // 1024, 1))
    d_a = cuda.to_device(a)
    d_out = cuda.device_array_like(a)
    threads = 128
    blocks = (n + threads - 1) // threads

    def gpu():
        fq_mul_chain_kernel[blocks, threads](d_out, d_a, reps)
        cuda.synchronize()

    first, best = timed(gpu)
    out = d_out.copy_to_host()
    check = a.copy()
    cpu_out = np.empty_like(a[:1024])
    for _ in range(reps):                       # same chain on the CPU for 1024 lanes: x <- x·a
        FQ.mul_vec(cpu_out, check[:1024], a[:1024]) if _ == 0 else FQ.mul_vec(cpu_out, cpu_out, a[:1024])
    ok = bool(np.array_equal(out[:1024], cpu_out))
    cpu_t = timed(lambda: FQ.mul_vec(np.empty_like(a), a, a), 1)[1]
    rows.append({"op": "Fq products", "size": n * reps, "gpu_per_s": n * reps / best, "cpu_per_s": n / cpu_t,
                 "first_call_s": first, "matches_cpu": ok})


def bench_msm(rows: list, log_n: int) -> None:
    import secrets

    import numpy as np

    from kernels.ec import points
    from kernels.ff.fields import FR
    from kernels.msm.pippenger import msm_g1

    n = 1 << log_n
    base = np.stack([points.g1_mul(points.g1_generator(), secrets.randbelow(FR.modulus)) for _ in range(64)])
    pts = np.ascontiguousarray(np.tile(base, (n // 64, 1, 1)))
    scalars = FR.canonical([secrets.randbelow(FR.modulus) for _ in range(n)])
    first, gpu_t = timed(lambda: msm_g1(pts, scalars, device="cuda"), 1)
    cpu_first, cpu_t = timed(lambda: msm_g1(pts, scalars, device="cpu"), 0 if log_n > 14 else 1)
    cpu_t = cpu_t if cpu_t != float("inf") else cpu_first
    ok = bool(np.array_equal(msm_g1(pts, scalars, device="cuda"), msm_g1(pts, scalars, device="cpu")))
    rows.append({"op": f"MSM G1 2^{log_n}", "size": n, "gpu_s": gpu_t, "cpu_s": cpu_t, "first_call_s": first,
                 "matches_cpu": ok})


def bench_msm_device(rows: list, group: str, log_n: int, scalar_bits: int = 255) -> None:
    """msm_g1_cuda / msm_g2_cuda (every bucket stage on the device) beside the CPU MSM, 2^log_n points."""
    import secrets

    import numpy as np

    from kernels.ec import points
    from kernels.ff.fields import FR
    from kernels.msm import cuda_msm, pippenger

    n = 1 << log_n
    gen, mul = (points.g1_generator(), points.g1_mul) if group == "g1" else (points.g2_generator(), points.g2_mul)
    base = np.stack([mul(gen, secrets.randbelow(FR.modulus)) for _ in range(min(n, 64))])
    pts = np.ascontiguousarray(np.tile(base, (n // base.shape[0],) + (1,) * (base.ndim - 1)))
    top = FR.modulus if scalar_bits >= 255 else 1 << scalar_bits
    scalars = FR.canonical([secrets.randbelow(top) for _ in range(n)])
    device_msm = cuda_msm.msm_g1_cuda if group == "g1" else cuda_msm.msm_g2_cuda
    cpu_msm = pippenger.msm_g1 if group == "g1" else pippenger.msm_g2
    got = None

    def gpu():
        nonlocal got
        got = device_msm(pts, scalars)

    first, gpu_t = timed(gpu, 2)
    t0 = time.perf_counter()
    want = cpu_msm(pts, scalars)
    cpu_t = time.perf_counter() - t0
    rows.append({"op": f"MSM {group.upper()} 2^{log_n} on device", "size": n, "gpu_s": gpu_t, "cpu_s": cpu_t,
                 "first_call_s": first, "matches_cpu": bool(np.array_equal(got, want))})


def bench_ntt(rows: list, log_n: int) -> None:
    import secrets

    import numpy as np

    from kernels.ff.fields import FR
    from kernels.ntt import ntt
    from kernels.ntt.device import ntt_device

    n = 1 << log_n
    vals = np.tile(FR.from_ints([secrets.randbelow(FR.modulus) for _ in range(1024)]), (n // 1024, 1))
    first, gpu_t = timed(lambda: ntt_device(vals))
    cpu_t = timed(lambda: ntt(vals), 1)[1]
    ok = bool(np.array_equal(ntt_device(vals), ntt(vals)))
    rows.append({"op": f"NTT Fr 2^{log_n} (with copies)", "size": n, "gpu_s": gpu_t, "cpu_s": cpu_t,
                 "first_call_s": first, "matches_cpu": ok})


def bench_poseidon(rows: list, n: int) -> None:
    import secrets

    import numpy as np

    from kernels.ff.fields import FR
    from kernels.poseidon import permute_batch_inplace
    from kernels.poseidon.device import permute_batch_device

    t = 9
    states = FR.from_ints([secrets.randbelow(FR.modulus) for _ in range(n * t)]).reshape(n, t, 8)
    first, gpu_t = timed(lambda: permute_batch_device(states.copy(), t))
    cpu_t = timed(lambda: permute_batch_inplace(states.copy(), t), 1)[1]
    ok = bool(np.array_equal(permute_batch_device(states.copy(), t), permute_batch_inplace(states.copy(), t)))
    rows.append({"op": f"Poseidon t=9 x{n}", "size": n, "gpu_s": gpu_t, "cpu_s": cpu_t, "first_call_s": first,
                 "matches_cpu": ok})


def _tiny_circuit():
    """out = a²·x + 7 with x, out public: 3 constraints (a QAP domain of 8), for the simulator."""
    from pipeline.groth16 import R1CSBuilder

    b = R1CSBuilder()
    x = b.public_input("x", 3)
    a = b.private_input("a", 5)
    product = b.mul(b.mul(a, a, "a squared"), x, "a² times x")
    b.assert_equal(product + 7, b.public_input("out", 82), "out")
    return b.build(), b.witness()


def bench_prove(rows: list, shape_text: str | None) -> None:
    """Groth16 proofs of one statistics chunk of `shape_text` (None: the tiny circuit) with device
    "cuda" beside the CPU, in proofs/s; every proof verified, the key uploaded to the device once."""
    from pipeline.groth16 import device_key, prove, setup, verify
    from pipeline.groth16.r1cs_to_qap import domain_size_for

    if shape_text is None:
        r1cs, z = _tiny_circuit()
        label = "3 constraints"
    else:
        from pipeline.circuit.statistics import Shape, circuit, sample_assignment
        shape = Shape.parse(shape_text)
        r1cs, z = circuit(shape), sample_assignment(shape)
        label = shape.key_id()
    t0 = time.perf_counter()
    pk, vk = setup(r1cs)
    setup_s = time.perf_counter() - t0
    proofs = []
    resident = []

    def on_device():
        proofs.append(prove(pk, r1cs, z, device="cuda"))
        resident.append(device_key.resident_key(pk))    # the same device copy after every proof: one upload

    first, gpu_t = timed(on_device, 2)
    cpu_first, cpu_t = timed(lambda: proofs.append(prove(pk, r1cs, z, device="cpu")), 1)
    public = r1cs.public_inputs(z)
    uploads = len({id(copy) for copy in resident})
    ok = uploads == 1 and all(verify(vk, public, proof) for proof in proofs)
    log_n = domain_size_for(r1cs.n_constraints, r1cs.n_public).bit_length() - 1
    rows.append({"op": f"Groth16 proofs {label} 2^{log_n}", "size": r1cs.n_constraints, "gpu_per_s": 1 / gpu_t,
                 "cpu_per_s": 1 / cpu_t, "gpu_s": gpu_t, "cpu_s": cpu_t, "first_call_s": first,
                 "cpu_first_call_s": cpu_first, "setup_s": setup_s, "key_uploads": uploads,
                 "key_device_bytes": device_key.key_device_bytes(pk), "matches_cpu": ok})


def print_table(result: dict) -> None:
    from bench.gpu_static import format_table

    static = result.get("static", {"error": "skipped"})
    print()
    print(format_table(static) if "error" not in static else f"static build table: {static['error']}")
    print()
    print(f"GPU check on {result['machine'].get('gpu') or 'no GPU (simulator)'}; tests: {result['tests']['summary']}")
    print(f"{'operation':<32}{'GPU':>14}{'CPU':>14}{'ratio':>9}{'1st call':>10}  same result")
    for row in result["rows"]:
        if "error" in row:
            print(f"{row['op']:<32}{'error: ' + row['error'][:70]}")
            continue
        if "gpu_per_s" in row:
            gpu, cpu, ratio = f"{row['gpu_per_s']:.3g}/s", f"{row['cpu_per_s']:.3g}/s", row["gpu_per_s"] / row["cpu_per_s"]
        else:
            gpu, cpu, ratio = f"{row['gpu_s'] * 1e3:.1f} ms", f"{row['cpu_s'] * 1e3:.1f} ms", row["cpu_s"] / row["gpu_s"]
        print(f"{row['op']:<32}{gpu:>14}{cpu:>14}{ratio:>8.1f}x{row['first_call_s']:>9.1f}s  {row['matches_cpu']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulate", action="store_true", help="dry run in the CUDA simulator with tiny sizes")
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--skip-static", action="store_true", help="skip the sm_80/sm_90 build table")
    parser.add_argument("--only-msm", action="store_true",
                        help="only the device MSM: its tests, its kernels' build table, G1/G2 at --msm-sizes")
    parser.add_argument("--msm-sizes", default="16,18,20", help="log2 point counts of the device MSM rows")
    parser.add_argument("--only-prove", action="store_true",
                        help="only the device prover: its tests, its kernels' build table, one chunk's proofs")
    parser.add_argument("--prove-shape", default="r256-c1-k32-t9", help="circuit shape of the prover row")
    args = parser.parse_args()
    if args.simulate:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
        # the simulator runs the limb arithmetic on NumPy scalars, which warn on intended wrap-around
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
    else:
        install_wheels()
    sys.path[:0] = [str(SITE), str(REPO)]
    from bench.machine import machine_info, save_result

    tests = {"summary": "skipped"} if args.skip_tests else run_gpu_tests(args.simulate, args.only_msm,
                                                                         args.only_prove)
    kernels = MSM_KERNELS if args.only_msm else PROVER_KERNELS if args.only_prove else None
    static = {"error": "skipped"} if args.skip_static else run_static_check(kernels)
    small = args.simulate
    rows: list = []
    plan = [] if args.only_msm or args.only_prove else [
        ("fq", bench_fq_products, (1 << (10 if small else 22),)), ("msm", bench_msm, (6 if small else 16,)),
        ("ntt", bench_ntt, (10 if small else 20,)), ("poseidon", bench_poseidon, (4 if small else 1 << 16,))]
    # the device MSM: G1 and G2 at each size (the simulator: 8 points, 8-bit scalars)
    sizes = [3] if small else [int(k) for k in args.msm_sizes.split(",") if k]
    if not args.only_prove:
        plan += [(f"msm {g} device 2^{k}", bench_msm_device, (g, k) + ((8,) if small else ()))
                 for g in ("g1", "g2") for k in sizes]
    # the device prover: one statistics chunk (the simulator: the tiny circuit)
    if not args.only_msm:
        plan.append(("prove device", bench_prove, (None if small else args.prove_shape,)))
    for name, fn, fn_args in plan:
        try:
            fn(rows, *fn_args)
        except Exception as exc:  # a failing GPU path is reported in the table, never given a number
            rows.append({"op": name, "error": f"{type(exc).__name__}: {exc}"})
    result = {"benchmark": "gpu_check", "simulated": args.simulate, "machine": machine_info(), "tests": tests,
              "static": static, "rows": rows}
    if not args.simulate:
        print(f"saved {save_result('gpu', result)}")
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_check.json").write_text(json.dumps(result, indent=2, sort_keys=True))
    print_table(result)
    # a build problem fails the check; tools absent on the GPU machine only leave the table out
    static_error = static.get("error", "")
    static_ok = not static.get("problems") and (not static_error or static_error.startswith(("skipped", "not run")))
    rows_ok = all("error" not in r and r["matches_cpu"] for r in rows)
    return 0 if tests.get("exit", 0) == 0 and static_ok and rows_ok else 1


if __name__ == "__main__":
    sys.exit(main())
