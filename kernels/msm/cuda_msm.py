"""The MSM on the device: recoding, bucket accumulation, bucket reduction and window combination
all run as CUDA kernels, and one Jacobian point per bucket MSM comes back from device memory.

  recode      kernels.msm.cuda_recode   signed digits, one thread per scalar
  sort        kernels.msm.cuda          (bucket, point) entries by bucket, cut into chunks: CuPy's
                                        radix sort on the device where CuPy imports, else the host
  accumulate  kernels.msm.cuda          chunk sums, then per bucket the sum of its chunks
  reduce      kernels.msm.cuda_reduce   running sums per (window, segment), windows by Horner

The driver splits the scalars as the CPU MSM does (`kernels.msm.pippenger`): 0 scalars and
infinity are skipped, 1 scalars summed by the CPU's batch-affine tree, the rest split into a short
and a long class by bit length, each with its own window. Results equal `msm_g1`/`msm_g2`.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import cuda

from kernels.ec import points as ec_points
from kernels.ec.g1 import ELEMENT_SHAPE as G1_ELEMENT
from kernels.ec.g2 import ELEMENT_SHAPE as G2_ELEMENT
from kernels.msm import pippenger
from kernels.msm.cuda import bucket_sums_device, sort_by_bucket_on_device
from kernels.msm.cuda_recode import MAX_WINDOW, recode_device, require_gpu
from kernels.msm.cuda_reduce import reduce_and_combine_device


def bucket_msm_device(group: str, d_points, scalars: np.ndarray, c: int, chunk: int | None = None) -> np.ndarray:
    """Jacobian (3, *element) sum_k [scalars[k]] points[k] by the bucket method with window c, every
    stage on the device; `d_points` (m, 2, *element) affine on the device, `scalars` (m, 8) host
    canonical limbs (0 and 1 allowed: they only cost their digits). Raises ValueError for c outside
    1..16, KernelError without a GPU."""
    nwin = pippenger._windows(pippenger.max_bit_length(scalars), c)
    d_scalars = cuda.to_device(np.ascontiguousarray(scalars, dtype=np.uint32))
    d_digits = recode_device(d_scalars, c, nwin)
    nb = 1 << (c - 1)
    runs = sort_by_bucket_on_device(d_digits, nb, chunk)
    d_buckets = bucket_sums_device(group, d_points, runs, nwin, nb)
    return reduce_and_combine_device(group, d_buckets, c).copy_to_host()


def _msm_cuda(msm, points, scalars, shape, element, group, window):
    require_gpu()
    points, scalars = pippenger._check_inputs(points, scalars, shape, group)
    if window is not None and not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"window {window}: the device MSM takes 1 <= window <= {MAX_WINDOW}")
    m = points.shape[0]
    parts = []                                  # Jacobian partial sums
    if m:
        live = scalars.any(axis=1) & points.reshape(m, -1).any(axis=1)   # skip 0 scalars and infinity
        one = live & (scalars[:, 0] == 1) & ~scalars[:, 1:].any(axis=1)
        rest = np.flatnonzero(live & ~one)
        if one.any():
            part = np.empty((3,) + element, np.uint32)
            msm.sum_points(part, points[one], numba.get_num_threads())   # a copy: it overwrites
            parts.append(part)
        if rest.size:
            rest_points, rest_scalars = points[rest], scalars[rest]
            for idx, c in pippenger.scalar_classes(rest_scalars):
                d_points = cuda.to_device(np.ascontiguousarray(rest_points[idx]))
                parts.append(bucket_msm_device(group, d_points, rest_scalars[idx], window or c))
    out = np.zeros(shape, np.uint32)
    if parts:
        msm.parts_to_affine(out, np.stack(parts))
    return out


def msm_g1_cuda(points: np.ndarray, scalars: np.ndarray, window: int | None = None) -> np.ndarray:
    """As `kernels.msm.pippenger.msm_g1` with every bucket stage on the device: (m, 2, 12) affine
    points, (m, 8) canonical scalars, affine (2, 12) result (all zero for infinity). Raises
    ValueError on bad shapes or a window outside 1..16, KernelError without a GPU."""
    return _msm_cuda(pippenger._g1_msm, points, scalars, ec_points.G1_SHAPE, G1_ELEMENT, "g1", window)


def msm_g2_cuda(points: np.ndarray, scalars: np.ndarray, window: int | None = None) -> np.ndarray:
    """As `msm_g1_cuda` on G2: points (m, 2, 2, 12), result (2, 2, 12)."""
    return _msm_cuda(pippenger._g2_msm, points, scalars, ec_points.G2_SHAPE, G2_ELEMENT, "g2", window)


__all__ = ["msm_g1_cuda", "msm_g2_cuda", "bucket_msm_device"]
