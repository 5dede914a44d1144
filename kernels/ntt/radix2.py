"""Radix-2 NTT over Fr on the CPU: iterative Cooley–Tukey (decimation in time) after a bit reversal.

Values are (n, 8) uint32 arrays of Fr elements in Montgomery form, n a power of two. The forward
transform maps coefficients a_i to evaluations A_k = Σ_i a_i ω^(ik) at ω^0 .. ω^(n-1) in natural
order; the inverse maps them back (including the factor 1/n).

Parallel over the cores with `prange`: the first `BLOCK_LOG` stages run block by block (each block
of 2^BLOCK_LOG elements stays in cache while all its small stages run), each later stage is split
into contiguous ranges of butterflies.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
from numba import prange

from kernels.cache import cached_njit
from kernels.ff.fields import FR, cpu_jit, fr
from kernels.ntt.butterfly import compile_butterfly
from kernels.ntt.domain import R, domain_root, log2_size

NLIMBS = FR.nlimbs
BLOCK_LOG = 11   # 2^11 elements of 32 bytes = 64 KiB per block: fits the L2 cache of one core

# Inlined into the stage loops: called, the butterfly ran about 40% slower (Zen 4, assembly build).
_butterflies = compile_butterfly(fr, cached_njit(nogil=True, inline="always"))
_butterfly, _butterfly_unit = _butterflies.butterfly, _butterflies.butterfly_unit
_mul, _copy = fr.mul, fr.copy


@cached_njit(parallel=True, nogil=True)
def _bit_reverse_permute(x, logn):
    n = x.shape[0]
    for i in prange(n):
        j = 0
        for b in range(logn):
            j |= ((i >> b) & 1) << (logn - 1 - b)
        if i < j:
            for limb in range(x.shape[1]):
                tmp = x[i, limb]
                x[i, limb] = x[j, limb]
                x[j, limb] = tmp


@cached_njit(parallel=True, nogil=True)
def _ntt_stages(x, tw, logn, block_log, nchunks):
    # tw[h + j] = ω_{2h}^j: the twiddles of the stage of half-size h are contiguous.
    n = x.shape[0]
    blog = min(block_log, logn)
    bsize = 1 << blog
    for blk in prange(n >> blog):
        t = np.empty(x.shape[1], np.uint32)
        base = blk << blog
        # Twiddle 1 (j = 0, all of the first stage) needs no product.
        for s in range(base, base + bsize, 2):
            _butterfly_unit(x[s], x[s + 1], t)
        h = 2
        while h < bsize:
            for s in range(base, base + bsize, 2 * h):
                _butterfly_unit(x[s], x[s + h], t)
                for j in range(1, h):
                    _butterfly(x[s + j], x[s + j + h], tw[h + j], t)
            h <<= 1
    half = n >> 1
    per = (half + nchunks - 1) // nchunks
    for logh in range(blog, logn):
        h = 1 << logh
        for c in prange(nchunks):
            t = np.empty(x.shape[1], np.uint32)
            for k in range(c * per, min(half, (c + 1) * per)):
                j = k & (h - 1)
                i0 = ((k >> logh) << (logh + 1)) + j
                _butterfly(x[i0], x[i0 + h], tw[h + j], t)


@cached_njit(parallel=True, nogil=True)
def scale_by_powers(x, base, first, nchunks, overwrite):
    """x[i] <- first·base^i·x[i] on an (m, 8) Montgomery array, or x[i] <- first·base^i when
    `overwrite`; base and first are Montgomery elements. Parallel over `nchunks` ranges."""
    # Each chunk jumps to its start power by square-and-multiply, then steps one product per row.
    m = x.shape[0]
    per = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        lo = c * per
        hi = min(m, lo + per)
        if lo >= hi:
            continue
        acc = np.empty(x.shape[1], np.uint32)
        sq = np.empty(x.shape[1], np.uint32)
        _copy(acc, first)
        _copy(sq, base)
        e = lo
        while e > 0:
            if e & 1:
                _mul(acc, acc, sq)
            _mul(sq, sq, sq)
            e >>= 1
        for i in range(lo, hi):
            if overwrite:
                _copy(x[i], acc)
            else:
                _mul(x[i], x[i], acc)
            _mul(acc, acc, base)


@cached_njit(parallel=True, nogil=True)
def _scale(x, c):
    for i in prange(x.shape[0]):
        _mul(x[i], x[i], c)


@cached_njit(nogil=True)
def _fold_twiddles(tw, n):
    # ω_{2h}^j = ω_{4h}^{2j}: each smaller stage takes every other twiddle of the next one.
    h = n >> 2
    while h >= 1:
        for j in range(h):
            _copy(tw[h + j], tw[2 * h + 2 * j])
        h >>= 1


def default_chunks() -> int:
    """Chunks per parallel loop: a few per thread, so that uneven chunks still balance."""
    return 4 * numba.get_num_threads()


@lru_cache(maxsize=8)
def twiddles(n: int, omega: int) -> np.ndarray:
    """(n, 8) Montgomery table with tw[h + j] = ω_{2h}^j for every stage half-size h (row 0 unused).

    Cached per (n, ω); callers must not write into it.
    """
    tw = np.zeros((max(n, 2), NLIMBS), np.uint32)
    if n >= 2:
        scale_by_powers(tw[n // 2:], FR.element(omega), FR.element(1), default_chunks(), True)
        _fold_twiddles(tw, n)
    tw.setflags(write=False)
    return tw


def check_values(values: np.ndarray, inplace: bool = True) -> int:
    """log2(n) of an (n, 8) uint32 array (writeable and C-contiguous when `inplace`); raises ValueError otherwise."""
    if not isinstance(values, np.ndarray) or values.dtype != np.uint32 or values.ndim != 2 \
            or values.shape[1] != NLIMBS:
        raise ValueError(f"NTT input must be an (n, {NLIMBS}) uint32 array of Montgomery Fr elements, "
                         f"got {getattr(values, 'dtype', type(values))} of shape {getattr(values, 'shape', None)}")
    if inplace and not (values.flags.c_contiguous and values.flags.writeable):
        raise ValueError("in-place NTT input must be a writeable C-contiguous array")
    return log2_size(values.shape[0])


def _fresh_copy(values: np.ndarray) -> np.ndarray:
    check_values(values, inplace=False)
    return np.array(values, dtype=np.uint32, order="C", copy=True)


def resolve_root(n: int, omega: int | None) -> int:
    """ω for a size-n domain: `domain_root(n)` by default; a given ω must be a primitive n-th root."""
    if omega is None:
        return domain_root(n)
    omega %= R
    if pow(omega, n, R) != 1 or (n > 1 and pow(omega, n // 2, R) != R - 1):
        raise ValueError(f"{omega:#x} is not a primitive {n}-th root of unity in Fr")
    return omega


def ntt_inplace(values: np.ndarray, inverse: bool = False, *, omega: int | None = None) -> np.ndarray:
    """Transform `values` in place (and return it): evaluations at ω^k, or with `inverse` the
    coefficients of the polynomial whose evaluations they are (times 1/n included).

    `omega` overrides the domain root (default `domain_root(n)`), e.g. to match snarkjs's domain.
    Raises ValueError unless values is a writeable C-contiguous (n, 8) uint32 array with n a
    power of two ≤ 2^32, or when `omega` is not a primitive n-th root of unity.
    """
    logn = check_values(values)
    n = values.shape[0]
    if n == 1:
        return values
    root = resolve_root(n, omega)
    if inverse:
        root = pow(root, -1, R)
    _bit_reverse_permute(values, logn)
    _ntt_stages(values, twiddles(n, root), logn, BLOCK_LOG, default_chunks())
    if inverse:
        _scale(values, FR.element(pow(n, -1, R)))
    return values


def ntt(values: np.ndarray, inverse: bool = False, *, omega: int | None = None) -> np.ndarray:
    """A new array holding the NTT of `values` (see `ntt_inplace`, which also lists the errors)."""
    return ntt_inplace(_fresh_copy(values), inverse, omega=omega)


def intt(values: np.ndarray, *, omega: int | None = None) -> np.ndarray:
    """A new array holding the inverse NTT of `values` (coefficients from evaluations)."""
    return ntt(values, inverse=True, omega=omega)


def coset_ntt_inplace(values: np.ndarray, shift: int, *, omega: int | None = None) -> np.ndarray:
    """Evaluate, in place, the polynomial with coefficients `values` on the coset shift·H:
    entry k becomes A(shift·ω^k). Raises ValueError as `ntt_inplace`, or for shift = 0 mod r."""
    check_values(values)
    if shift % R == 0:
        raise ValueError("coset shift must be a non-zero element of Fr")
    root = resolve_root(values.shape[0], omega)   # before touching values, so errors leave them intact
    scale_by_powers(values, FR.element(shift % R), FR.element(1), default_chunks(), False)
    return ntt_inplace(values, omega=root)


def coset_intt_inplace(values: np.ndarray, shift: int, *, omega: int | None = None) -> np.ndarray:
    """Inverse of `coset_ntt_inplace`: coefficients of the polynomial whose evaluations on
    shift·H are `values`. Raises ValueError as `coset_ntt_inplace`."""
    logn = check_values(values)
    n = values.shape[0]
    if shift % R == 0:
        raise ValueError("coset shift must be a non-zero element of Fr")
    if n > 1:
        root = pow(resolve_root(n, omega), -1, R)
        _bit_reverse_permute(values, logn)
        _ntt_stages(values, twiddles(n, root), logn, BLOCK_LOG, default_chunks())
    # One pass applies both 1/n and shift^(-i).
    scale_by_powers(values, FR.element(pow(shift, -1, R)), FR.element(pow(n, -1, R)), default_chunks(), False)
    return values


def coset_ntt(values: np.ndarray, shift: int, *, omega: int | None = None) -> np.ndarray:
    """A new array: the evaluations of the polynomial with coefficients `values` on shift·H, i.e.
    coefficient i is multiplied by shift^i and the result transformed. Groth16's H uses
    shift = domain_root(2n). Raises ValueError as `coset_ntt_inplace`."""
    return coset_ntt_inplace(_fresh_copy(values), shift, omega=omega)


def coset_intt(values: np.ndarray, shift: int, *, omega: int | None = None) -> np.ndarray:
    """A new array: the coefficients of the polynomial whose evaluations on shift·H are `values`."""
    return coset_intt_inplace(_fresh_copy(values), shift, omega=omega)
