"""GLV decomposition for G1 scalars: one 255-bit scalar becomes two of at most 128 bits.

sigma(x, y) = (BETA x, y) acts on G1 as [-x^2] (kernels.ec.constants), so
tau(x, y) = -sigma(x, y) = (BETA x, -y) acts as [D] with D = x^2 (128 bits, x the BLS seed).
Every scalar 0 <= k < r splits by integer division as k = k1 + k2 D with k1 = k mod D < 2^128 and
k2 = k div D < r / D < 2^128, both non-negative, and [k]P = [k1]P + [k2]tau(P): an MSM of m full
scalars is an MSM of 2m half-length ones, whose windows need half the doublings and half the
bucket reductions. The division is Barrett's (HAC 14.42, base 2^32) with a correction loop.

G2 splits four ways (GLS): psi acts on G2 as [x] (kernels.ec.constants), so [|x|] = -psi there, and a
scalar k < r < |x|^4 written in base |x| as k = k0 + k1|x| + k2|x|^2 + k3|x|^3 (digits below 2^64)
gives [k]P = [k0]P + [k1](-psi P) + [k2](psi^2 P) + [k3](-psi^3 P). `g1_split` and `g2_split` turn
points and scalars into those bases and digit bits, the input of the batch routine `mul_each_aff`.
Both endomorphisms act as scalars only on the prime-order subgroup: for a point outside it the
result is some other point (such points fail every validation anyway).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from kernels import params
from kernels.cache import cached_njit
from kernels.ec.formulas import S_ROWS
from kernels.ec.g1 import g1
from kernels.ec.g2 import g2
from kernels.ff.fields import FR, cpu_jit, fq
from kernels.ff.montgomery import int_to_limbs

DIVISOR = params.X**2                     # tau = [DIVISOR] on G1
HALF_BITS = DIVISOR.bit_length()          # 128: both halves are below 2^128
assert HALF_BITS == 128 and (params.R - 1) // DIVISOR < 1 << HALF_BITS
_MU = (1 << 256) // DIVISOR               # Barrett constant, 129 bits
_D_LIMBS = int_to_limbs(DIVISOR, 4).astype(np.uint64)
_MU_LIMBS = int_to_limbs(_MU, 5).astype(np.uint64)
_CHUNK = 1024


@cpu_jit
def _split(x, lo, hi, q2, t):
    """lo = x mod D, hi = x div D for one (8,) uint32 scalar x < 2^256 (lo, hi: (8,) uint32)."""
    mask = np.uint64(0xFFFFFFFF)
    d, mu = _D_LIMBS, _MU_LIMBS
    # q2 = floor(x / 2^96) * mu (q1 has limbs x[3..7]), then q3 = q2 >> 160 = q2[5..9].
    for i in range(10):
        q2[i] = np.uint64(0)
    for i in range(5):
        carry = np.uint64(0)
        xi = np.uint64(x[3 + i])
        for j in range(5):
            v = q2[i + j] + xi * mu[j] + carry
            q2[i + j] = v & mask
            carry = v >> np.uint64(32)
        q2[i + 5] = carry
    # t = x - q3 * D mod 2^160 (the remainder is below 3D < 2^130).
    for i in range(5):
        t[i] = np.uint64(0)
    for i in range(5):
        carry = np.uint64(0)
        qi = q2[5 + i]
        for j in range(4):
            if i + j < 5:
                v = t[i + j] + qi * d[j] + carry
                t[i + j] = v & mask
                carry = v >> np.uint64(32)
        if i + 4 < 5:
            t[i + 4] = (t[i + 4] + carry) & mask
    borrow = np.uint64(0)
    for i in range(5):
        v = np.uint64(x[i]) - t[i] - borrow
        t[i] = v & mask
        borrow = v >> np.uint64(63)
    while True:                                # at most twice
        # t >= D ?
        ge = t[4] != 0
        if not ge:
            ge = True
            for i in range(3, -1, -1):
                if t[i] != d[i]:
                    ge = t[i] > d[i]
                    break
        if not ge:
            break
        borrow = np.uint64(0)
        for i in range(5):
            di = d[i] if i < 4 else np.uint64(0)
            v = t[i] - di - borrow
            t[i] = v & mask
            borrow = v >> np.uint64(63)
        carry = np.uint64(1)
        for i in range(5, 10):
            v = q2[i] + carry
            q2[i] = v & mask
            carry = v >> np.uint64(32)
    for i in range(8):
        lo[i] = np.uint32(t[i]) if i < 4 else np.uint32(0)
        hi[i] = np.uint32(q2[5 + i]) if i < 5 else np.uint32(0)


@cached_njit(parallel=True, nogil=True)
def _decompose(scalars, lo, hi, chunk):
    m = scalars.shape[0]
    for c in prange((m + chunk - 1) // chunk):
        q2 = np.empty(10, np.uint64)
        t = np.empty(5, np.uint64)
        for k in range(c * chunk, min(m, (c + 1) * chunk)):
            _split(scalars[k], lo[k], hi[k], q2, t)
        q2[:] = 0                               # they held the halves of secret scalars
        t[:] = 0


_endo, _neg = g1.aff_endo, fq.neg


@cached_njit(parallel=True, nogil=True)
def _tau(points, out):
    for k in prange(points.shape[0]):
        _endo(out[k], points[k], out[k])       # s is unused by the G1 endomorphism
        _neg(out[k, 1], out[k, 1])


def decompose(scalars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k1, k2), each (m, 8) canonical Fr limbs below 2^128, with k = k1 + k2 * DIVISOR as integers,
    for (m, 8) canonical scalars k (any value below 2^256 splits; below r both halves fit 128 bits)."""
    scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
    if scalars.ndim != 2 or scalars.shape[1] != FR.nlimbs:
        raise ValueError(f"scalars must have shape (m, {FR.nlimbs}), got {scalars.shape}")
    lo, hi = np.empty_like(scalars), np.empty_like(scalars)
    _decompose(scalars, lo, hi, _CHUNK)
    return lo, hi


