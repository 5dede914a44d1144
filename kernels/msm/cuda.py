"""The MSM's bucket accumulation on the device (numba.cuda, over the device curve builds).

Points are sorted by bucket first, so each thread reads only its own points: the signed digits of
every window become (bucket, point, sign) entries, sorted by bucket (`sort_by_bucket`, host), and
each bucket's run of entries is cut into chunks of at most `chunk` entries. `chunk_kernel` sums one
chunk per thread into an XYZZ partial, in registers/local memory; `combine_kernel` adds each
bucket's partials (one thread per bucket). A bucket that holds a large share of the points (0/1
witness values, repeated small values) is thus spread over many threads instead of serializing
one. The work is windows × points additions plus the partials, where the first kernel of this
module scanned every digit of every point for every bucket (windows × buckets × points).

`bucket_sums_cuda` hands the buckets to the host (`kernels.msm.pippenger` reduces them there);
`kernels.msm.cuda_msm` keeps them on the device and reduces them there (`kernels.msm.cuda_reduce`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from math import isqrt
from typing import NamedTuple

import numpy as np
from numba import cuda

from kernels.ec.formulas import S_ROWS, T_ROWS
from kernels.errors import KernelError

THREADS_PER_BLOCK = 64
MIN_CHUNK = 32          # entries per chunk at least: fewer makes the combine step the larger one

# Compile-time shapes of the per-thread arrays, per group.
G1_XYZZ, G1_AFF, G1_TMP = (4, 12), (2, 12), (T_ROWS, 12)
G2_XYZZ, G2_AFF, G2_TMP = (4, 2, 12), (2, 2, 12), (T_ROWS, 2, 12)
FIELD_SCRATCH = (S_ROWS, 12)


class BucketRuns(NamedTuple):
    """Entries sorted by bucket, cut into chunks (all int32; a bucket is w·nb + |digit| − 1)."""
    entries: np.ndarray       # (n,) point index << 1 | (digit < 0)
    chunk_start: np.ndarray   # (nchunks,) first entry of each chunk
    chunk_end: np.ndarray     # (nchunks,) one past its last entry
    first_chunk: np.ndarray   # (nwin·nb + 1,) chunks of bucket g are first_chunk[g] .. first_chunk[g+1]


def sort_by_bucket(digits: np.ndarray, nb: int, chunk: int | None = None, rows=None) -> BucketRuns:
    """Sort the nonzero signed `digits` (nwin, m) into bucket runs cut into chunks (on the host).

    `chunk` (entries per chunk) defaults to max(MIN_CHUNK, √(largest bucket)), so that neither a
    chunk thread nor a combining thread adds more than about √ of the largest bucket's points.
    `rows` (m,) names the point row that digit column k multiplies (default: row k), so that the
    entries index a larger table kept on the device (kernels.msm.resident) without gathering it.
    Raises ValueError for a digit outside ±nb or a point row at or above 2^30.
    """
    return bucket_runs(np, digits, nb, chunk, rows)


def bucket_runs(xp, digits, nb: int, chunk: int | None = None, rows=None) -> BucketRuns:
    """`sort_by_bucket` in array module `xp`: NumPy on the host, CuPy on the device (then `digits`
    may be any CUDA array, and the runs are CuPy arrays)."""
    digits = xp.asarray(digits)
    nwin, m = digits.shape
    if rows is not None:
        rows = xp.asarray(rows).astype(xp.int64)
        if rows.shape != (m,):
            raise ValueError(f"{m} digit columns but {rows.shape[0]} point rows")
    table = m if rows is None or m == 0 else int(rows.max()) + 1
    if table > 1 << 30:
        raise ValueError(f"{table} points: entries hold a point index in 30 bits")
    d = digits.astype(xp.int64)
    mag = xp.abs(d)
    if mag.size and int(mag.max()) > nb:
        raise ValueError(f"a digit of magnitude {int(mag.max())} has no bucket among {nb}")
    w, k = xp.nonzero(d)
    keys = w * nb + mag[w, k] - 1
    # CuPy's argsort is a stable radix sort and takes no `kind`
    order = xp.argsort(keys, kind="stable") if xp is np else xp.argsort(keys)
    point = k if rows is None else rows[k]
    entries = ((point[order] << 1) | (d[w, k][order] < 0)).astype(xp.int32)
    counts = xp.bincount(keys, minlength=nwin * nb) if keys.size else xp.zeros(nwin * nb, xp.int64)
    largest = int(counts.max()) if counts.size else 0
    chunk = chunk or max(MIN_CHUNK, isqrt(largest))
    per_bucket = -(-counts // chunk)
    first_chunk = xp.zeros(nwin * nb + 1, xp.int64)
    first_chunk[1:] = xp.cumsum(per_bucket)
    offsets = xp.zeros(nwin * nb + 1, xp.int64)
    offsets[1:] = xp.cumsum(counts)
    nchunks = int(first_chunk[-1])
    chunk_ids = xp.arange(nchunks)
    # the bucket of each chunk: the last bucket whose first chunk is at or before it
    bucket = xp.searchsorted(first_chunk, chunk_ids, side="right") - 1
    start = offsets[bucket] + (chunk_ids - first_chunk[bucket]) * chunk
    end = xp.minimum(start + chunk, offsets[bucket + 1])
    return BucketRuns(entries, start.astype(xp.int32), end.astype(xp.int32), first_chunk.astype(xp.int32))


def sort_by_bucket_on_device(d_digits, nb: int, chunk: int | None = None, rows=None, stream=0) -> BucketRuns:
    """`sort_by_bucket` of device digits written on `stream`: with CuPy on the device where CuPy
    imports and a GPU is in use (not the simulator), else on the host after a copy. Runs are device
    or host arrays."""
    cupy = _cupy()
    if cupy is not None:
        cuda.synchronize()          # the digits' kernels may run on any stream, CuPy sorts on its own
        runs = bucket_runs(cupy, cupy.asarray(d_digits), nb, chunk, rows)
        cupy.cuda.get_current_stream().synchronize()   # before kernels on `stream` read the runs
        return runs
    return sort_by_bucket(d_digits.copy_to_host(stream=stream), nb, chunk, rows)


def _cupy():
    """CuPy when it is importable and numba runs a real GPU, else None (the host sort)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return None
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def _make_chunk_kernel(curve, xyzz_shape, aff_shape, tmp_shape):
    xyzz_madd, xyzz_set_inf, xyzz_copy, aff_neg = curve.xyzz_madd, curve.xyzz_set_inf, curve.xyzz_copy, curve.aff_neg

    @cuda.jit
    def chunk_kernel(points, entries, chunk_start, chunk_end, partials):
        c = cuda.grid(1)
        if c < chunk_start.shape[0]:
            acc = cuda.local.array(xyzz_shape, np.uint32)
            neg = cuda.local.array(aff_shape, np.uint32)
            t = cuda.local.array(tmp_shape, np.uint32)
            s = cuda.local.array(FIELD_SCRATCH, np.uint32)
            xyzz_set_inf(acc)
            for e in range(chunk_start[c], chunk_end[c]):
                v = entries[e]
                if v & 1:
                    aff_neg(neg, points[v >> 1])
                    xyzz_madd(acc, neg, t, s)
                else:
                    xyzz_madd(acc, points[v >> 1], t, s)
            xyzz_copy(partials[c], acc)

    return chunk_kernel


