"""GPU checks that need no GPU: every CUDA kernel of the project built for sm_80 and sm_90.

    python -m bench.gpu_static                         # table; saves bench/results/gpu-static-<machine>.json
    python -m bench.gpu_static --cc 90 --kernels msm_chunk_g1,probe_fq_mul
    python -m bench.gpu_static --json out.json --no-save

For each kernel in `KERNELS` and each target: numba-cuda's `compile_ptx` (libNVVM, no driver),
`ptxas -arch=sm_XX -v` (registers, spill bytes, stack frame) and `nvdisasm` (SASS instruction
and integer-multiply counts). Probe kernels that do exactly one Fq product, one G1 mixed addition
and one G1 mixed doubling (each beside a load/store-only baseline) give the multiplies per Fq
product and per mixed addition. Registers and spills are what ptxas decides for that target; only
a GPU shows speed (bench/gpu_check.py).

Tools, all from the `test` extra: `nvidia-cuda-nvcc-cu12` (libNVVM, libdevice, ptxas),
`nvidia-cuda-nvrtc` (numba-cuda loads it at startup), `nvidia-cuda-nvdisasm`. ptxas is taken from
the toolkit that holds the libNVVM numba-cuda loaded, so the PTX version always matches it.

Without a GPU, numba-cuda 0.30.4 cannot type a kernel that calls `cuda.jit(device=True)`
functions: `CUDADispatcher.compile_device` asks `get_current_device().compute_capability`, which
opens a driver context. The compile workers (child processes, one per core, each building its
share of the kernels, with NUMBA_ENABLE_CUDASIM removed so that the simulator the tests use stays
out) answer that lookup with the oldest target, the one the PTX is built for.

Each kernel goes through libNVVM once, for sm_80, and ptxas assembles that PTX for every target
(PTX is forward compatible; a driver JIT does the same with sm_80 PTX on an sm_90 GPU).

Exit status: 0 when every kernel compiled for every target and no hot kernel spills, 1 otherwise.
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
import time
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
TARGETS = (80, 90)

# name -> where the kernel is defined ("file::function"). Every `@cuda.jit` kernel under kernels/
# and bench/ must be here (tests/kernels/test_gpu_static.py checks); `kernel_builders` builds them.
KERNEL_SOURCES = {
    "msm_chunk_g1": "kernels/msm/cuda.py::chunk_kernel",
    "msm_chunk_g2": "kernels/msm/cuda.py::chunk_kernel",
    "msm_combine_g1": "kernels/msm/cuda.py::combine_kernel",
    "msm_combine_g2": "kernels/msm/cuda.py::combine_kernel",
    "msm_recode": "kernels/msm/cuda_recode.py::recode_kernel",
    "msm_reduce_g1": "kernels/msm/cuda_reduce.py::bucket_reduce_kernel",
    "msm_reduce_g2": "kernels/msm/cuda_reduce.py::bucket_reduce_kernel",
    "msm_windows_g1": "kernels/msm/cuda_reduce.py::window_combine_kernel",
    "msm_windows_g2": "kernels/msm/cuda_reduce.py::window_combine_kernel",
    "ntt_bit_reverse": "kernels/ntt/device.py::bit_reverse_kernel",
    "ntt_stage": "kernels/ntt/device.py::ntt_stage_kernel",
    "ntt_mul_rows": "kernels/ntt/device.py::mul_rows_kernel",
    "ntt_scale": "kernels/ntt/device.py::scale_kernel",
    "ntt_sub_rows": "kernels/ntt/device.py::sub_rows_kernel",
    "ntt_from_mont": "kernels/ntt/device.py::from_mont_kernel",
    "poseidon_permute": "kernels/poseidon/device.py::permute_kernel",
    "bench_fq_mul_chain": "bench/gpu_kernels.py::fq_mul_chain_kernel",
    "probe_fq_copy": "bench/gpu_static.py::fq_copy",
    "probe_fq_mul": "bench/gpu_static.py::fq_product",
    "probe_g1_copy": "bench/gpu_static.py::kernel",
    "probe_g1_madd": "bench/gpu_static.py::kernel",
    "probe_g1_mdbl": "bench/gpu_static.py::kernel",
}
# Hot kernels must not spill: the MSM's bucket accumulation, the field product, the NTT butterfly.
HOT = frozenset({"msm_chunk_g1", "msm_chunk_g2", "msm_combine_g1", "msm_combine_g2", "msm_recode", "msm_reduce_g1",
                 "msm_reduce_g2", "ntt_stage",
                 "bench_fq_mul_chain", "probe_fq_mul", "probe_g1_madd"})


# ---------------------------------------------------------------------------------------------
# Kernels and their argument types (built in the compile worker only: they import numba.cuda)

def _arr(ndim: int):
    from numba import types
    return types.Array(types.uint32, ndim, "C")


def _probes() -> SimpleNamespace:
    """Single-thread kernels that do one operation on data loaded from and stored to memory."""
    import numpy as np
    from numba import cuda

    from kernels.ec.device import device_curves
    from kernels.ec.formulas import S_ROWS, T_ROWS

    curves = device_curves()
    fq_mul, madd, mdbl = curves.fields.fq.mul, curves.g1.xyzz_madd, curves.g1.xyzz_mdbl

    @cuda.jit
    def fq_copy(out, a, b):
        x = cuda.local.array(12, np.uint32)
        for k in range(12):
            x[k] = a[0, k] ^ b[0, k]
        for k in range(12):
            out[0, k] = x[k]

    @cuda.jit
    def fq_product(out, a, b):
        x = cuda.local.array(12, np.uint32)
        y = cuda.local.array(12, np.uint32)
        for k in range(12):
            x[k] = a[0, k]
            y[k] = b[0, k]
        fq_mul(x, x, y)
        for k in range(12):
            out[0, k] = x[k]

    def g1_kernel(op):
        @cuda.jit
        def kernel(acc_io, a_in):
            acc = cuda.local.array((4, 12), np.uint32)
            a = cuda.local.array((2, 12), np.uint32)
            t = cuda.local.array((T_ROWS, 12), np.uint32)
            s = cuda.local.array((S_ROWS, 12), np.uint32)
            for r in range(4):
                for k in range(12):
                    acc[r, k] = acc_io[0, r, k]
            for r in range(2):
                for k in range(12):
                    a[r, k] = a_in[0, r, k]
            op(acc, a, t, s)
            for r in range(4):
                for k in range(12):
                    acc_io[0, r, k] = acc[r, k]
        return kernel

    @cuda.jit(device=True)
    def no_op(acc, a, t, s):
        for k in range(12):
            acc[0, k] ^= a[1, k]

    @cuda.jit(device=True)
    def doubling(acc, a, t, s):
        mdbl(acc, a, t, s)

    return SimpleNamespace(fq_copy=fq_copy, fq_product=fq_product, g1_copy=g1_kernel(no_op),
                           g1_madd=g1_kernel(madd), g1_mdbl=g1_kernel(doubling))


def kernel_builders() -> dict:
    """name -> () -> (dispatcher, argument types), for every name in KERNEL_SOURCES."""
    from numba import types

    i32 = types.Array(types.int32, 1, "C")

    def chunk(group):
        from kernels.msm.cuda import bucket_kernels
        nd = 3 if group == "g1" else 4       # points (m, 2, *element), partials (nchunks, 4, *element)
        return bucket_kernels(group)[0], (_arr(nd), i32, i32, i32, _arr(nd))

    def combine(group):
        from kernels.msm.cuda import bucket_kernels
        nd = 3 if group == "g1" else 4       # partials (nchunks, 4, *element), buckets (nwin, nb, 4, *element)
        return bucket_kernels(group)[1], (_arr(nd), i32, _arr(nd + 1))

    def reduce(group, which):
        from kernels.msm.cuda_reduce import reduce_kernels
        nd = 3 if group == "g1" else 4       # buckets (nwin, nb, 4, *element) are nd + 1 dimensions
        if which == 0:                       # buckets, segment length, partials (nwin, nseg, 4, *element)
            return reduce_kernels(group)[0], (_arr(nd + 1), types.int64, _arr(nd + 1))
        return reduce_kernels(group)[1], (_arr(nd + 1), types.int64, _arr(nd - 1))   # sums, c, Jacobian out

    def recode():
        from kernels.msm.cuda_recode import recode_kernel
        return recode_kernel, (_arr(2), types.int64, types.Array(types.int32, 2, "C"))

    def ntt(attr, *args):
        from kernels.ntt import device
        return getattr(device, attr), args

    def poseidon():
        from kernels.poseidon.device import permute_kernel
        return permute_kernel, (_arr(3), _arr(3), _arr(2), _arr(3), _arr(3), _arr(3))

    def fq_chain():
        from bench.gpu_kernels import fq_mul_chain_kernel
        return fq_mul_chain_kernel, (_arr(2), _arr(2), types.int64)

    def probe(attr):
        def build():
            shape = 3 if attr.startswith("g1") else 2
            args = (_arr(3), _arr(3)) if shape == 3 else (_arr(2), _arr(2), _arr(2))
            return getattr(_probes_cached(), attr), args
        return build

    return {
        "msm_chunk_g1": lambda: chunk("g1"),
        "msm_chunk_g2": lambda: chunk("g2"),
        "msm_combine_g1": lambda: combine("g1"),
        "msm_combine_g2": lambda: combine("g2"),
        "msm_recode": recode,
        "msm_reduce_g1": lambda: reduce("g1", 0),
        "msm_reduce_g2": lambda: reduce("g2", 0),
        "msm_windows_g1": lambda: reduce("g1", 1),
        "msm_windows_g2": lambda: reduce("g2", 1),
        "ntt_bit_reverse": lambda: ntt("bit_reverse_kernel", _arr(2), types.int64),
        "ntt_stage": lambda: ntt("ntt_stage_kernel", _arr(2), _arr(2), types.int64),
        "ntt_mul_rows": lambda: ntt("mul_rows_kernel", _arr(2), _arr(2)),
        "ntt_scale": lambda: ntt("scale_kernel", _arr(2), _arr(1)),
        "ntt_sub_rows": lambda: ntt("sub_rows_kernel", _arr(2), _arr(2)),
        "ntt_from_mont": lambda: ntt("from_mont_kernel", _arr(2)),
        "poseidon_permute": poseidon,
        "bench_fq_mul_chain": fq_chain,
        "probe_fq_copy": probe("fq_copy"),
        "probe_fq_mul": probe("fq_product"),
        "probe_g1_copy": probe("g1_copy"),
        "probe_g1_madd": probe("g1_madd"),
        "probe_g1_mdbl": probe("g1_mdbl"),
    }


@lru_cache(maxsize=None)
def _probes_cached() -> SimpleNamespace:
    return _probes()


# ---------------------------------------------------------------------------------------------
# ptxas and nvdisasm output

_FUNC = re.compile(r"Function properties for (\S+)\s*\n\s*(\d+) bytes stack frame, (\d+) bytes spill stores, "
                   r"(\d+) bytes spill loads")
_ENTRY = re.compile(r"Compiling entry function '(\S+)' for 'sm_(\d+)'")
_USED = re.compile(r"Used (\d+) registers")
_CUMULATIVE = re.compile(r"(\d+) bytes cumulative stack size")


def parse_ptxas(log: str) -> dict:
    """Registers, spill bytes (entry and callees together) and stack of the one entry in a `ptxas -v` log.

    Raises ValueError when the log names no entry function or no register count.
    """
    entry, used = _ENTRY.search(log), _USED.search(log)
    if entry is None or used is None:
        raise ValueError(f"no entry function or register count in ptxas output: {log[:300]!r}")
    funcs = {m.group(1): tuple(int(m.group(i)) for i in (2, 3, 4)) for m in _FUNC.finditer(log)}
    frame = funcs.get(entry.group(1), (0, 0, 0))[0]
    cumulative = _CUMULATIVE.search(log)
    return {"registers": int(used.group(1)),
            "spill_store_bytes": sum(f[1] for f in funcs.values()),
            "spill_load_bytes": sum(f[2] for f in funcs.values()),
            "stack_frame_bytes": frame,
            "cumulative_stack_bytes": int(cumulative.group(1)) if cumulative else frame,
            "functions": len(funcs)}


_SASS_LINE = re.compile(r"^\s*/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P[T0-9]+\s+)?([A-Z][A-Z0-9_.]*)\s*([^;]*);", re.M)
_MUL_OPS = ("IMAD", "IMUL", "UIMAD", "UIMUL")
_NOT_A_PRODUCT = (".MOV", ".IADD", ".SHL")


def _is_power_of_two_literal(operand: str) -> bool:
    try:
        value = int(operand, 16) if operand.startswith("0x") else int(operand)
    except ValueError:
        return False
    return value > 0 and value & (value - 1) == 0


def sass_counts(sass: str) -> dict:
    """Instruction count and integer-multiply count of `nvdisasm` output (all functions of the cubin).

    `int_multiplies` counts IMAD/IMUL (and their uniform-datapath forms) that multiply two values,
    `int_multiplies_wide` those of them that give the full 64-bit product of two 32-bit words;
    ptxas also uses IMAD for moves (a·RZ + c), additions (a·1 + c) and shifts (a·2^k + c), and
    those are left out. `imad_family` counts them all.
    """
    total = family = multiplies = wide = 0
    for op, operands in _SASS_LINE.findall(sass):
        total += 1
        if op.split(".")[0] not in _MUL_OPS:
            continue
        family += 1
        if any(tag in op for tag in _NOT_A_PRODUCT):
            continue
        srcs = [o.strip().lstrip("-|").replace(".reuse", "") for o in operands.split(",")][1:3]
        if len(srcs) == 2 and not any(s in ("RZ", "URZ") or _is_power_of_two_literal(s) for s in srcs):
            multiplies += 1
            wide += ".WIDE" in op
    return {"sass_instructions": total, "imad_family": family, "int_multiplies": multiplies,
            "int_multiplies_wide": wide}


# ---------------------------------------------------------------------------------------------
# The compile worker: one target per process, no simulator, no driver

def _find_tool(name: str, near: Path | None) -> str | None:
    """`name` from the toolkit folder above `near` (libNVVM), else an NVIDIA wheel, else PATH."""
    if near is not None:
        for folder in list(near.parents)[:4]:
            if (folder / "bin" / name).is_file():
                return str(folder / "bin" / name)
    for entry in sys.path:
        hits = sorted(Path(entry).glob(f"nvidia/*/bin/{name}")) if entry and Path(entry).is_dir() else []
        if hits:
            return str(hits[0])
    return shutil.which(name)


def _tool_version(path: str | None) -> str | None:
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    return out[-1] if out else None


def _target_device(cc: tuple[int, int]):
    """Stand-in for `numba.cuda.get_current_device()` in numba-cuda's dispatcher: the target's cc."""
    import numba.cuda.dispatcher as dispatcher

    if not hasattr(dispatcher, "get_current_device"):
        raise RuntimeError("numba-cuda no longer looks up the current device in numba.cuda.dispatcher; "
                           "bench/gpu_static.py needs updating for this version")
    device = SimpleNamespace(compute_capability=cc, name=f"sm_{cc[0]}{cc[1]} (no driver)", id=0)
    dispatcher.get_current_device = lambda: device


def toolchain() -> dict:
    """Paths and versions of libNVVM (as numba-cuda finds it), ptxas and nvdisasm; None where absent.

    Run it where NUMBA_ENABLE_CUDASIM is unset (the simulator has no libNVVM lookup).
    """
    try:
        from numba.cuda.cuda_paths import get_cuda_paths
        nvvm = get_cuda_paths()["nvvm"].info
    except Exception:  # numba-cuda raises several kinds when a library is missing; all mean "absent"
        nvvm = None
    nvvm_path = Path(nvvm) if nvvm else None
    ptxas = _find_tool("ptxas", nvvm_path)
    nvdisasm = _find_tool("nvdisasm", Path(ptxas).parent if ptxas else None)
    return {"libnvvm": nvvm, "ptxas": ptxas, "ptxas_version": _tool_version(ptxas),
            "nvdisasm": nvdisasm, "nvdisasm_version": _tool_version(nvdisasm)}


def compile_worker(targets: list[int], names: list[str], workdir: Path) -> dict:
    """Compile each of `names` to PTX once, for the oldest of `targets` (PTX is forward compatible:
    ptxas assembles sm_80 PTX for sm_90 as a GPU's driver would), then assemble and disassemble it
    for every target. Returns {"kernels": {sm: {name: row}}, "tools"}."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        raise RuntimeError("the compile worker needs NUMBA_ENABLE_CUDASIM unset")
    from numba import cuda

    base = min(targets)
    cc = (base // 10, base % 10)
    _target_device(cc)
    tools = toolchain()
    ptxas, nvdisasm = tools["ptxas"], tools["nvdisasm"]
    builders = kernel_builders()
    results: dict = {sm: {} for sm in targets}
    for name in names:
        start = time.perf_counter()
        rows = {sm: results[sm].setdefault(name, {}) for sm in targets}
        try:
            kernel, args = builders[name]()
            ptx, _ = cuda.compile_ptx(kernel.py_func, args, cc=cc)
            compile_s = round(time.perf_counter() - start, 2)
            if ptxas is None:
                raise FileNotFoundError("ptxas not found (pip install nvidia-cuda-nvcc-cu12)")
            ptx_file = workdir / f"{name}.sm_{base}.ptx"
            ptx_file.write_text(ptx)
        except Exception as exc:  # one broken kernel is reported in its rows; the others still build
            for row in rows.values():
                row["error"] = f"{type(exc).__name__}: {str(exc).strip()[:600]}"
            continue
        for sm, row in rows.items():
            assembled = time.perf_counter()
            row.update(compile_s=compile_s, ptx_bytes=len(ptx), ptx_target=f"sm_{base}")
            try:
                cubin = workdir / f"{name}.sm_{sm}.cubin"
                proc = subprocess.run([ptxas, f"-arch=sm_{sm}", "-v", "-o", str(cubin), str(ptx_file)],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"ptxas failed: {(proc.stderr or proc.stdout).strip()[-600:]}")
                row.update(parse_ptxas(proc.stdout + proc.stderr))
                if nvdisasm is not None:
                    sass = subprocess.run([nvdisasm, "-c", str(cubin)], capture_output=True, text=True, check=True)
                    row.update(sass_counts(sass.stdout))
            except Exception as exc:  # reported in the row, like a compile failure
                row["error"] = f"{type(exc).__name__}: {str(exc).strip()[:600]}"
            row["total_s"] = round(compile_s + time.perf_counter() - assembled, 2)
    return {"kernels": {str(sm): by_name for sm, by_name in results.items()}, "tools": tools}


# ---------------------------------------------------------------------------------------------
# The parent: one worker per target, in parallel

def worker_env() -> dict:
    """The environment of a compile worker: this one without the CUDA simulator."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env


def find_toolchain() -> dict:
    """`toolchain()` as seen by a compile worker (a child without the simulator)."""
    proc = subprocess.run([sys.executable, "-m", "bench.gpu_static", "--toolchain"], cwd=REPO, env=worker_env(),
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip()[-600:]}
    return json.loads(proc.stdout)


def missing_tools(tools: dict) -> list[str]:
    """What of libNVVM, ptxas and nvdisasm `tools` lacks, with the package that brings it."""
    wanted = {"libnvvm": "nvidia-cuda-nvcc-cu12", "ptxas": "nvidia-cuda-nvcc-cu12", "nvdisasm": "nvidia-cuda-nvdisasm"}
    return [f"{tool} (pip install {pkg})" for tool, pkg in wanted.items() if not tools.get(tool)]


def run_static(targets=TARGETS, names=None, workdir: Path | None = None) -> dict:
    """Build `names` (default: all of KERNEL_SOURCES) for each sm in `targets`; the result document.

    The kernels compile in child processes (with NUMBA_ENABLE_CUDASIM removed), so this can be
    called from a process that runs the simulator. Raises RuntimeError when a worker dies.
    """
    names = list(names or KERNEL_SOURCES)
    unknown = sorted(set(names) - set(KERNEL_SOURCES))
    if unknown:
        raise ValueError(f"unknown kernels {unknown}; known: {sorted(KERNEL_SOURCES)}")
    own_dir = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="gpu-static-")) if own_dir else workdir
    start = time.perf_counter()
    # NVVM is the slow part and runs once per kernel; the kernels are dealt out to one worker per core.
    from pipeline.batch.cluster import default_workers

    n_workers = max(1, min(len(names), default_workers()))
    procs = []
    for w in range(n_workers):
        share = names[w::n_workers]
        out = workdir / f"worker-{w}.json"
        cmd = [sys.executable, "-m", "bench.gpu_static", "--worker", ",".join(map(str, targets)),
               "--kernels", ",".join(share), "--workdir", str(workdir), "--json", str(out)]
        procs.append((w, out, subprocess.Popen(cmd, cwd=REPO, env=worker_env(), stdout=subprocess.PIPE,
                                               stderr=subprocess.STDOUT, text=True)))
    built: dict = {str(sm): {} for sm in targets}
    tools = None
    for w, out, proc in procs:
        log, _ = proc.communicate()
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"compile worker {w} exited {proc.returncode}: {log.strip()[-2000:]}")
        doc = json.loads(out.read_text())
        tools = tools or doc["tools"]
        for sm in built:
            built[sm].update(doc["kernels"][sm])
    if own_dir:
        shutil.rmtree(workdir, ignore_errors=True)
    kernels = {name: {"source": KERNEL_SOURCES[name], "hot": name in HOT,
                      **{f"sm_{sm}": built[str(sm)][name] for sm in targets}} for name in names}
    import numba_cuda
    return {"benchmark": "gpu_static", "targets": [f"sm_{sm}" for sm in targets], "kernels": kernels,
            "multiplies": multiply_summary(kernels, targets), "problems": problems(kernels, targets),
            "tools": {f"sm_{sm}": tools for sm in targets},
            "numba_cuda": numba_cuda.__version__, "wall_s": round(time.perf_counter() - start, 1)}


def multiply_summary(kernels: dict, targets) -> dict:
    """Integer multiplies per Fq product and per G1 mixed addition, from the probes, per target.

    Each probe is measured against its load/store baseline. The mixed-addition probe holds every
    branch of `xyzz_madd`, including the doubling it falls back to for equal points; taking the
    doubling probe away leaves the general case (8 products and 2 squares).
    """
    summary = {}
    for sm in targets:
        def muls(name):
            row = kernels.get(name, {}).get(f"sm_{sm}", {})
            return row.get("int_multiplies")
        parts = {n: muls(n) for n in ("probe_fq_copy", "probe_fq_mul", "probe_g1_copy", "probe_g1_madd",
                                      "probe_g1_mdbl")}
        if any(v is None for v in parts.values()):
            continue
        fq = parts["probe_fq_mul"] - parts["probe_fq_copy"]
        madd_all = parts["probe_g1_madd"] - parts["probe_g1_copy"]
        mdbl = parts["probe_g1_mdbl"] - parts["probe_g1_copy"]
        general = madd_all - mdbl
        summary[f"sm_{sm}"] = {"fq_product": fq, "g1_mixed_add_all_branches": madd_all, "g1_mixed_double": mdbl,
                               "g1_mixed_add_general": general,
                               "g1_mixed_add_general_in_fq_products": round(general / fq, 2) if fq else None}
    return summary


def problems(kernels: dict, targets) -> list[str]:
    """One line per failure: a kernel that did not build for a target, or a hot kernel that spills."""
    out = []
    for name, row in kernels.items():
        for sm in targets:
            r = row[f"sm_{sm}"]
            if "error" in r:
                out.append(f"{name} sm_{sm}: {r['error']}")
            elif row["hot"] and (r["spill_store_bytes"] or r["spill_load_bytes"]):
                out.append(f"{name} sm_{sm}: hot kernel spills {r['spill_store_bytes']} bytes stored, "
                           f"{r['spill_load_bytes']} bytes loaded")
    return out


def format_table(result: dict) -> str:
    """The per-kernel table and the multiply counts, as printed text."""
    lines = [f"GPU static check (no GPU): numba-cuda {result['numba_cuda']}, "
             f"ptxas {(result['tools'][result['targets'][0]]['ptxas_version'] or '?').split(',')[-1].strip()}",
             f"{'kernel':<20}{'hot':>4}{'target':>7}{'regs':>6}{'spill st/ld B':>15}{'stack B':>9}"
             f"{'SASS':>8}{'int mul':>9}{'compile s':>11}"]
    for name, row in result["kernels"].items():
        for target in result["targets"]:
            r = row[target]
            hot = "*" if row["hot"] else ""
            if "error" in r:
                lines.append(f"{name:<20}{hot:>4}{target:>7}  error: {r['error'][:90]}")
                continue
            spill = f"{r['spill_store_bytes']}/{r['spill_load_bytes']}"
            lines.append(f"{name:<20}{hot:>4}{target:>7}{r['registers']:>6}{spill:>15}{r['stack_frame_bytes']:>9}"
                         f"{r.get('sass_instructions', '-'):>8}{r.get('int_multiplies', '-'):>9}"
                         f"{r.get('compile_s', 0):>11.1f}")
    for target, m in result["multiplies"].items():
        lines.append(f"{target}: {m['fq_product']} integer multiplies per Fq product; G1 mixed addition "
                     f"{m['g1_mixed_add_general']} in the general case ({m['g1_mixed_add_general_in_fq_products']} "
                     f"Fq products), {m['g1_mixed_add_all_branches']} with every branch")
    lines += [f"PROBLEM: {p}" for p in result["problems"]] or ["no problems: every kernel built, no hot kernel spills"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cc", default=",".join(map(str, TARGETS)), help="targets, e.g. 80,90")
    parser.add_argument("--kernels", default="", help="comma-separated names (default: all)")
    parser.add_argument("--json", help="also write the result document here")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--toolchain", action="store_true", help="print the tools found, as JSON, and exit")
    parser.add_argument("--worker", help=argparse.SUPPRESS)      # targets, e.g. 80,90
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n for n in args.kernels.split(",") if n] or list(KERNEL_SOURCES)
    if args.toolchain:
        if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
            os.execve(sys.executable, [sys.executable, "-m", "bench.gpu_static", "--toolchain"], worker_env())
        print(json.dumps(toolchain(), indent=2))
        return 0
    if args.worker is not None:
        result = compile_worker([int(t) for t in args.worker.split(",")], names, Path(args.workdir))
        Path(args.json).write_text(json.dumps(result, indent=2, sort_keys=True))
        return 0
    result = run_static(tuple(int(c) for c in args.cc.split(",")), names)
    from bench.machine import machine_info, save_result

    result["machine"] = machine_info()
    print(format_table(result))
    if not args.no_save:
        print(f"saved {save_result('gpu-static', result)}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
