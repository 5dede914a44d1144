"""Multi-scalar multiplication sum_k [s_k] P_k on G1 and G2 by Pippenger's bucket method.

Scalars 0 are skipped and scalars 1 summed directly; the rest are recoded into signed c-bit
digits (|digit| <= 2^(c-1), so a window has 2^(c-1) buckets) over only as many windows as the
largest scalar needs, c chosen by a cost model from the number of points. Each task, one
(window, point range) pair, adds its affine points into XYZZ buckets by mixed additions and
reduces them by the running-sum method; tasks run in parallel (`prange`) and the window sums are
combined by Horner's rule with c doublings per window. `device="cuda"` runs the bucket
accumulation as a CUDA kernel (`kernels.msm.cuda`) and the rest here.
"""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
from numba import prange

from kernels.cache import cached_njit
from kernels.ec import points as ec_points
from kernels.ec.formulas import S_ROWS, T_ROWS
from kernels.ec.g1 import ELEMENT_SHAPE as G1_ELEMENT, g1
from kernels.ec.g2 import ELEMENT_SHAPE as G2_ELEMENT, g2
from kernels.ff.fields import FR, cpu_jit

MAX_WINDOW = 16
# A bucket-reduction step (XYZZ + XYZZ, 12M + 2S) against a bucket addition (mixed, 8M + 2S).
_REDUCE_COST = 1.4


def compile_pippenger(curve, element_shape: tuple) -> SimpleNamespace:
    """CPU routines of the bucket method for one curve (namespace from `kernels.ec.g1/g2`).

    Returns `recode(scalars, c, digits)` (signed digits, (nwin, m) int32, parallel over points),
    `window_sums(points, digits, c, nchunks, out)` (out: (nwin * nchunks, 4, *element) XYZZ, parallel
    over tasks), `reduce_buckets(buckets, out)` ((nwin, nb, 4, *e) -> (nwin, 4, *e), parallel over
    windows) and `combine(sums, c, out)` ((nwin, nchunks, 4, *e) XYZZ -> Jacobian out by Horner).
    """
    eshape = element_shape
    xyzz_madd, xyzz_add, xyzz_set_inf = curve.xyzz_madd, curve.xyzz_add, curve.xyzz_set_inf
    xyzz_to_jac = curve.xyzz_to_jac
    aff_neg, jac_set_inf, jac_dbl, jac_add = curve.aff_neg, curve.jac_set_inf, curve.jac_dbl, curve.jac_add

    @cached_njit(parallel=True, nogil=True)
    def recode(scalars, c, digits):
        nwin, m = digits.shape
        nlimbs = scalars.shape[1]
        mask = np.uint64((1 << c) - 1)
        half = np.int64(1) << (c - 1)
        full = np.int64(1) << c
        for k in prange(m):
            carry = np.int64(0)
            for w in range(nwin):
                bit = w * c
                limb = bit >> 5
                shift = np.uint64(bit & 31)
                v = np.uint64(0)
                if limb < nlimbs:
                    v = np.uint64(scalars[k, limb]) >> shift
                    if limb + 1 < nlimbs:
                        v |= np.uint64(scalars[k, limb + 1]) << (np.uint64(32) - shift)
                d = np.int64(v & mask) + carry
                # Digits above half borrow from the next window: |digit| <= 2^(c-1).
                if d > half:
                    d -= full
                    carry = np.int64(1)
                else:
                    carry = np.int64(0)
                digits[w, k] = d

    @cpu_jit
    def running_sum(out, buckets, t, s):
        # sum_j (j + 1) B_j with two additions per bucket.
        running = np.empty((4,) + eshape, np.uint32)
        xyzz_set_inf(running)
        xyzz_set_inf(out)
        for j in range(buckets.shape[0] - 1, -1, -1):
            xyzz_add(running, buckets[j], t, s)
            xyzz_add(out, running, t, s)

    @cached_njit(parallel=True, nogil=True)
    def window_sums(points, digits, c, nchunks, out):
        nwin, m = digits.shape
        nb = 1 << (c - 1)
        for task in prange(nwin * nchunks):
            w = task // nchunks
            chunk = task - w * nchunks
            lo = chunk * m // nchunks
            hi = (chunk + 1) * m // nchunks
            t = np.empty((T_ROWS,) + eshape, np.uint32)
            s = np.empty((S_ROWS, 12), np.uint32)
            neg = np.empty((2,) + eshape, np.uint32)
            buckets = np.empty((nb, 4) + eshape, np.uint32)
            for j in range(nb):
                xyzz_set_inf(buckets[j])
            for k in range(lo, hi):
                d = digits[w, k]
                if d > 0:
                    xyzz_madd(buckets[d - 1], points[k], t, s)
                elif d < 0:
                    aff_neg(neg, points[k])
                    xyzz_madd(buckets[-d - 1], neg, t, s)
            running_sum(out[task], buckets, t, s)

    @cached_njit(parallel=True, nogil=True)
    def reduce_buckets(buckets, out):
        for w in prange(buckets.shape[0]):
            t = np.empty((T_ROWS,) + eshape, np.uint32)
            s = np.empty((S_ROWS, 12), np.uint32)
            running_sum(out[w], buckets[w], t, s)

    @cpu_jit
    def combine(sums, c, out):
        t = np.empty((T_ROWS,) + eshape, np.uint32)
        s = np.empty((S_ROWS, 12), np.uint32)
        acc = np.empty((4,) + eshape, np.uint32)
        jac = np.empty((3,) + eshape, np.uint32)
        jac_set_inf(out)
        for w in range(sums.shape[0] - 1, -1, -1):
            for _ in range(c):
                jac_dbl(out, out, t, s)
            xyzz_set_inf(acc)
            for chunk in range(sums.shape[1]):
                xyzz_add(acc, sums[w, chunk], t, s)
            xyzz_to_jac(jac, acc, s)
            jac_add(out, out, jac, t, s)

    return SimpleNamespace(recode=recode, window_sums=window_sums, reduce_buckets=reduce_buckets,
                           combine=combine)


