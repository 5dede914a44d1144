"""G1 and G2 points as NumPy arrays: conversions, group operations, checks (the friendly layer).

Layouts (uint32, coordinates in Montgomery form, see `kernels.ec.formulas`):
  G1 affine: one point (2, 12), many (m, 2, 12); Jacobian (m, 3, 12)
  G2 affine: one point (2, 2, 12), many (m, 2, 2, 12); Jacobian (m, 3, 2, 12); an Fq2
  coordinate is [c0, c1] meaning c0 + c1 i.
The point at infinity is all-zero affine coordinates (x = y = 0 lies on neither curve).
Int forms: G1 points are (x, y) or None; G2 points are ((x0, x1), (y0, y1)) or None.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from kernels import params
from kernels.ec.batch import NOT_IN_SUBGROUP, OFF_CURVE, compile_cpu_batch
from kernels.ec.constants import bits_msb_first
from kernels.ec.formulas import fq2_ops, fq_ops
from kernels.ec.g1 import ELEMENT_SHAPE as G1_ELEMENT, X_POWER as G1_X_POWER, g1
from kernels.ec.g2 import ELEMENT_SHAPE as G2_ELEMENT, X_POWER as G2_X_POWER, g2
from kernels.errors import EncodingError
from kernels.ff.fields import FQ, cpu_jit, fq, fq2

G1_SHAPE = (2,) + G1_ELEMENT
G2_SHAPE = (2,) + G2_ELEMENT

_g1b = compile_cpu_batch(g1, fq_ops(fq, cpu_jit), G1_ELEMENT, G1_X_POWER)
_g2b = compile_cpu_batch(g2, fq2_ops(fq2), G2_ELEMENT, G2_X_POWER)


# --- ints <-> arrays ---------------------------------------------------------------------------
def g1_from_ints(points: Iterable) -> np.ndarray:
    """(m, 2, 12) array of (x, y) int pairs (None for infinity). Coordinates are reduced mod p, not checked."""
    pts = list(points)
    flat = [c for pt in pts for c in ((0, 0) if pt is None else pt)]
    return FQ.from_ints(flat).reshape((len(pts),) + G1_SHAPE)


def g1_to_ints(arr: np.ndarray) -> list:
    """(x, y) int pairs (None for infinity) of a (2, 12) point or an (m, 2, 12) array."""
    flat = FQ.to_ints(np.asarray(arr).reshape((-1,) + G1_SHAPE))
    pairs = [(flat[k], flat[k + 1]) for k in range(0, len(flat), 2)]
    return [None if pt == (0, 0) else pt for pt in pairs]


def g2_from_ints(points: Iterable) -> np.ndarray:
    """(m, 2, 2, 12) array of ((x0, x1), (y0, y1)) (None for infinity); not checked."""
    pts = list(points)
    flat = [c for pt in pts for coord in (((0, 0), (0, 0)) if pt is None else pt) for c in coord]
    return FQ.from_ints(flat).reshape((len(pts),) + G2_SHAPE)


def g2_to_ints(arr: np.ndarray) -> list:
    """((x0, x1), (y0, y1)) (None for infinity) of a (2, 2, 12) point or an (m, 2, 2, 12) array."""
    flat = FQ.to_ints(np.asarray(arr).reshape((-1,) + G2_SHAPE))
    pts = [((flat[k], flat[k + 1]), (flat[k + 2], flat[k + 3])) for k in range(0, len(flat), 4)]
    return [None if pt == ((0, 0), (0, 0)) else pt for pt in pts]


def g1_generator() -> np.ndarray:
    """The standard G1 generator, (2, 12)."""
    return g1_from_ints([params.G1_GENERATOR])[0]


def g2_generator() -> np.ndarray:
    """The standard G2 generator, (2, 2, 12)."""
    return g2_from_ints([params.G2_GENERATOR])[0]


def g1_infinity() -> np.ndarray:
    return np.zeros(G1_SHAPE, np.uint32)


def g2_infinity() -> np.ndarray:
    return np.zeros(G2_SHAPE, np.uint32)


# --- group operations (one point; affine in, affine out) ------------------------------------------
def _point(arr, shape) -> np.ndarray:
    arr = np.ascontiguousarray(arr, dtype=np.uint32)
    if arr.shape != shape:
        raise ValueError(f"expected a point of shape {shape}, got {arr.shape}")
    return arr


def _add(batch, shape, p, q) -> np.ndarray:
    out = np.empty(shape, np.uint32)
    batch.add_aff(out, _point(p, shape), _point(q, shape))
    return out


def _neg(curve, shape, p) -> np.ndarray:
    out = np.empty(shape, np.uint32)
    curve.aff_neg(out, _point(p, shape))
    return out


def _mul(batch, shape, p, k: int) -> np.ndarray:
    out = np.empty(shape, np.uint32)
    # No reduction mod r: the result is exact for points outside the subgroup too.
    batch.mul_aff(out, _point(p, shape), np.array(bits_msb_first(abs(int(k))), np.uint8), k < 0)
    return out


def g1_add(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p + q of two affine G1 points (infinity allowed)."""
    return _add(_g1b, G1_SHAPE, p, q)


