"""The Poseidon permutation over Fr: one source compiled for the CPU (njit) and CUDA (device).

A state is a (t, 8) uint32 array of Montgomery Fr elements. Each round adds the round constants,
applies x^5 to every element (full rounds: the first and last R_F/2) or to element 0 only
(partial rounds), then multiplies by the MDS matrix: new_state = M · state. This is the round
structure of the reference (hadeshash `poseidonperm_x5_255_*.sage`), which
`poseidon_permutation_ints` transcribes; the compiled permutation runs the equivalent fast form
of `optimized.py` (sparse partial rounds, 2t + 2 products each instead of t² + 3).
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from numba import prange

from kernels.cache import cached_njit
from kernels.ff.fields import FR, cpu_jit, fr
from kernels.poseidon.optimized import optimize
from kernels.poseidon.params import poseidon_params

NLIMBS = FR.nlimbs
T_MAX = 16                    # widest state the device build's fixed-size scratch holds


def compile_permutation(fr_ops, jit) -> SimpleNamespace:
    """Compile `permute(state, full_rc, partial_rc, mds, mds_pre, sparse, s)` over the Fr namespace.

    The arguments are the Montgomery arrays of `NativeRounds` (the fast form of `optimized.py`);
    s is scratch of at least (t + 1, 8) rows. Also returns `sbox(x, tmp)`, `mix(state, m, s)`
    (dense matrix), `sparse_mix(state, row, s)` and `permute_traced(..., s, trace, k)`: the same
    permutation writing x², x⁴, x⁵ of every S-box to `trace` from row k on (the witness of the
    R1CS gadget), returning the next row.
    """
    f_mul, f_add, f_copy, f_zero = fr_ops.mul, fr_ops.add, fr_ops.copy, fr_ops.set_zero

    @jit
    def sbox(x, tmp):
        f_mul(tmp, x, x)
        f_mul(tmp, tmp, tmp)
        f_mul(x, x, tmp)

    @jit
    def mix(state, m, s):
        t = state.shape[0]
        for i in range(t):
            f_zero(s[i])
            for j in range(t):
                f_mul(s[t], m[i, j], state[j])
                f_add(s[i], s[i], s[t])
        for i in range(t):
            f_copy(state[i], s[i])

    @jit
    def sparse_mix(state, row, s):
        # row = [a00, v_1 .. v_{t-1}, w_1 .. w_{t-1}]: x_0 <- a00·x_0 + v·x', x_j <- x_j + w_j·x_0.
        t = state.shape[0]
        f_mul(s[0], row[0], state[0])
        for j in range(1, t):
            f_mul(s[t], row[j], state[j])
            f_add(s[0], s[0], s[t])
        for j in range(1, t):
            f_mul(s[t], row[t - 1 + j], state[0])
            f_add(state[j], state[j], s[t])
        f_copy(state[0], s[0])

    @jit
    def full_round(state, constants, m, s):
        t = state.shape[0]
        for i in range(t):
            f_add(state[i], state[i], constants[i])
            sbox(state[i], s[t])
        mix(state, m, s)

    @jit
    def permute(state, full_rc, partial_rc, mds, mds_pre, sparse, s):
        t = state.shape[0]
        half = full_rc.shape[0] // 2
        for r in range(half - 1):
            full_round(state, full_rc[r], mds, s)
        full_round(state, full_rc[half - 1], mds_pre, s)
        for i in range(partial_rc.shape[0]):
            f_add(state[0], state[0], partial_rc[i])
            sbox(state[0], s[t])
            sparse_mix(state, sparse[i], s)
        for r in range(half, full_rc.shape[0]):
            full_round(state, full_rc[r], mds, s)

    @jit
    def sbox_traced(x, trace, k):
        # x^5 as sbox, also writing x², x⁴, x⁵ to trace[k], [k + 1], [k + 2] (the gadget's variables)
        f_mul(trace[k], x, x)
        f_mul(trace[k + 1], trace[k], trace[k])
        f_mul(x, x, trace[k + 1])
        f_copy(trace[k + 2], x)
        return k + 3

    @jit
    def full_round_traced(state, constants, m, s, trace, k):
        t = state.shape[0]
        for i in range(t):
            f_add(state[i], state[i], constants[i])
            k = sbox_traced(state[i], trace, k)
        mix(state, m, s)
        return k

    @jit
    def permute_traced(state, full_rc, partial_rc, mds, mds_pre, sparse, s, trace, k):
        # permute, writing every S-box's x², x⁴, x⁵ to trace from row k on; returns the next row
        half = full_rc.shape[0] // 2
        for r in range(half - 1):
            k = full_round_traced(state, full_rc[r], mds, s, trace, k)
        k = full_round_traced(state, full_rc[half - 1], mds_pre, s, trace, k)
        for i in range(partial_rc.shape[0]):
            f_add(state[0], state[0], partial_rc[i])
            k = sbox_traced(state[0], trace, k)
            sparse_mix(state, sparse[i], s)
        for r in range(half, full_rc.shape[0]):
            k = full_round_traced(state, full_rc[r], mds, s, trace, k)
        return k

    return SimpleNamespace(sbox=sbox, mix=mix, sparse_mix=sparse_mix, permute=permute, permute_traced=permute_traced)


_cpu = compile_permutation(fr, cpu_jit)
_permute = _cpu.permute
permute_traced = _cpu.permute_traced


class NativeRounds(NamedTuple):
    """Read-only Montgomery arrays of the fast form, in `permute`'s argument order."""

    full_rc: np.ndarray       # (R_F, t, 8)
    partial_rc: np.ndarray    # (R_P, 8)
    mds: np.ndarray           # (t, t, 8)
    mds_pre: np.ndarray       # (t, t, 8)
    sparse: np.ndarray        # (R_P, 2t - 1, 8)


