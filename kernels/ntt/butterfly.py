"""The radix-2 Cooley–Tukey butterfly over Fr, one source for the CPU (njit) and CUDA (device)."""

from __future__ import annotations

from types import SimpleNamespace


def compile_butterfly(fr, jit) -> SimpleNamespace:
    """Compile `butterfly(a, b, w, t)` and `butterfly_unit(a, b, t)` over the Fr namespace `fr`.

    `butterfly` sets (a, b) <- (a + w·b, a - w·b) in place on 1-D uint32 Montgomery elements,
    `butterfly_unit` the same for w = 1 (no product); `t` is one element of scratch (GPU device
    functions cannot allocate).
    """
    f_mul, f_add, f_sub, f_copy = fr.mul, fr.add, fr.sub, fr.copy

    @jit
    def butterfly(a, b, w, t):
        f_mul(t, b, w)
        f_sub(b, a, t)
        f_add(a, a, t)

    @jit
    def butterfly_unit(a, b, t):
        f_sub(t, a, b)
        f_add(a, a, b)
        f_copy(b, t)

    return SimpleNamespace(butterfly=butterfly, butterfly_unit=butterfly_unit)
