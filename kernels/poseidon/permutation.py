"""The Poseidon permutation over Fr: one source compiled for the CPU (njit) and CUDA (device).

A state is a (t, 8) uint32 array of Montgomery Fr elements. Each round adds the round constants,
applies x^5 to every element (full rounds: the first and last R_F/2) or to element 0 only
(partial rounds), then multiplies by the MDS matrix: new_state = M · state. This is the round
structure of the reference (hadeshash `poseidonperm_x5_255_*.sage`) and reproduces its vectors.
"""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from numba import njit, prange

from kernels.ff.fields import FR, cpu_jit, fr
from kernels.poseidon.params import poseidon_params

NLIMBS = FR.nlimbs
T_MAX = 16                    # widest state the device build's fixed-size scratch holds


def compile_permutation(fr_ops, jit) -> SimpleNamespace:
    """Compile `permute(state, rc, mds, full_rounds, s)` over the Fr namespace with `jit`.

    rc: (rounds, t, 8) Montgomery round constants; mds: (t, t, 8) Montgomery matrix;
    s: scratch of at least (t + 1, 8) rows. Also returns `sbox(x, tmp)` and `mix(state, mds, s)`.
    """
    f_mul, f_add, f_copy, f_zero = fr_ops.mul, fr_ops.add, fr_ops.copy, fr_ops.set_zero

    @jit
    def sbox(x, tmp):
        f_mul(tmp, x, x)
        f_mul(tmp, tmp, tmp)
        f_mul(x, x, tmp)

    @jit
    def mix(state, mds, s):
        t = state.shape[0]
        for i in range(t):
            f_zero(s[i])
            for j in range(t):
                f_mul(s[t], mds[i, j], state[j])
                f_add(s[i], s[i], s[t])
        for i in range(t):
            f_copy(state[i], s[i])

    @jit
    def permute(state, rc, mds, full_rounds, s):
        t = state.shape[0]
        rounds = rc.shape[0]
        half = full_rounds // 2
        for r in range(rounds):
            for i in range(t):
                f_add(state[i], state[i], rc[r, i])
            if r < half or r >= rounds - half:
                for i in range(t):
                    sbox(state[i], s[t])
            else:
                sbox(state[0], s[t])
            mix(state, mds, s)

    return SimpleNamespace(sbox=sbox, mix=mix, permute=permute)


_cpu = compile_permutation(fr, cpu_jit)
_permute = _cpu.permute


@lru_cache(maxsize=None)
def montgomery_params(t: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(rc (rounds, t, 8), mds (t, t, 8), R_F) of `poseidon_params(t)` as read-only Montgomery arrays."""
    p = poseidon_params(t)
    rc = FR.from_ints([c for row in p.round_constants for c in row]).reshape(p.rounds, t, NLIMBS)
    mds = FR.from_ints([c for row in p.mds for c in row]).reshape(t, t, NLIMBS)
    rc.setflags(write=False)
    mds.setflags(write=False)
    return rc, mds, p.full_rounds


@njit(nogil=True)
def _permute_one(state, rc, mds, full_rounds):
    s = np.empty((state.shape[0] + 1, state.shape[1]), np.uint32)
    _permute(state, rc, mds, full_rounds, s)


@njit(parallel=True, nogil=True)
def _permute_batch(states, rc, mds, full_rounds):
    for k in prange(states.shape[0]):
        s = np.empty((states.shape[1] + 1, states.shape[2]), np.uint32)
        _permute(states[k], rc, mds, full_rounds, s)


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
    rc, mds, full_rounds = montgomery_params(t)
    _permute_one(state, rc, mds, full_rounds)
    return state


def permute_batch_inplace(states: np.ndarray, t: int) -> np.ndarray:
    """Apply the permutation to each of (m, t, 8) Montgomery states in place, in parallel; returns them."""
    _check_states(states, t, batch=True)
    rc, mds, full_rounds = montgomery_params(t)
    _permute_batch(states, rc, mds, full_rounds)
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
