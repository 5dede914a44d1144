"""The radix-2 Cooley–Tukey butterfly over Fr, one source for the CPU (njit) and CUDA (device)."""

from __future__ import annotations

from types import SimpleNamespace


def compile_butterfly(fr, jit) -> SimpleNamespace:
    """Compile `butterfly(a, b, w, t)` over the Fr namespace `fr` with `jit`.

    `butterfly` sets (a, b) <- (a + w·b, a - w·b) in place on 1-D uint32 Montgomery elements;
    `t` is one element of scratch (GPU device functions cannot allocate).
    """
    f_mul, f_add, f_sub = fr.mul, fr.add, fr.sub

    @jit
    def butterfly(a, b, w, t):
        f_mul(t, b, w)
        f_sub(b, a, t)
        f_add(a, a, t)

    return SimpleNamespace(butterfly=butterfly)