def _make_combine_kernel(curve, xyzz_shape, tmp_shape):
    xyzz_add, xyzz_set_inf, xyzz_copy = curve.xyzz_add, curve.xyzz_set_inf, curve.xyzz_copy

    @cuda.jit
    def combine_kernel(partials, first_chunk, buckets):
        g = cuda.grid(1)
        nb = buckets.shape[1]
        if g < buckets.shape[0] * nb:
            w = g // nb
            acc = cuda.local.array(xyzz_shape, np.uint32)
            t = cuda.local.array(tmp_shape, np.uint32)
            s = cuda.local.array(FIELD_SCRATCH, np.uint32)
            xyzz_set_inf(acc)
            for c in range(first_chunk[g], first_chunk[g + 1]):
                xyzz_add(acc, partials[c], t, s)
            xyzz_copy(buckets[w, g - w * nb], acc)

    return combine_kernel


@lru_cache(maxsize=None)
def bucket_kernels(group: str):
    """(chunk_kernel, combine_kernel) for "g1" or "g2"."""
    from kernels.ec.device import device_curves

    curves = device_curves()
    if group == "g1":
        return _make_chunk_kernel(curves.g1, G1_XYZZ, G1_AFF, G1_TMP), _make_combine_kernel(curves.g1, G1_XYZZ, G1_TMP)
    return _make_chunk_kernel(curves.g2, G2_XYZZ, G2_AFF, G2_TMP), _make_combine_kernel(curves.g2, G2_XYZZ, G2_TMP)


def _blocks(count: int) -> int:
    return max(1, (count + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


def _on_device(a, stream=0):
    """A device view of a CUDA array (CuPy's runs), or a device copy of a host array."""
    if hasattr(a, "__cuda_array_interface__"):
        return cuda.as_cuda_array(a)
    return cuda.to_device(a, stream=stream)


def bucket_sums_device(group: str, d_points, runs: BucketRuns, nwin: int, nb: int, stream=0):
    """Device buckets (nwin, nb, 4, *element) XYZZ: the chunk and combine kernels over `runs`, on
    `stream`. The runs' entries index rows of `d_points`."""
    element = tuple(d_points.shape[2:])
    chunk_kernel, combine_kernel = bucket_kernels(group)
    nchunks = runs.chunk_start.shape[0]
    d_partials = cuda.device_array((max(nchunks, 1), 4) + element, np.uint32, stream=stream)
    if nchunks:
        chunk_kernel[_blocks(nchunks), THREADS_PER_BLOCK, stream](
            d_points, _on_device(runs.entries, stream), _on_device(runs.chunk_start, stream),
            _on_device(runs.chunk_end, stream), d_partials)
    d_buckets = cuda.device_array((nwin, nb, 4) + element, np.uint32, stream=stream)
    combine_kernel[_blocks(nwin * nb), THREADS_PER_BLOCK, stream](d_partials, _on_device(runs.first_chunk, stream),
                                                                  d_buckets)
    return d_buckets


def bucket_sums_cuda(group: str, points: np.ndarray, digits: np.ndarray, c: int,
                     chunk: int | None = None) -> np.ndarray:
    """Buckets (nwin, 2^(c-1), 4, *element) XYZZ of affine `points` under signed `digits` (nwin, m).

    `chunk`: entries per chunk thread (default: see `sort_by_bucket`). Raises KernelError when
    numba sees no CUDA GPU (and the simulator is off).
    """
    if not cuda.is_available():
        raise KernelError("device='cuda' needs an NVIDIA GPU visible to numba-cuda, and none is; "
                          "use device='cpu'")
    nb = 1 << (c - 1)
    runs = sort_by_bucket(digits, nb, chunk)
    d_points = cuda.to_device(np.ascontiguousarray(points))
    return bucket_sums_device(group, d_points, runs, digits.shape[0], nb).copy_to_host()
