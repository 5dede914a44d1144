"""CUDA build of the radix-2 NTT: the same butterfly as the CPU, one kernel launch per stage.

Importing this module compiles nothing for the CPU and loads numba.cuda (the simulator under
`NUMBA_ENABLE_CUDASIM=1`); `cuda` is a module-level name so the simulator can patch the kernels.
The layout and results are those of `kernels.ntt.radix2` (natural order in and out).
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from kernels.ff.device import device_fields
from kernels.ff.fields import FR
from kernels.ntt.butterfly import compile_butterfly
from kernels.ntt.domain import R, log2_size
from kernels.ntt.radix2 import default_chunks, scale_by_powers, check_values, resolve_root, twiddles

NLIMBS = 8
THREADS_PER_BLOCK = 256

_fr = device_fields().fr
_butterfly = compile_butterfly(_fr, cuda.jit(device=True)).butterfly
_mul = _fr.mul


@cuda.jit
def bit_reverse_kernel(x, logn):
    """Swap x[i] and x[rev(i)] for i < rev(i), one thread per index."""
    i = cuda.grid(1)
    if i < x.shape[0]:
        j = 0
        for b in range(logn):
            j |= ((i >> b) & 1) << (logn - 1 - b)
        if i < j:
            for limb in range(NLIMBS):
                tmp = x[i, limb]
                x[i, limb] = x[j, limb]
                x[j, limb] = tmp


@cuda.jit
def ntt_stage_kernel(x, tw, logh):
    """One decimation-in-time stage of half-size 2^logh: thread k does butterfly k of n/2."""
    k = cuda.grid(1)
    if k < x.shape[0] // 2:
        t = cuda.local.array(8, np.uint32)        # literal: the GPU compiler needs a constant
        h = 1 << logh
        j = k & (h - 1)
        i0 = ((k >> logh) << (logh + 1)) + j
        _butterfly(x[i0], x[i0 + h], tw[h + j], t)


@cuda.jit
def mul_rows_kernel(x, factors):
    """x[i] <- x[i]·factors[i] (coset powers), one thread per row."""
    i = cuda.grid(1)
    if i < x.shape[0]:
        _mul(x[i], x[i], factors[i])


@cuda.jit
def scale_kernel(x, c):
    """x[i] <- x[i]·c (the 1/n of the inverse transform)."""
    i = cuda.grid(1)
    if i < x.shape[0]:
        _mul(x[i], x[i], c)


def _blocks(count: int) -> int:
    return max(1, (count + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


def ntt_device_inplace(d_values, inverse: bool = False, *, omega: int | None = None, stream=0):
    """Transform a device array of shape (n, 8) uint32 in place (see `radix2.ntt_inplace`).

    Twiddles are built on the host (cached) and copied per call. Raises ValueError for a size that
    is not a power of two or an `omega` that is not a primitive n-th root of unity.
    """
    n = d_values.shape[0]
    if d_values.ndim != 2 or d_values.shape[1] != NLIMBS:
        raise ValueError(f"device NTT input must have shape (n, {NLIMBS}), got {d_values.shape}")
    logn = log2_size(n)
    if n == 1:
        return d_values
    root = resolve_root(n, omega)
    if inverse:
        root = pow(root, -1, R)
    d_tw = cuda.to_device(twiddles(n, root), stream=stream)
    bit_reverse_kernel[_blocks(n), THREADS_PER_BLOCK, stream](d_values, logn)
    for logh in range(logn):
        ntt_stage_kernel[_blocks(n // 2), THREADS_PER_BLOCK, stream](d_values, d_tw, logh)
    if inverse:
        d_c = cuda.to_device(FR.element(pow(n, -1, R)), stream=stream)
        scale_kernel[_blocks(n), THREADS_PER_BLOCK, stream](d_values, d_c)
    return d_values


def ntt_device(values: np.ndarray, inverse: bool = False, *, omega: int | None = None) -> np.ndarray:
    """Host in, host out: copy (n, 8) Montgomery Fr values to the GPU, transform, copy back.

    Same results and errors as `kernels.ntt.ntt`.
    """
    check_values(values, inplace=False)
    d_values = cuda.to_device(np.ascontiguousarray(values, dtype=np.uint32))
    ntt_device_inplace(d_values, inverse, omega=omega)
    return d_values.copy_to_host()


def coset_ntt_device(values: np.ndarray, shift: int, *, omega: int | None = None) -> np.ndarray:
    """Host in, host out: evaluations on shift·H, as `kernels.ntt.coset_ntt`."""
    check_values(values, inplace=False)
    if shift % R == 0:
        raise ValueError("coset shift must be a non-zero element of Fr")
    n = values.shape[0]
    root = resolve_root(n, omega)
    powers = np.empty((n, NLIMBS), np.uint32)
    scale_by_powers(powers, FR.element(shift % R), FR.element(1), default_chunks(), True)
    d_values = cuda.to_device(np.ascontiguousarray(values, dtype=np.uint32))
    mul_rows_kernel[_blocks(n), THREADS_PER_BLOCK](d_values, cuda.to_device(powers))
    ntt_device_inplace(d_values, omega=root)
    return d_values.copy_to_host()
