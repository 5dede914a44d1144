"""Optimal ate pairing on BLS12-381 and multi-pairings with one shared final exponentiation (CPU).

e(P, Q) = (f_{x,Q}(P))^(3 (p^12 - 1) / r) with the seed x = -0xd201000000010000 (kernels.params):
- Miller loop over the bits of |x|, G2 in homogeneous projective coordinates on the M-twist
  E': y^2 = x^3 + 4(1 + i), lines evaluated at P in the sparse shape c0 + c1 v + c4 v w
  (formulas of Costello-Lange-Naehrig, eprint 2010/354, as arkworks' bls12 uses them); since x < 0
  the result is conjugated (f^(p^6), the inverse up to factors the final exponentiation removes).
- Final exponentiation: the easy part (p^6 - 1)(p^2 + 1), then the hard part through the x-chain of
  Hayashida-Hayasaka-Teruya (eprint 2020/875): 3 (p^4 - p^2 + 1)/r = (x - 1)^2 (x + p)(x^2 + p^2 - 1) + 3,
  five exponentiations by x, each 63 of Karabina's compressed squarings (eprint 2010/542) with one
  shared inversion to decompress the six powers at |x|'s set bits, Granger-Scott squarings where
  decompression would divide by zero (a[1,0] = 0).

The value is the cube of f^((p^12 - 1)/r), the same element zkcrypto/bls12_381 gives (the tests check
its published e(G1, G2)); py_ecc's pairing(Q, P) is a v with ours = v^(-3) (py_ecc neither conjugates
nor cubes). Cubing is a bijection on GT (3 does not divide r), so products and checks are unaffected.

Points: a G1 point is a (2, 12) uint32 Montgomery array [x, y]; a G2 point a (2, 2, 12) array
[x, y] of Fq2 [c0, c1]; all-zero coordinates denote the point at infinity (its pairings are 1).
Inputs are taken to be valid points of G1 and G2 (on the curve, in the order-r subgroup: check them
with kernels.ec first); results are (2, 3, 2, 12) Fq12 arrays (kernels.ff.towers).
"""

from __future__ import annotations

import numpy as np

from kernels import params
from kernels.errors import KernelError
from kernels.ff.fields import FQ, cpu_jit, fq2, fq2_from_ints
from kernels.ff.towers import SCRATCH_ROWS, fq12

FQ12_SHAPE = (2, 3, 2, FQ.nlimbs)

X_IS_NEGATIVE = params.X < 0
# |x| as MSB-first bits: the Miller loop walks them, and so does exponentiation by x.
X_ABS_BITS = np.array([int(b) for b in bin(abs(params.X))[2:]], dtype=np.uint8)
# The positions of |x|'s set bits, ascending (16, 48, 57, 60, 62, 63): compressed exponentiation.
X_SET_BITS = np.array([k for k in range(abs(params.X).bit_length()) if abs(params.X) >> k & 1], dtype=np.int64)

_TWO_INV = FQ.element(pow(2, -1, params.P))
_B2 = fq2_from_ints([params.B2])[0]          # b' = 4(1 + i) of the twist E'

_e_add, _e_sub, _e_dbl, _e_neg, _e_copy, _e_one = fq2.add, fq2.sub, fq2.dbl, fq2.neg, fq2.copy, fq2.set_one
_e_mul, _e_sqr, _e_mul_by_fq, _e_is_zero = fq2.mul, fq2.sqr, fq2.mul_by_fq, fq2.is_zero
_f12_sqr, _f12_mul, _f12_conj, _f12_inv = fq12.sqr, fq12.mul, fq12.conj, fq12.inv
_f12_one, _f12_copy, _f12_frobenius = fq12.set_one, fq12.copy, fq12.frobenius
_f12_cyc_sqr, _f12_cyc_pow, _f12_mul_by_014 = fq12.cyclotomic_sqr, fq12.cyclotomic_pow_bits, fq12.mul_by_014
_f12_cyc_pow_compressed = fq12.cyclotomic_pow_compressed
fq12_is_one = fq12.is_one
fq12_eq = fq12.eq


