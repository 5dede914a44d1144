"""The x86-64 assembly Montgomery product (MULX/ADCX/ADOX) against Python integers and against the
portable 64-bit routine, for Fq, Fr and another modulus; that the CPU build uses it where the host
has BMI2 and ADX; and that ZKP_LEDGER_NO_ASM turns it off and keeps a separate kernel cache."""

from __future__ import annotations

import platform

import numpy as np
import pytest
from numba import njit

from kernels import params
from kernels.ff import x86_mont
from kernels.ff.fields import FQ, FR, fq, fr
from kernels.ff.montgomery import compile_field, limbs_to_int

ASM = x86_mont.available()
needs_asm = pytest.mark.skipif(not ASM, reason="host is not x86-64 with BMI2 and ADX (or ZKP_LEDGER_NO_ASM is set)")

BN254_P = 0x30644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD47   # another 4-word prime


def _edges(m: int) -> list[int]:
    out = [0, 1, 2, m - 1, m - 2, m // 2, (m + 1) // 2]
    for i in range(m.bit_length() // 64 + 1):
        out += [((1 << 64) - 1) << (64 * i), 1 << (64 * i + 63), ((1 << (64 * i)) - 1)]
    return sorted({v % m for v in out})


def _kernel(modulus: int):
    mont = x86_mont.mont_mul_for(modulus)

    @njit
    def run(out, a, b):
        mont(out, a, b)

    return run


def test_assembly_shape():
    text, result = x86_mont.cios_assembly(6)
    assert text.count("mulxq") == 2 * 36 and text.count("adcxq") == 72 and text.count("adoxq") == 72
    # each round clears the lowest word and rotates it to the top: after six, t_6 holds the low word
    assert result == [6, 0, 1, 2, 3, 4]


@needs_asm
def test_one_product_is_one_assembly_block():
    # A product emits the block once (calling it once per result word once cost 6x).
    run = _kernel(params.P)
    out = np.empty(12, np.uint32)
    run(out, FQ.spec.limbs(3), FQ.spec.limbs(5))
    machine_code = next(iter(run.inspect_asm().values()))
    assert machine_code.count("mulxq") == 72


def test_refuses_moduli_it_is_not_valid_for():
    with pytest.raises(ValueError):
        x86_mont.mont_mul_for((1 << 255) - 19)         # top word 2^63 - 1: the running value needs more
    with pytest.raises(ValueError):
        x86_mont.mont_mul_for(params.P + 1)            # even


@needs_asm
@pytest.mark.parametrize("modulus", [params.P, params.R, BN254_P])
def test_against_python_integers(modulus):
    n = -(-modulus.bit_length() // 64) * 2
    rinv = pow(1 << (32 * n), -1, modulus)
    run = _kernel(modulus)
    rng = np.random.default_rng()                      # unseeded: each run tries other values
    values = _edges(modulus) + [int.from_bytes(rng.bytes(n * 4), "little") % modulus for _ in range(200)]
    out = np.empty(n, np.uint32)
    for a in values:
        for b in values[::7] + [a]:
            A = np.array([(a >> (32 * i)) & 0xFFFFFFFF for i in range(n)], np.uint32)
            B = np.array([(b >> (32 * i)) & 0xFFFFFFFF for i in range(n)], np.uint32)
            run(out, A, B)
            assert limbs_to_int(out) == a * b * rinv % modulus, (hex(a), hex(b))
            C = A.copy()
            run(C, C, C)                               # out aliasing both inputs
            assert limbs_to_int(C) == a * a * rinv % modulus


@needs_asm
@pytest.mark.parametrize("spec", [FQ.spec, FR.spec], ids=["fq", "fr"])
def test_equals_the_portable_routine(spec):
    portable = compile_field(spec, njit, wide=True, asm=False)
    assembly = compile_field(spec, njit, wide=True, asm=True)
    assert "MONT" not in portable.mul.py_func.__globals__ and "MONT" in assembly.mul.py_func.__globals__
    rng = np.random.default_rng()
    m = spec.modulus
    values = _edges(m) + [int.from_bytes(rng.bytes(spec.nlimbs * 4), "little") % m for _ in range(300)]
    got, want = np.empty(spec.nlimbs, np.uint32), np.empty(spec.nlimbs, np.uint32)
    for i, a in enumerate(values):
        b = values[(7 * i + 3) % len(values)]
        A, B = spec.limbs(a), spec.limbs(b)
        assembly.mul(got, A, B)
        portable.mul(want, A, B)
        assert np.array_equal(got, want), (hex(a), hex(b))
        assembly.mul_s(got, A, B, got)
        assert np.array_equal(got, want)


def test_the_cpu_build_uses_it_where_the_host_has_it():
    import inspect

    for ops in (fq, fr):
        source = inspect.getsource(ops.mul.py_func)
        assert ("MONT(out, a, b)" in source) == ASM, source
    if platform.machine().lower() in ("x86_64", "amd64"):
        import llvmlite.binding as llvm

        features = llvm.get_host_cpu_features()
        import os

        if features.get("adx") and features.get("bmi2") and not os.environ.get("ZKP_LEDGER_NO_ASM"):
            assert ASM


@needs_asm
def test_refuses_views_it_would_read_wrong_and_read_only_outputs():
    from numba.core.errors import TypingError

    run = _kernel(params.P)
    a, b = FQ.spec.limbs(3), FQ.spec.limbs(5)
    column = np.zeros((12, 2), np.uint32)[:, 0]                 # stride 8 bytes
    with pytest.raises(TypingError):
        run(np.empty(12, np.uint32), column, b)
    with pytest.raises(TypingError):
        run(column, a, b)
    with pytest.raises(TypingError):
        run(np.empty(24, np.uint32)[::-1][:12], a, b)           # negative stride
    frozen = np.empty(12, np.uint32)
    frozen.flags.writeable = False
    with pytest.raises(TypingError):
        run(frozen, a, b)


@needs_asm
def test_two_moduli_in_one_function_keep_their_own_constants():
    # moduli agreeing in their top 180 bits once shared one constant table (its name was cut short)
    q2 = params.P + 6 * 2**100                  # odd, which is all a Montgomery product needs
    first, second = x86_mont.mont_mul_for(params.P), x86_mont.mont_mul_for(q2)

    @njit
    def both(o1, o2, a, b):
        first(o1, a, b)
        second(o2, a, b)

    a, b = 12345678901234567, 98765432109876543
    A, B = FQ.spec.limbs(a), FQ.spec.limbs(b)
    o1, o2 = np.empty(12, np.uint32), np.empty(12, np.uint32)
    both(o1, o2, A, B)
    assert limbs_to_int(o1) == a * b * pow(2**384, -1, params.P) % params.P
    assert limbs_to_int(o2) == a * b * pow(2**384, -1, q2) % q2


def test_not_used_when_numba_targets_another_cpu(monkeypatch):
    from numba.core import config

    monkeypatch.setattr(config, "CPU_NAME", "generic")
    assert not x86_mont.available()
    monkeypatch.setattr(config, "CPU_NAME", None)
    monkeypatch.setattr(config, "CPU_FEATURES", "+sse2")
    assert not x86_mont.available()


def test_no_asm_switch_and_separate_cache(monkeypatch):
    from kernels import cache

    monkeypatch.delenv("ZKP_LEDGER_NO_ASM", raising=False)
    native_digest = cache._sources_digest()
    monkeypatch.setenv("ZKP_LEDGER_NO_ASM", "1")
    assert not x86_mont.available()
    assert cache._sources_digest() != native_digest
