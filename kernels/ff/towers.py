"""Fq6 = Fq2[v]/(v^3 - xi) and Fq12 = Fq6[w]/(w^2 - v), xi = 1 + i: CPU routines for the pairing.

Elements: Fq6 is a (3, 2, 12) uint32 array [c0, c1, c2] meaning c0 + c1 v + c2 v^2 (each an Fq2
[re, im] in Montgomery form); Fq12 is a (2, 3, 2, 12) array [c0, c1] meaning c0 + c1 w. In the
basis over Fq2 the Fq12 coefficient at [h, k] belongs to w^(2k + h) (w^6 = xi).

Routines write into `out`, which may alias any input, and take `s`: a 2-D (rows, 12) uint32 array of
Fq scratch rows (callers pass views `s[j:]` down, so nothing is allocated in the inner loops).
Every routine here needs at most `SCRATCH_ROWS` rows; `new_scratch()` makes such an array. These
builds are CPU only (the pairing runs on the CPU, for verification), but follow the same factory
pattern as `fq2` so a device build stays possible.

Frobenius coefficients are derived at import from Python ints: gamma[k][j] = xi^(j (p^k - 1) / 6).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from kernels import params
from kernels.ff.fields import FQ, cpu_jit, fq, fq2

SCRATCH_ROWS = 64   # enough for every routine in this module (the deepest, pow_bits, uses 54)

S6_MUL = 18         # rows used by fq6.mul (the other Fq6 routines use at most this)
S12_MUL = 42        # rows used by fq12.mul (the other Fq12 routines, pow aside, use at most this)


# --- Python-int reference pieces used to derive the constants ----------------------------------
def _fq2_mul_int(a, b):
    p = params.P
    return ((a[0] * b[0] - a[1] * b[1]) % p, (a[0] * b[1] + a[1] * b[0]) % p)


def _fq2_pow_int(a, e: int):
    result, base = (1, 0), a
    while e:
        if e & 1:
            result = _fq2_mul_int(result, base)
        base = _fq2_mul_int(base, base)
        e >>= 1
    return result


def frobenius_coefficients() -> list[list[tuple[int, int]]]:
    """gamma[k][j] = xi^(j (p^k - 1) / 6) for k in 0..11, j in 0..5, as (c0, c1) int pairs.

    (c w^j)^(p^k) = conj^k(c) * gamma[k][j] * w^j because w^(p^k) = w * (w^6)^((p^k - 1)/6).
    """
    p = params.P
    xi = (1, 1)
    out = []
    for k in range(12):
        # xi lies in Fq2*, of order dividing p^2 - 1, so the exponent is reduced mod p^2 - 1.
        step = ((p**k - 1) // 6) % (p * p - 1)
        out.append([_fq2_pow_int(xi, j * step) for j in range(6)])
    return out


def _frobenius_table() -> np.ndarray:
    gammas = frobenius_coefficients()
    flat = [c for row in gammas for pair in row for c in pair]
    return FQ.from_ints(flat).reshape(12, 6, 2, FQ.nlimbs)


def compile_towers(fq, fq2, jit) -> SimpleNamespace:
    """Compile the Fq6 and Fq12 routines over `fq`/`fq2` builds of the same target as `jit`.

    Returns a namespace with `fq6` and `fq12` namespaces (routines listed in their docstrings below).
    """
    f_eq, f_is_zero = fq.eq, fq.is_zero
    e_add, e_sub, e_dbl, e_neg, e_conj = fq2.add, fq2.sub, fq2.dbl, fq2.neg, fq2.conj
    e_copy, e_zero, e_one, e_is_zero, e_eq = fq2.copy, fq2.set_zero, fq2.set_one, fq2.is_zero, fq2.eq
    e_mul, e_sqr, e_nr, e_inv = fq2.mul, fq2.sqr, fq2.mul_by_nonresidue, fq2.inv
    frob = _frobenius_table()

    # ---------------------------------------------------------------------------------- Fq6
    @jit
    def f6_add(out, a, b):
        for k in range(3):
            e_add(out[k], a[k], b[k])

    @jit
    def f6_sub(out, a, b):
        for k in range(3):
            e_sub(out[k], a[k], b[k])

    @jit
    def f6_dbl(out, a):
        for k in range(3):
            e_dbl(out[k], a[k])

    @jit
    def f6_neg(out, a):
        for k in range(3):
            e_neg(out[k], a[k])

    @jit
    def f6_copy(out, a):
        for k in range(3):
            e_copy(out[k], a[k])

    @jit
    def f6_set_zero(out):
        for k in range(3):
            e_zero(out[k])

    @jit
    def f6_set_one(out):
        e_one(out[0])
        e_zero(out[1])
        e_zero(out[2])

    @jit
    def f6_is_zero(a):
        return e_is_zero(a[0]) and e_is_zero(a[1]) and e_is_zero(a[2])

    @jit
    def f6_eq(a, b):
        return e_eq(a[0], b[0]) and e_eq(a[1], b[1]) and e_eq(a[2], b[2])

    @jit
    def f6_mul(out, a, b, s):
        # Karatsuba over Fq2: 6 Fq2 products. Needs S6_MUL = 18 rows.
        t0, t1, t2, u, w, x, y, r = s[0:2], s[2:4], s[4:6], s[6:8], s[8:10], s[10:12], s[12:14], s[14:]
        e_mul(t0, a[0], b[0], r)
        e_mul(t1, a[1], b[1], r)
        e_mul(t2, a[2], b[2], r)
        # c0 = xi ((a1 + a2)(b1 + b2) - t1 - t2) + t0
        e_add(u, a[1], a[2])
        e_add(w, b[1], b[2])
        e_mul(x, u, w, r)
        e_sub(x, x, t1)
        e_sub(x, x, t2)
        e_nr(x, x, r)
        e_add(x, x, t0)
        # c1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2
        e_add(u, a[0], a[1])
        e_add(w, b[0], b[1])
        e_mul(y, u, w, r)
        e_sub(y, y, t0)
        e_sub(y, y, t1)
        e_nr(u, t2, r)
        e_add(y, y, u)
        # c2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1; the last read of a and b, so out[2] may be written.
        e_add(u, a[0], a[2])
        e_add(w, b[0], b[2])
        e_mul(u, u, w, r)
        e_sub(u, u, t0)
        e_sub(u, u, t2)
        e_add(out[2], u, t1)
        e_copy(out[0], x)
        e_copy(out[1], y)

    @jit
    def f6_sqr(out, a, s):
        # Chung-Hasan SQR2: 3 Fq2 squares and 2 Fq2 products. Needs 14 rows.
        t0, t1, t2, t3, t4, r = s[0:2], s[2:4], s[4:6], s[6:8], s[8:10], s[10:]
        e_sqr(t0, a[0], r)                 # s0 = a0^2
        e_mul(t1, a[0], a[1], r)
        e_dbl(t1, t1)                      # s1 = 2 a0 a1
        e_sub(t2, a[0], a[1])
        e_add(t2, t2, a[2])
        e_sqr(t2, t2, r)                   # s2 = (a0 - a1 + a2)^2
        e_mul(t3, a[1], a[2], r)
        e_dbl(t3, t3)                      # s3 = 2 a1 a2
        e_sqr(t4, a[2], r)                 # s4 = a2^2
        # c2 = s1 + s2 + s3 - s0 - s4
        e_add(t2, t2, t1)
        e_add(t2, t2, t3)
        e_sub(t2, t2, t0)
        e_sub(out[2], t2, t4)
        # c0 = xi s3 + s0, c1 = xi s4 + s1
        e_nr(t3, t3, r)
        e_add(out[0], t3, t0)
        e_nr(t4, t4, r)
        e_add(out[1], t4, t1)

    @jit
    def f6_mul_by_v(out, a, s):
        # (a0 + a1 v + a2 v^2) v = xi a2 + a0 v + a1 v^2. Needs 3 rows.
        t, r = s[0:2], s[2:]
        e_nr(t, a[2], r)
        e_copy(out[2], a[1])
        e_copy(out[1], a[0])
        e_copy(out[0], t)

    @jit
    def f6_mul_by_01(out, a, b0, b1, s):
        # a (b0 + b1 v): 5 Fq2 products (Karatsuba with b2 = 0). Needs 16 rows.
        t0, t1, u, w, x, y, r = s[0:2], s[2:4], s[4:6], s[6:8], s[8:10], s[10:12], s[12:]
        e_mul(t0, a[0], b0, r)
        e_mul(t1, a[1], b1, r)
        # c0 = xi ((a1 + a2) b1 - t1) + t0
        e_add(u, a[1], a[2])
        e_mul(x, u, b1, r)
        e_sub(x, x, t1)
        e_nr(x, x, r)
        e_add(x, x, t0)
        # c1 = (a0 + a1)(b0 + b1) - t0 - t1
        e_add(u, a[0], a[1])
        e_add(w, b0, b1)
        e_mul(y, u, w, r)
        e_sub(y, y, t0)
        e_sub(y, y, t1)
        # c2 = (a0 + a2) b0 - t0 + t1
        e_add(u, a[0], a[2])
        e_mul(u, u, b0, r)
        e_sub(u, u, t0)
        e_add(out[2], u, t1)
        e_copy(out[0], x)
        e_copy(out[1], y)

    @jit
    def f6_mul_by_1(out, a, b1, s):
        # a (b1 v) = xi a2 b1 + a0 b1 v + a1 b1 v^2: 3 Fq2 products. Needs 8 rows.
        x, y, r = s[0:2], s[2:4], s[4:]
        e_mul(x, a[2], b1, r)
        e_nr(x, x, r)
        e_mul(y, a[0], b1, r)
        e_mul(out[2], a[1], b1, r)
        e_copy(out[1], y)
        e_copy(out[0], x)

    @jit
    def f6_inv(out, a, s):
        # Adjugate over the norm: t = (a0^2 - xi a1 a2, xi a2^2 - a0 a1, a1^2 - a0 a2),
        # den = a0 t0 + xi (a2 t1 + a1 t2); 0 maps to 0. Needs 14 rows.
        t0, t1, t2, u, d, r = s[0:2], s[2:4], s[4:6], s[6:8], s[8:10], s[10:]
        e_sqr(t0, a[0], r)
        e_mul(u, a[1], a[2], r)
        e_nr(u, u, r)
        e_sub(t0, t0, u)
        e_sqr(t1, a[2], r)
        e_nr(t1, t1, r)
        e_mul(u, a[0], a[1], r)
        e_sub(t1, t1, u)
        e_sqr(t2, a[1], r)
        e_mul(u, a[0], a[2], r)
        e_sub(t2, t2, u)
        e_mul(d, a[2], t1, r)
        e_mul(u, a[1], t2, r)
        e_add(d, d, u)
        e_nr(d, d, r)
        e_mul(u, a[0], t0, r)
        e_add(d, d, u)
        e_inv(d, d, r)
        e_mul(out[0], t0, d, r)
        e_mul(out[1], t1, d, r)
        e_mul(out[2], t2, d, r)

    # --------------------------------------------------------------------------------- Fq12
    @jit
    def six(s, j):
        # An Fq6 temporary carved from six scratch rows.
        return s[j:j + 6].reshape((3, 2, 12))

    @jit
    def twelve(s, j):
        # An Fq12 temporary carved from twelve scratch rows.
        return s[j:j + 12].reshape((2, 3, 2, 12))

    @jit
    def f12_add(out, a, b):
        f6_add(out[0], a[0], b[0])
        f6_add(out[1], a[1], b[1])

    @jit
    def f12_sub(out, a, b):
        f6_sub(out[0], a[0], b[0])
        f6_sub(out[1], a[1], b[1])

    @jit
    def f12_neg(out, a):
        f6_neg(out[0], a[0])
        f6_neg(out[1], a[1])

    @jit
    def f12_conj(out, a):
        # a^(p^6): w -> -w. For unitary elements (after the easy part) this is the inverse.
        f6_copy(out[0], a[0])
        f6_neg(out[1], a[1])

    @jit
    def f12_copy(out, a):
        f6_copy(out[0], a[0])
        f6_copy(out[1], a[1])

    @jit
    def f12_set_zero(out):
        f6_set_zero(out[0])
        f6_set_zero(out[1])

    @jit
    def f12_set_one(out):
        f6_set_one(out[0])
        f6_set_zero(out[1])

    @jit
    def f12_is_zero(a):
        return f6_is_zero(a[0]) and f6_is_zero(a[1])

    @jit
    def f12_eq(a, b):
        return f6_eq(a[0], b[0]) and f6_eq(a[1], b[1])

    one_mont = FQ.element(1)

    @jit
    def f12_is_one(a):
        # Montgomery one in the constant coefficient, zero elsewhere.
        if not f_eq(a[0, 0, 0], one_mont):
            return False
        if not f_is_zero(a[0, 0, 1]):
            return False
        return e_is_zero(a[0, 1]) and e_is_zero(a[0, 2]) and f6_is_zero(a[1])

    @jit
    def f12_mul(out, a, b, s):
        # Karatsuba over Fq6: 3 Fq6 products (54 Fq products). Needs S12_MUL = 42 rows.
        t0, t1, u, w, r = six(s, 0), six(s, 6), six(s, 12), six(s, 18), s[24:]
        f6_mul(t0, a[0], b[0], r)
        f6_mul(t1, a[1], b[1], r)
        f6_add(u, a[0], a[1])
        f6_add(w, b[0], b[1])
        f6_mul(u, u, w, r)
        f6_sub(u, u, t0)
        f6_sub(out[1], u, t1)       # c1 = (a0 + a1)(b0 + b1) - t0 - t1
        f6_mul_by_v(t1, t1, r)
        f6_add(out[0], t0, t1)      # c0 = t0 + v t1

    @jit
    def f12_sqr(out, a, s):
        # Complex squaring: 2 Fq6 products. Needs 36 rows.
        t, u, w, r = six(s, 0), six(s, 6), six(s, 12), s[18:]
        f6_mul(t, a[0], a[1], r)
        f6_add(u, a[0], a[1])
        f6_mul_by_v(w, a[1], r)
        f6_add(w, w, a[0])
        f6_mul(u, u, w, r)          # (a0 + a1)(a0 + v a1)
        f6_sub(u, u, t)
        f6_mul_by_v(w, t, r)
        f6_sub(out[0], u, w)        # c0 = (a0 + a1)(a0 + v a1) - t - v t
        f6_dbl(out[1], t)           # c1 = 2 a0 a1

    @jit
    def f12_inv(out, a, s):
        # 1/(a0 + a1 w) = (a0 - a1 w)/(a0^2 - v a1^2); 0 maps to 0. Needs 30 rows.
        t0, t1, r = six(s, 0), six(s, 6), s[12:]
        f6_sqr(t0, a[0], r)
        f6_sqr(t1, a[1], r)
        f6_mul_by_v(t1, t1, r)
        f6_sub(t0, t0, t1)
        f6_inv(t0, t0, r)
        f6_mul(out[0], a[0], t0, r)
        f6_mul(t1, a[1], t0, r)
        f6_neg(out[1], t1)

    @jit
    def f12_frobenius(out, a, k, s):
        # a^(p^k) for 0 <= k < 12, coefficient by coefficient. Needs 4 rows.
        kk = k % 12
        for h in range(2):
            for i in range(3):
                if kk % 2 == 1:
                    e_conj(out[h, i], a[h, i])
                    e_mul(out[h, i], out[h, i], frob[kk, 2 * i + h], s)
                else:
                    e_mul(out[h, i], a[h, i], frob[kk, 2 * i + h], s)

    @jit
    def f12_mul_by_014(out, a, c0, c1, c4, s):
        # a * (c0 + c1 v + c4 v w), the shape of a Miller-loop line (M-twist): 13 Fq2 products
        # instead of 18. Needs 36 rows.
        aa, bb, u, o, r = six(s, 0), six(s, 6), six(s, 12), s[18:20], s[20:]
        f6_mul_by_01(aa, a[0], c0, c1, r)
        f6_mul_by_1(bb, a[1], c4, r)
        e_add(o, c1, c4)
        f6_add(u, a[0], a[1])
        f6_mul_by_01(u, u, c0, o, r)
        f6_sub(u, u, aa)
        f6_sub(out[1], u, bb)
        f6_mul_by_v(bb, bb, r)
        f6_add(out[0], aa, bb)

    @jit
    def fq4_sqr(c0, c1, a0, a1, s):
        # (a0 + a1 y)^2 in Fq4 = Fq2[y]/(y^2 - xi): 3 Fq2 squares. Needs 9 rows.
        x0, x1, u, r = s[0:2], s[2:4], s[4:6], s[6:]
        e_sqr(x0, a0, r)
        e_sqr(x1, a1, r)
        e_add(u, a0, a1)
        e_sqr(u, u, r)
        e_sub(u, u, x0)
        e_sub(c1, u, x1)
        e_nr(x1, x1, r)
        e_add(c0, x0, x1)

    @jit
    def three_t_minus_2z(out, t, z, s):
        e_sub(s, t, z)
        e_dbl(s, s)
        e_add(out, s, t)

    @jit
    def three_t_plus_2z(out, t, z, s):
        e_add(s, t, z)
        e_dbl(s, s)
        e_add(out, s, t)

    @jit
    def f12_cyclotomic_sqr_compressed(out, a, s):
        # Karabina's compressed squaring (eprint 2010/542): the B and C parts of Granger-Scott
        # below. Only B = (a[1,0], a[0,2]) and C = (a[0,1], a[1,2]) are read and written (6 Fq2
        # squares instead of 9); a[0,0] and a[1,1] of out are left as they were. Needs 21 rows.
        t0, t1, t2, t3, x, r = s[0:2], s[2:4], s[4:6], s[6:8], s[8:10], s[10:]
        fq4_sqr(t0, t1, a[1, 0], a[0, 2], r)     # B^2
        fq4_sqr(t2, t3, a[0, 1], a[1, 2], r)     # C^2
        e_nr(t3, t3, r)                          # y C^2 = xi t3 + t2 y
        three_t_plus_2z(out[1, 0], t3, a[1, 0], x)
        three_t_minus_2z(out[0, 2], t2, a[0, 2], x)
        three_t_minus_2z(out[0, 1], t0, a[0, 1], x)
        three_t_plus_2z(out[1, 2], t1, a[1, 2], x)

    @jit
    def f12_cyclotomic_sqr(out, a, s):
        # Granger-Scott squaring, valid only in the cyclotomic subgroup (after the easy part).
        # As Fq4[w]/(w^3 - y), y = w^3: a = A + B w + C w^2 with A = (a[0,0], a[1,1]),
        # B = (a[1,0], a[0,2]), C = (a[0,1], a[1,2]); a^2 = (3A^2 - 2 conj A)
        # + (3 y C^2 + 2 conj B) w + (3 B^2 - 2 conj C) w^2. Needs 21 rows.
        # Every output coefficient reads only the input at its own position, so out may alias a:
        # the A part first, then B and C by the compressed squaring (which reads neither of A's).
        t0, t1, x, r = s[0:2], s[2:4], s[4:6], s[6:]
        fq4_sqr(t0, t1, a[0, 0], a[1, 1], r)     # A^2
        three_t_minus_2z(out[0, 0], t0, a[0, 0], x)
        three_t_plus_2z(out[1, 1], t1, a[1, 1], x)
        f12_cyclotomic_sqr_compressed(out, a, s)

    @jit
    def f12_cyclotomic_pow_compressed(out, a, set_bits, s):
        # a^e, e = sum_j 2^set_bits[j] (set_bits strictly ascending), for a in the cyclotomic
        # subgroup: squarings in Karabina's compressed form, each needed power a^(2^i) kept
        # compressed, then all decompressed with one shared Fq2 inversion and multiplied.
        # With g1 = a[0,1], g2 = a[1,0], g3 = a[0,2], g5 = a[1,2] (Karabina's names):
        #   g4 = a[1,1] = (xi g5^2 + 3 g1^2 - 2 g3) / (4 g2),
        #   g0 = a[0,0] = xi (2 g4^2 + g2 g5 - 3 g1 g3) + 1.
        # Returns False, with out untouched, when some kept power has g2 = a[1,0] = 0 (the identity among
        # them): the caller then takes cyclotomic_pow_bits. Allocates its k kept powers; needs 54 rows.
        k = set_bits.shape[0]
        kept = np.empty((k, 2, 3, 2, 12), np.uint32)
        prefix = np.empty((k, 2, 12), np.uint32)
        c, r = twelve(s, 0), s[12:]
        f12_copy(c, a)
        j = 0
        i = 0
        while j < k and i <= set_bits[k - 1]:
            if i > 0:
                f12_cyclotomic_sqr_compressed(c, c, r)
            if i == set_bits[j]:
                f12_copy(kept[j], c)
                j += 1
            i += 1
        if j < k:
            return False
        t, u, q = r[0:2], r[2:4], r[4:]
        for j in range(k):
            g = kept[j]
            if e_is_zero(g[1, 0]):
                return False
            e_sqr(t, g[1, 2], q)
            e_nr(t, t, q)
            e_sqr(u, g[0, 1], q)
            e_add(t, t, u)
            e_dbl(u, u)
            e_add(t, t, u)
            e_dbl(u, g[0, 2])
            e_sub(g[1, 1], t, u)               # numerator of g4, kept in place
            e_dbl(t, g[1, 0])
            e_dbl(g[0, 0], t)                  # denominator 4 g2, kept in g0's place
            if j == 0:
                e_copy(prefix[0], g[0, 0])
            else:
                e_mul(prefix[j], prefix[j - 1], g[0, 0], q)
        e_inv(t, prefix[k - 1], q)             # t = 1 / (d_0 ... d_{k-1})
        for j in range(k - 1, -1, -1):
            g = kept[j]
            if j > 0:
                e_mul(u, t, prefix[j - 1], q)  # u = 1 / d_j
                e_mul(t, t, g[0, 0], q)
            else:
                e_copy(u, t)
            e_mul(g[1, 1], g[1, 1], u, q)      # g4
        for j in range(k):
            g = kept[j]
            e_sqr(t, g[1, 1], q)
            e_dbl(t, t)
            e_mul(u, g[1, 0], g[1, 2], q)
            e_add(t, t, u)
            e_mul(u, g[0, 1], g[0, 2], q)
            e_sub(t, t, u)
            e_dbl(u, u)
            e_sub(t, t, u)
            e_nr(t, t, q)
            e_one(u)
            e_add(g[0, 0], t, u)               # g0
        f12_copy(out, kept[0])
        for j in range(1, k):
            f12_mul(out, out, kept[j], r)
        return True

    @jit
    def f12_pow_bits(out, a, bits, s):
        # Square-and-multiply, exponent as MSB-first uint8 bits. Needs 54 rows.
        base, r = twelve(s, 0), s[12:]
        f12_copy(base, a)
        f12_set_one(out)
        for k in range(bits.shape[0]):
            f12_sqr(out, out, r)
            if bits[k] != 0:
                f12_mul(out, out, base, r)

    @jit
    def f12_cyclotomic_pow_bits(out, a, bits, s):
        # The same with cyclotomic squarings: a must lie in the cyclotomic subgroup. Needs 54 rows.
        base, r = twelve(s, 0), s[12:]
        f12_copy(base, a)
        f12_set_one(out)
        for k in range(bits.shape[0]):
            f12_cyclotomic_sqr(out, out, r)
            if bits[k] != 0:
                f12_mul(out, out, base, r)

    fq6_ns = SimpleNamespace(add=f6_add, sub=f6_sub, dbl=f6_dbl, neg=f6_neg, copy=f6_copy,
                             set_zero=f6_set_zero, set_one=f6_set_one, is_zero=f6_is_zero, eq=f6_eq,
                             mul=f6_mul, sqr=f6_sqr, inv=f6_inv, mul_by_v=f6_mul_by_v,
                             mul_by_01=f6_mul_by_01, mul_by_1=f6_mul_by_1)
    fq12_ns = SimpleNamespace(add=f12_add, sub=f12_sub, neg=f12_neg, conj=f12_conj, copy=f12_copy,
                              set_zero=f12_set_zero, set_one=f12_set_one, is_zero=f12_is_zero,
                              is_one=f12_is_one, eq=f12_eq, mul=f12_mul, sqr=f12_sqr, inv=f12_inv,
                              frobenius=f12_frobenius, mul_by_014=f12_mul_by_014,
                              cyclotomic_sqr=f12_cyclotomic_sqr, pow_bits=f12_pow_bits,
                              cyclotomic_pow_bits=f12_cyclotomic_pow_bits,
                              cyclotomic_sqr_compressed=f12_cyclotomic_sqr_compressed,
                              cyclotomic_pow_compressed=f12_cyclotomic_pow_compressed)
    return SimpleNamespace(fq6=fq6_ns, fq12=fq12_ns)


_towers = compile_towers(fq, fq2, cpu_jit)
fq6 = _towers.fq6
fq12 = _towers.fq12


def new_scratch(rows: int = SCRATCH_ROWS) -> np.ndarray:
    """Scratch rows for the routines of this module (SCRATCH_ROWS covers every one of them)."""
    return np.empty((rows, FQ.nlimbs), dtype=np.uint32)


# --- Python conversions (tests, debugging, known answers) -----------------------------------
def fq6_from_ints(value) -> np.ndarray:
    """(3, 2, 12) Montgomery array of ((c0.re, c0.im), (c1.re, c1.im), (c2.re, c2.im)) ints."""
    try:
        pairs = [tuple(pair) for pair in value]
    except TypeError:
        pairs = []
    if len(pairs) != 3 or any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"an Fq6 element is 3 (re, im) pairs of ints, got {value!r}")
    return FQ.from_ints([int(c) for pair in pairs for c in pair]).reshape(3, 2, FQ.nlimbs)


def fq6_to_ints(mont: np.ndarray) -> tuple:
    """Nested int tuples ((re, im) x 3) of one (3, 2, 12) Montgomery array."""
    flat = FQ.to_ints(np.asarray(mont).reshape(3, 2, FQ.nlimbs))
    return tuple((flat[2 * k], flat[2 * k + 1]) for k in range(3))


def fq12_from_ints(value) -> np.ndarray:
    """(2, 3, 2, 12) Montgomery array of (fq6, fq6) nested int tuples (see fq6_from_ints)."""
    if len(value) != 2:
        raise ValueError(f"an Fq12 element has 2 Fq6 coefficients, got {value!r}")
    return np.stack([fq6_from_ints(value[0]), fq6_from_ints(value[1])])


def fq12_to_ints(mont: np.ndarray) -> tuple:
    """Nested int tuples (fq6, fq6) of one (2, 3, 2, 12) Montgomery array."""
    arr = np.asarray(mont).reshape(2, 3, 2, FQ.nlimbs)
    return (fq6_to_ints(arr[0]), fq6_to_ints(arr[1]))


def fq12_one() -> np.ndarray:
    """The Fq12 one as a new (2, 3, 2, 12) array."""
    out = np.empty((2, 3, 2, FQ.nlimbs), dtype=np.uint32)
    fq12.set_one(out)
    return out


def fq12_pow(a: np.ndarray, exponent: int) -> np.ndarray:
    """a^exponent (exponent >= 0) as a new Fq12 array; raises ValueError for a negative exponent."""
    if exponent < 0:
        raise ValueError("fq12_pow takes a non-negative exponent (invert first)")
    out = np.empty((2, 3, 2, FQ.nlimbs), dtype=np.uint32)
    if exponent == 0:
        fq12.set_one(out)
        return out
    bits = np.array([int(b) for b in bin(exponent)[2:]], dtype=np.uint8)
    fq12.pow_bits(out, np.ascontiguousarray(a, dtype=np.uint32), bits, new_scratch())
    return out
