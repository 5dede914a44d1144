"""Multi-scalar multiplication sum_k [s_k] P_k on G1 and G2 by Pippenger's bucket method.

Scalars 0 are skipped and scalars 1 summed directly; the rest are split by bit length into a
short class (e.g. witness values < 2^32) and a long one when the cost model says two MSMs are
cheaper than one, so short scalars do not pay full-width windows. Each class is recoded into
signed c-bit digits (|digit| <= 2^(c-1), so a window has 2^(c-1) buckets) over only as many
windows as its largest scalar needs, c chosen by a cost model from the number of points.

Bucket accumulation is batch-affine (as arkworks and gnark do on the CPU): buckets are affine
points, and pending additions bucket += point, each into a different bucket, are collected into
a batch whose slope denominators share one inversion (Montgomery's trick), about 6 products per
addition against 10 for a mixed XYZZ addition. A point whose bucket already has an addition
pending (a conflict) goes into that bucket's XYZZ overflow accumulator instead. A task is a
(group of windows, point range) pair; its batch draws on all buckets of its windows, so
conflicts stay rare. Buckets are reduced by the running-sum method, the window sums combined by
Horner's rule with c doublings per window. The 1-scalars are summed by a tree of batch-affine
additions. `device="cuda"` hands the whole MSM to the device (`kernels.msm.cuda_msm`: recoding,
bucket accumulation, reduction and window combination there, the points of one call uploaded).

On the CPU, endomorphisms shorten the scalars (kernels.ec.glv): G1 scalars above 128 bits split in
two halves (GLV, from GLV_MIN_SCALARS of them), G2 scalars above 64 bits in four base-|x| digits by
psi (GLS). Both act as scalars only on the order-r subgroup, so points must lie in it: every caller
validates its keys and files first (a point outside gives some other sum, never an error).
"""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
from numba import prange

from kernels.cache import cached_njit
from kernels.ec import points as ec_points
from kernels.ec.formulas import S_ROWS, T_ROWS, fq2_ops, fq_ops
from kernels.ec.g1 import ELEMENT_SHAPE as G1_ELEMENT, g1
from kernels.ec.g2 import ELEMENT_SHAPE as G2_ELEMENT, g2
from kernels.ff.fields import FR, cpu_jit, fq, fq2

MAX_WINDOW = 16
MAX_BATCH = 1024       # additions sharing one inversion
MIN_BATCH = 128        # below this an inversion per batch costs more than XYZZ saves
# Cost of one bucket in the reduction (a mixed and an XYZZ addition, 10M + 14M) in bucket
# additions (batch-affine, about 6M + the inversion's share + conflicts).
_REDUCE_COST = 3.0
SHORT_CLASS_BITS = (16, 32, 64, 128)   # candidate bit lengths of the short-scalar class
_PART_OVERHEAD = 4000                  # one more bucket MSM (parallel launches, combine), in additions

_SKIP, _ADD, _DOUBLE = 0, 1, 2   # kinds of a pending affine addition
# GLV halves the windows but not the bucket additions (2m points of half length), so it saves only
# the bucket reductions and doublings; below this many long scalars the split costs more (measured
# in bench/cpu_peers.py: 2^14 slower with it, 2^16 even).
GLV_MIN_SCALARS = 1 << 16
# G2 splits four ways (psi, kernels.ec.glv): 64-bit digits need a quarter of the windows, and psi
# costs two Fq2 products per base; measured 0.89-0.92 of the plain G2 MSM from 2^10 to 2^14 scalars.
GLS_MIN_SCALARS = 1 << 8
GLS_DIGIT_BITS = 64


