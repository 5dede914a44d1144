"""Square roots in Fq and Fq2 (p = 3 mod 4), for point decompression.

Fq: a^((p+1)/4), then a check by squaring. Fq2: algorithm 9 of eprint 2012/685 (the complex
method for p = 3 mod 4), then the same check, so a non-square is reported rather than trusted.
Routines take Fq scratch rows `s` (S_SQRT rows of 12 limbs) and never allocate, so they compile
for CUDA too; the CPU build is `fq_sqrt`/`fq2_sqrt` here.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from kernels import params
from kernels.ec.constants import bits_msb_first
from kernels.ff.fields import cpu_jit, fq, fq2

S_SQRT = 14   # Fq scratch rows of fq2_sqrt (fq_sqrt needs 2)

P = params.P
SQRT_BITS = np.array(bits_msb_first((P + 1) // 4), np.uint8)
SQRT2_A1_BITS = np.array(bits_msb_first((P - 3) // 4), np.uint8)
SQRT2_B_BITS = np.array(bits_msb_first((P - 1) // 2), np.uint8)


def compile_sqrt(fq, fq2, jit) -> SimpleNamespace:
    """`fq_sqrt(out, a, s) -> bool`, `fq2_sqrt(out, a, s) -> bool` (True and a root in out when a is a
    square; out may alias a) and `fq2_pow_bits(out, a, bits, s)` (bits MSB-first; s: 6 rows)."""
    f_pow, f_mul, f_eq, f_copy = fq.pow_bits, fq.mul, fq.eq, fq.copy
    f_neg = fq.neg
    c_mul, c_sqr, c_copy, c_set_one = fq2.mul, fq2.sqr, fq2.copy, fq2.set_one
    c_eq, c_add, c_neg = fq2.eq, fq2.add, fq2.neg
    sqrt_bits, a1_bits, b_bits = SQRT_BITS, SQRT2_A1_BITS, SQRT2_B_BITS

    @jit
    def fq_sqrt(out, a, s):
        f_copy(s[1], a)
        f_pow(out, s[1], sqrt_bits, s[0])
        f_mul(s[0], out, out)
        return f_eq(s[0], s[1])

    @jit
    def fq2_pow_bits(out, a, bits, s):
        # s[0:4] product scratch, s[4:6] the base (so out may alias a).
        base = s[4:6]
        c_copy(base, a)
        c_set_one(out)
        for k in range(bits.shape[0]):
            c_sqr(out, out, s)
            if bits[k] != 0:
                c_mul(out, out, base, s)

    @jit
    def fq2_sqrt(out, a, s):
        a1 = s[6:8]
        alpha = s[8:10]
        x0 = s[10:12]
        a_copy = s[12:14]
        c_copy(a_copy, a)
        fq2_pow_bits(a1, a_copy, a1_bits, s)        # a1 = a^((p-3)/4)
        c_sqr(alpha, a1, s)
        c_mul(alpha, alpha, a_copy, s)              # alpha = a1^2 a
        c_mul(x0, a1, a_copy, s)                    # x0 = a1 a
        c_set_one(a1)
        c_neg(a1, a1)
        if c_eq(alpha, a1):
            # alpha = -1: the root is i x0.
            f_copy(a1[0], x0[1])
            f_neg(out[0], a1[0])
            f_copy(out[1], x0[0])
        else:
            c_set_one(a1)
            c_add(alpha, alpha, a1)
            fq2_pow_bits(a1, alpha, b_bits, s)      # b = (1 + alpha)^((p-1)/2)
            c_mul(out, a1, x0, s)
        c_sqr(a1, out, s)
        return c_eq(a1, a_copy)

    return SimpleNamespace(fq_sqrt=fq_sqrt, fq2_sqrt=fq2_sqrt, fq2_pow_bits=fq2_pow_bits)


_cpu = compile_sqrt(fq, fq2, cpu_jit)
fq_sqrt = _cpu.fq_sqrt
fq2_sqrt = _cpu.fq2_sqrt
fq2_pow_bits = _cpu.fq2_pow_bits


def new_scratch() -> np.ndarray:
    return np.empty((S_SQRT, 12), np.uint32)
