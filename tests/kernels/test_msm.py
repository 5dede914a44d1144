"""Pippenger MSM on G1 and G2 equals the sum of scalar multiplications (py_ecc as the reference)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from py_ecc import optimized_bls12_381 as ref

from kernels import params
from kernels.ec import points as P
from kernels.ff.fields import FR
from kernels.msm import pippenger
from kernels.msm.pippenger import (MIN_BATCH, batch_size, bit_lengths, histogram_window, max_bit_length, msm_g1,
                                   msm_g2, scalar_classes, task_layout, window_size)
from tests.kernels.test_ec_points import g1_ints, g2_ints

R = params.R


@pytest.fixture(scope="module")
def g1_table():
    """16 random G1 points as (py_ecc point, discrete log) with the array form."""
    rng = random.Random(21)
    ks = [rng.randrange(1, R) for _ in range(16)]
    return ks, P.g1_from_ints([g1_ints(ref.multiply(ref.G1, k)) for k in ks])


def expected_g1(logs, scalars):
    # Every point is a known multiple of G, so the MSM is one scalar multiplication.
    total = sum(k * s for k, s in zip(logs, scalars)) % R
    return g1_ints(ref.multiply(ref.G1, total))


def run_g1(table, idx, scalars, **kw):
    logs, arr = table
    got = msm_g1(arr[idx], FR.canonical(scalars), **kw)
    assert P.g1_to_ints(got) == [expected_g1([logs[i] for i in idx], scalars)]


def test_sizes_and_special_scalars(g1_table):
    rng = random.Random(22)
    assert not msm_g1(np.zeros((0, 2, 12), np.uint32), np.zeros((0, 8), np.uint32)).any()   # m = 0
    run_g1(g1_table, [3], [rng.randrange(R)])                                              # m = 1
    run_g1(g1_table, [3, 4], [rng.randrange(R), R - 1])                                    # m = 2
    for m in (8, 11, 16):                                                                  # 2^k and not
        run_g1(g1_table, list(range(m)), [rng.randrange(R) for _ in range(m)])
    run_g1(g1_table, [0, 1, 2, 3], [0, 1, R - 1, 1])                                       # 0, 1, r-1
    run_g1(g1_table, [5, 6], [0, 0])                                                       # all zero
    run_g1(g1_table, [5, 6, 7], [1, 1, 1])                                                 # only ones
    run_g1(g1_table, [5] * 6 + [6], [3, 3, rng.randrange(R), 7, 1, 1, 2])                  # repeated points
    run_g1(g1_table, [2, 2], [5, R - 5])                                                   # cancels to O


def test_infinity_in_the_input(g1_table):
    logs, arr = g1_table
    pts = np.concatenate([arr[:3], np.zeros((2, 2, 12), np.uint32), arr[3:5]])
    scalars = [7, 1, 123456789, 5, 1, 2, R - 2]
    got = msm_g1(pts, FR.canonical(scalars))
    assert P.g1_to_ints(got) == [expected_g1(logs[:5], [7, 1, 123456789, 2, R - 2])]


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_small_scalars_and_every_window(g1_table, data):
    # Witness-like scalars (0/1 and short integers) and forced windows, signed-digit edges included.
    m = data.draw(st.integers(min_value=1, max_value=16))
    bits = data.draw(st.sampled_from([1, 2, 8, 17, 64, 255]))
    scalars = data.draw(st.lists(st.one_of(st.integers(0, 1), st.integers(0, (1 << bits) - 1),
                                           st.just(R - 1)), min_size=m, max_size=m))
    window = data.draw(st.one_of(st.none(), st.integers(min_value=1, max_value=16)))
    run_g1(g1_table, list(range(m)), scalars, window=window)


def test_scalars_at_digit_boundaries(g1_table):
    # Values where every signed c-bit digit is at +-2^(c-1) and carries ripple to the top.
    for c in (2, 3, 4, 13):
        half = sum(1 << (c * w + c - 1) for w in range(255 // c))
        ones = (1 << (255 // c * c)) - 1
        scalars = [half % R, ones % R, (half + ones) % R, (1 << 254) % R]
        run_g1(g1_table, [0, 1, 2, 3], scalars, window=c)


def test_g2_msm():
    rng = random.Random(23)
    ks = [rng.randrange(1, R) for _ in range(5)]
    pts = P.g2_from_ints([g2_ints(ref.multiply(ref.G2, k)) for k in ks] + [None])
    scalars = [rng.randrange(R), 0, 1, R - 1, 1 << 40, 9]
    got = msm_g2(pts, FR.canonical(scalars))
    total = sum(k * s for k, s in zip(ks, scalars)) % R
    assert P.g2_to_ints(got) == [g2_ints(ref.multiply(ref.G2, total))]
    assert not msm_g2(pts[:0], FR.canonical([])).any()


def test_window_model_and_bit_length():
    assert max_bit_length(FR.canonical([])) == 0
    assert max_bit_length(FR.canonical([0, 0])) == 0
    assert max_bit_length(FR.canonical([5, 1 << 40, 3])) == 41
    assert max_bit_length(FR.canonical([R - 1])) == 255
    assert window_size(1 << 16, 255) in range(11, 16)
    assert window_size(2, 255) <= 4
    assert window_size(1 << 16, 8) <= window_size(1 << 16, 255) + 4


@pytest.fixture(scope="module")
def signed_table(g1_table):
    """The 16 points and their negations (logs k and r - k), so P and -P can meet in one bucket."""
    logs, arr = g1_table
    neg = np.stack([P.g1_neg(p) for p in arr])
    return logs + [R - k for k in logs], np.concatenate([arr, neg])


def batched_window(m: int, bits: int) -> int:
    """A window under which the bucket stage of m scalars of `bits` bits runs batch-affine."""
    c = 10
    ngroups, _ = task_layout(pippenger._windows(bits, c), pippenger.numba.get_num_threads())
    assert batch_size(-(-pippenger._windows(bits, c) // ngroups) * (1 << (c - 1))) >= MIN_BATCH
    return c


SPECIAL = [2, 3, R - 1, R - 2, (1 << 32) - 1, 1 << 32, 1 << 254, (R - 1) // 2, 511, 512, 513]


def test_batch_affine_buckets_with_conflicts_doubling_and_cancellation(signed_table):
    # A few points repeated many times: every batch has conflicts (XYZZ overflow), equal points in
    # one bucket (doubling), P and -P in one bucket (the bucket empties, then refills).
    rng = random.Random(24)
    idx = [rng.choice([0, 1, 16, 2, 17]) for _ in range(600)]      # 16 = -P0, 17 = -P1
    scalars = [rng.choice(SPECIAL + [rng.randrange(R)]) for _ in idx]
    run_g1(signed_table, idx, scalars, window=batched_window(len(idx), 255))
    run_g1(signed_table, idx, scalars)


def test_batch_affine_cancellation_to_infinity(signed_table):
    # Each point and its negation with the same scalar: every bucket pair cancels, the sum is O.
    rng = random.Random(25)
    idx = [i for i in range(16) for _ in range(20)]
    idx = idx + [i + 16 for i in idx]
    scalars = [rng.randrange(R) for _ in range(len(idx) // 2)] * 2
    run_g1(signed_table, idx, scalars, window=batched_window(len(idx), 255))
    logs, arr = signed_table
    assert not msm_g1(arr[idx], FR.canonical(scalars)).any()


def test_batch_affine_witness_like_scalars(signed_table):
    # 0/1, short and full scalars in one vector, with infinity among the points: the 1-scalars take
    # the batch-affine tree (doublings and cancellations included), the rest split by bit length.
    rng = random.Random(26)
    logs, arr = signed_table
    m = 1200
    idx = [rng.randrange(32) for _ in range(m)]
    scalars = [rng.choice([0, 1, 1, 1, rng.randrange(1 << 32), rng.randrange(1 << 8), rng.randrange(R)])
               for _ in range(m)]
    run_g1(signed_table, idx, scalars)
    pts = np.concatenate([arr[idx], np.zeros((5, 2, 12), np.uint32)])
    got = msm_g1(pts, FR.canonical(scalars + [1, 2, 0, R - 1, 7]))
    assert P.g1_to_ints(got) == [expected_g1([logs[i] for i in idx], scalars)]


def test_sum_of_ones_tree(signed_table):
    # sum_points directly, one part so the tree runs: adjacent equal points (doubling), adjacent
    # P, -P (cancel to O, then O + Q at the next level), infinity inputs.
    logs, arr = signed_table
    rng = random.Random(27)
    idx = []
    while len(idx) < 700:
        i = rng.randrange(32)
        idx += rng.choice([[i], [i, i], [i, (i + 16) % 32], [-1]])
    pts = np.concatenate([arr, np.zeros((1, 2, 12), np.uint32)])[idx]
    for nparts in (1, 2):
        jac = np.empty((3, 12), np.uint32)
        pippenger._g1_msm.sum_points(jac, pts.copy(), nparts)
        got = np.empty((2, 12), np.uint32)
        pippenger._g1_msm.parts_to_affine(got, jac[None])
        total = sum(logs[i] for i in idx if i >= 0) % R
        assert P.g1_to_ints(got) == [g1_ints(ref.multiply(ref.G1, total))]


def test_g2_batch_affine():
    rng = random.Random(28)
    ks = [rng.randrange(1, R) for _ in range(3)]
    base = P.g2_from_ints([g2_ints(ref.multiply(ref.G2, k)) for k in ks])
    base = np.concatenate([base, np.stack([P.g2_neg(p) for p in base])])
    logs = ks + [R - k for k in ks]
    idx = [rng.randrange(6) for _ in range(300)]
    scalars = [rng.choice([0, 1, 1, rng.randrange(1 << 32), rng.randrange(R)] + SPECIAL) for _ in idx]
    for window in (None, batched_window(len(idx), 255)):
        got = msm_g2(base[idx], FR.canonical(scalars), window=window)
        total = sum(logs[i] * s for i, s in zip(idx, scalars)) % R
        assert P.g2_to_ints(got) == [g2_ints(ref.multiply(ref.G2, total))]


def test_scalar_classes_and_bit_lengths():
    rng = random.Random(29)
    values = [rng.randrange(2, 1 << 32) for _ in range(4000)] + [rng.randrange(R) for _ in range(40)] + [R - 1, 2, 3]
    scalars = FR.canonical(values)
    assert bit_lengths(scalars).tolist() == [v.bit_length() for v in values]
    assert bit_lengths(FR.canonical([0, 1, 1 << 31, 1 << 32])).tolist() == [0, 1, 32, 33]
    classes = scalar_classes(scalars)
    assert len(classes) == 2                        # many short scalars, few long ones: split
    assert sorted(np.concatenate([i for i, _ in classes]).tolist()) == list(range(len(values)))
    assert max_bit_length(scalars[classes[0][0]]) <= 32 < max_bit_length(scalars[classes[1][0]])
    (one_class, _), = scalar_classes(FR.canonical([rng.randrange(R) for _ in range(100)]))
    assert one_class == slice(None)                 # all of them: a view, not a copy
    # with points: 0 where the point is infinity (all zero), as the MSM skips it
    pts = np.ones((5, 2, 12), np.uint32)
    pts[1] = 0
    pts[3, 1] = 0                                   # (x, 0): not all zero, not skipped
    five = FR.canonical([7, 7, 0, 1 << 200, R - 1])
    assert bit_lengths(five, pts).tolist() == [3, 0, 0, 201, 255]
    assert bit_lengths(five).tolist() == [3, 3, 0, 201, 255]
    counts = np.bincount(bit_lengths(scalars), minlength=257)
    assert 1 <= histogram_window(counts)[0] <= 16


def test_bad_inputs_are_refused(g1_table):
    _, arr = g1_table
    with pytest.raises(ValueError, match="2 points but 3 scalars"):
        msm_g1(arr[:2], FR.canonical([1, 2, 3]))
    with pytest.raises(ValueError, match="scalars must have shape"):
        msm_g1(arr[:2], np.zeros((2, 12), np.uint32))
    with pytest.raises(ValueError, match="device"):
        msm_g1(arr[:2], FR.canonical([1, 2]), device="tpu")