def tau(points: np.ndarray) -> np.ndarray:
    """tau(P) = (BETA x, -y) = [DIVISOR] P for (m, 2, 12) affine Montgomery G1 points (infinity stays)."""
    points = np.ascontiguousarray(points, dtype=np.uint32)
    out = np.empty_like(points)
    _tau(points, out)
    return out


# --- G2: base-|x| digits (GLS) ---------------------------------------------------------------------
ABS_X = -params.X
_ABS_X_HIGH = ABS_X >> 16                 # |x| = 2^16 * _ABS_X_HIGH, a 48-bit odd number
assert _ABS_X_HIGH << 16 == ABS_X and _ABS_X_HIGH < 1 << 48 and params.R < ABS_X**4
_ABS_X_U64 = np.uint64(ABS_X)
_HIGH_U64 = np.uint64(_ABS_X_HIGH)


@cpu_jit
def _split_abs_x(x, digits, w):
    """digits[0..3] (uint64) of one (8,) uint32 scalar x in base |x|; False when x >= |x|^4.

    Dividing by |x| = 2^16 c takes the low 16 bits off and divides the rest by the 48-bit c in base
    2^16, so that every partial remainder times 2^16 fits 64 bits."""
    sixteen, low16 = np.uint64(16), np.uint64(0xFFFF)
    for i in range(8):
        w[2 * i] = np.uint64(x[i]) & low16
        w[2 * i + 1] = np.uint64(x[i]) >> sixteen
    c = _HIGH_U64
    for d in range(3):
        low = w[0]
        rem = np.uint64(0)
        for i in range(15, 0, -1):             # quotient digit of position i - 1 kept at i, shifted below
            cur = (rem << sixteen) | w[i]
            q = cur // c
            rem = cur - q * c
            w[i] = q
        for i in range(15):
            w[i] = w[i + 1]
        w[15] = np.uint64(0)
        digits[d] = (rem << sixteen) | low
    for i in range(4, 16):
        if w[i] != 0:
            return False
    v = w[0] | (w[1] << sixteen) | (w[2] << np.uint64(32)) | (w[3] << np.uint64(48))
    if v >= _ABS_X_U64:
        return False
    digits[3] = v
    return True


