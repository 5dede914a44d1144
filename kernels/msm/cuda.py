"""The MSM's bucket accumulation as a CUDA kernel (numba.cuda, over the device curve builds).

One thread per (window, bucket): it scans its window's signed digits and adds every point whose
digit is ±(bucket + 1) into an XYZZ accumulator in registers/local memory, then writes the bucket
to device memory. The bucket reduction and the window combination run on the host
(`kernels.msm.pippenger`). Simple and correct first; sorting points by bucket is the next step.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import cuda

from kernels.ec.formulas import S_ROWS, T_ROWS
from kernels.errors import KernelError

THREADS_PER_BLOCK = 64

# Compile-time shapes of the per-thread arrays, per group.
G1_XYZZ, G1_AFF, G1_TMP = (4, 12), (2, 12), (T_ROWS, 12)
G2_XYZZ, G2_AFF, G2_TMP = (4, 2, 12), (2, 2, 12), (T_ROWS, 2, 12)
FIELD_SCRATCH = (S_ROWS, 12)


def _make_bucket_kernel(curve, xyzz_shape, aff_shape, tmp_shape):
    xyzz_madd, xyzz_set_inf, xyzz_copy, aff_neg = curve.xyzz_madd, curve.xyzz_set_inf, curve.xyzz_copy, curve.aff_neg

    @cuda.jit
    def bucket_kernel(points, digits, nb, buckets):
        tid = cuda.grid(1)
        nwin = digits.shape[0]
        m = digits.shape[1]
        if tid < nwin * nb:
            w = tid // nb
            b = tid - w * nb + 1
            acc = cuda.local.array(xyzz_shape, np.uint32)
            neg = cuda.local.array(aff_shape, np.uint32)
            t = cuda.local.array(tmp_shape, np.uint32)
            s = cuda.local.array(FIELD_SCRATCH, np.uint32)
            xyzz_set_inf(acc)
            for k in range(m):
                d = digits[w, k]
                if d == b:
                    xyzz_madd(acc, points[k], t, s)
                elif d == -b:
                    aff_neg(neg, points[k])
                    xyzz_madd(acc, neg, t, s)
            xyzz_copy(buckets[w, b - 1], acc)

    return bucket_kernel


@lru_cache(maxsize=None)
def bucket_kernel(group: str):
    """The compiled kernel for "g1" or "g2"."""
    from kernels.ec.device import device_curves

    curves = device_curves()
    if group == "g1":
        return _make_bucket_kernel(curves.g1, G1_XYZZ, G1_AFF, G1_TMP)
    return _make_bucket_kernel(curves.g2, G2_XYZZ, G2_AFF, G2_TMP)


def bucket_sums_cuda(group: str, points: np.ndarray, digits: np.ndarray, c: int) -> np.ndarray:
    """Buckets (nwin, 2^(c-1), 4, *element) XYZZ of affine `points` under signed `digits` (nwin, m).

    Raises KernelError when numba sees no CUDA GPU (and the simulator is off).
    """
    if not cuda.is_available():
        raise KernelError("device='cuda' needs an NVIDIA GPU visible to numba-cuda, and none is; "
                          "use device='cpu'")
    nwin = digits.shape[0]
    nb = 1 << (c - 1)
    element = points.shape[2:]
    d_points = cuda.to_device(np.ascontiguousarray(points))
    d_digits = cuda.to_device(np.ascontiguousarray(digits))
    d_buckets = cuda.device_array((nwin, nb, 4) + element, np.uint32)
    threads = nwin * nb
    blocks = (threads + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
    bucket_kernel(group)[blocks, THREADS_PER_BLOCK](d_points, d_digits, nb, d_buckets)
    return d_buckets.copy_to_host()
