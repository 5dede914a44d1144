"""Fixed-base scalar multiplication: many scalars times one base point, by a windowed table.

For a base B and window width w the table holds d·2^(jw)·B for every window j and digit
d = 1 .. 2^w − 1 (affine). A scalar k = Σ_j d_j·2^(jw) then costs one mixed addition per nonzero
digit, ⌈256/w⌉ at most, against ~255 doublings and ~128 additions for double-and-add; the table
(⌈256/w⌉·(2^w − 1) points) is built once per base and pays back over thousands of scalars, as in
key generation and powers-of-tau files. Scalars are canonical (m, 8) uint32 limbs (little-endian,
any value below 2^256; no reduction mod r, so the product is exact for every point).

    FixedBase(base, "g1" | "g2", window=None).mul(scalars) -> (m, 2, 12) | (m, 2, 2, 12) affine
    g1_fixed_base_mul(base, scalars) / g2_fixed_base_mul(base, scalars)

Parallel over chunks of scalars; the Jacobian results go to affine with one inversion per 1024.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numba import prange

from kernels.cache import cached_njit
from kernels.ec import points as ec_points
from kernels.ec.formulas import S_ROWS, T_ROWS, fq2_ops, fq_ops
from kernels.ec.g1 import ELEMENT_SHAPE as G1_ELEMENT, g1
from kernels.ec.g2 import ELEMENT_SHAPE as G2_ELEMENT, g2
from kernels.ff.fields import FR, cpu_jit, fq, fq2

SCALAR_BITS = 32 * FR.nlimbs     # 256: every value the (m, 8) limb form can hold
MAX_WINDOW = 16
_CHUNK = 256                     # scalars per parallel task


def compile_fixed_base(curve, F, element_shape: tuple) -> SimpleNamespace:
    """CPU routines for one curve (namespace from `kernels.ec.g1/g2`).

    Returns `build_table(base, w, table)`: table (nwin, 2^w − 1, 3, *e) Jacobian with
    table[j, d − 1] = d·2^(jw)·base (base affine); and `mul_many(table, w, scalars, out)`:
    out (m, 3, *e) Jacobian, out[k] = scalars[k]·base for an affine table (nwin, 2^w − 1, 2, *e).
    """
    eshape = element_shape
    aff_to_jac, jac_madd, jac_add, jac_dbl = curve.aff_to_jac, curve.jac_madd, curve.jac_add, curve.jac_dbl
    jac_copy, jac_set_inf = curve.jac_copy, curve.jac_set_inf
    chunk = _CHUNK

    @cpu_jit
    def temporaries():
        return np.empty((T_ROWS,) + eshape, np.uint32), np.empty((S_ROWS, 12), np.uint32)

    @cached_njit(parallel=True, nogil=True)
    def build_table(base, w, table):
        nwin, ndig = table.shape[0], table.shape[1]
        bases = np.empty((nwin, 3) + eshape, np.uint32)
        t, s = temporaries()
        aff_to_jac(bases[0], base)
        for j in range(1, nwin):
            jac_copy(bases[j], bases[j - 1])
            for _ in range(w):
                jac_dbl(bases[j], bases[j], t, s)
        for j in prange(nwin):
            t, s = temporaries()
            jac_copy(table[j, 0], bases[j])
            for d in range(1, ndig):
                jac_add(table[j, d], table[j, d - 1], bases[j], t, s)

    @cached_njit(parallel=True, nogil=True)
    def mul_many(table, w, scalars, out):
        m = scalars.shape[0]
        nwin = table.shape[0]
        nlimbs = scalars.shape[1]
        mask = np.uint64((1 << w) - 1)
        for c in prange((m + chunk - 1) // chunk):
            t, s = temporaries()
            for k in range(c * chunk, min(m, (c + 1) * chunk)):
                jac_set_inf(out[k])
                for j in range(nwin):
                    bit = j * w
                    limb = bit >> 5
                    v = np.uint64(scalars[k, limb])
                    if limb + 1 < nlimbs:
                        v |= np.uint64(scalars[k, limb + 1]) << np.uint64(32)
                    d = (v >> np.uint64(bit & 31)) & mask
                    if d != np.uint64(0):
                        jac_madd(out[k], out[k], table[j, np.int64(d) - 1], t, s)

    return SimpleNamespace(build_table=build_table, mul_many=mul_many)


_G1 = compile_fixed_base(g1, fq_ops(fq, cpu_jit), G1_ELEMENT)
_G2 = compile_fixed_base(g2, fq2_ops(fq2), G2_ELEMENT)
_GROUPS = {
    "g1": (_G1, G1_ELEMENT, ec_points.G1_SHAPE, ec_points.g1_batch_to_affine),
    "g2": (_G2, G2_ELEMENT, ec_points.G2_SHAPE, ec_points.g2_batch_to_affine),
}


def window_for(count: int) -> int:
    """Window width minimising additions: count·⌈256/w⌉ for the scalars plus ~2 per table point."""
    def cost(w):
        nwin = -(-SCALAR_BITS // w)
        return count * nwin + 2 * nwin * ((1 << w) - 1)
    return min(range(2, MAX_WINDOW + 1), key=cost)


class FixedBase:
    """Precomputed multiples of one base point (G1 or G2) for many fixed-base multiplications."""

    def __init__(self, base: np.ndarray, group: str = "g1", window: int | None = None, expected: int = 1 << 16):
        """Table for `base` (affine kernel point); `window` defaults to the best width for
        `expected` scalars. Raises ValueError for a wrong group, window or point shape."""
        if group not in _GROUPS:
            raise ValueError(f"group must be 'g1' or 'g2', got {group!r}")
        self.group = group
        self._k, self._element, self._shape, self._to_affine = _GROUPS[group]
        w = window_for(expected) if window is None else int(window)
        if not 1 <= w <= MAX_WINDOW:
            raise ValueError(f"window must be in [1, {MAX_WINDOW}], got {w}")
        base = np.ascontiguousarray(base, dtype=np.uint32)
        if base.shape != self._shape:
            raise ValueError(f"base must have shape {self._shape}, got {base.shape}")
        self.window = w
        nwin = -(-SCALAR_BITS // w)
        jac = np.empty((nwin, (1 << w) - 1, 3) + self._element, np.uint32)
        self._k.build_table(base, w, jac)
        self.table = self._to_affine(jac.reshape((-1, 3) + self._element)).reshape(
            (nwin, (1 << w) - 1) + self._shape)

    def mul(self, scalars: np.ndarray) -> np.ndarray:
        """(m,) + point shape affine array of scalars[k]·base for canonical (m, 8) uint32 scalars."""
        scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
        if scalars.ndim != 2 or scalars.shape[1] != FR.nlimbs:
            raise ValueError(f"scalars must have shape (m, {FR.nlimbs}), got {scalars.shape}")
        if not scalars.shape[0]:
            return np.zeros((0,) + self._shape, np.uint32)
        jac = np.empty((scalars.shape[0], 3) + self._element, np.uint32)
        self._k.mul_many(self.table, self.window, scalars, jac)
        return self._to_affine(jac)


def g1_fixed_base_mul(base: np.ndarray, scalars: np.ndarray, window: int | None = None) -> np.ndarray:
    """(m, 2, 12) affine scalars[k]·base for a G1 base and canonical (m, 8) scalars."""
    return FixedBase(base, "g1", window, expected=len(scalars)).mul(scalars)


def g2_fixed_base_mul(base: np.ndarray, scalars: np.ndarray, window: int | None = None) -> np.ndarray:
    """(m, 2, 2, 12) affine scalars[k]·base for a G2 base and canonical (m, 8) scalars."""
    return FixedBase(base, "g2", window, expected=len(scalars)).mul(scalars)