@cached_njit(parallel=True, nogil=True)
def _split_g2(scalars, digits, ok, chunk):
    m = scalars.shape[0]
    for c in prange((m + chunk - 1) // chunk):
        w = np.empty(16, np.uint64)
        for k in range(c * chunk, min(m, (c + 1) * chunk)):
            ok[k] = _split_abs_x(scalars[k], digits[k], w)
        w.fill(0)


_psi, _neg_g2 = g2.aff_endo, g2.aff_neg


@cached_njit(parallel=True, nogil=True)
def _g2_bases(points, out):
    for k in prange(points.shape[0]):
        s = np.empty((S_ROWS, 12), np.uint32)
        out[k, 0] = points[k]
        _psi(out[k, 1], points[k], s)
        _psi(out[k, 2], out[k, 1], s)
        _psi(out[k, 3], out[k, 2], s)
        _neg_g2(out[k, 1], out[k, 1])
        _neg_g2(out[k, 3], out[k, 3])


_R_LIMBS = np.array([(params.R >> (32 * i)) & 0xFFFFFFFF for i in range(8)], np.uint32)


def _below_r(scalars: np.ndarray) -> np.ndarray:
    """Per row of (m, 8) little-endian limbs: the number is below r."""
    less = np.zeros(scalars.shape[0], np.bool_)
    equal = np.ones(scalars.shape[0], np.bool_)
    for i in range(7, -1, -1):
        less |= equal & (scalars[:, i] < _R_LIMBS[i])
        equal &= scalars[:, i] == _R_LIMBS[i]
    return less


def below_r(scalars: np.ndarray) -> np.ndarray:
    """Per row of (m, 8) little-endian uint32 limbs: the number is below r."""
    return _below_r(scalars)


def _check_scalars(scalars: np.ndarray) -> np.ndarray:
    scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
    if scalars.ndim != 2 or scalars.shape[1] != FR.nlimbs:
        raise ValueError(f"scalars must have shape (m, {FR.nlimbs}), got {scalars.shape}")
    return scalars


def _limb_bits(limbs: np.ndarray, nbits: int) -> np.ndarray:
    """(m, nbits) uint8 bits, most significant first, of the low nbits of (m, 8) uint32 numbers."""
    le = np.ascontiguousarray(limbs[:, : nbits // 32], dtype="<u4")
    be = np.ascontiguousarray(le.view(np.uint8)[:, ::-1])
    try:
        return np.unpackbits(be, axis=1)
    finally:                                   # the scalars may be secrets: leave no copy behind
        le.fill(0)
        be.fill(0)


def g1_split(points: np.ndarray, scalars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bases, bits): bases (m, 2, 2, 12) = [P, tau P], bits (m, 2, 128) MSB-first of k = k1 + k2 D,
    for (m, 2, 12) affine G1 points and (m, 8) canonical scalars (ValueError for a scalar >= r)."""
    lo, hi = decompose(_check_scalars(scalars))
    halves = []
    try:
        if hi[:, 4:].any() or lo[:, 4:].any():
            raise ValueError("a G1 scalar is not below r: reduce it first")
        halves = [_limb_bits(lo, HALF_BITS), _limb_bits(hi, HALF_BITS)]
        bits = np.stack(halves, axis=1)
    finally:                                   # every copy of the halves but `bits` (the caller zeroes it)
        lo.fill(0)
        hi.fill(0)
        for half in halves:
            half.fill(0)
    return np.stack([points, tau(points)], axis=1), bits


def g2_decompose(scalars: np.ndarray) -> np.ndarray:
    """(m, 4, 8) canonical Fr limbs of the base-|x| digits k0..k3 (each below 2^64, so limbs 0 and 1)
    of (m, 8) scalars below |x|^4 (every canonical scalar; ValueError otherwise)."""
    scalars = _check_scalars(scalars)
    m = scalars.shape[0]
    digits = np.empty((m, 4), np.uint64)
    ok = np.empty(m, np.bool_)
    try:
        _split_g2(scalars, digits, ok, _CHUNK)
        if not ok.all():
            raise ValueError("a G2 scalar is not below |x|^4 > r: reduce it first")
        limbs = np.zeros((m, 4, FR.nlimbs), np.uint32)
        # No temporary copy of the secret digits: the cast keeps the low word, the shift is in place.
        np.copyto(limbs[:, :, 0], digits, casting="unsafe")
        np.right_shift(digits, np.uint64(32), out=digits)
        np.copyto(limbs[:, :, 1], digits, casting="unsafe")
    finally:
        digits.fill(0)
    return limbs


def g2_bases(points: np.ndarray) -> np.ndarray:
    """(m, 4, 2, 2, 12) = [P, -psi P, psi^2 P, -psi^3 P] for (m, 2, 2, 12) affine Montgomery G2 points:
    for P in the subgroup, [k]P is the sum of the digits of `g2_decompose(k)` times these."""
    points = np.ascontiguousarray(points, dtype=np.uint32)
    bases = np.empty((points.shape[0], 4) + points.shape[1:], np.uint32)
    _g2_bases(points, bases)
    return bases


def g2_split(points: np.ndarray, scalars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bases, bits): bases (m, 4, 2, 2, 12) = [P, -psi P, psi^2 P, -psi^3 P], bits (m, 4, 64)
    MSB-first of the base-|x| digits, for (m, 2, 2, 12) affine G2 points and (m, 8) scalars below
    |x|^4 (every canonical scalar; ValueError otherwise)."""
    limbs = g2_decompose(scalars)
    m = limbs.shape[0]
    low = be = None
    try:
        low = np.ascontiguousarray(limbs[:, :, :2])
        be = low.view("<u8").astype(">u8")
        bits = np.unpackbits(be.view(np.uint8).reshape(m, 4, 8), axis=2)
    finally:                                   # every copy of the digits but `bits` (the caller zeroes it)
        for copy in (limbs, low, be):
            if copy is not None:
                copy.fill(0)
    return g2_bases(points), bits
