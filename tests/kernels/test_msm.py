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
from kernels.msm.pippenger import max_bit_length, msm_g1, msm_g2, window_size
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


def test_bad_inputs_are_refused(g1_table):
    _, arr = g1_table
    with pytest.raises(ValueError, match="2 points but 3 scalars"):
        msm_g1(arr[:2], FR.canonical([1, 2, 3]))
    with pytest.raises(ValueError, match="scalars must have shape"):
        msm_g1(arr[:2], np.zeros((2, 12), np.uint32))
    with pytest.raises(ValueError, match="device"):
        msm_g1(arr[:2], FR.canonical([1, 2]), device="tpu")
