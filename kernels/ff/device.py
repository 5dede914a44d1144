"""CUDA builds of the field routines: the same generated source as the CPU, as device functions.

Import is lazy (nothing touches CUDA until `device_fields()` is called), so CPU-only machines
never load the CUDA toolchain. Under `NUMBA_ENABLE_CUDASIM=1` these run in Numba's simulator.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace


@lru_cache(maxsize=None)
def device_fields() -> SimpleNamespace:
    """`fq`, `fr` and `fq2` namespaces of `cuda.jit(device=True)` routines (see montgomery.compile_field)."""
    from numba import cuda

    from kernels.ff.fields import FQ_SPEC, FR_SPEC
    from kernels.ff.montgomery import compile_field

    from kernels.ff.fq2 import compile_fq2

    device_jit = cuda.jit(device=True)
    fq = compile_field(FQ_SPEC, device_jit)
    return SimpleNamespace(fq=fq, fr=compile_field(FR_SPEC, device_jit), fq2=compile_fq2(fq, device_jit))
