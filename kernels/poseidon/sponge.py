"""Poseidon sponge over Fr: rate t - 1, capacity 1, domain separation through the capacity.

The rule (fixed-length hashing; everything else follows from it):

* The state is [capacity, rate_1 .. rate_{t-1}]. The capacity element starts as the domain tag,
  the rate elements as 0. Callers derive the tag with `sponge_domain_tag(label, length, t)`, which
  binds a label (e.g. the circuit shape), the number of inputs and the width, so two uses that
  differ in any of them start from different states.
* Absorb: the inputs are cut into blocks of t - 1; each block is added into the rate elements and
  the state permuted. The last block is padded with zeros. Zero padding is unambiguous because the
  tag fixes the length; an empty input still absorbs one (all-zero) block, so one permutation
  always runs.
* Squeeze: the output is rate element 1 of the final state (then 2 .. t-1; when more are asked
  for, the state is permuted again and the rate read anew).
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import prange

from kernels.cache import cached_njit
from kernels.ff.fields import FR, fr
from kernels.poseidon.permutation import NLIMBS, _permute, native_rounds, poseidon_permutation

_add, _copy, _zero = fr.add, fr.copy, fr.set_zero
TAG_PREFIX = b"zkp-dataset-ledger/poseidon-sponge/v1"


def sponge_domain_tag(label: bytes | str, input_length: int, t: int) -> int:
    """The capacity's initial value for hashing `input_length` elements under `label` at width t:
    SHA-256(TAG_PREFIX ‖ u32 t ‖ u64 input_length ‖ u32 len(label) ‖ label) as a big-endian int mod r.

    Raises ValueError for a negative length or t < 2.
    """
    if input_length < 0 or t < 2:
        raise ValueError(f"bad sponge parameters: input_length={input_length}, t={t}")
    data = label.encode() if isinstance(label, str) else bytes(label)
    digest = hashlib.sha256(TAG_PREFIX + t.to_bytes(4, "big") + input_length.to_bytes(8, "big")
                            + len(data).to_bytes(4, "big") + data).digest()
    return int.from_bytes(digest, "big") % FR.modulus


class PoseidonSponge:
    """Incremental form of the rule above, over Python ints (the native CPU permutation inside).

    `absorb(values)` may be called repeatedly; `squeeze(count)` pads, finishes absorbing and
    returns `count` elements; absorbing after squeezing raises ValueError.
    """

    def __init__(self, t: int, domain_tag: int):
        if t < 2:
            raise ValueError(f"Poseidon width must be at least 2, got {t}")
        self.t = t
        self.rate = t - 1
        self._state = [domain_tag % FR.modulus] + [0] * self.rate
        self._pending: list[int] = []
        self._absorbed_block = False
        self._output: list[int] | None = None

    def _absorb_block(self, block: list[int]) -> None:
        for i, value in enumerate(block):
            self._state[1 + i] = (self._state[1 + i] + value) % FR.modulus
        self._state = poseidon_permutation(self._state, self.t)
        self._absorbed_block = True

    def absorb(self, values) -> "PoseidonSponge":
        if self._output is not None:
            raise ValueError("cannot absorb after squeezing")
        for value in values:
            self._pending.append(int(value) % FR.modulus)
            if len(self._pending) == self.rate:
                self._absorb_block(self._pending)
                self._pending = []
        return self

    def squeeze(self, count: int = 1) -> list[int]:
        if self._output is None:
            if self._pending or not self._absorbed_block:
                self._absorb_block(self._pending + [0] * (self.rate - len(self._pending)))
                self._pending = []
            self._output = self._state[1:]
        out: list[int] = []
        while len(out) < count:
            if not self._output:
                self._state = poseidon_permutation(self._state, self.t)
                self._output = self._state[1:]
            out.append(self._output.pop(0))
        return out


def poseidon_hash(inputs: list[int], t: int, domain_tag: int) -> int:
    """One Fr element: the sponge of width t over `inputs`, capacity initialised to `domain_tag`."""
    return PoseidonSponge(t, domain_tag).absorb(inputs).squeeze(1)[0]


@cached_njit(parallel=True, nogil=True)
def _hash_batch(out, inputs, capacity, full_rc, partial_rc, mds, mds_pre, sparse):
    m, length = inputs.shape[0], inputs.shape[1]
    t = mds.shape[0]
    rate = t - 1
    blocks = max(1, (length + rate - 1) // rate)
    for k in prange(m):
        state = np.empty((t, inputs.shape[2]), np.uint32)
        s = np.empty((t + 1, inputs.shape[2]), np.uint32)
        _copy(state[0], capacity)
        for i in range(1, t):
            _zero(state[i])
        for b in range(blocks):
            for i in range(rate):
                idx = b * rate + i
                if idx < length:
                    _add(state[1 + i], state[1 + i], inputs[k, idx])
            _permute(state, full_rc, partial_rc, mds, mds_pre, sparse, s)
        _copy(out[k], state[1])


def poseidon_hash_batch(inputs: np.ndarray, t: int, domain_tag: int) -> np.ndarray:
    """Hash m equal-length inputs at once (parallel over rows): inputs is an (m, L, 8) uint32 array
    of Montgomery Fr elements; returns the (m, 8) Montgomery digests, each equal to
    `poseidon_hash(row, t, domain_tag)`. Raises ValueError for another shape or dtype."""
    if not isinstance(inputs, np.ndarray) or inputs.dtype != np.uint32 or inputs.ndim != 3 \
            or inputs.shape[2] != NLIMBS:
        raise ValueError(f"batch inputs must be an (m, L, {NLIMBS}) uint32 Montgomery array, "
                         f"got {getattr(inputs, 'dtype', type(inputs))} {getattr(inputs, 'shape', None)}")
    out = np.empty((inputs.shape[0], NLIMBS), np.uint32)
    _hash_batch(out, np.ascontiguousarray(inputs), FR.element(domain_tag % FR.modulus), *native_rounds(t))
    return out


def poseidon_hash_many(rows: list[list[int]], t: int, domain_tag: int) -> list[int]:
    """Int form of `poseidon_hash_batch` for rows of equal length; raises ValueError otherwise."""
    lengths = {len(row) for row in rows}
    if len(lengths) > 1:
        raise ValueError(f"batch rows must have equal length, got lengths {sorted(lengths)}")
    if not rows:
        return []
    length = lengths.pop()
    flat = FR.from_ints([v for row in rows for v in row]) if length else np.zeros((0, NLIMBS), np.uint32)
    return FR.to_ints(poseidon_hash_batch(flat.reshape(len(rows), length, NLIMBS), t, domain_tag))