_g1_msm = compile_pippenger(g1, G1_ELEMENT)
_g2_msm = compile_pippenger(g2, G2_ELEMENT)


def window_size(n: int, bits: int) -> int:
    """The window c minimising windows * (n bucket additions + 2^(c-1) reduction steps)."""
    def cost(c):
        return -(-(bits + 1) // c) * (n + _REDUCE_COST * (1 << (c - 1)))
    return min(range(1, MAX_WINDOW + 1), key=cost)


def max_bit_length(scalars: np.ndarray) -> int:
    """Bit length of the largest scalar of an (m, nlimbs) canonical array (0 when m = 0 or all zero)."""
    if scalars.shape[0] == 0:
        return 0
    nonzero_limbs = np.flatnonzero(scalars.any(axis=0))
    if nonzero_limbs.size == 0:
        return 0
    top = int(nonzero_limbs[-1])
    return 32 * top + int(scalars[:, top].max()).bit_length()


def _check_inputs(points, scalars, shape, group):
    points = np.ascontiguousarray(points, dtype=np.uint32)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
    if points.ndim != len(shape) + 1 or points.shape[1:] != shape:
        raise ValueError(f"{group} points must have shape (m,) + {shape}, got {points.shape}")
    if scalars.ndim != 2 or scalars.shape[1] != FR.nlimbs:
        raise ValueError(f"scalars must have shape (m, {FR.nlimbs}) (canonical Fr limbs), got {scalars.shape}")
    if scalars.shape[0] != points.shape[0]:
        raise ValueError(f"{points.shape[0]} points but {scalars.shape[0]} scalars")
    return points, scalars


def _msm(msm, batch, points, scalars, shape, element, group, device, window):
    points, scalars = _check_inputs(points, scalars, shape, group)
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    m = points.shape[0]
    out = np.zeros((2, 3) + element, np.uint32)    # [sum of 1-scalars, bucket part], Jacobian, Z = 0
    if m:
        live = scalars.any(axis=1) & points.reshape(m, -1).any(axis=1)   # skip 0 scalars and infinity
        one = live & (scalars[:, 0] == 1) & ~scalars[:, 1:].any(axis=1)
        big = live & ~one
        if one.any():
            batch.sum_aff(out[0], points[one] if not one.all() else points)
        if big.any():
            bp = points if big.all() else points[big]
            bs = scalars if big.all() else scalars[big]
            bits = max_bit_length(bs)
            c = window or window_size(bp.shape[0], bits)
            nwin = -(-(bits + 1) // c)
            digits = np.empty((nwin, bp.shape[0]), np.int32)
            msm.recode(bs, c, digits)
            if device == "cuda":
                from kernels.msm.cuda import bucket_sums_cuda

                buckets = bucket_sums_cuda(group, bp, digits, c)
                sums = np.empty((nwin, 1, 4) + element, np.uint32)
                msm.reduce_buckets(buckets, sums[:, 0])
            else:
                nchunks = max(1, -(-2 * numba.get_num_threads() // nwin))
                nchunks = min(nchunks, bp.shape[0])
                sums = np.empty((nwin * nchunks, 4) + element, np.uint32)
                msm.window_sums(bp, digits, c, nchunks, sums)
                sums = sums.reshape((nwin, nchunks, 4) + element)
            msm.combine(sums, c, out[1])
    affine = np.empty((2,) + shape, np.uint32)
    batch.batch_to_aff(affine, out)
    return ec_points._add(batch, shape, affine[0], affine[1])


def msm_g1(points: np.ndarray, scalars: np.ndarray, device: str = "cpu", window: int | None = None) -> np.ndarray:
    """sum_k [scalars[k]] points[k] on G1 as an affine (2, 12) point (all zero for infinity).

    points: (m, 2, 12) affine Montgomery (infinity allowed, skipped); scalars: (m, 8) canonical Fr
    limbs (plain integers, not Montgomery); device: "cpu" or "cuda" (bucket accumulation on the GPU);
    window: force the window size c (default: chosen by m). Raises ValueError on bad shapes and
    KernelError when device="cuda" but no GPU is available. m = 0 gives infinity.
    """
    return _msm(_g1_msm, ec_points._g1b, points, scalars, ec_points.G1_SHAPE, G1_ELEMENT, "g1", device, window)


def msm_g2(points: np.ndarray, scalars: np.ndarray, device: str = "cpu", window: int | None = None) -> np.ndarray:
    """As `msm_g1` on G2: points (m, 2, 2, 12), result (2, 2, 12)."""
    return _msm(_g2_msm, ec_points._g2b, points, scalars, ec_points.G2_SHAPE, G2_ELEMENT, "g2", device, window)


def g1_sum_affine(points: np.ndarray) -> np.ndarray:
    """Sum of (m, 2, 12) affine points by mixed XYZZ additions (parallel): the MSM's inner loop, for benches."""
    return ec_points.g1_sum(points)


def g2_sum_affine(points: np.ndarray) -> np.ndarray:
    """Sum of (m, 2, 2, 12) affine points by mixed XYZZ additions (parallel)."""
    return ec_points.g2_sum(points)


__all__ = ["msm_g1", "msm_g2", "g1_sum_affine", "g2_sum_affine", "window_size", "max_bit_length",
           "compile_pippenger"]
