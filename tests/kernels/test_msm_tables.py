"""Fixed-base MSM from window tables (kernels.msm.tables) equals the bucket method and py_ecc."""

from __future__ import annotations

import random

import numpy as np
import pytest
from py_ecc import optimized_bls12_381 as ref

from kernels import params
from kernels.ec import points as P
from kernels.msm import tables
from kernels.msm.pippenger import msm_g1, msm_g2
from tests.kernels.test_ec_points import g1_ints, g1_of, g2_ints, g2_of

R = params.R
N = 97   # not a multiple of anything the kernels split by


def limbs(values) -> np.ndarray:
    return np.array([[(v >> (32 * i)) & 0xFFFFFFFF for i in range(8)] for v in values], np.uint32).reshape(-1, 8)


@pytest.fixture(scope="module")
def bases():
    rng = random.Random(11)
    ks = [rng.randrange(1, R) for _ in range(N)]
    g1 = P.g1_mul_each(np.broadcast_to(P.g1_generator(), (N, 2, 12)).copy(), limbs(ks))
    g2 = P.g2_mul_each(np.broadcast_to(P.g2_generator(), (N, 2, 2, 12)).copy(), limbs(ks))
    g1[3] = 0           # the point at infinity, as snarkjs keys hold for unused wires
    g2[5] = 0
    g1[7] = g1[8]       # a repeated base
    g2[9] = P.g2_neg(g2[10])
    return g1, g2


def edge_scalars(c: int) -> list[int]:
    rng = random.Random(c)
    edge = [0, 1, 2, R - 1, R - 2, (1 << c) - 1, 1 << c, (1 << (c - 1)), (1 << (c - 1)) + 1, 1 << 254,
            (1 << 32) - 1, 1 << 127]
    return edge + [rng.choice([rng.randrange(R), rng.randrange(1 << 32), rng.randrange(2)])
                   for _ in range(N - len(edge))]


@pytest.mark.parametrize("c", [8, 11, 16])
def test_matches_the_bucket_method_on_edge_scalars(bases, c):
    g1, g2 = bases
    s = limbs(edge_scalars(c))
    t1, t2 = tables.build_table("g1", g1, c), tables.build_table("g2", g2, c)
    assert t1.points.shape == (N, tables.windows(c), 2, 12) and t1.c == c
    assert np.array_equal(tables.msm_with_table(t1, s), msm_g1(g1, s))
    assert np.array_equal(tables.msm_with_table(t2, s), msm_g2(g2, s))


def test_table_rows_are_the_window_multiples(bases):
    g1, _ = bases
    t = tables.build_table("g1", g1[:4], 12)
    for i in (0, 1, 2):
        for w in (0, 1, 5, tables.windows(12) - 1):
            assert np.array_equal(t.points[i, w], P.g1_mul(g1[i], 1 << (12 * w)))
    assert not t.points[3].any()          # infinity stays infinity in every window


def test_matches_py_ecc():
    ks, ss = [5, 7, R - 3], [R - 1, 12345678901234567890, 1 << 200]
    g1 = np.stack([g1_of(k) for k in ks])
    g2 = np.stack([g2_of(k) for k in ks])
    s = limbs(ss)
    e = sum(k * x for k, x in zip(ks, ss)) % R
    assert P.g1_to_ints(tables.msm_with_table(tables.build_table("g1", g1), s)[None]) == \
        [g1_ints(ref.multiply(ref.G1, e))]
    assert P.g2_to_ints(tables.msm_with_table(tables.build_table("g2", g2), s)[None]) == \
        [g2_ints(ref.multiply(ref.G2, e))]


def test_all_zero_scalars_and_no_bases_give_infinity(bases):
    g1, _ = bases
    t = tables.build_table("g1", g1, 10)
    assert not tables.msm_with_table(t, np.zeros((N, 8), np.uint32)).any()
    empty = tables.build_table("g1", np.zeros((0, 2, 12), np.uint32), 10)
    assert not tables.msm_with_table(empty, np.zeros((0, 8), np.uint32)).any()


def test_refuses_wrong_shapes_windows_and_oversized_scalars(bases):
    g1, g2 = bases
    t = tables.build_table("g1", g1, 9)
    with pytest.raises(ValueError, match="scalars of shape"):
        tables.msm_with_table(t, np.zeros((N - 1, 8), np.uint32))
    too_big = np.zeros((N, 8), np.uint32)
    too_big[0] = 0xFFFFFFFF               # 2^256 - 1: the table has no window for its top digit
    with pytest.raises(ValueError, match="below"):
        tables.msm_with_table(t, too_big)
    with pytest.raises(ValueError, match="window"):
        tables.build_table("g1", g1, 17)
    with pytest.raises(ValueError, match="group"):
        tables.build_table("g3", g1)
    with pytest.raises(ValueError, match="bases must have shape"):
        tables.build_table("g2", g1)
    with pytest.raises(ValueError, match="has shape"):
        tables.BaseTable("g1", 9, t.points[:, :-1])     # a window short
    with pytest.raises(ValueError, match="has shape"):
        tables.BaseTable("g2", 9, t.points)


def test_window_choice_grows_with_the_number_of_bases():
    cs = [tables.table_window(n, threads=2) for n in (1 << 8, 1 << 12, 1 << 16, 1 << 20)]
    assert cs == sorted(cs) and cs[0] >= tables.MIN_WINDOW and cs[-1] <= tables.MAX_WINDOW
    assert tables.windows(16) == 16 and tables.windows(15) == 18


def test_balanced_bounds_split_the_nonzero_digits_evenly():
    from kernels.msm.tables import balanced_bounds

    digits = np.array([1, 0, 0, -1, 0, 0, 1, 1], np.int32)
    assert balanced_bounds(digits, 2).tolist() == [0, 4, 8]          # 2 and 2 nonzero digits
    assert balanced_bounds(digits, 4).tolist() == [0, 1, 4, 7, 8]    # one each
    assert balanced_bounds(np.zeros(5, np.int32), 3).tolist()[-1] == 5
    bounds = balanced_bounds(np.zeros(0, np.int32), 3)
    assert bounds.tolist() == [0, 0]
