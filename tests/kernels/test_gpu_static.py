"""Every CUDA kernel builds for sm_80 and sm_90 and the hot ones do not spill; no GPU needed.

The build runs in child processes without NUMBA_ENABLE_CUDASIM (conftest.py turns the simulator
on for this whole session): libNVVM makes the PTX, ptxas assembles it, nvdisasm lists the SASS,
all from the `test` extra (see bench/gpu_static.py).
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from bench import gpu_static
from tests.conftest import REPO_ROOT, missing

TARGETS = (80, 90)


def _defined_kernels() -> set[str]:
    """'file::function' for every function decorated with a kernel-making `cuda.jit` in kernels/ and bench/."""
    found = set()
    files = sorted((REPO_ROOT / "kernels").rglob("*.py")) + sorted((REPO_ROOT / "bench").glob("*.py"))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                call = deco if isinstance(deco, ast.Call) else None
                target = call.func if call else deco
                if ast.unparse(target) != "cuda.jit":
                    continue
                keywords = call.keywords if call else []
                if not any(k.arg == "device" and ast.unparse(k.value) == "True" for k in keywords):
                    found.add(f"{path.relative_to(REPO_ROOT).as_posix()}::{node.name}")
    return found


def test_every_kernel_is_in_the_static_check():
    defined = _defined_kernels()
    assert "kernels/msm/cuda.py::chunk_kernel" in defined  # the scan itself sees kernels
    listed = set(gpu_static.KERNEL_SOURCES.values())
    assert defined - listed == set(), "add these kernels to bench/gpu_static.py KERNEL_SOURCES/kernel_builders"
    assert listed - defined == set(), "KERNEL_SOURCES names kernels that no longer exist"


@pytest.fixture(scope="module")
def toolchain() -> dict:
    tools = gpu_static.find_toolchain()
    absent = gpu_static.missing_tools(tools)
    if absent:
        missing(f"CUDA compile tools absent: {', '.join(absent)}; pip install -e '.[test]' brings them "
                f"{tools.get('error', '')}")
    return tools


@pytest.fixture(scope="module")
def static_build(toolchain, tmp_path_factory) -> tuple[dict, Path]:
    workdir = tmp_path_factory.mktemp("gpu-static")
    return gpu_static.run_static(TARGETS, workdir=workdir), workdir


def test_every_kernel_builds_for_sm80_and_sm90_and_hot_kernels_do_not_spill(static_build):
    result, _ = static_build
    assert result["problems"] == []
    assert set(result["kernels"]) == set(gpu_static.KERNEL_SOURCES)
    for name, row in result["kernels"].items():
        for target in ("sm_80", "sm_90"):
            r = row[target]
            assert 0 < r["registers"] <= 255, (name, target, r)
            assert r["sass_instructions"] > 0, (name, target, r)
    hot = {n for n, r in result["kernels"].items() if r["hot"]}
    assert {"msm_chunk_g1", "msm_chunk_g2", "msm_combine_g1", "msm_combine_g2", "msm_recode", "probe_fq_mul"} <= hot


def test_multiplies_per_fq_product_and_per_mixed_addition(static_build):
    result, _ = static_build
    for target in ("sm_80", "sm_90"):
        m = result["multiplies"][target]
        # CIOS with 12 limbs: 144 a_j·b_i, 144 m·q_j, 12 m = t_0·n0, less what ptxas folds away.
        assert 250 <= m["fq_product"] <= 320, m
        # madd-2008-s: 8 products and 2 squares, squares done as products.
        assert 9.0 <= m["g1_mixed_add_general_in_fq_products"] <= 11.0, m
        assert m["g1_mixed_double"] > 0 and m["g1_mixed_add_all_branches"] > m["g1_mixed_add_general"]


def test_a_spilling_build_is_caught(static_build, toolchain):
    """The same field-product PTX, squeezed into 32 registers by ptxas, spills and is reported."""
    result, workdir = static_build
    cubin = workdir / "squeezed.cubin"
    proc = subprocess.run([toolchain["ptxas"], "-arch=sm_90", "-v", "-maxrregcount=32", "-o", str(cubin),
                           str(workdir / "probe_fq_mul.sm_80.ptx")], capture_output=True, text=True, check=True)
    squeezed = gpu_static.parse_ptxas(proc.stdout + proc.stderr)
    assert squeezed["registers"] <= 32 and squeezed["spill_store_bytes"] > 0
    kernels = {"probe_fq_mul": {"hot": True, "sm_90": squeezed}}
    assert gpu_static.problems(kernels, (90,)) == [
        f"probe_fq_mul sm_90: hot kernel spills {squeezed['spill_store_bytes']} bytes stored, "
        f"{squeezed['spill_load_bytes']} bytes loaded"]
    assert gpu_static.problems({"probe_fq_mul": {"hot": False, "sm_90": squeezed}}, (90,)) == []


def test_parse_ptxas_sums_spills_over_entry_and_callees():
    log = """ptxas info    : 144 bytes gmem
ptxas info    : Compiling entry function '_Z6bucket' for 'sm_80'
ptxas info    : Function properties for _Z6bucket
    976 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
ptxas info    : Used 114 registers, 976 bytes cumulative stack size, 380 bytes cmem[0]
ptxas info    : Function properties for _Z4madd
    16 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
"""
    assert gpu_static.parse_ptxas(log) == {"registers": 114, "spill_store_bytes": 12, "spill_load_bytes": 16,
                                           "stack_frame_bytes": 976, "cumulative_stack_bytes": 976, "functions": 2}
    with pytest.raises(ValueError):
        gpu_static.parse_ptxas("ptxas fatal   : Unsupported .version 9.0")


def test_sass_counts_leave_out_moves_adds_and_shifts():
    sass = """
        /*0040*/                   IMAD.U32 R23, RZ, RZ, UR5 ;
        /*00b0*/                   IMAD.WIDE.U32 R4, R21.reuse, UR4, RZ ;
        /*00c0*/              @!P0 IMAD.WIDE.U32 R4, R21, 0x64774b84, R6 ;
        /*00e0*/                   IMAD R9, R21, UR5, R0 ;
        /*0100*/                   IMAD.IADD R5, R5, 0x1, R9 ;
        /*0110*/                   IMAD.MOV.U32 R2, RZ, RZ, R3 ;
        /*0120*/                   IMAD.SHL.U32 R2, R3, 0x4, RZ ;
        /*0130*/                   IMAD R2, R3, 0x8, R4 ;
        /*0140*/                   IMAD.X R7, RZ, RZ, R8, P1 ;
        /*0150*/                   IMAD.HI.U32 R7, R2, -0x5555, R8 ;
        /*0160*/                   IADD3 R1, R2, R3, RZ ;
"""
    assert gpu_static.sass_counts(sass) == {"sass_instructions": 11, "imad_family": 10, "int_multiplies": 4,
                                            "int_multiplies_wide": 2}
