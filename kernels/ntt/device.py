"""CUDA build of the radix-2 NTT: the same butterfly as the CPU, one kernel launch per stage.

Importing this module compiles nothing for the CPU and loads numba.cuda (the simulator under
`NUMBA_ENABLE_CUDASIM=1`); `cuda` is a module-level name so the simulator can patch the kernels.
The layout and results are those of `kernels.ntt.radix2` (natural order in and out). Beside the
transforms: row-wise products, differences and the conversion out of Montgomery form, so that a
caller (the Groth16 prover's H) keeps its values on the device from one transform to the next.
Twiddles and coset powers are uploaded once per (size, root) and kept (a few tables).
"""

from __future__ import annotations

from functools import lru_cache

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
_mul, _sub, _from_mont = _fr.mul, _fr.sub, _fr.from_mont


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


@cuda.jit
def sub_rows_kernel(x, y):
    """x[i] <- x[i] − y[i], one thread per row."""
    i = cuda.grid(1)
    if i < x.shape[0]:
        _sub(x[i], x[i], y[i])


@cuda.jit
def from_mont_kernel(x):
    """x[i] <- x[i]·R⁻¹: Montgomery form to canonical limbs, one thread per row."""
    i = cuda.grid(1)
    if i < x.shape[0]:
        _from_mont(x[i], x[i])


def _blocks(count: int) -> int:
    return max(1, (count + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)


@lru_cache(maxsize=8)
def _device_twiddles(n: int, root: int):
    """`radix2.twiddles(n, root)` on the device, uploaded once (read-only by the stage kernel)."""
    return cuda.to_device(twiddles(n, root))


@lru_cache(maxsize=4)
def _device_powers(n: int, shift: int):
    """(n, 8) Montgomery shift^i, i < n, on the device, uploaded once."""
    powers = np.empty((n, NLIMBS), np.uint32)
    scale_by_powers(powers, FR.element(shift), FR.element(1), default_chunks(), True)
    return cuda.to_device(powers)


def _check_device_values(d_values) -> int:
    if d_values.ndim != 2 or d_values.shape[1] != NLIMBS:
        raise ValueError(f"device NTT input must have shape (n, {NLIMBS}), got {d_values.shape}")
    return log2_size(d_values.shape[0])


def mul_rows_device(d_x, d_y, stream=0):
    """x[i] <- x[i]·y[i] on two device (n, 8) Montgomery arrays (in place in x); returns x."""
    mul_rows_kernel[_blocks(d_x.shape[0]), THREADS_PER_BLOCK, stream](d_x, d_y)
    return d_x


def sub_rows_device(d_x, d_y, stream=0):
    """x[i] <- x[i] − y[i] on two device (n, 8) arrays (in place in x); returns x."""
    sub_rows_kernel[_blocks(d_x.shape[0]), THREADS_PER_BLOCK, stream](d_x, d_y)
    return d_x


def from_mont_device(d_x, stream=0):
    """Device (n, 8) Montgomery Fr elements to canonical limbs, in place; returns x."""
    from_mont_kernel[_blocks(d_x.shape[0]), THREADS_PER_BLOCK, stream](d_x)
    return d_x


def ntt_device_inplace(d_values, inverse: bool = False, *, omega: int | None = None, stream=0):
    """Transform a device array of shape (n, 8) uint32 in place (see `radix2.ntt_inplace`).

    Kernels run on `stream`. Raises ValueError for a size that is not a power of two or an `omega`
    that is not a primitive n-th root of unity.
    """
    logn = _check_device_values(d_values)
    n = d_values.shape[0]
    if n == 1:
        return d_values
    root = resolve_root(n, omega)
    if inverse:
        root = pow(root, -1, R)
    d_tw = _device_twiddles(n, root)
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
    d_values = cuda.to_device(np.ascontiguousarray(values, dtype=np.uint32))
    return coset_ntt_device_inplace(d_values, shift, omega=omega).copy_to_host()


def coset_ntt_device_inplace(d_values, shift: int, *, omega: int | None = None, stream=0):
    """Device (n, 8) coefficients to their evaluations on shift·H, in place, as
    `kernels.ntt.coset_ntt_inplace`; raises ValueError as it does."""
    _check_device_values(d_values)
    if shift % R == 0:
        raise ValueError("coset shift must be a non-zero element of Fr")
    n = d_values.shape[0]
    root = resolve_root(n, omega)       # before touching the values, so errors leave them intact
    mul_rows_device(d_values, _device_powers(n, shift % R), stream)
    return ntt_device_inplace(d_values, omega=root, stream=stream)