@lru_cache(maxsize=None)
def native_rounds(t: int) -> NativeRounds:
    """The fast form of `poseidon_params(t)` as Montgomery arrays (cached)."""
    p = poseidon_params(t)
    fast = optimize(p, FR.modulus)

    def mont(values, shape):
        arr = FR.from_ints(values).reshape(shape)
        arr.setflags(write=False)
        return arr

    def flat(rows):
        return [v for row in rows for v in row]

    return NativeRounds(mont(flat(fast.full_constants), (p.full_rounds, t, NLIMBS)),
                        mont(fast.partial_constants, (p.partial_rounds, NLIMBS)),
                        mont(flat(fast.mds), (t, t, NLIMBS)),
                        mont(flat(fast.mds_before_partial), (t, t, NLIMBS)),
                        mont(flat(fast.sparse), (p.partial_rounds, 2 * t - 1, NLIMBS)))


@cached_njit(nogil=True)
def _permute_one(state, full_rc, partial_rc, mds, mds_pre, sparse):
    s = np.empty((state.shape[0] + 1, state.shape[1]), np.uint32)
    _permute(state, full_rc, partial_rc, mds, mds_pre, sparse, s)


@cached_njit(parallel=True, nogil=True)
def _permute_batch(states, full_rc, partial_rc, mds, mds_pre, sparse):
    for k in prange(states.shape[0]):
        s = np.empty((states.shape[1] + 1, states.shape[2]), np.uint32)
        _permute(states[k], full_rc, partial_rc, mds, mds_pre, sparse, s)


def _check_states(states: np.ndarray, t: int, batch: bool) -> None:
    shape = ("m", t, NLIMBS) if batch else (t, NLIMBS)
    ok = (isinstance(states, np.ndarray) and states.dtype == np.uint32 and states.ndim == len(shape)
          and states.shape[-2:] == (t, NLIMBS) and states.flags.c_contiguous and states.flags.writeable)
    if not ok:
        raise ValueError(f"Poseidon states must be a writeable C-contiguous uint32 array of shape {shape}, "
                         f"got {getattr(states, 'dtype', type(states))} {getattr(states, 'shape', None)}")


def permute_inplace(state: np.ndarray, t: int) -> np.ndarray:
    """Apply the width-t permutation to one (t, 8) Montgomery state in place; returns it.

    Raises ValueError for a state of another shape or dtype (or one not writeable and contiguous).
    """
    _check_states(state, t, batch=False)
    _permute_one(state, *native_rounds(t))
    return state


def permute_batch_inplace(states: np.ndarray, t: int) -> np.ndarray:
    """Apply the permutation to each of (m, t, 8) Montgomery states in place, in parallel; returns them."""
    _check_states(states, t, batch=True)
    _permute_batch(states, *native_rounds(t))
    return states


def poseidon_permutation(state: list[int], t: int) -> list[int]:
    """The permutation of a state of t ints (reduced mod r) by the native CPU build."""
    if len(state) != t:
        raise ValueError(f"Poseidon state must have {t} elements, got {len(state)}")
    return FR.to_ints(permute_inplace(FR.from_ints(state), t))


def poseidon_permutation_ints(state: list[int], t: int) -> list[int]:
    """Reference permutation in Python ints, transcribed from the reference sage script."""
    if len(state) != t:
        raise ValueError(f"Poseidon state must have {t} elements, got {len(state)}")
    p = poseidon_params(t)
    r = FR.modulus
    half = p.full_rounds // 2
    words = [x % r for x in state]
    for rnd, constants in enumerate(p.round_constants):
        words = [(x + c) % r for x, c in zip(words, constants)]
        if rnd < half or rnd >= p.rounds - half:
            words = [pow(x, 5, r) for x in words]
        else:
            words[0] = pow(words[0], 5, r)
        words = [sum(m * x for m, x in zip(row, words)) % r for row in p.mds]
    return words
