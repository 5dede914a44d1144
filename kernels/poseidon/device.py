"""CUDA build of the Poseidon permutation: the same source as the CPU, one thread per state.

`cuda` is a module-level name so the simulator can patch the kernel (`NUMBA_ENABLE_CUDASIM=1`).
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from kernels.ff.device import device_fields
from kernels.poseidon.permutation import NLIMBS, T_MAX, _check_states, compile_permutation, native_rounds

THREADS_PER_BLOCK = 128
# Local array shapes must be literal for the GPU compiler (the simulator does not check).
assert (T_MAX + 1, NLIMBS) == (17, 8)

_permute = compile_permutation(device_fields().fr, cuda.jit(device=True)).permute


@cuda.jit
def permute_kernel(states, full_rc, partial_rc, mds, mds_pre, sparse):
    """Permute states[k] in place, thread k; states is (m, t, 8) with t ≤ T_MAX."""
    k = cuda.grid(1)
    if k < states.shape[0]:
        s = cuda.local.array((17, 8), np.uint32)
        _permute(states[k], full_rc, partial_rc, mds, mds_pre, sparse, s)


def permute_batch_device(states: np.ndarray, t: int) -> np.ndarray:
    """Host in, host out: the permutation of each of (m, t, 8) Montgomery states, on the GPU.

    Raises ValueError for a bad shape or t > T_MAX.
    """
    if t > T_MAX:
        raise ValueError(f"the device build holds states up to t = {T_MAX}, got {t}")
    _check_states(states, t, batch=True)
    d_rounds = [cuda.to_device(arr) for arr in native_rounds(t)]
    d_states = cuda.to_device(states)
    blocks = max(1, (states.shape[0] + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK)
    permute_kernel[blocks, THREADS_PER_BLOCK](d_states, *d_rounds)
    return d_states.copy_to_host()