@cpu_jit
def doubling_step(t, line, p, s):
    """T <- 2T for T = [X, Y, Z] (3, 2, 12) on E'; line <- the tangent at T evaluated at p (c0, c1, c4).

    Homogeneous projective doubling with the line (eprint 2010/354, M-twist). Needs 20 scratch rows.
    """
    a, b, c, e, f, g, h, j, r = (s[0:2], s[2:4], s[4:6], s[6:8], s[8:10], s[10:12], s[12:14], s[14:16],
                                 s[16:])
    x, y, z = t[0], t[1], t[2]
    _e_mul(a, x, y, r)
    _e_mul_by_fq(a, a, _TWO_INV)           # a = XY/2
    _e_sqr(b, y, r)                        # b = Y^2
    _e_sqr(c, z, r)                        # c = Z^2
    _e_dbl(e, c)
    _e_add(e, e, c)
    _e_mul(e, e, _B2, r)                   # e = 3 b' Z^2
    _e_dbl(f, e)
    _e_add(f, f, e)                        # f = 3e
    _e_add(g, b, f)
    _e_mul_by_fq(g, g, _TWO_INV)           # g = (b + f)/2
    _e_add(h, y, z)
    _e_sqr(h, h, r)
    _e_sub(h, h, b)
    _e_sub(h, h, c)                        # h = (Y + Z)^2 - b - c = 2YZ
    _e_sqr(j, x, r)                        # j = X^2
    # line: c0 = e - b, c1 = 3j * px, c4 = -h * py
    _e_sub(line[0], e, b)
    _e_dbl(c, j)
    _e_add(c, c, j)
    _e_mul_by_fq(line[1], c, p[0])
    _e_neg(c, h)
    _e_mul_by_fq(line[2], c, p[1])
    # 2T: X3 = a (b - f), Y3 = g^2 - 3 e^2, Z3 = b h
    _e_sub(c, b, f)
    _e_mul(x, a, c, r)
    _e_sqr(g, g, r)
    _e_sqr(e, e, r)
    _e_dbl(c, e)
    _e_add(c, c, e)
    _e_sub(y, g, c)
    _e_mul(z, b, h, r)


@cpu_jit
def addition_step(t, q, line, p, s):
    """T <- T + Q for affine Q (2, 2, 12) on E'; line <- the chord through T and Q evaluated at p.

    Mixed homogeneous projective addition with the line (eprint 2010/354, M-twist). T must differ
    from +-Q (true in the Miller loop for Q of order r). Needs 22 scratch rows.
    """
    theta, lam, c, d, e, f, g, h, u, r = (s[0:2], s[2:4], s[4:6], s[6:8], s[8:10], s[10:12], s[12:14],
                                          s[14:16], s[16:18], s[18:])
    x, y, z = t[0], t[1], t[2]
    qx, qy = q[0], q[1]
    _e_mul(u, qy, z, r)
    _e_sub(theta, y, u)                    # theta = Y - qy Z
    _e_mul(u, qx, z, r)
    _e_sub(lam, x, u)                      # lambda = X - qx Z
    _e_sqr(c, theta, r)
    _e_sqr(d, lam, r)
    _e_mul(e, lam, d, r)                   # e = lambda^3
    _e_mul(f, z, c, r)                     # f = Z theta^2
    _e_mul(g, x, d, r)                     # g = X lambda^2
    _e_add(h, e, f)
    _e_dbl(u, g)
    _e_sub(h, h, u)                        # h = e + f - 2g
    _e_mul(x, lam, h, r)                   # X3 = lambda h
    _e_sub(u, g, h)
    _e_mul(u, theta, u, r)
    _e_mul(c, e, y, r)
    _e_sub(y, u, c)                        # Y3 = theta (g - h) - e Y
    _e_mul(z, z, e, r)                     # Z3 = Z e
    # line: c0 = theta qx - lambda qy, c1 = -theta * px, c4 = lambda * py
    _e_mul(u, theta, qx, r)
    _e_mul(c, lam, qy, r)
    _e_sub(line[0], u, c)
    _e_neg(c, theta)
    _e_mul_by_fq(line[1], c, p[0])
    _e_mul_by_fq(line[2], lam, p[1])


@cpu_jit
def _miller_loop(out, ps, qs, active, bits):
    # One pass for all pairs: f is squared once per bit, then every pair's line is multiplied in.
    k = ps.shape[0]
    s = np.empty((SCRATCH_ROWS, 12), np.uint32)
    t = np.empty((k, 3, 2, 12), np.uint32)
    line = np.empty((3, 2, 12), np.uint32)
    for m in range(k):
        _e_copy(t[m, 0], qs[m, 0])
        _e_copy(t[m, 1], qs[m, 1])
        _e_one(t[m, 2])
    _f12_one(out)
    for n in range(1, bits.shape[0]):
        if n > 1:
            _f12_sqr(out, out, s)
        for m in range(k):
            if active[m]:
                doubling_step(t[m], line, ps[m], s)
                _f12_mul_by_014(out, out, line[0], line[1], line[2], s)
        if bits[n] != 0:
            for m in range(k):
                if active[m]:
                    addition_step(t[m], qs[m], line, ps[m], s)
                    _f12_mul_by_014(out, out, line[0], line[1], line[2], s)


@cpu_jit
def _exp_by_x(out, a, s):
    # a^x for a in the cyclotomic subgroup, where inversion is conjugation. |x| has six set bits,
    # so compressed squarings win; Granger-Scott takes over where decompression cannot (a[1,0] = 0).
    if not _f12_cyc_pow_compressed(out, a, X_SET_BITS, s):
        _f12_cyc_pow(out, a, X_ABS_BITS, s)
    if X_IS_NEGATIVE:
        _f12_conj(out, out)