def g1_neg(p: np.ndarray) -> np.ndarray:
    return _neg(g1, G1_SHAPE, p)


def g1_mul(p: np.ndarray, k: int) -> np.ndarray:
    """[k]p for any int k (negative allowed), by double-and-add."""
    return _mul(_g1b, G1_SHAPE, p, k)


def g2_add(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p + q of two affine G2 points (infinity allowed)."""
    return _add(_g2b, G2_SHAPE, p, q)


def g2_neg(p: np.ndarray) -> np.ndarray:
    return _neg(g2, G2_SHAPE, p)


def g2_mul(p: np.ndarray, k: int) -> np.ndarray:
    """[k]p for any int k (negative allowed), by double-and-add."""
    return _mul(_g2b, G2_SHAPE, p, k)


_EACH_BATCH = 1 << 14   # points per call: bounds the bases and bits held at once


def _mul_each(batch, shape, split, points, scalars, negate) -> np.ndarray:
    from kernels.ff.fields import FR

    from kernels.ec.glv import below_r

    pts = _points(points, shape, "points")
    sc = np.ascontiguousarray(scalars, dtype=np.uint32)
    try:
        m = pts.shape[0]
        if sc.shape != (m, FR.nlimbs):
            raise ValueError(f"scalars must have shape ({m}, {FR.nlimbs}), got {sc.shape}")
        if not below_r(sc).all():
            raise ValueError("a scalar is not below r: reduce it first")
        neg = np.zeros(m, np.bool_) if negate is None else np.ascontiguousarray(negate, dtype=np.bool_)
        out = np.empty_like(pts)
        for lo in range(0, m, _EACH_BATCH):
            hi = min(m, lo + _EACH_BATCH)
            bases, bits = split(pts[lo:hi], sc[lo:hi])
            try:
                batch.mul_each_aff(out[lo:hi], bases, bits, neg[lo:hi])
            finally:
                bits.fill(0)
    finally:
        if sc is not scalars and not np.shares_memory(sc, np.asarray(scalars)):
            sc.fill(0)                      # a converted copy of the caller's (maybe secret) scalars
    return out


def g1_mul_each(points: np.ndarray, scalars: np.ndarray, negate=None) -> np.ndarray:
    """points[k]·scalars[k] (negated where negate[k]) for (m, 2, 12) affine points in the subgroup and
    (m, 8) canonical Fr scalars: GLV halves and Straus over [P, tau P], parallel. Scalars below r
    only; the caller owns (and erases) them, every temporary made from them is zeroed here."""
    from kernels.ec.glv import g1_split

    return _mul_each(_g1b, G1_SHAPE, g1_split, points, scalars, negate)


def g2_mul_each(points: np.ndarray, scalars: np.ndarray, negate=None) -> np.ndarray:
    """As `g1_mul_each` for (m, 2, 2, 12) G2 points: four 64-bit digits in base |x| and Straus over
    [P, -psi P, psi^2 P, -psi^3 P]."""
    from kernels.ec.glv import g2_split

    return _mul_each(_g2b, G2_SHAPE, g2_split, points, scalars, negate)


# --- checks -----------------------------------------------------------------------------------------
def g1_is_on_curve(p: np.ndarray) -> bool:
    """True when p satisfies y^2 = x^3 + 4 or is the point at infinity."""
    t, s = _g1b.temporaries()
    return bool(g1.aff_on_curve(_point(p, G1_SHAPE), t, s))


def g2_is_on_curve(p: np.ndarray) -> bool:
    """True when p satisfies y^2 = x^3 + 4(1 + i) or is the point at infinity."""
    t, s = _g2b.temporaries()
    return bool(g2.aff_on_curve(_point(p, G2_SHAPE), t, s))


def g1_in_subgroup(p: np.ndarray) -> bool:
    """True when p (which must be on the curve) lies in the order-r subgroup (endomorphism check)."""
    return bool(_g1b.in_subgroup(_point(p, G1_SHAPE)))


def g2_in_subgroup(p: np.ndarray) -> bool:
    """True when p (which must be on the curve) lies in the order-r subgroup (endomorphism check)."""
    return bool(_g2b.in_subgroup(_point(p, G2_SHAPE)))


def g1_in_subgroup_by_order(p: np.ndarray) -> bool:
    """[r]p = O: the slow reference for `g1_in_subgroup`."""
    return bool(_g1b.in_subgroup_by_order(_point(p, G1_SHAPE)))


def g2_in_subgroup_by_order(p: np.ndarray) -> bool:
    """[r]p = O: the slow reference for `g2_in_subgroup`."""
    return bool(_g2b.in_subgroup_by_order(_point(p, G2_SHAPE)))


def _points(arr, shape, what) -> np.ndarray:
    arr = np.ascontiguousarray(arr, dtype=np.uint32)
    if arr.ndim == len(shape):
        arr = arr[None]
    if arr.shape[1:] != shape:
        raise ValueError(f"{what} must have shape (m,) + {shape}, got {arr.shape}")
    return arr


def _validate(batch, arr, shape, group) -> None:
    pts = _points(arr, shape, f"{group} points")
    codes = np.empty(pts.shape[0], np.int8)
    batch.validate_codes(pts, codes)
    bad = np.flatnonzero(codes)
    if bad.size:
        k = int(bad[0])
        why = {OFF_CURVE: "is not on the curve", NOT_IN_SUBGROUP: "is not in the prime-order subgroup"}[int(codes[k])]
        raise EncodingError(f"{group} point {k} {why} ({bad.size} invalid point(s) in all)")


def g1_validate(arr: np.ndarray) -> None:
    """Check every point of an (m, 2, 12) array (or one point): on the curve and in the subgroup.

    Raises EncodingError naming the first bad index. Infinity is valid. Parallel over points.
    """
    _validate(_g1b, arr, G1_SHAPE, "G1")


def g2_validate(arr: np.ndarray) -> None:
    """As `g1_validate`, for (m, 2, 2, 12) G2 arrays."""
    _validate(_g2b, arr, G2_SHAPE, "G2")


# --- batches -----------------------------------------------------------------------------------------
def g1_batch_to_affine(jac: np.ndarray) -> np.ndarray:
    """(m, 2, 12) affine points of (m, 3, 12) Jacobian ones (Z = 0 gives infinity); one inversion per 1024."""
    jac = _points(jac, (3,) + G1_ELEMENT, "G1 Jacobian points")
    out = np.empty((jac.shape[0],) + G1_SHAPE, np.uint32)
    _g1b.batch_to_aff(out, jac)
    return out


def g2_batch_to_affine(jac: np.ndarray) -> np.ndarray:
    """(m, 2, 2, 12) affine points of (m, 3, 2, 12) Jacobian ones."""
    jac = _points(jac, (3,) + G2_ELEMENT, "G2 Jacobian points")
    out = np.empty((jac.shape[0],) + G2_SHAPE, np.uint32)
    _g2b.batch_to_aff(out, jac)
    return out


def g1_sum(arr: np.ndarray) -> np.ndarray:
    """Sum of an (m, 2, 12) array of affine points (mixed XYZZ additions, parallel), affine (2, 12)."""
    return _sum(_g1b, arr, G1_SHAPE, G1_ELEMENT)


def g2_sum(arr: np.ndarray) -> np.ndarray:
    """Sum of an (m, 2, 2, 12) array of affine points, affine (2, 2, 12)."""
    return _sum(_g2b, arr, G2_SHAPE, G2_ELEMENT)


def _sum(batch, arr, shape, element) -> np.ndarray:
    pts = _points(arr, shape, "points")
    jac = np.empty((1, 3) + element, np.uint32)
    batch.sum_aff(jac[0], pts)
    out = np.empty((1,) + shape, np.uint32)
    batch.batch_to_aff(out, jac)
    return out[0]
