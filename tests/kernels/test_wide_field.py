"""The CPU field build (64-bit words, 128-bit products, dedicated squaring) against the 32-bit
source that CUDA compiles, and both against Python integers: every routine, edge values where
carries and borrows run through every word, and random values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from kernels import params
from kernels.ff.fields import FQ, FR, fq, fr
from kernels.ff.montgomery import compile_field, limbs_to_int, wide_field_source

SETTINGS = settings(max_examples=60, deadline=None)


@pytest.fixture(scope="module")
def narrow():
    """The 32-bit (CUDA) source compiled for the CPU, uncached: the reference the wide build must equal."""
    return {"fq": compile_field(FQ.spec, njit), "fr": compile_field(FR.spec, njit)}


def _edges(m: int) -> list[int]:
    words = [(1 << 64) - 1, 1 << 63, (1 << 32) - 1, 1 << 32]
    out = [0, 1, 2, m - 1, m - 2, m // 2, (m + 1) // 2, 1 << (m.bit_length() - 1)]
    out += [(w << (64 * i)) % m for w in words for i in range(m.bit_length() // 64 + 1)]
    out += [((1 << (64 * i)) - 1) % m for i in range(1, m.bit_length() // 64 + 1)]
    return out


def _check(name, ops, ref, m, a, b):
    spec = (FQ if name == "fq" else FR).spec
    rinv = pow(spec.r, -1, m)
    A, B = spec.limbs(a), spec.limbs(b)
    got, want = np.empty_like(A), np.empty_like(A)
    for op, expected in (("mul", a * b * rinv % m), ("add", (a + b) % m), ("sub", (a - b) % m)):
        getattr(ops, op)(got, A, B)
        getattr(ref, op)(want, A, B)
        assert limbs_to_int(got) == expected, (name, op, a, b)
        assert np.array_equal(got, want), (name, op, a, b)
    for op, expected in (("sqr", a * a * rinv % m), ("dbl", 2 * a % m), ("neg", -a % m)):
        getattr(ops, op)(got, A)
        getattr(ref, op)(want, A)
        assert limbs_to_int(got) == expected, (name, op, a)
        assert np.array_equal(got, want), (name, op, a)
    # out aliasing an input, as the curve formulas do
    C = A.copy()
    ops.sqr(C, C)
    assert limbs_to_int(C) == a * a * rinv % m
    C = A.copy()
    ops.mul(C, C, B)
    assert limbs_to_int(C) == a * b * rinv % m


@pytest.mark.parametrize("name,ops,m", [("fq", fq, params.P), ("fr", fr, params.R)])
def test_edge_values_all_routines(narrow, name, ops, m):
    edges = _edges(m)
    for a in edges:
        for b in edges:
            _check(name, ops, narrow[name], m, a, b)


@SETTINGS
@given(st.data())
def test_random_values_all_routines(narrow, data):
    name, ops, m = data.draw(st.sampled_from([("fq", fq, params.P), ("fr", fr, params.R)]))
    a = data.draw(st.integers(0, m - 1))
    b = data.draw(st.integers(0, m - 1))
    _check(name, ops, narrow[name], m, a, b)


def test_squaring_is_dedicated_and_the_build_is_wide():
    src = wide_field_source(FQ.spec)
    sqr = src[src.index("def sqr("):src.index("def mul_s(")]
    assert "mul(" not in sqr.replace("mac(", "")       # not mul(out, a, a)
    assert sqr.count("mac(a") == 6 * 5 // 2 + 6          # 15 cross products, 6 squares
    assert fq.sqr.py_func.__module__.startswith("kernels._generated_montgomery64_")


@pytest.mark.parametrize("build", ["cpu", "portable"])
def test_fq2_straight_line_product_and_square(narrow, build):
    from kernels.ff import x86_mont
    from kernels.ff.fields import fq2, fq2_from_ints, fq2_to_ints
    from kernels.ff.fq2 import compile_fq2

    if build == "cpu":                      # what the CPU build uses on this host
        # straight-line Fq2 where the Fq product is LLVM code; Karatsuba over the assembly product
        assert (fq2.mul is getattr(fq, "fq2_mul", None)) == (not x86_mont.available())
    else:                                   # the straight-line Fq2 of the portable build
        fq2 = compile_fq2(compile_field(FQ.spec, njit, wide=True, asm=False), njit)
        assert fq2.mul.py_func.__name__ == "fq2_mul"
    ref = compile_fq2(narrow["fq"], njit)                            # Karatsuba over 32-bit Fq calls
    P = params.P
    rng = np.random.default_rng()           # unseeded: each run tries other values
    edges = [0, 1, P - 1, P - 2, (P - 1) // 2, (1 << 64) - 1, (1 << 381) % P]
    vals = [(x, y) for x in edges for y in edges]
    vals += [(int.from_bytes(rng.bytes(48), "little") % P, int.from_bytes(rng.bytes(48), "little") % P)
             for _ in range(30)]
    s = np.zeros((8, 12), np.uint32)
    arr = fq2_from_ints(vals)
    for i, a in enumerate(vals):
        for j in range(0, len(vals), 7):
            b = vals[j]
            got, want = np.empty_like(arr[0]), np.empty_like(arr[0])
            fq2.mul(got, arr[i], arr[j], s)
            ref.mul(want, arr[i], arr[j], s)
            assert fq2_to_ints(got)[0] == ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)
            assert np.array_equal(got, want)
        got = arr[i].copy()
        fq2.sqr(got, got, s)                                         # out aliasing the input
        assert fq2_to_ints(got)[0] == ((a[0] * a[0] - a[1] * a[1]) % P, 2 * a[0] * a[1] % P)