def compile_pippenger(curve, F, element_shape: tuple) -> SimpleNamespace:
    """CPU routines of the bucket method for one curve (namespace from `kernels.ec.g1/g2`, field ops `F`).

    Returns
      `recode(scalars, c, digits)`: signed digits, (nwin, m) int32, parallel over points;
      `add_pending(acc, points, dst, src, negate, count, prefix, kind, t, s)`: batch-affine
          acc[dst[i]] += (-1)^negate[i] points[src[i]] for i < count (dst distinct, no src among them);
      `window_sums(points, digits, c, ngroups, bounds, batch, out)`: out (nwin, nchunks, 4, *e) XYZZ,
          window w's sum over point chunk [bounds[j], bounds[j + 1]) (nchunks = len(bounds) - 1);
          tasks (group of windows, chunk) in parallel; batch = 0 accumulates in XYZZ only;
      `sum_points(out, points, nparts)`: Jacobian out = sum of affine points (points are overwritten);
      `reduce_buckets(buckets, out)`: (nwin, nb, 4, *e) XYZZ -> (nwin, 4, *e), parallel over windows;
      `combine(sums, c, out)`: (nwin, nchunks, 4, *e) XYZZ -> Jacobian out by Horner;
      `parts_to_affine(out, parts)`: affine out = sum of (n, 3, *e) Jacobian parts.
    """
    eshape = element_shape
    xyzz_madd, xyzz_add, xyzz_set_inf = curve.xyzz_madd, curve.xyzz_add, curve.xyzz_set_inf
    xyzz_to_jac = curve.xyzz_to_jac
    aff_neg = curve.aff_neg
    jac_set_inf, jac_dbl, jac_add, jac_to_aff = curve.jac_set_inf, curve.jac_dbl, curve.jac_add, curve.jac_to_aff
    f_mul, f_sqr, f_inv, f_add, f_sub, f_dbl = F.mul, F.sqr, F.inv, F.add, F.sub, F.dbl
    f_neg, f_copy, f_set_one, f_set_zero, f_is_zero, f_eq = F.neg, F.copy, F.set_one, F.set_zero, F.is_zero, F.eq
    max_batch, min_batch = MAX_BATCH, MIN_BATCH
    skip, add, double = _SKIP, _ADD, _DOUBLE

    @cached_njit(nogil=True, inline="always")
    def aff_is_inf(a):
        return f_is_zero(a[0]) and f_is_zero(a[1])

    @cached_njit(parallel=True, nogil=True)
    def recode(scalars, c, digits):
        nwin, m = digits.shape
        nlimbs = scalars.shape[1]
        mask = np.uint64((1 << c) - 1)
        half = np.int64(1) << (c - 1)
        full = np.int64(1) << c
        for k in prange(m):
            carry = np.int64(0)
            for w in range(nwin):
                bit = w * c
                limb = bit >> 5
                shift = np.uint64(bit & 31)
                v = np.uint64(0)
                if limb < nlimbs:
                    v = np.uint64(scalars[k, limb]) >> shift
                    if limb + 1 < nlimbs:
                        v |= np.uint64(scalars[k, limb + 1]) << (np.uint64(32) - shift)
                d = np.int64(v & mask) + carry
                # Digits above half borrow from the next window: |digit| <= 2^(c-1).
                if d > half:
                    d -= full
                    carry = np.int64(1)
                else:
                    carry = np.int64(0)
                digits[w, k] = d

    @cached_njit(nogil=True, inline="always")
    def signed_y(out, p, negate):
        if negate:
            f_neg(out, p[1])
        else:
            f_copy(out, p[1])

    @cpu_jit
    def add_pending(acc, points, dst, src, negate, count, prefix, kind, t, s):
        # Affine P + Q = (l^2 - xP - xQ, l (xP - x3) - yP) with slope l = (yQ - yP) / (xQ - xP), or
        # 3 xP^2 / (2 yP) when Q = P. Forward pass: classify, settle the cases with no slope (an
        # infinite operand, Q = -P), and keep prefix products of the denominators; one inversion;
        # backward pass: peel each 1/den off the running inverse and finish its addition.
        f_set_one(t[0])
        pending = 0
        for i in range(count):
            a = acc[dst[i]]
            q = points[src[i]]
            kind[i] = skip
            if aff_is_inf(q):
                continue
            signed_y(t[1], q, negate[i])
            if aff_is_inf(a):
                f_copy(a[0], q[0])
                f_copy(a[1], t[1])
                continue
            f_sub(t[2], q[0], a[0])
            if f_is_zero(t[2]):
                if f_eq(t[1], a[1]) and not f_is_zero(a[1]):
                    f_dbl(t[2], a[1])
                    kind[i] = double
                else:                           # Q = -P: the bucket empties
                    f_set_zero(a[0])
                    f_set_zero(a[1])
                    continue
            else:
                kind[i] = add
            f_copy(prefix[i], t[0])
            f_mul(t[0], t[0], t[2], s)
            pending += 1
        if pending == 0:
            return
        f_inv(t[0], t[0], s)                    # 1 / (product of all denominators)
        for i in range(count - 1, -1, -1):
            if kind[i] == skip:
                continue
            a = acc[dst[i]]
            q = points[src[i]]
            if kind[i] == add:
                signed_y(t[1], q, negate[i])
                f_sub(t[2], q[0], a[0])         # den
                f_sub(t[3], t[1], a[1])         # num = yQ - yP
            else:
                f_dbl(t[2], a[1])               # den = 2 yP
                f_sqr(t[3], a[0], s)
                f_dbl(t[4], t[3])
                f_add(t[3], t[3], t[4])         # num = 3 xP^2
            f_mul(t[4], t[0], prefix[i], s)     # 1 / den
            f_mul(t[0], t[0], t[2], s)
            f_mul(t[4], t[4], t[3], s)          # slope
            f_sqr(t[5], t[4], s)
            f_sub(t[5], t[5], a[0])
            f_sub(t[5], t[5], q[0])             # x3
            f_sub(t[6], a[0], t[5])
            f_mul(t[6], t[4], t[6], s)
            f_sub(a[1], t[6], a[1])             # y3
            f_copy(a[0], t[5])

    @cpu_jit
    def running_sum(out, buckets, overflow, t, s):
        # sum_j (j + 1) B_j with B_j = affine bucket + XYZZ overflow, two or three additions per bucket.
        running = np.empty((4,) + eshape, np.uint32)
        xyzz_set_inf(running)
        xyzz_set_inf(out)
        for j in range(buckets.shape[0] - 1, -1, -1):
            xyzz_madd(running, buckets[j], t, s)
            xyzz_add(running, overflow[j], t, s)
            xyzz_add(out, running, t, s)

    @cpu_jit
    def empty_buckets(n):
        # (Outside the parallel loop: numba's parfor pass fails on np.zeros of a concatenated shape.)
        return np.zeros((n, 2) + eshape, np.uint32), np.zeros((n, 4) + eshape, np.uint32)

    @cached_njit(parallel=True, nogil=True)
    def window_sums(points, digits, c, ngroups, bounds, batch, out):
        nwin = digits.shape[0]
        nchunks = bounds.shape[0] - 1
        nb = 1 << (c - 1)
        for task in prange(ngroups * nchunks):
            group = task // nchunks
            chunk = task - group * nchunks
            w0 = group * nwin // ngroups
            nw = (group + 1) * nwin // ngroups - w0
            lo = bounds[chunk]
            hi = bounds[chunk + 1]
            t = np.empty((T_ROWS,) + eshape, np.uint32)
            s = np.empty((S_ROWS, 12), np.uint32)
            neg = np.empty((2,) + eshape, np.uint32)
            # Bucket j of window w0 + wl is row wl * nb + j; all zero = every bucket empty.
            buckets, overflow = empty_buckets(nw * nb)
            busy = np.zeros(nw * nb, np.uint8)
            dst = np.empty(max(batch, 1), np.int64)
            src = np.empty(max(batch, 1), np.int64)
            negate = np.empty(max(batch, 1), np.uint8)
            kind = np.empty(max(batch, 1), np.uint8)
            prefix = np.empty((max(batch, 1),) + eshape, np.uint32)
            count = 0
            for k in range(lo, hi):
                for wl in range(nw):
                    d = digits[w0 + wl, k]
                    if d == 0:
                        continue
                    j = wl * nb + abs(d) - 1
                    if busy[j] or batch == 0:       # conflict: accumulate in XYZZ
                        if d > 0:
                            xyzz_madd(overflow[j], points[k], t, s)
                        else:
                            aff_neg(neg, points[k])
                            xyzz_madd(overflow[j], neg, t, s)
                    elif aff_is_inf(buckets[j]):
                        f_copy(buckets[j, 0], points[k, 0])
                        signed_y(buckets[j, 1], points[k], d < 0)
                    else:
                        busy[j] = 1
                        dst[count] = j
                        src[count] = k
                        negate[count] = d < 0
                        count += 1
                        if count == batch:
                            add_pending(buckets, points, dst, src, negate, count, prefix, kind, t, s)
                            for i in range(count):
                                busy[dst[i]] = 0
                            count = 0
            add_pending(buckets, points, dst, src, negate, count, prefix, kind, t, s)
            for wl in range(nw):
                running_sum(out[w0 + wl, chunk], buckets[wl * nb:(wl + 1) * nb],
                            overflow[wl * nb:(wl + 1) * nb], t, s)

    @cached_njit(parallel=True, nogil=True)
    def sum_points(out, points, nparts):
        # Per part a tree of batch-affine additions (level by level, pairs (i, i + stride)) while
        # a level has enough pairs to pay for its inversion, then mixed XYZZ additions.
        m = points.shape[0]
        partial = np.empty((max(nparts, 1), 4) + eshape, np.uint32)
        for part in prange(nparts):
            lo = part * m // nparts
            hi = (part + 1) * m // nparts
            t = np.empty((T_ROWS,) + eshape, np.uint32)
            s = np.empty((S_ROWS, 12), np.uint32)
            dst = np.empty(max_batch, np.int64)
            src = np.empty(max_batch, np.int64)
            negate = np.zeros(max_batch, np.uint8)
            kind = np.empty(max_batch, np.uint8)
            prefix = np.empty((max_batch,) + eshape, np.uint32)
            stride = 1
            while True:
                npairs = (hi - lo) // (2 * stride) + (1 if (hi - lo) % (2 * stride) > stride else 0)
                if npairs < min_batch:
                    break
                for first in range(0, npairs, max_batch):
                    count = min(max_batch, npairs - first)
                    for i in range(count):
                        dst[i] = lo + 2 * stride * (first + i)
                        src[i] = dst[i] + stride
                    add_pending(points, points, dst, src, negate, count, prefix, kind, t, s)
                stride *= 2
            xyzz_set_inf(partial[part])
            for k in range(lo, hi, stride):
                xyzz_madd(partial[part], points[k], t, s)
        t = np.empty((T_ROWS,) + eshape, np.uint32)
        s = np.empty((S_ROWS, 12), np.uint32)
        total = np.empty((4,) + eshape, np.uint32)
        xyzz_set_inf(total)
        for part in range(nparts):
            xyzz_add(total, partial[part], t, s)
        xyzz_to_jac(out, total, s)

    @cpu_jit
    def running_sum_xyzz(out, buckets, t, s):
        running = np.empty((4,) + eshape, np.uint32)
        xyzz_set_inf(running)
        xyzz_set_inf(out)
        for j in range(buckets.shape[0] - 1, -1, -1):
            xyzz_add(running, buckets[j], t, s)
            xyzz_add(out, running, t, s)

    @cached_njit(parallel=True, nogil=True)
    def reduce_buckets(buckets, out):
        for w in prange(buckets.shape[0]):
            t = np.empty((T_ROWS,) + eshape, np.uint32)
            s = np.empty((S_ROWS, 12), np.uint32)
            running_sum_xyzz(out[w], buckets[w], t, s)

    @cpu_jit
    def combine(sums, c, out):
        t = np.empty((T_ROWS,) + eshape, np.uint32)
        s = np.empty((S_ROWS, 12), np.uint32)
        acc = np.empty((4,) + eshape, np.uint32)
        jac = np.empty((3,) + eshape, np.uint32)
        jac_set_inf(out)
        for w in range(sums.shape[0] - 1, -1, -1):
            for _ in range(c):
                jac_dbl(out, out, t, s)
            xyzz_set_inf(acc)
            for chunk in range(sums.shape[1]):
                xyzz_add(acc, sums[w, chunk], t, s)
            xyzz_to_jac(jac, acc, s)
            jac_add(out, out, jac, t, s)

    @cpu_jit
    def parts_to_affine(out, parts):
        # Serial: a parallel launch costs more than these few additions and one inversion.
        t = np.empty((T_ROWS,) + eshape, np.uint32)
        s = np.empty((S_ROWS, 12), np.uint32)
        acc = np.empty((3,) + eshape, np.uint32)
        jac_set_inf(acc)
        for k in range(parts.shape[0]):
            jac_add(acc, acc, parts[k], t, s)
        jac_to_aff(out, acc, t, s)

    return SimpleNamespace(recode=recode, add_pending=add_pending, window_sums=window_sums,
                           sum_points=sum_points, reduce_buckets=reduce_buckets, combine=combine,
                           parts_to_affine=parts_to_affine)


