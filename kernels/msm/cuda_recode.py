"""Signed-digit recoding of MSM scalars on the device (numba.cuda), one thread per scalar.

The digits are those of the CPU recoding (`compile_pippenger(...).recode` in kernels.msm.pippenger):
window w of scalar k is bits [w·c, w·c + c) plus the carry from window w − 1, and a digit above
2^(c-1) borrows from the next window, so |digit| <= 2^(c-1) and a window has 2^(c-1) buckets.
`cuda` is a module-level name so that the simulator can patch the kernel.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from kernels.errors import KernelError

THREADS_PER_BLOCK = 128
MAX_WINDOW = 16        # digits are int32 and a window reads at most two 32-bit limbs


@cuda.jit
def recode_kernel(scalars, c, digits):
    """digits[w, k] = signed c-bit digit w of canonical scalar k ((m, nlimbs) uint32 limbs)."""
    k = cuda.grid(1)
    nwin = digits.shape[0]
    nlimbs = scalars.shape[1]
    if k < digits.shape[1]:
        # uint64 and int64 kept apart, every literal cast: mixing them gives float64 on the device
        mask = (np.uint64(1) << np.uint64(c)) - np.uint64(1)
        half = np.int64(1) << np.int64(c - 1)
        full = half + half
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
            if d > half:
                d -= full
                carry = np.int64(1)
            else:
                carry = np.int64(0)
            digits[w, k] = np.int32(d)


def require_gpu() -> None:
    """Raise KernelError when numba sees no CUDA GPU (and the simulator is off)."""
    if not cuda.is_available():
        raise KernelError("device='cuda' needs an NVIDIA GPU visible to numba-cuda, and none is; "
                          "use device='cpu'")


def recode_device(d_scalars, c: int, nwin: int, stream=0):
    """Device (nwin, m) int32 signed digits of the device (m, nlimbs) canonical scalars, window c,
    computed on `stream` (default: the default stream).

    `nwin` windows must cover the largest scalar's bit length plus one (the last carry).
    Raises ValueError for c outside 1..16 and KernelError without a GPU (simulator off).
    """
    if not 1 <= c <= MAX_WINDOW:
        raise ValueError(f"window {c}: signed digits on the device take 1 <= c <= {MAX_WINDOW}")
    require_gpu()
    m = d_scalars.shape[0]
    d_digits = cuda.device_array((nwin, m), np.int32, stream=stream)
    if m and nwin:
        blocks = (m + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK
        recode_kernel[blocks, THREADS_PER_BLOCK, stream](d_scalars, np.int64(c), d_digits)
    return d_digits


def recode_cuda(scalars: np.ndarray, c: int, nwin: int) -> np.ndarray:
    """Host (nwin, m) int32 digits of host (m, nlimbs) uint32 scalars, recoded on the device."""
    require_gpu()
    d_scalars = cuda.to_device(np.ascontiguousarray(scalars, dtype=np.uint32))
    return recode_device(d_scalars, c, nwin).copy_to_host()
