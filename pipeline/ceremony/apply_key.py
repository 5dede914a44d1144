"""Multiply each point of a section by its own scalar, first·inc^i (snarkjs's `batchApplyKey`).

Every point has its own base, so no shared table helps: each is one scalar multiplication by the
kernels' `g1_mul_each` / `g2_mul_each` (the scalar split by the curve's endomorphism into two
128-bit halves on G1 and four 64-bit digits on G2, then Straus; parallel over points). The scalars
are functions of a contributor's secret: they are zeroed as soon as the batch is done.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kernels.ff.fields import FR

def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def geometric_scalars(first: int, inc: int, count: int) -> np.ndarray:
    """Canonical (count, 8) limbs of first·inc^i mod r."""
    from kernels.ntt.radix2 import default_chunks, scale_by_powers

    mont = np.empty((count, FR.nlimbs), np.uint32)
    if count:
        scale_by_powers(mont, FR.element(inc % FR.modulus), FR.element(first % FR.modulus), default_chunks(), True)
    plain = np.empty_like(mont)
    FR.from_mont_vec(plain, mont)
    mont.fill(0)
    return plain


def multiply_points(points: np.ndarray, plain_scalars: np.ndarray, group: str, negate=None) -> np.ndarray:
    """New affine array with points[i]·scalars[i] (canonical (m, 8) scalars; zeroed on return),
    negated where `negate[i]`. Short scalars cost little (leading zero digits are skipped)."""
    from kernels.ec.points import g1_mul_each, g2_mul_each

    try:
        return (g1_mul_each if group == "g1" else g2_mul_each)(points, plain_scalars, negate)
    finally:
        plain_scalars.fill(0)


def apply_key(points: np.ndarray, first: int, inc: int, group: str) -> np.ndarray:
    """points[i]·(first·inc^i) for i < len(points), as a new affine array."""
    return multiply_points(points, geometric_scalars(first, inc, points.shape[0]), group)


def scale_points(points: np.ndarray, k: int, group: str) -> np.ndarray:
    """points[i]·k for every i (one scalar: a .zkey contribution's 1/δ)."""
    return apply_key(points, k, 1, group)


def add_points(a: np.ndarray, b: np.ndarray, group: str, negate_b: bool = False) -> np.ndarray:
    """Element-wise a[i] + b[i] (or a[i] − b[i]) of two affine arrays, by the kernels' `add_aff`."""
    from kernels.ec.g1 import g1
    from kernels.ec.g2 import g2
    from kernels.ec.points import _g1b, _g2b

    add = (_g1b if group == "g1" else _g2b).add_aff
    neg = (g1 if group == "g1" else g2).aff_neg
    a = np.ascontiguousarray(a, dtype=np.uint32)
    b = np.ascontiguousarray(b, dtype=np.uint32)
    out = np.empty_like(a)
    m = a.shape[0]

    def run(lo: int, hi: int) -> None:
        tmp = np.empty_like(a[0])
        for k in range(lo, hi):
            if negate_b:
                neg(tmp, b[k])
                add(out[k], a[k], tmp)
            else:
                add(out[k], a[k], b[k])

    step = max(256, -(-m // (4 * _threads())))
    with ThreadPoolExecutor(_threads()) as pool:
        for fut in [pool.submit(run, lo, min(m, lo + step)) for lo in range(0, m, step)]:
            fut.result()
    return out
