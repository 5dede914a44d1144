"""The MSM on the device: recoding, bucket accumulation, bucket reduction and window combination
all run as CUDA kernels, and one Jacobian point per bucket MSM comes back from device memory.

  recode      kernels.msm.cuda_recode   signed digits, one thread per scalar
  sort        kernels.msm.cuda          (bucket, point) entries by bucket, cut into chunks: CuPy's
                                        radix sort on the device where CuPy imports, else the host
  accumulate  kernels.msm.cuda          chunk sums, then per bucket the sum of its chunks
  reduce      kernels.msm.cuda_reduce   running sums per (window, segment), windows by Horner

The driver (`kernels.msm.resident.ResidentPoints.msm`) splits the scalars by bit length as the CPU
MSM does (`kernels.msm.pippenger.scalar_classes`): 0 scalars and infinity are skipped, the rest
split into a short and a long class, each with its own window; a 1 scalar costs one addition in
its class's lowest bucket. `msm_g1_cuda`/`msm_g2_cuda` upload the points of one call; a proving
key's points stay on the device across calls (`ResidentPoints`). Results equal `msm_g1`/`msm_g2`.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from kernels.ec import points as ec_points
from kernels.msm import pippenger
from kernels.msm.cuda import bucket_sums_device, sort_by_bucket_on_device
from kernels.msm.cuda_recode import MAX_WINDOW, recode_device, require_gpu
from kernels.msm.cuda_reduce import reduce_and_combine_device


class ScalarUpload:
    """Copies of host scalars to the device through one pinned staging buffer, on one stream.

    Pinned memory copies at the bus's speed (pageable memory is several times slower), and
    pinning is slow, so the buffer is kept and grown as needed; the copy is queued on `stream`
    and the kernels that read the scalars are queued behind it on the same stream.
    """

    def __init__(self, stream=None):
        self.stream = cuda.stream() if stream is None else stream
        self._buffer = None

    def to_device(self, scalars: np.ndarray):
        """A device copy of (m, nlimbs) uint32 `scalars`, queued on `self.stream`."""
        m = scalars.shape[0]
        self.stream.synchronize()       # the previous copy out of the buffer has finished
        if self._buffer is None or self._buffer.shape[0] < m or self._buffer.shape[1:] != scalars.shape[1:]:
            self._buffer = cuda.pinned_array((max(m, 1024),) + scalars.shape[1:], np.uint32)
        staged = self._buffer[:m]
        staged[...] = scalars
        return cuda.to_device(staged, stream=self.stream)


def bucket_msm_device(group: str, d_points, scalars: np.ndarray, c: int, chunk: int | None = None, rows=None,
                      upload: ScalarUpload | None = None) -> np.ndarray:
    """Jacobian (3, *element) sum_k [scalars[k]] points[rows[k]] by the bucket method with window c,
    every stage on the device; `d_points` (n, 2, *element) affine on the device, `scalars` (m, 8)
    host canonical limbs (0 and 1 allowed: they only cost their digits), `rows` (m,) the points they
    multiply (default: row k; no point at infinity among them). `upload` copies the scalars and
    gives the stream everything runs on (default: a plain copy, the default stream). Raises
    ValueError for c outside 1..16, KernelError without a GPU."""
    stream = 0 if upload is None else upload.stream
    nwin = pippenger._windows(pippenger.max_bit_length(scalars), c)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
    d_scalars = cuda.to_device(scalars) if upload is None else upload.to_device(scalars)
    d_digits = recode_device(d_scalars, c, nwin, stream)
    nb = 1 << (c - 1)
    runs = sort_by_bucket_on_device(d_digits, nb, chunk, rows, stream)
    d_buckets = bucket_sums_device(group, d_points, runs, nwin, nb, stream)
    return reduce_and_combine_device(group, d_buckets, c, stream).copy_to_host(stream=stream)


def _msm_cuda(points, scalars, shape, group, window):
    from kernels.msm.resident import ResidentPoints

    require_gpu()
    points, scalars = pippenger._check_inputs(points, scalars, shape, group)
    if window is not None and not 1 <= window <= MAX_WINDOW:
        raise ValueError(f"window {window}: the device MSM takes 1 <= window <= {MAX_WINDOW}")
    used = scalars.any(axis=1)          # only the points of nonzero scalars go to the device
    return ResidentPoints(group, points[used]).msm(scalars[used], window)


def msm_g1_cuda(points: np.ndarray, scalars: np.ndarray, window: int | None = None) -> np.ndarray:
    """As `kernels.msm.pippenger.msm_g1` with every bucket stage on the device: (m, 2, 12) affine
    points, (m, 8) canonical scalars, affine (2, 12) result (all zero for infinity). Raises
    ValueError on bad shapes or a window outside 1..16, KernelError without a GPU."""
    return _msm_cuda(points, scalars, ec_points.G1_SHAPE, "g1", window)


def msm_g2_cuda(points: np.ndarray, scalars: np.ndarray, window: int | None = None) -> np.ndarray:
    """As `msm_g1_cuda` on G2: points (m, 2, 2, 12), result (2, 2, 12)."""
    return _msm_cuda(points, scalars, ec_points.G2_SHAPE, "g2", window)


__all__ = ["msm_g1_cuda", "msm_g2_cuda", "bucket_msm_device", "ScalarUpload"]
