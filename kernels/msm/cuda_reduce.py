"""Bucket reduction and window combination on the device (numba.cuda), so buckets never leave it.

Window w's sum is sum_j (j + 1) B_j over its nb buckets. The buckets are cut into segments of L
(about √nb) and one thread takes one (window, segment): a running sum from the segment's top
bucket down gives T = sum_j (j − lo + 1) B_j and S = sum_j B_j, and the thread adds [lo] S by
double-and-add, so its partial is the segment's share sum_j (j + 1) B_j. The segments of a window
are added by the bucket combine kernel of `kernels.msm.cuda` (one thread per window), and one
thread combines the windows by Horner's rule (c doublings per window) into a Jacobian point.
"""

from __future__ import annotations

from functools import lru_cache
from math import isqrt

import numpy as np
from numba import cuda

from kernels.msm.cuda import (FIELD_SCRATCH, G1_TMP, G1_XYZZ, G2_TMP, G2_XYZZ, THREADS_PER_BLOCK,
                              _blocks, bucket_kernels)

MAX_BUCKET_BITS = 16    # a segment starts below 2^16 (windows of up to 16 bits have 2^15 buckets)


def _make_reduce_kernel(curve, xyzz_shape, tmp_shape):
    xyzz_add, xyzz_dbl, xyzz_set_inf, xyzz_copy = curve.xyzz_add, curve.xyzz_dbl, curve.xyzz_set_inf, curve.xyzz_copy
    top_bit = MAX_BUCKET_BITS - 1

    @cuda.jit
    def bucket_reduce_kernel(buckets, seg_len, partials):
        i = cuda.grid(1)
        nb = buckets.shape[1]
        nseg = partials.shape[1]
        if i < buckets.shape[0] * nseg:
            w = i // nseg
            seg = i - w * nseg
            lo = seg * seg_len
            hi = min(lo + seg_len, nb)
            running = cuda.local.array(xyzz_shape, np.uint32)
            total = cuda.local.array(xyzz_shape, np.uint32)
            scaled = cuda.local.array(xyzz_shape, np.uint32)
            t = cuda.local.array(tmp_shape, np.uint32)
            s = cuda.local.array(FIELD_SCRATCH, np.uint32)
            xyzz_set_inf(running)
            xyzz_set_inf(total)
            for j in range(hi - 1, lo - 1, -1):
                xyzz_add(running, buckets[w, j], t, s)
                xyzz_add(total, running, t, s)
            xyzz_set_inf(scaled)
            top = top_bit
            while top >= 0 and (lo >> top) & 1 == 0:
                top -= 1
            for b in range(top, -1, -1):           # [lo] S, most significant bit first
                xyzz_dbl(scaled, scaled, t, s)
                if (lo >> b) & 1:
                    xyzz_add(scaled, running, t, s)
            xyzz_add(total, scaled, t, s)
            xyzz_copy(partials[w, seg], total)

    return bucket_reduce_kernel


def _make_window_kernel(curve, xyzz_shape, tmp_shape):
    xyzz_add, xyzz_dbl, xyzz_set_inf = curve.xyzz_add, curve.xyzz_dbl, curve.xyzz_set_inf
    xyzz_to_jac = curve.xyzz_to_jac

    @cuda.jit
    def window_combine_kernel(sums, c, out):
        if cuda.grid(1) == 0:
            acc = cuda.local.array(xyzz_shape, np.uint32)
            t = cuda.local.array(tmp_shape, np.uint32)
            s = cuda.local.array(FIELD_SCRATCH, np.uint32)
            xyzz_set_inf(acc)
            for w in range(sums.shape[0] - 1, -1, -1):
                for _ in range(c):
                    xyzz_dbl(acc, acc, t, s)
                xyzz_add(acc, sums[w, 0], t, s)
            xyzz_to_jac(out, acc, s)

    return window_combine_kernel


@lru_cache(maxsize=None)
def reduce_kernels(group: str):
    """(bucket_reduce_kernel, window_combine_kernel) for "g1" or "g2"."""
    from kernels.ec.device import device_curves

    curves = device_curves()
    if group == "g1":
        return _make_reduce_kernel(curves.g1, G1_XYZZ, G1_TMP), _make_window_kernel(curves.g1, G1_XYZZ, G1_TMP)
    return _make_reduce_kernel(curves.g2, G2_XYZZ, G2_TMP), _make_window_kernel(curves.g2, G2_XYZZ, G2_TMP)


def segment_length(nb: int) -> int:
    """Buckets per reducing thread: about √nb, so that segments and their count balance."""
    return max(1, isqrt(nb))


def reduce_and_combine_device(group: str, d_buckets, c: int, stream=0):
    """Device Jacobian (3, *element) point sum_w 2^(c·w) sum_j (j + 1) B_wj of device XYZZ buckets
    (nwin, nb, 4, *element): the MSM's value once its buckets are accumulated (kernels on `stream`)."""
    nwin, nb = d_buckets.shape[0], d_buckets.shape[1]
    element = tuple(d_buckets.shape[3:])
    if nb > 1 << (MAX_BUCKET_BITS - 1):
        raise ValueError(f"{nb} buckets per window: at most 2^{MAX_BUCKET_BITS - 1} (windows of up to 16 bits)")
    reduce_kernel, window_kernel = reduce_kernels(group)
    combine_kernel = bucket_kernels(group)[1]
    seg_len = segment_length(nb)
    nseg = -(-nb // seg_len)
    if nwin == 0:
        return cuda.to_device(np.zeros((3,) + element, np.uint32), stream=stream)    # Jacobian infinity is Z = 0
    d_partials = cuda.device_array((nwin, nseg, 4) + element, np.uint32, stream=stream)
    d_out = cuda.device_array((3,) + element, np.uint32, stream=stream)
    reduce_kernel[_blocks(nwin * nseg), THREADS_PER_BLOCK, stream](d_buckets, np.int64(seg_len), d_partials)
    # each window's segments are one bucket's chunks to the combine kernel: a window is a "bucket"
    first = cuda.to_device(np.arange(0, nwin * nseg + 1, nseg, dtype=np.int32), stream=stream)
    d_sums = cuda.device_array((nwin, 1, 4) + element, np.uint32, stream=stream)
    combine_kernel[_blocks(nwin), THREADS_PER_BLOCK, stream](d_partials.reshape((nwin * nseg, 4) + element), first,
                                                             d_sums)
    window_kernel[1, 1, stream](d_sums, np.int64(c), d_out)
    return d_out
