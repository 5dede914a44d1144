"""GLV for G1 and GLS for G2: the scalar splits against Python integers, tau against py_ecc, the MSM
with and without the split against py_ecc on random and edge scalars (0, 1, r-1, multiples of the
divisor), and the per-point multiplications `g1_mul_each` / `g2_mul_each` against py_ecc."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bls12_381 import G1 as PY_G1, G2 as PY_G2, add as py_add, multiply as py_mul, neg as py_neg, normalize

from kernels import params
from kernels.ec import glv, points as P
from kernels.ff.fields import FR
from kernels.msm import pippenger
from kernels.msm.pippenger import msm_g1

R, D = params.R, glv.DIVISOR
EDGE_SCALARS = [0, 1, 2, R - 1, R - 2, D - 1, D, D + 1, 2 * D, 3 * D + 1, (R - 1) // D * D,
                (R - 1) // D * D - 1, (1 << 128) - 1, 1 << 128, (1 << 255) - 1 - ((1 << 255) - 1) % D]


def _ints(arr) -> list[int]:
    return FR.canonical_to_ints(arr)


def _split_ints(ks):
    raw = np.array([[(k >> (32 * i)) & 0xFFFFFFFF for i in range(8)] for k in ks], np.uint32)  # not reduced
    lo, hi = glv.decompose(raw)
    return _ints(lo), _ints(hi)


def test_divisor_is_the_eigenvalue_of_tau():
    assert D == params.X**2 and D.bit_length() == 128
    assert (D * D - D + 1) % R == 0          # tau = -sigma, sigma^2 + sigma + 1 = 0 on G1


def test_split_edge_scalars_against_integers():
    ks = EDGE_SCALARS + [(1 << 256) - 1, (1 << 255) + 12345]     # any value below 2^256 splits exactly
    lo, hi = _split_ints(ks)
    for k, a, b in zip(ks, lo, hi):
        assert (a, b) == (k % D, k // D), hex(k)
        if k < R:
            assert a < 1 << 128 and b < 1 << 128


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, R - 1), min_size=1, max_size=40))
def test_split_random_scalars_against_integers(ks):
    lo, hi = _split_ints(ks)
    assert lo == [k % D for k in ks] and hi == [k // D for k in ks]


def _py_point(arr):
    (x, y), = P.g1_to_ints(arr[None])
    return (x, y)


def _affine(pt):
    x, y = normalize(pt)
    return (int(x.n), int(y.n))


def test_tau_is_multiplication_by_the_divisor():
    rng = random.Random(7)
    ks = [1, 2, rng.randrange(R), rng.randrange(R)]
    pts = np.stack([P.g1_mul(P.g1_generator(), k) for k in ks] + [P.g1_infinity()])
    out = glv.tau(pts)
    for k, row in zip(ks, out[:-1]):
        assert _py_point(row) == _affine(py_mul(PY_G1, k * D % R))
    assert not out[-1].any()                  # infinity stays infinity


def _py_msm(ks, pts_int):
    acc = None
    for k, xy in zip(ks, pts_int):
        if k % R == 0 or xy is None:           # None: infinity
            continue
        x, y = xy
        from py_ecc.fields import optimized_bls12_381_FQ as FQ_
        term = py_mul((FQ_(x), FQ_(y), FQ_.one()), k % R)
        acc = term if acc is None else py_add(acc, term)
    return (0, 0) if acc is None else _affine(acc)


@pytest.fixture
def glv_always(monkeypatch):
    """Split every long scalar, however few (the MSM otherwise splits only large batches)."""
    monkeypatch.setattr(pippenger, "GLV_MIN_SCALARS", 1)


def test_split_doubles_the_long_scalars_only(glv_always):
    pts = np.stack([P.g1_mul(P.g1_generator(), k) for k in (2, 3, 5)])
    sc = FR.canonical([7, D * 5 + 3, R - 1])
    new_pts, new_sc, new_bits = pippenger._glv_split(pts, sc, pippenger.bit_lengths(sc))
    assert new_bits.tolist() == [k.bit_length() for k in _ints(new_sc)]
    # r - 1 = x^2 (x^2 - 1) is a multiple of D: its low half is 0 and is dropped with its point.
    assert (R - 1) % D == 0
    assert _ints(new_sc) == [7, 3, 5, (R - 1) // D]
    assert new_pts.shape[0] == 4 and np.array_equal(new_pts[0], pts[0])
    assert np.array_equal(new_pts[3], glv.tau(pts[2:3])[0])


@pytest.mark.parametrize("glv_on", [True, False])
def test_msm_edge_scalars_against_py_ecc(glv_always, glv_on):
    rng = random.Random(11)
    ks = EDGE_SCALARS[:13] + [rng.randrange(R) for _ in range(5)]
    pts = np.stack([P.g1_mul(P.g1_generator(), rng.randrange(1, R)) for _ in ks])
    pts[3] = P.g1_infinity()
    got = _py_point(msm_g1(pts, FR.canonical(ks), glv=glv_on))
    assert got == _py_msm(ks, P.g1_to_ints(pts))


def test_msm_glv_equals_plain_on_many_points(glv_always):
    rng = np.random.default_rng()           # unseeded: each run tries other scalars
    base = [P.g1_mul(P.g1_generator(), int(k)) for k in rng.integers(1, 1 << 62, 8)]
    pts = np.stack([base[i % 8] for i in range(600)])
    for i in range(1, 600):                   # distinct points: running sums
        pts[i] = P.g1_add(pts[i - 1], base[i % 8])
    ks = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(600)]
    ks[::7] = [k * D % R for k in ks[::7]]   # some multiples of the divisor
    ks[::11] = [D * int(rng.integers(1, 1 << 60)) for _ in ks[::11]]   # k1 = 0 exactly
    sc = FR.canonical(ks)
    assert np.array_equal(msm_g1(pts, sc, glv=True), msm_g1(pts, sc, glv=False))


# --- per-point multiplication (the ceremony's batchApplyKey) -----------------------------------------
ABS_X = -params.X
G2_EDGE_SCALARS = [0, 1, 2, R - 1, R - 2, ABS_X - 1, ABS_X, ABS_X + 1, ABS_X**2, ABS_X**3 - 1, ABS_X**3,
                   (R - 1) // ABS_X**3 * ABS_X**3, (1 << 64) - 1, 1 << 64]


def test_g2_split_digits_against_integers():
    rng = random.Random(5)
    ks = G2_EDGE_SCALARS + [rng.randrange(R) for _ in range(200)] + [ABS_X**4 - 1]   # the largest that splits
    pts = np.stack([P.g2_generator()] * len(ks))
    _bases, bits = glv.g2_split(pts, FR.canonical(ks) if max(ks) < R else _raw(ks))
    for k, row in zip(ks, bits):
        digits = [int("".join(map(str, d)), 2) for d in row]
        assert all(d < ABS_X for d in digits) and sum(d * ABS_X**i for i, d in enumerate(digits)) == k, hex(k)


def _raw(ks):
    return np.array([[(k >> (32 * i)) & 0xFFFFFFFF for i in range(8)] for k in ks], np.uint32)


def test_splits_refuse_scalars_they_cannot_represent():
    with pytest.raises(ValueError, match="G2 scalar"):
        glv.g2_split(np.stack([P.g2_generator()]), _raw([ABS_X**4]))
    with pytest.raises(ValueError, match="G1 scalar"):
        glv.g1_split(np.stack([P.g1_generator()]), _raw([(1 << 256) - 1]))


def _py_g2_point(arr):
    (x, y), = P.g2_to_ints(arr[None])
    return (x, y)


def _affine2(pt):
    x, y = normalize(pt)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_mul_each_against_py_ecc(group):
    rng = random.Random(13 if group == "g1" else 17)
    edge = EDGE_SCALARS[:13] if group == "g1" else G2_EDGE_SCALARS
    ks = edge + [rng.randrange(R) for _ in range(6)]
    bases_k = [rng.randrange(1, R) for _ in ks]
    bases_k[4] = bases_k[5]                     # a repeated base with a repeated scalar below
    ks[4] = ks[5]
    gen, mul, each, to_py, py_gen, aff = (
        (P.g1_generator(), P.g1_mul, P.g1_mul_each, _py_point, PY_G1, _affine) if group == "g1"
        else (P.g2_generator(), P.g2_mul, P.g2_mul_each, _py_g2_point, PY_G2, _affine2))
    pts = np.stack([mul(gen, b) for b in bases_k])
    pts[3] = 0                                  # infinity
    negate = np.array([i % 3 == 1 for i in range(len(ks))])
    out = each(pts, FR.canonical(ks), negate)
    for i, (k, b) in enumerate(zip(ks, bases_k)):
        e = 0 if i == 3 else k * b % R
        if e == 0:
            assert not out[i].any(), i
            continue
        want = py_mul(py_gen, e)
        assert to_py(out[i]) == aff(py_neg(want) if negate[i] else want), (i, hex(k))


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_mul_each_equals_double_and_add_on_many_points(group):
    rng = np.random.default_rng()               # unseeded: each run tries other scalars
    gen, mul, each, add = ((P.g1_generator(), P.g1_mul, P.g1_mul_each, P.g1_add) if group == "g1"
                           else (P.g2_generator(), P.g2_mul, P.g2_mul_each, P.g2_add))
    n = 300                                      # more than two groups of 128 and a partial one
    pts = [mul(gen, int(rng.integers(1, 1 << 62)))]
    for _ in range(n - 1):
        pts.append(add(pts[-1], gen))
    pts = np.stack(pts)
    ks = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(n)]
    ks[::9] = [int(rng.integers(0, 1 << 40)) for _ in ks[::9]]   # short scalars, as `zkey new` has
    out = each(pts, FR.canonical(ks))
    for i in range(0, n, 7):
        assert np.array_equal(out[i], mul(pts[i], ks[i])), i


# --- G2 MSM by base-|x| digits (GLS) ------------------------------------------------------------------
@pytest.fixture
def gls_always(monkeypatch):
    """Split every long G2 scalar, however few."""
    monkeypatch.setattr(pippenger, "GLS_MIN_SCALARS", 1)


def test_g2_decompose_gives_the_digits_as_limbs():
    rng = random.Random(19)
    ks = G2_EDGE_SCALARS + [rng.randrange(R) for _ in range(50)]
    limbs = glv.g2_decompose(FR.canonical(ks))
    assert limbs.shape == (len(ks), 4, 8) and not limbs[:, :, 2:].any()
    for k, row in zip(ks, limbs):
        digits = _ints(row)
        assert all(d < ABS_X for d in digits) and sum(d * ABS_X**i for i, d in enumerate(digits)) == k, hex(k)


def test_gls_split_keeps_short_scalars_and_drops_zero_digits(gls_always):
    pts = np.stack([P.g2_mul(P.g2_generator(), k) for k in (2, 3, 5)])
    sc = FR.canonical([(1 << 64) - 1, ABS_X**2, R - 1])
    new_pts, new_sc, new_bits = pippenger._gls_split(pts, sc, pippenger.bit_lengths(sc))
    assert new_bits.tolist() == [k.bit_length() for k in _ints(new_sc)]
    # the 64-bit scalar stays as it is; |x|^2 is one digit; r - 1 has its four digits less any zero
    r1 = [d for d in _ints(glv.g2_decompose(FR.canonical([R - 1]))[0])]
    assert _ints(new_sc) == [(1 << 64) - 1, 1] + [d for d in r1 if d]
    assert np.array_equal(new_pts[0], pts[0])
    assert np.array_equal(new_pts[1], glv.g2_bases(pts[1:2])[0, 2])        # psi^2 P for the digit of |x|^2


@pytest.mark.parametrize("gls_on", [True, False])
def test_g2_msm_edge_scalars_against_py_ecc(gls_always, gls_on):
    rng = random.Random(23)
    ks = G2_EDGE_SCALARS + [rng.randrange(R) for _ in range(4)]
    bases_k = [rng.randrange(1, R) for _ in ks]
    pts = np.stack([P.g2_mul(P.g2_generator(), b) for b in bases_k])
    pts[2] = 0                                  # infinity
    got = pippenger.msm_g2(pts, FR.canonical(ks), gls=gls_on)
    e = sum(k * b for i, (k, b) in enumerate(zip(ks, bases_k)) if i != 2) % R
    want = _affine2(py_mul(PY_G2, e))
    assert _py_g2_point(got) == want


def test_g2_msm_gls_equals_plain_on_many_points(gls_always):
    rng = np.random.default_rng()               # unseeded: each run tries other scalars
    gen = P.g2_generator()
    pts = [P.g2_mul(gen, int(rng.integers(1, 1 << 62)))]
    for _ in range(399):                         # distinct points: running sums
        pts.append(P.g2_add(pts[-1], gen))
    pts = np.stack(pts)
    ks = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(400)]
    ks[::5] = [int(rng.integers(0, 1 << 63)) for _ in ks[::5]]       # short scalars stay whole
    ks[::13] = [ABS_X**3 * int(rng.integers(1, 1 << 40)) % R for _ in ks[::13]]   # low digits 0
    sc = FR.canonical(ks)
    assert np.array_equal(pippenger.msm_g2(pts, sc, gls=True), pippenger.msm_g2(pts, sc, gls=False))
