"""Fixed-base MSM: per-base tables of window multiples so that one set of buckets serves every window.

When the same bases P_i meet new scalars again and again (a proving key's queries, once per chunk),
precompute T[i, w] = [2^(c w)] P_i for every window w. With the signed c-bit digits d_(i,w) of the
scalars, sum_i [s_i] P_i = sum_(i,w) [d_(i,w)] T[i, w]: a single window over n * nwin points, as in
Yrrid's ZPrize 2023 MSM. Against Pippenger over nwin windows (kernels.msm.pippenger) this drops the
nwin - 1 extra bucket reductions and the c * nwin doublings of the window combination, and it
makes a larger c pay (the buckets are reduced once), at the price of nwin points of memory per base.
Bucket accumulation is the same batch-affine kernel; zero digits cost a test, so short scalars
(witness bits, 32-bit values) touch only their low windows' entries.

Tables are point-major, (n, nwin) + point shape, so that the threads' point ranges carry equal work
whatever the scalars' lengths. Bases must lie in the order-r subgroup (the build multiplies by
kernels.ec.points.g*_mul_each, which uses the endomorphisms); infinity is allowed and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from kernels import params
from kernels.ec import points as ec_points
from kernels.ec.g1 import ELEMENT_SHAPE as G1_ELEMENT
from kernels.ec.g2 import ELEMENT_SHAPE as G2_ELEMENT
from kernels.ff.fields import FR
from kernels.msm import pippenger

SCALAR_BITS = params.R.bit_length()        # 255: every canonical scalar is below r
MIN_WINDOW, MAX_WINDOW = 8, 16
_REDUCE_COST = pippenger._REDUCE_COST      # one bucket of the running sum, in bucket additions

_GROUPS = {
    "g1": (ec_points.G1_SHAPE, G1_ELEMENT, ec_points.g1_mul_each, pippenger._g1_msm),
    "g2": (ec_points.G2_SHAPE, G2_ELEMENT, ec_points.g2_mul_each, pippenger._g2_msm),
}


def windows(c: int) -> int:
    """Windows of c-bit signed digits that any scalar below r needs (one more bit for the carry)."""
    return -(-(SCALAR_BITS + 1) // c)


def table_window(n: int, threads: int | None = None) -> int:
    """The c minimising n * windows(c) bucket additions + one reduction of 2^(c-1) buckets per thread."""
    threads = threads or numba.get_num_threads()
    return min(range(MIN_WINDOW, MAX_WINDOW + 1),
               key=lambda c: n * windows(c) + threads * _REDUCE_COST * (1 << (c - 1)))


def window_for_scalars(scalars: np.ndarray, threads: int | None = None) -> int:
    """The c minimising the nonzero digits of these (m, 8) canonical scalars + the bucket reductions:
    for bases that meet scalars like these (a sample witness), short scalars favour a smaller c."""
    threads = threads or numba.get_num_threads()
    lengths = pippenger.bit_lengths(np.ascontiguousarray(scalars, dtype=np.uint32))
    counts = np.bincount(lengths, minlength=SCALAR_BITS + 1)[1:]
    bits = np.arange(1, counts.size + 1)
    return min(range(MIN_WINDOW, MAX_WINDOW + 1),
               key=lambda c: float(np.dot(counts, -(-(bits + 1) // c))) + threads * _REDUCE_COST * (1 << (c - 1)))


@dataclass
class BaseTable:
    """The window multiples of n fixed bases: points[i, w] = [2^(c w)] base_i (affine, Montgomery)."""

    group: str            # "g1" or "g2"
    c: int                # window bits
    points: np.ndarray    # (n, windows(c)) + point shape, uint32

    def __post_init__(self):
        shape = _GROUPS[self.group][0] if self.group in _GROUPS else None
        if shape is None:
            raise ValueError(f"group must be 'g1' or 'g2', got {self.group!r}")
        if not MIN_WINDOW <= self.c <= MAX_WINDOW:
            raise ValueError(f"window must be between {MIN_WINDOW} and {MAX_WINDOW}, got {self.c}")
        expected = (windows(self.c),) + shape
        if self.points.dtype != np.uint32 or self.points.ndim != len(expected) + 1 \
                or self.points.shape[1:] != expected:
            raise ValueError(f"a {self.group} table with window {self.c} has shape (n,) + {expected}, "
                             f"got {self.points.dtype} {self.points.shape}")

    @property
    def n(self) -> int:
        return self.points.shape[0]

    @property
    def nbytes(self) -> int:
        return self.points.nbytes

    def bases(self) -> np.ndarray:
        return self.points[:, 0]


def balanced_bounds(digits: np.ndarray, nchunks: int) -> np.ndarray:
    """Boundaries of nchunks contiguous ranges of `digits` holding (nearly) equal numbers of nonzero
    digits: a witness puts its short scalars (bits) and its long ones (hash states) in separate
    runs of variables, so equal-length ranges would leave one thread most of the work."""
    m = digits.shape[0]
    nchunks = max(1, min(nchunks, m))
    work = np.cumsum(digits != 0)
    total = int(work[-1]) if m else 0
    # Range j ends just after the digit that brings the count to total * j / nchunks.
    inner = np.searchsorted(work, [total * j // nchunks for j in range(1, nchunks)], side="left") + 1
    return np.concatenate([[0], np.minimum(inner, m), [m]]).astype(np.int64)


def build_table(group: str, bases: np.ndarray, c: int | None = None) -> BaseTable:
    """The table of `bases` ((n,) + point shape, in the subgroup; infinity allowed) with window c
    (default `table_window(n)`): nwin - 1 rounds of [2^c] on every point, parallel."""
    if group not in _GROUPS:
        raise ValueError(f"group must be 'g1' or 'g2', got {group!r}")
    shape, _, mul_each, _ = _GROUPS[group]
    bases = np.ascontiguousarray(bases, dtype=np.uint32)
    if bases.ndim != len(shape) + 1 or bases.shape[1:] != shape:
        raise ValueError(f"{group} bases must have shape (n,) + {shape}, got {bases.shape}")
    n = bases.shape[0]
    c = c or table_window(n)
    nwin = windows(c)
    points = np.empty((n, nwin) + shape, np.uint32)
    points[:, 0] = bases
    step = np.zeros((n, FR.nlimbs), np.uint32)
    step[:, c // 32] = 1 << (c % 32)
    for w in range(1, nwin):
        points[:, w] = mul_each(points[:, w - 1], step)
    return BaseTable(group, c, points)


def msm_with_table(table: BaseTable, scalars: np.ndarray) -> np.ndarray:
    """sum_i [scalars[i]] base_i as an affine point (all zero for infinity), from the table.

    scalars: (n, 8) Fr limbs as plain integers (not Montgomery), canonical (below r) as the prover
    passes them. Raises ValueError on a wrong shape or a scalar of 2^255 or more, which the windows
    cannot hold; a scalar in r..2^255 is not refused and acts as itself mod r (the bases are in
    the order-r subgroup).
    """
    shape, element, _, msm = _GROUPS[table.group]
    scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
    n, nwin, c = table.n, table.points.shape[1], table.c
    if scalars.shape != (n, FR.nlimbs):
        raise ValueError(f"a table of {n} bases needs scalars of shape ({n}, {FR.nlimbs}), got {scalars.shape}")
    out = np.zeros(shape, np.uint32)
    if n == 0:
        return out
    if pippenger.max_bit_length(scalars) > SCALAR_BITS:
        raise ValueError(f"scalars must be below 2^{SCALAR_BITS} (canonical, below r)")
    # Scalars 1 (a witness's set bits) would all land in one bucket, conflict there and fall back
    # to XYZZ additions: sum their bases by the batch-affine tree instead, as the bucket method does.
    infinity = ~table.bases().reshape(n, -1).any(axis=1)
    one = (scalars[:, 0] == 1) & ~scalars[:, 1:].any(axis=1) & ~infinity
    parts = []
    if one.any():
        part = np.empty((3,) + element, np.uint32)
        msm.sum_points(part, np.ascontiguousarray(table.points[one, 0]), numba.get_num_threads())
        parts.append(part)
    if infinity.any() or one.any():
        scalars = scalars.copy()
        scalars[infinity | one] = 0
    digits = np.empty((nwin, n), np.int32)
    msm.recode(scalars, c, digits)
    flat_digits = np.ascontiguousarray(digits.T).reshape(1, n * nwin)     # point-major, as the table
    flat_points = table.points.reshape((n * nwin,) + shape)
    bounds = balanced_bounds(flat_digits[0], numba.get_num_threads())
    sums = np.empty((1, bounds.shape[0] - 1, 4) + element, np.uint32)
    msm.window_sums(flat_points, flat_digits, c, 1, bounds, pippenger.batch_size(1 << (c - 1)), sums)
    total = np.empty((3,) + element, np.uint32)
    msm.combine(sums, c, total)
    parts.append(total)
    msm.parts_to_affine(out, np.stack(parts))
    return out


__all__ = ["BaseTable", "build_table", "msm_with_table", "table_window", "window_for_scalars", "windows"]
