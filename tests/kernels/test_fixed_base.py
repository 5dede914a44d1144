"""Fixed-base multiplication (kernels.ec.fixed_base) equals double-and-add and py_ecc."""

from __future__ import annotations

import random

import numpy as np
import pytest
from py_ecc import optimized_bls12_381 as ref

from kernels import params
from kernels.ec import points as P
from kernels.ec.fixed_base import FixedBase, g1_fixed_base_mul, g2_fixed_base_mul, window_for
from tests.kernels.test_ec_points import g1_ints, g1_of, g2_ints, g2_of

R = params.R


def limbs(values) -> np.ndarray:
    """Canonical (m, 8) uint32 limbs of ints below 2^256."""
    return np.array([[(v >> (32 * i)) & 0xFFFFFFFF for i in range(8)] for v in values], np.uint32).reshape(-1, 8)


def edge_scalars(w: int) -> list[int]:
    rng = random.Random(5)
    return [0, 1, 2, (1 << w) - 1, 1 << w, (1 << w) + 1, R - 1, R, R + 1, (1 << 256) - 1, (1 << 255) + 3] + [
        rng.randrange(R) for _ in range(20)]


@pytest.mark.parametrize("w", [3, 8, 13])
def test_g1_matches_double_and_add(w):
    base = g1_of(7)
    ks = edge_scalars(w)
    got = g1_fixed_base_mul(base, limbs(ks), window=w)
    want = np.stack([P.g1_mul(base, k) for k in ks])
    assert np.array_equal(got, want)


def test_g1_matches_py_ecc():
    ks = [3, R - 2, 12345678901234567890]
    got = P.g1_to_ints(g1_fixed_base_mul(P.g1_generator(), limbs(ks)))
    assert got == [g1_ints(ref.multiply(ref.G1, k)) for k in ks]


@pytest.mark.parametrize("w", [4, 9])
def test_g2_matches_double_and_add(w):
    base = g2_of(11)
    ks = edge_scalars(w)[:16]
    got = g2_fixed_base_mul(base, limbs(ks), window=w)
    want = np.stack([P.g2_mul(base, k) for k in ks])
    assert np.array_equal(got, want)


def test_g2_matches_py_ecc():
    ks = [5, R - 1]
    got = P.g2_to_ints(g2_fixed_base_mul(P.g2_generator(), limbs(ks)))
    assert got == [g2_ints(ref.multiply(ref.G2, k)) for k in ks]


def test_many_scalars_across_chunks():
    rng = random.Random(9)
    ks = [rng.randrange(R) for _ in range(600)]          # more than two parallel chunks
    table = FixedBase(P.g1_generator(), "g1", window=6)
    got = table.mul(limbs(ks))
    for i in (0, 255, 256, 511, 599):
        assert np.array_equal(got[i], P.g1_mul(P.g1_generator(), ks[i]))
    assert table.mul(limbs([])).shape == (0, 2, 12)


def test_infinity_base_and_bad_input():
    got = g1_fixed_base_mul(P.g1_infinity(), limbs([5, 0]), window=4)
    assert not got.any()
    with pytest.raises(ValueError):
        FixedBase(P.g1_generator(), "g3")
    with pytest.raises(ValueError):
        FixedBase(P.g1_generator(), "g1", window=17)
    with pytest.raises(ValueError):
        FixedBase(P.g2_generator(), "g1")
    with pytest.raises(ValueError):
        FixedBase(P.g1_generator(), "g1", window=4).mul(np.zeros((3, 4), np.uint32))


def test_window_choice_grows_with_count():
    assert window_for(1) <= window_for(1 << 10) <= window_for(1 << 20) <= 16
