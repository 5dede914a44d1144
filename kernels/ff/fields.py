"""Fq (381-bit base field) and Fr (255-bit scalar field): CPU builds and array forms.

`fq` and `fr` are namespaces of `numba.njit` routines on single elements (see
`montgomery.compile_field`); `FQ` and `FR` are `PrimeField` objects with the vectorised CPU
forms and the conversions from and to Python ints and canonical bytes. The CUDA builds of the
same routines come from `kernels.ff.device`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numba import prange

from kernels import params
from kernels.cache import cached_njit, configure_numba_cache
from kernels.errors import EncodingError
from kernels.ff.montgomery import FieldSpec, compile_field

FQ_SPEC = FieldSpec("fq", params.P, params.FQ_LIMBS)
FR_SPEC = FieldSpec("fr", params.R, params.FR_LIMBS)

configure_numba_cache()
# Every CPU kernel is cached on disk: a second process loads it instead of compiling (kernels.cache).
cpu_jit = cached_njit(nogil=True)
# CPU: 64-bit words with 128-bit products (kernels.ff.wide); the CUDA build keeps 32-bit limbs.
fq = compile_field(FQ_SPEC, cpu_jit, wide=True)
fr = compile_field(FR_SPEC, cpu_jit, wide=True)


def _vector_ops(ops):
    """Array forms over (m, nlimbs) arrays, parallel over rows."""
    n = ops.nlimbs
    # Numba closures must capture the dispatchers themselves, not the namespace.
    mul, add, sub, to_mont, from_mont = ops.mul, ops.add, ops.sub, ops.to_mont, ops.from_mont
    copy, set_one, set_zero, is_zero, inv = ops.copy, ops.set_one, ops.set_zero, ops.is_zero, ops.inv

    @cached_njit(parallel=True, nogil=True)
    def mul_vec(out, a, b):
        for k in prange(out.shape[0]):
            mul(out[k], a[k], b[k])

    @cached_njit(parallel=True, nogil=True)
    def add_vec(out, a, b):
        for k in prange(out.shape[0]):
            add(out[k], a[k], b[k])

    @cached_njit(parallel=True, nogil=True)
    def sub_vec(out, a, b):
        for k in prange(out.shape[0]):
            sub(out[k], a[k], b[k])

    @cached_njit(parallel=True, nogil=True)
    def to_mont_vec(out, a):
        for k in prange(out.shape[0]):
            to_mont(out[k], a[k])

    @cached_njit(parallel=True, nogil=True)
    def from_mont_vec(out, a):
        for k in prange(out.shape[0]):
            from_mont(out[k], a[k])

    @cached_njit(nogil=True)
    def inv_batch(out, a):
        # Montgomery's trick: one inversion and 3(m-1) products; zeros map to zero.
        m = a.shape[0]
        prefix = np.empty((m, n), np.uint32)
        acc = np.empty(n, np.uint32)
        tmp = np.empty(n, np.uint32)
        set_one(acc)
        for k in range(m):
            copy(prefix[k], acc)
            if not is_zero(a[k]):
                mul(acc, acc, a[k])
        inv(acc, acc, tmp)
        for k in range(m - 1, -1, -1):
            if is_zero(a[k]):
                set_zero(out[k])
            else:
                mul(tmp, acc, prefix[k])
                mul(acc, acc, a[k])
                copy(out[k], tmp)

    return mul_vec, add_vec, sub_vec, to_mont_vec, from_mont_vec, inv_batch


class PrimeField:
    """One prime field: element routines (`ops`), array forms, and int/bytes conversions.

    Arrays of elements have shape (m, nlimbs) and dtype uint32; "mont" arrays hold Montgomery
    form, "canonical" arrays hold the plain integers (as scalars for MSM do).
    """

    def __init__(self, spec: FieldSpec, ops):
        self.spec = spec
        self.ops = ops
        self.modulus = spec.modulus
        self.nlimbs = spec.nlimbs
        self.nbytes = (spec.modulus.bit_length() + 7) // 8
        (self.mul_vec, self.add_vec, self.sub_vec, self.to_mont_vec, self.from_mont_vec,
         self.inv_batch) = _vector_ops(ops)

    # --- ints <-> limb arrays -------------------------------------------------------------
    def canonical(self, values: Iterable[int]) -> np.ndarray:
        """(m, nlimbs) limbs of ints reduced mod the modulus (not Montgomery)."""
        width = 4 * self.nlimbs
        data = b"".join((int(v) % self.modulus).to_bytes(width, "little") for v in values)
        return np.frombuffer(data, dtype="<u4").reshape(-1, self.nlimbs).astype(np.uint32)

    def from_ints(self, values: Iterable[int]) -> np.ndarray:
        """(m, nlimbs) Montgomery-form array of ints (reduced mod the modulus)."""
        plain = self.canonical(values)
        out = np.empty_like(plain)
        self.to_mont_vec(out, plain)
        return out

    def to_ints(self, mont: np.ndarray) -> list[int]:
        """Ints of a Montgomery-form array of shape (..., nlimbs), flattened in C order."""
        flat = np.ascontiguousarray(mont, dtype=np.uint32).reshape(-1, self.nlimbs)
        plain = np.empty_like(flat)
        self.from_mont_vec(plain, flat)
        return self.canonical_to_ints(plain)

    def canonical_to_ints(self, plain: np.ndarray) -> list[int]:
        data = np.ascontiguousarray(plain, dtype="<u4").reshape(-1, self.nlimbs).tobytes()
        width = 4 * self.nlimbs
        return [int.from_bytes(data[k:k + width], "little") for k in range(0, len(data), width)]

    def element(self, value: int) -> np.ndarray:
        """One Montgomery-form element (1-D array) of an int."""
        return self.from_ints([value])[0]

    def value(self, mont: np.ndarray) -> int:
        """The int of one Montgomery-form element."""
        return self.to_ints(mont)[0]

    # --- canonical bytes ------------------------------------------------------------------
    def to_bytes(self, value: int, byteorder: str = "big") -> bytes:
        return (int(value) % self.modulus).to_bytes(self.nbytes, byteorder)

    def from_bytes(self, data: bytes, byteorder: str = "big") -> int:
        """Int of canonical bytes; raises EncodingError on a wrong length or a value ≥ modulus."""
        if len(data) != self.nbytes:
            raise EncodingError(f"{self.spec.name} element must be {self.nbytes} bytes, got {len(data)}")
        value = int.from_bytes(data, byteorder)
        if value >= self.modulus:
            raise EncodingError(f"{self.spec.name} element is not canonical (≥ modulus)")
        return value


FQ = PrimeField(FQ_SPEC, fq)
FR = PrimeField(FR_SPEC, fr)


# --- Fq2 ------------------------------------------------------------------------------------
from kernels.ff.fq2 import compile_fq2  # noqa: E402  (needs fq above)

fq2 = compile_fq2(fq, cpu_jit)


def fq2_from_ints(values) -> np.ndarray:
    """(m, 2, 12) Montgomery array of (c0, c1) int pairs."""
    pairs = list(values)
    return FQ.from_ints([c for pair in pairs for c in pair]).reshape(len(pairs), 2, FQ.nlimbs)


def fq2_to_ints(mont: np.ndarray) -> list[tuple[int, int]]:
    """(c0, c1) int pairs of a Montgomery array of shape (..., 2, 12), flattened in C order."""
    flat = FQ.to_ints(mont)
    return [(flat[k], flat[k + 1]) for k in range(0, len(flat), 2)]
