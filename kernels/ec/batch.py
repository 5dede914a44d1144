"""CPU-only curve routines that allocate their own scratch: scalar multiplication, subgroup checks,
batch validation, batch conversion to affine and sums of many points (parallel with `prange`).

`compile_cpu_batch` builds them for one curve from its CPU namespace (`kernels.ec.g1.g1` or
`kernels.ec.g2.g2`); `kernels.ec.points` wraps the results for callers.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numba import prange

from kernels import params
from kernels.cache import cached_njit
from kernels.ec.constants import ABS_X, bits_msb_first
from kernels.ec.formulas import S_ROWS, T_ROWS
from kernels.ff.fields import cpu_jit

VALID, OFF_CURVE, NOT_IN_SUBGROUP = 0, 1, 2   # codes of `validate_codes`

X_BITS = np.array(bits_msb_first(ABS_X), np.uint8)
R_BITS = np.array(bits_msb_first(params.R), np.uint8)
_CHUNK = 1024   # points per parallel task in the batch routines


def compile_cpu_batch(curve, F, element_shape: tuple, x_power: int) -> SimpleNamespace:
    """Routines over curve namespace `curve` (field ops `F`, element shape, subgroup-check power of x).

    Returns `mul_aff(out, a, bits, negate)` (out = ±[k]a affine, bits of |k| MSB-first),
    `add_aff(out, a, b)`, `in_subgroup(a)` (endomorphism check; a must be on the curve),
    `in_subgroup_by_order(a)` ([r]a = O, the slow reference), `validate_codes(points, codes)`
    (codes[k] = VALID / OFF_CURVE / NOT_IN_SUBGROUP, parallel), `batch_to_aff(out, jac)`
    (one inversion per chunk of 1024, parallel), `sum_aff(out_jac, points)` (sum of affine
    points by mixed XYZZ additions, parallel over chunks), `mul_each_aff(out, bases, bits, negate)`
    (out[k] = ±sum_j [k_j] bases[k, j] for every k: Straus over a few bases per point, parallel).
    """
    eshape = element_shape
    aff_is_inf, aff_on_curve, aff_to_jac, aff_endo = (curve.aff_is_inf, curve.aff_on_curve, curve.aff_to_jac,
                                                      curve.aff_endo)
    jac_mul_bits, jac_neg, jac_copy, jac_eq, jac_is_inf = (curve.jac_mul_bits, curve.jac_neg, curve.jac_copy,
                                                           curve.jac_eq, curve.jac_is_inf)
    jac_to_aff, jac_madd, jac_dbl, jac_set_inf = curve.jac_to_aff, curve.jac_madd, curve.jac_dbl, curve.jac_set_inf
    xyzz_madd, xyzz_add, xyzz_set_inf, xyzz_to_jac = (curve.xyzz_madd, curve.xyzz_add, curve.xyzz_set_inf,
                                                      curve.xyzz_to_jac)
    f_mul, f_sqr, f_inv, f_copy = F.mul, F.sqr, F.inv, F.copy
    f_set_one, f_is_zero, f_set_zero = F.set_one, F.is_zero, F.set_zero
    x_bits, r_bits = X_BITS, R_BITS
    chunk = _CHUNK

    @cpu_jit
    def temporaries():
        return np.empty((T_ROWS,) + eshape, np.uint32), np.empty((S_ROWS, 12), np.uint32)

    @cpu_jit
    def mul_aff(out, a, bits, negate):
        t, s = temporaries()
        p = np.empty((3,) + eshape, np.uint32)
        q = np.empty((3,) + eshape, np.uint32)
        aff_to_jac(p, a)
        jac_mul_bits(q, p, bits, t, s)
        if negate:
            jac_neg(q, q)
        jac_to_aff(out, q, t, s)

    @cpu_jit
    def add_aff(out, a, b):
        t, s = temporaries()
        p = np.empty((3,) + eshape, np.uint32)
        aff_to_jac(p, a)
        jac_madd(p, p, b, t, s)
        jac_to_aff(out, p, t, s)

    @cpu_jit
    def in_subgroup(a):
        if aff_is_inf(a):
            return True
        t, s = temporaries()
        p = np.empty((3,) + eshape, np.uint32)
        q = np.empty((3,) + eshape, np.uint32)
        e = np.empty((2,) + eshape, np.uint32)
        aff_to_jac(p, a)
        for _ in range(x_power):
            jac_mul_bits(q, p, x_bits, t, s)
            jac_copy(p, q)
        jac_neg(p, p)                       # (-|x|)^k P with the sign the endomorphism needs
        aff_endo(e, a, s)
        aff_to_jac(q, e)
        return jac_eq(p, q, t, s)

    @cpu_jit
    def in_subgroup_by_order(a):
        t, s = temporaries()
        p = np.empty((3,) + eshape, np.uint32)
        q = np.empty((3,) + eshape, np.uint32)
        aff_to_jac(p, a)
        jac_mul_bits(q, p, r_bits, t, s)
        return jac_is_inf(q)

    @cached_njit(parallel=True, nogil=True)
    def validate_codes(points, codes):
        for k in prange(points.shape[0]):
            t, s = temporaries()
            if not aff_on_curve(points[k], t, s):
                codes[k] = 1
            elif not in_subgroup(points[k]):
                codes[k] = 2
            else:
                codes[k] = 0

    @cpu_jit
    def to_aff_run(out, jac, t, s):
        """out[k] = jac[k] made affine for every k, by Montgomery's trick over the nonzero Z: one
        inversion in all (Z = 0 gives infinity)."""
        n = jac.shape[0]
        prefix = np.empty((n,) + eshape, np.uint32)
        acc = np.empty(eshape, np.uint32)
        f_set_one(acc)
        for k in range(n):
            f_copy(prefix[k], acc)
            if not f_is_zero(jac[k, 2]):
                f_mul(acc, acc, jac[k, 2], s)
        f_inv(acc, acc, s)
        for k in range(n - 1, -1, -1):
            if f_is_zero(jac[k, 2]):
                f_set_zero(out[k, 0])
                f_set_zero(out[k, 1])
                continue
            f_mul(t[0], acc, prefix[k], s)   # 1/Z
            f_mul(acc, acc, jac[k, 2], s)
            f_sqr(t[1], t[0], s)
            f_mul(t[0], t[0], t[1], s)
            f_mul(out[k, 0], jac[k, 0], t[1], s)
            f_mul(out[k, 1], jac[k, 1], t[0], s)

    @cached_njit(parallel=True, nogil=True)
    def batch_to_aff(out, jac):
        m = jac.shape[0]
        for c in prange((m + chunk - 1) // chunk):
            lo = c * chunk
            hi = min(m, lo + chunk)
            t, s = temporaries()
            to_aff_run(out[lo:hi], jac[lo:hi], t, s)

    @cached_njit(parallel=True, nogil=True)
    def mul_each_aff(out, bases, bits, negate):
        # Straus: per point, the 2^n subset sums of its n bases (made affine together, one inversion per
        # group of points), then one doubling per bit position and at most one mixed addition.
        m, n, length = bits.shape
        size = 1 << n
        group = 128
        for c in prange((m + group - 1) // group):
            lo = c * group
            hi = min(m, lo + group)
            cnt = hi - lo
            t, s = temporaries()
            jtab = np.empty((cnt * size, 3) + eshape, np.uint32)
            for k in range(lo, hi):
                row = (k - lo) * size
                jac_set_inf(jtab[row])
                for idx in range(1, size):
                    j = 0
                    while (idx >> j) & 1 == 0:
                        j += 1
                    jac_madd(jtab[row + idx], jtab[row + (idx ^ (1 << j))], bases[k, j], t, s)
            atab = np.empty((cnt * size, 2) + eshape, np.uint32)
            to_aff_run(atab, jtab, t, s)
            res = jtab[:cnt]                  # the tables are affine now: reuse their space
            for k in range(lo, hi):
                acc = res[k - lo]
                row = (k - lo) * size
                jac_set_inf(acc)
                for i in range(length):
                    if not jac_is_inf(acc):
                        jac_dbl(acc, acc, t, s)
                    idx = 0
                    for j in range(n):
                        if bits[k, j, i] != 0:
                            idx |= 1 << j
                    if idx != 0:
                        jac_madd(acc, acc, atab[row + idx], t, s)
                if negate[k]:
                    jac_neg(acc, acc)
            to_aff_run(out[lo:hi], res, t, s)

    @cached_njit(parallel=True, nogil=True)
    def sum_aff(out, points):
        m = points.shape[0]
        nchunks = (m + chunk - 1) // chunk
        partial = np.empty((max(nchunks, 1), 4) + eshape, np.uint32)
        for c in prange(nchunks):
            t, s = temporaries()
            xyzz_set_inf(partial[c])
            for k in range(c * chunk, min(m, (c + 1) * chunk)):
                xyzz_madd(partial[c], points[k], t, s)
        t, s = temporaries()
        total = np.empty((4,) + eshape, np.uint32)
        xyzz_set_inf(total)
        for c in range(nchunks):
            xyzz_add(total, partial[c], t, s)
        xyzz_to_jac(out, total, s)

    return SimpleNamespace(mul_aff=mul_aff, add_aff=add_aff, in_subgroup=in_subgroup,
                           in_subgroup_by_order=in_subgroup_by_order, validate_codes=validate_codes,
                           batch_to_aff=batch_to_aff, sum_aff=sum_aff, mul_each_aff=mul_each_aff,
                           temporaries=temporaries)
