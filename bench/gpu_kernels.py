"""CUDA kernels used only by bench/gpu_check.py (`cuda` is module-level for the simulator)."""

import numpy as np
from numba import cuda

from kernels.ff.device import device_fields

_fq_mul = device_fields().fq.mul


@cuda.jit
def fq_mul_chain_kernel(out, a, reps):
    """out[i] = a[i]^(reps + 1) by `reps` dependent Montgomery products: the Fq product rate."""
    i = cuda.grid(1)
    if i < a.shape[0]:
        x = cuda.local.array(12, np.uint32)
        for k in range(12):
            x[k] = a[i, k]
        for _ in range(reps):
            _fq_mul(x, x, a[i])
        for k in range(12):
            out[i, k] = x[k]