_g1_msm = compile_pippenger(g1, fq_ops(fq, cpu_jit), G1_ELEMENT)
_g2_msm = compile_pippenger(g2, fq2_ops(fq2), G2_ELEMENT)


def _windows(bits: int, c: int) -> int:
    return -(-(bits + 1) // c)


def _cost(n: int, bits: int, c: int) -> float:
    return _windows(bits, c) * (n + _REDUCE_COST * (1 << (c - 1)))


def window_size(n: int, bits: int) -> int:
    """The window c minimising windows * (n bucket additions + 2^(c-1) buckets to reduce)."""
    return min(range(1, MAX_WINDOW + 1), key=lambda c: _cost(n, bits, c))


def max_bit_length(scalars: np.ndarray) -> int:
    """Bit length of the largest scalar of an (m, nlimbs) canonical array (0 when m = 0 or all zero)."""
    if scalars.shape[0] == 0:
        return 0
    nonzero_limbs = np.flatnonzero(scalars.any(axis=0))
    if nonzero_limbs.size == 0:
        return 0
    top = int(nonzero_limbs[-1])
    return 32 * top + int(scalars[:, top].max()).bit_length()


@cached_njit(parallel=True, nogil=True)
def _live_bit_lengths(scalars, points, out):
    # out[k]: bit length of scalar k, 0 for the scalar 0 or (points not empty) when point k is all zero.
    check = points.shape[0] == scalars.shape[0]
    for k in prange(scalars.shape[0]):
        n = 0
        for i in range(scalars.shape[1] - 1, -1, -1):
            v = scalars[k, i]
            if v != 0:
                n = 32 * i
                while v != 0:
                    v >>= 1
                    n += 1
                break
        if n and check:
            n_words = points.shape[1]
            j = 0
            while j < n_words and points[k, j] == 0:
                j += 1
            if j == n_words:
                n = 0
        out[k] = n


_NO_POINTS = np.zeros((0, 1), np.uint32)


def bit_lengths(scalars: np.ndarray, points: np.ndarray | None = None) -> np.ndarray:
    """Bit length of every scalar of an (m, nlimbs) canonical array, as int64 (0 for 0); with
    `points` (m, ...) also 0 where the point is infinity (all zero): the terms an MSM skips."""
    scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
    flat = _NO_POINTS if points is None else np.ascontiguousarray(points, dtype=np.uint32).reshape(scalars.shape[0], -1)
    out = np.empty(scalars.shape[0], np.int64)
    _live_bit_lengths(scalars, flat, out)
    return out


def histogram_window(counts: np.ndarray) -> tuple[int, float]:
    """(c, modelled cost) of the best window for scalars with `counts[b]` of bit length b.

    A b-bit scalar has at most ceil((b + 1) / c) nonzero digits, so short scalars add few points
    even under many windows; the windows (those of the longest scalar) each reduce 2^(c-1) buckets.
    """
    lengths = np.flatnonzero(counts)
    if lengths.size == 0:
        return 1, 0.0
    top, weights = int(lengths[-1]), counts[lengths]

    def cost(c):
        additions = float(np.dot(weights, -(-(lengths + 1) // c)))
        return additions + _REDUCE_COST * _windows(top, c) * (1 << (c - 1))

    c = min(range(1, MAX_WINDOW + 1), key=cost)
    return c, cost(c)


def scalar_classes(scalars: np.ndarray, bits: np.ndarray | None = None) -> list[tuple[np.ndarray | slice, int]]:
    """(indices, window) of one or two classes splitting nonzero scalars by bit length (the CPU MSM
    sums the 1 scalars apart; the device MSM leaves them in: one addition each); the indices are
    slice(None) (a view, no copy) for one class of all of them. `bits`: their `bit_lengths`, if known.

    A short class (<= one of SHORT_CLASS_BITS bits) is split off, with its own window and number
    of windows, when the model says two MSMs cost less than one by more than a launch's overhead.
    """
    if bits is None:
        bits = bit_lengths(scalars)
    counts = np.bincount(bits, minlength=FR.nlimbs * 32 + 1)
    c, best_cost = histogram_window(counts)
    best = [(slice(None), c)]
    for limit in SHORT_CLASS_BITS:
        short_counts = counts.copy()
        short_counts[limit + 1:] = 0
        n_short = int(short_counts.sum())
        if n_short == 0 or n_short == scalars.shape[0]:
            continue
        c_short, cost_short = histogram_window(short_counts)
        c_long, cost_long = histogram_window(counts - short_counts)
        if cost_short + cost_long + _PART_OVERHEAD < best_cost:
            best_cost = cost_short + cost_long + _PART_OVERHEAD
            best = [(np.flatnonzero(bits <= limit), c_short), (np.flatnonzero(bits > limit), c_long)]
    return best


def task_layout(nwin: int, threads: int) -> tuple[int, int]:
    """(window groups, point chunks) of the parallel bucket stage: one task per thread.

    Window groups keep one set of buckets per window; point chunks split the points and reduce
    their buckets apart, so they are used when the windows do not split evenly over the threads.
    """
    if threads <= 1 or nwin == 0:
        return 1, 1
    if nwin % threads == 0 or nwin >= 4 * threads:
        return threads, 1
    return 1, threads


def even_bounds(m: int, nchunks: int) -> np.ndarray:
    """Chunk boundaries splitting m points into nchunks ranges of (nearly) equal length."""
    return np.array([j * m // nchunks for j in range(nchunks + 1)], np.int64)


def batch_size(buckets_per_task: int) -> int:
    """Additions per shared inversion: a quarter of the task's buckets (few conflicts), capped;
    0 (XYZZ accumulation only) when that is too few to pay for the inversion."""
    batch = min(MAX_BATCH, buckets_per_task // 4)
    return batch if batch >= MIN_BATCH else 0


def _check_inputs(points, scalars, shape, group):
    points = np.ascontiguousarray(points, dtype=np.uint32)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
    if points.ndim != len(shape) + 1 or points.shape[1:] != shape:
        raise ValueError(f"{group} points must have shape (m,) + {shape}, got {points.shape}")
    if scalars.ndim != 2 or scalars.shape[1] != FR.nlimbs:
        raise ValueError(f"scalars must have shape (m, {FR.nlimbs}) (canonical Fr limbs), got {scalars.shape}")
    if scalars.shape[0] != points.shape[0]:
        raise ValueError(f"{points.shape[0]} points but {scalars.shape[0]} scalars")
    return points, scalars


def _bucket_msm(msm, points, scalars, element, c, out):
    """Jacobian out = sum [scalars[k]] points[k] by the bucket method with window c (no 0 scalars,
    no infinity)."""
    bits = max_bit_length(scalars)
    nwin = _windows(bits, c)
    digits = np.empty((nwin, points.shape[0]), np.int32)
    msm.recode(scalars, c, digits)
    ngroups, nchunks = task_layout(nwin, numba.get_num_threads())
    nchunks = min(nchunks, points.shape[0])
    batch = batch_size(-(-nwin // ngroups) * (1 << (c - 1)))
    sums = np.empty((nwin, nchunks, 4) + element, np.uint32)
    msm.window_sums(points, digits, c, ngroups, even_bounds(points.shape[0], nchunks), batch, sums)
    msm.combine(sums, c, out)


def _rows(a, mask, everything: bool):
    return a if everything else a[mask]


def _glv_split(points, scalars, bits):
    """Points, scalars and bit lengths of the same sum with every scalar above 128 bits split in two
    halves below 2^128 (kernels.ec.glv: [k]P = [k1]P + [k2]tau(P)); zero halves are dropped."""
    from kernels.ec import glv

    long = bits > glv.HALF_BITS
    n_long = int(np.count_nonzero(long))
    if n_long < GLV_MIN_SCALARS:
        return points, scalars, bits
    every = n_long == long.shape[0]
    long_points = _rows(points, long, every)
    k1, k2 = glv.decompose(_rows(scalars, long, every))
    points = np.concatenate([points[~long], long_points, glv.tau(long_points)])
    scalars = np.concatenate([scalars[~long], k1, k2])
    return _drop_zero(points, scalars)


def _drop_zero(points, scalars):
    bits = bit_lengths(scalars)
    keep = bits > 0
    return (points, scalars, bits) if keep.all() else (points[keep], scalars[keep], bits[keep])


def _gls_split(points, scalars, bits):
    """G2 points, scalars and bit lengths of the same sum with every scalar above 64 bits written as
    its four base-|x| digits against [P, -psi P, psi^2 P, -psi^3 P] (kernels.ec.glv); zero digits
    dropped."""
    from kernels.ec import glv

    long = bits > GLS_DIGIT_BITS
    n_long = int(np.count_nonzero(long))
    if n_long < GLS_MIN_SCALARS:
        return points, scalars, bits
    every = n_long == long.shape[0]
    digits = glv.g2_decompose(_rows(scalars, long, every)).reshape(-1, FR.nlimbs)
    bases = glv.g2_bases(_rows(points, long, every)).reshape((-1,) + points.shape[1:])
    points = np.concatenate([points[~long], bases])
    scalars = np.concatenate([scalars[~long], digits])
    digits.fill(0)
    return _drop_zero(points, scalars)


def _msm(msm, points, scalars, shape, element, group, device, window, glv=True):
    if device == "cuda":            # recoding, sort, buckets, reduction and windows on the device
        from kernels.msm.cuda_msm import msm_g1_cuda, msm_g2_cuda

        return (msm_g1_cuda if group == "g1" else msm_g2_cuda)(points, scalars, window)
    points, scalars = _check_inputs(points, scalars, shape, group)
    if device != "cpu":
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    m = points.shape[0]
    parts = []                                  # Jacobian partial sums
    if m:
        bits = bit_lengths(scalars, points)     # 0 for the terms skipped: 0 scalars and infinity
        one = bits == 1
        rest = bits > 1
        n_rest = int(np.count_nonzero(rest))
        if one.any():
            part = np.empty((3,) + element, np.uint32)
            msm.sum_points(part, points[one], numba.get_num_threads())   # a copy: sum_points overwrites
            parts.append(part)
        if n_rest:
            every = n_rest == m
            rest_points, rest_scalars, rest_bits = _rows(points, rest, every), _rows(scalars, rest, every), bits[rest]
            if glv:
                split = _glv_split if group == "g1" else _gls_split
                rest_points, rest_scalars, rest_bits = split(rest_points, rest_scalars, rest_bits)
            for idx, c in scalar_classes(rest_scalars, rest_bits):
                part = np.empty((3,) + element, np.uint32)
                _bucket_msm(msm, rest_points[idx], rest_scalars[idx], element, window or c, part)
                parts.append(part)
    out = np.zeros(shape, np.uint32)
    if parts:
        msm.parts_to_affine(out, np.stack(parts))
    return out


def msm_g1(points: np.ndarray, scalars: np.ndarray, device: str = "cpu", window: int | None = None,
           glv: bool = True) -> np.ndarray:
    """sum_k [scalars[k]] points[k] on G1 as an affine (2, 12) point (all zero for infinity).

    points: (m, 2, 12) affine Montgomery (infinity allowed, skipped); scalars: (m, 8) canonical Fr
    limbs (plain integers, not Montgomery); device: "cpu" or "cuda" (bucket accumulation on the GPU);
    window: force the window size c (default: chosen by m); glv: on the CPU, split scalars above
    128 bits by the GLV endomorphism (kernels.ec.glv; False for the plain method). Raises ValueError
    on bad shapes and KernelError when device="cuda" but no GPU is available. m = 0 gives infinity.
    """
    return _msm(_g1_msm, points, scalars, ec_points.G1_SHAPE, G1_ELEMENT, "g1", device, window, glv)


def msm_g2(points: np.ndarray, scalars: np.ndarray, device: str = "cpu", window: int | None = None,
           gls: bool = True) -> np.ndarray:
    """As `msm_g1` on G2: points (m, 2, 2, 12), result (2, 2, 12). gls: on the CPU, split scalars
    above 64 bits into base-|x| digits by psi (kernels.ec.glv; False for the plain method)."""
    return _msm(_g2_msm, points, scalars, ec_points.G2_SHAPE, G2_ELEMENT, "g2", device, window, gls)


def g1_sum_affine(points: np.ndarray) -> np.ndarray:
    """Sum of (m, 2, 12) affine points by mixed XYZZ additions (parallel): the MSM's inner loop, for benches."""
    return ec_points.g1_sum(points)


def g2_sum_affine(points: np.ndarray) -> np.ndarray:
    """Sum of (m, 2, 2, 12) affine points by mixed XYZZ additions (parallel)."""
    return ec_points.g2_sum(points)


__all__ = ["msm_g1", "msm_g2", "g1_sum_affine", "g2_sum_affine", "window_size", "max_bit_length",
           "bit_lengths", "histogram_window", "scalar_classes", "compile_pippenger"]
