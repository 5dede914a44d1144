"""GLV decomposition for G1 scalars: one 255-bit scalar becomes two of at most 128 bits.

sigma(x, y) = (BETA x, y) acts on G1 as [-x^2] (kernels.ec.constants), so
tau(x, y) = -sigma(x, y) = (BETA x, -y) acts as [D] with D = x^2 (128 bits, x the BLS seed).
Every scalar 0 <= k < r splits by integer division as k = k1 + k2 D with k1 = k mod D < 2^128 and
k2 = k div D < r / D < 2^128, both non-negative, and [k]P = [k1]P + [k2]tau(P): an MSM of m full
scalars is an MSM of 2m half-length ones, whose windows need half the doublings and half the
bucket reductions. The division is Barrett's (HAC 14.42, base 2^32) with a correction loop.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from kernels import params
from kernels.cache import cached_njit
from kernels.ec.g1 import g1
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
