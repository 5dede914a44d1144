"""Fq2 = Fq[i]/(i^2 + 1): element routines compiled for the CPU and as CUDA device functions.

An element is a (2, 12) uint32 array [c0, c1] meaning c0 + c1*i, each in Montgomery form.
Routines that need temporaries take `s`, a 2-D (k, 12) uint32 scratch array (rows are used as
Fq temporaries; `S_MUL`, `S_SQR`, `S_INV` say how many rows); callers pass views `s[j:]` down.
`out` may alias any input.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

S_MUL = 4   # scratch rows of mul
S_SQR = 3   # scratch rows of sqr
S_INV = 3   # scratch rows of inv


def compile_fq2(fq, jit) -> SimpleNamespace:
    """Compile the Fq2 routines over the Fq namespace `fq` (same target as `jit`)."""
    f_mul, f_add, f_sub, f_dbl, f_neg = fq.mul, fq.add, fq.sub, fq.dbl, fq.neg
    f_copy, f_zero, f_one, f_is_zero, f_eq, f_inv = fq.copy, fq.set_zero, fq.set_one, fq.is_zero, fq.eq, fq.inv

    @jit
    def add(out, a, b):
        f_add(out[0], a[0], b[0])
        f_add(out[1], a[1], b[1])

    @jit
    def sub(out, a, b):
        f_sub(out[0], a[0], b[0])
        f_sub(out[1], a[1], b[1])

    @jit
    def dbl(out, a):
        f_dbl(out[0], a[0])
        f_dbl(out[1], a[1])

    @jit
    def neg(out, a):
        f_neg(out[0], a[0])
        f_neg(out[1], a[1])

    @jit
    def conj(out, a):
        f_copy(out[0], a[0])
        f_neg(out[1], a[1])

    @jit
    def copy(out, a):
        f_copy(out[0], a[0])
        f_copy(out[1], a[1])

    @jit
    def set_zero(out):
        f_zero(out[0])
        f_zero(out[1])

    @jit
    def set_one(out):
        f_one(out[0])
        f_zero(out[1])

    @jit
    def is_zero(a):
        return f_is_zero(a[0]) and f_is_zero(a[1])

    @jit
    def eq(a, b):
        return f_eq(a[0], b[0]) and f_eq(a[1], b[1])

    @jit
    def mul(out, a, b, s):
        # Karatsuba: 3 Fq products.
        f_mul(s[0], a[0], b[0])
        f_mul(s[1], a[1], b[1])
        f_add(s[2], a[0], a[1])
        f_add(s[3], b[0], b[1])
        f_mul(s[2], s[2], s[3])
        f_sub(out[0], s[0], s[1])
        f_sub(s[2], s[2], s[0])
        f_sub(out[1], s[2], s[1])

    @jit
    def sqr(out, a, s):
        # (a0 + a1 i)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 i: 2 Fq products.
        f_add(s[0], a[0], a[1])
        f_sub(s[1], a[0], a[1])
        f_mul(s[2], a[0], a[1])
        f_mul(out[0], s[0], s[1])
        f_dbl(out[1], s[2])

    @jit
    def mul_by_fq(out, a, c):
        f_mul(out[0], a[0], c)
        f_mul(out[1], a[1], c)

    @jit
    def mul_by_nonresidue(out, a, s):
        # times xi = 1 + i, the non-residue that builds Fq6 and Fq12.
        f_sub(s[0], a[0], a[1])
        f_add(out[1], a[0], a[1])
        f_copy(out[0], s[0])

    @jit
    def inv(out, a, s):
        # 1/(a0 + a1 i) = (a0 - a1 i) / (a0^2 + a1^2); 0 maps to 0.
        f_mul(s[0], a[0], a[0])
        f_mul(s[1], a[1], a[1])
        f_add(s[0], s[0], s[1])
        f_inv(s[0], s[0], s[2])
        f_mul(out[0], a[0], s[0])
        f_mul(s[1], a[1], s[0])
        f_neg(out[1], s[1])

    if hasattr(fq, "fq2_mul"):   # the CPU build: the same product and square as straight-line code
        mul, sqr = fq.fq2_mul, fq.fq2_sqr

    return SimpleNamespace(add=add, sub=sub, dbl=dbl, neg=neg, conj=conj, copy=copy, set_zero=set_zero,
                           set_one=set_one, is_zero=is_zero, eq=eq, mul=mul, sqr=sqr, mul_by_fq=mul_by_fq,
                           mul_by_nonresidue=mul_by_nonresidue, inv=inv)


def new_scratch(rows: int, nlimbs: int = 12) -> np.ndarray:
    """CPU scratch for routines that take `s`."""
    return np.empty((rows, nlimbs), dtype=np.uint32)