@cpu_jit
def _final_exponentiation(out, f):
    s = np.empty((SCRATCH_ROWS, 12), np.uint32)
    m = np.empty((2, 3, 2, 12), np.uint32)
    t0 = np.empty((2, 3, 2, 12), np.uint32)
    t1 = np.empty((2, 3, 2, 12), np.uint32)
    # Easy part: m = f^((p^6 - 1)(p^2 + 1)), which lands in the cyclotomic subgroup.
    _f12_inv(t0, f, s)
    _f12_conj(m, f)
    _f12_mul(m, m, t0, s)
    _f12_frobenius(t0, m, 2, s)
    _f12_mul(m, t0, m, s)
    # Hard part: m^((x - 1)^2 (x + p)(x^2 + p^2 - 1) + 3).
    _exp_by_x(t0, m, s)
    _f12_conj(t1, m)
    _f12_mul(t0, t0, t1, s)                # t0 = m^(x - 1)
    _exp_by_x(t1, t0, s)
    _f12_conj(t0, t0)
    _f12_mul(t0, t1, t0, s)                # t0 = m^((x - 1)^2) =: a
    _exp_by_x(t1, t0, s)
    _f12_frobenius(t0, t0, 1, s)
    _f12_mul(t0, t1, t0, s)                # t0 = a^(x + p) =: b
    _exp_by_x(t1, t0, s)
    _exp_by_x(t1, t1, s)                   # t1 = b^(x^2)
    _f12_frobenius(out, t0, 2, s)
    _f12_mul(t1, t1, out, s)
    _f12_conj(t0, t0)
    _f12_mul(t1, t1, t0, s)                # t1 = b^(x^2 + p^2 - 1)
    _f12_cyc_sqr(t0, m, s)
    _f12_mul(t0, t0, m, s)                 # t0 = m^3
    _f12_mul(out, t1, t0, s)


def _points(ps, qs) -> tuple[np.ndarray, np.ndarray]:
    """Validated contiguous (k, 2, 12) and (k, 2, 2, 12) arrays; raises KernelError otherwise."""
    ps, qs = np.asarray(ps), np.asarray(qs)
    n = FQ.nlimbs
    if ps.dtype != np.uint32 or qs.dtype != np.uint32:
        raise KernelError(f"pairing inputs must be uint32 Montgomery arrays, got {ps.dtype} and {qs.dtype}")
    if ps.ndim != 3 or ps.shape[1:] != (2, n):
        raise KernelError(f"G1 points must have shape (k, 2, {n}), got {ps.shape}")
    if qs.ndim != 4 or qs.shape[1:] != (2, 2, n):
        raise KernelError(f"G2 points must have shape (k, 2, 2, {n}), got {qs.shape}")
    if ps.shape[0] != qs.shape[0]:
        raise KernelError(f"{ps.shape[0]} G1 points but {qs.shape[0]} G2 points")
    return np.ascontiguousarray(ps), np.ascontiguousarray(qs)


def miller_loop(ps, qs) -> np.ndarray:
    """Product over k pairs of the Miller-loop values f_{x,Q}(P), before the final exponentiation.

    ps: (k, 2, 12) G1 points, qs: (k, 2, 2, 12) G2 points (affine, Montgomery; all-zero is infinity,
    skipped). Returns a new (2, 3, 2, 12) Fq12 array; multiply several and finish once with
    `final_exponentiation`. Raises KernelError on wrong shapes or dtypes.
    """
    ps, qs = _points(ps, qs)
    active = ps.any(axis=(1, 2)) & qs.any(axis=(1, 2, 3))
    out = np.empty(FQ12_SHAPE, dtype=np.uint32)
    _miller_loop(out, ps, qs, active, X_ABS_BITS)
    if X_IS_NEGATIVE:
        fq12.conj(out, out)
    return out


def final_exponentiation(f) -> np.ndarray:
    """f^(3 (p^12 - 1)/r) as a new (2, 3, 2, 12) array: an element of GT (0 maps to 0).

    Raises KernelError on a wrong shape or dtype.
    """
    f = np.asarray(f)
    if f.dtype != np.uint32 or f.shape != FQ12_SHAPE:
        raise KernelError(f"an Fq12 element is a uint32 array of shape {FQ12_SHAPE}, got {f.dtype} {f.shape}")
    out = np.empty(FQ12_SHAPE, dtype=np.uint32)
    _final_exponentiation(out, np.ascontiguousarray(f))
    return out


def multi_pairing(ps, qs) -> np.ndarray:
    """prod_k e(ps[k], qs[k]) as a new (2, 3, 2, 12) Fq12 array, with one final exponentiation.

    Shapes as in `miller_loop`; an empty batch gives 1. Raises KernelError on wrong shapes or dtypes.
    """
    return final_exponentiation(miller_loop(ps, qs))


def pairing(p, q) -> np.ndarray:
    """e(p, q) for one G1 point p (2, 12) and one G2 point q (2, 2, 12) as a new Fq12 array.

    Raises KernelError on wrong shapes or dtypes.
    """
    p, q = np.asarray(p), np.asarray(q)
    return multi_pairing(p[None], q[None])


def pairing_check(ps, qs) -> bool:
    """True when prod_k e(ps[k], qs[k]) == 1 (the Groth16 verification equation, moved to one side).

    Raises KernelError on wrong shapes or dtypes.
    """
    return bool(fq12_is_one(multi_pairing(ps, qs)))
