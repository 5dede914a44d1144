"""CUDA builds of the G1 and G2 routines: the same source as the CPU builds, as device functions.

Import is lazy (nothing touches CUDA until `device_curves()` is called), so CPU-only machines never
load the CUDA toolchain. Under `NUMBA_ENABLE_CUDASIM=1` these run in Numba's simulator.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace


@lru_cache(maxsize=None)
def device_curves() -> SimpleNamespace:
    """`g1` and `g2` namespaces of `cuda.jit(device=True)` routines (see kernels.ec.formulas)."""
    from numba import cuda

    from kernels.ec.g1 import compile_g1
    from kernels.ec.g2 import compile_g2
    from kernels.ff.device import device_fields

    fields = device_fields()
    device_jit = cuda.jit(device=True)
    return SimpleNamespace(g1=compile_g1(fields.fq, device_jit), g2=compile_g2(fields.fq, fields.fq2, device_jit),
                           fields=fields)
