"""Fq6 and Fq12 against py_ecc's FQ12 through an explicit field isomorphism.

Ours: Fq12 = Fq2[w]/(w^6 - xi), xi = 1 + i, coefficient [h, k] at w^(2k + h). py_ecc's FQ12 is
Fq[W]/(W^12 - 2W^6 + 2); with i = W^6 - 1 (so i^2 = -1 and W^6 = 1 + i) the map w -> W is a field
isomorphism, and an Fq2 coefficient re + im*i at w^j becomes (re - im) W^j + im W^(j+6).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bls12_381 import FQ12 as PyFQ12

from kernels import params
from kernels.ff.towers import (
    SCRATCH_ROWS, fq6, fq6_from_ints, fq6_to_ints, fq12, fq12_from_ints, fq12_one, fq12_pow, fq12_to_ints,
    frobenius_coefficients, new_scratch,
)

P = params.P
SETTINGS = settings(max_examples=25, deadline=None)

fq_ints = st.integers(min_value=0, max_value=P - 1)
fq2_ints = st.tuples(fq_ints, fq_ints)
fq6_ints = st.tuples(fq2_ints, fq2_ints, fq2_ints)
fq12_ints = st.tuples(fq6_ints, fq6_ints)


# --- the isomorphism to py_ecc ------------------------------------------------------------------
def to_py_ecc(value) -> PyFQ12:
    """py_ecc FQ12 of our nested ints ((fq6), (fq6)) or of a (2, 3, 2, 12) array."""
    if isinstance(value, np.ndarray):
        value = fq12_to_ints(value)
    coeffs = [0] * 12
    for h in range(2):
        for k in range(3):
            re, im = value[h][k]
            j = 2 * k + h
            coeffs[j] = (re - im) % P
            coeffs[j + 6] = im % P
    return PyFQ12(coeffs)


def from_py_ecc(f: PyFQ12) -> tuple:
    """Our nested ints of a py_ecc FQ12 (inverse of to_py_ecc)."""
    a = [int(c) % P for c in f.coeffs]
    by_power = [((a[j] + a[j + 6]) % P, a[j + 6]) for j in range(6)]
    return tuple(tuple(by_power[2 * k + h] for k in range(3)) for h in range(2))


def fq6_as_fq12(value) -> tuple:
    zero = ((0, 0), (0, 0), (0, 0))
    return (tuple(value), zero)


def new12() -> np.ndarray:
    return np.empty((2, 3, 2, 12), dtype=np.uint32)


def new6() -> np.ndarray:
    return np.empty((3, 2, 12), dtype=np.uint32)


def cyclotomic(value) -> np.ndarray:
    """The easy part of the final exponentiation applied to a: a^((p^6 - 1)(p^2 + 1)), unitary."""
    a = fq12_from_ints(value)
    s = new_scratch()
    inv, m = new12(), new12()
    fq12.inv(inv, a, s)
    fq12.conj(m, a)
    fq12.mul(m, m, inv, s)
    fq12.frobenius(inv, m, 2, s)
    fq12.mul(m, inv, m, s)
    return m


@pytest.fixture(scope="module")
def s():
    return new_scratch()


# --- the isomorphism itself -----------------------------------------------------------------------
def test_isomorphism_round_trips_and_respects_the_tower_relations():
    w = ((0, 0), (0, 0), (0, 0)), ((1, 0), (0, 0), (0, 0))     # w itself
    v = ((0, 0), (1, 0), (0, 0)), ((0, 0), (0, 0), (0, 0))     # v = w^2
    i = ((0, 1), (0, 0), (0, 0)), ((0, 0), (0, 0), (0, 0))
    pw, pv, pi = to_py_ecc(w), to_py_ecc(v), to_py_ecc(i)
    assert pi * pi == PyFQ12.one() * -1
    assert pw * pw == pv
    assert pv ** 3 == PyFQ12.one() + pi                         # v^3 = xi
    assert from_py_ecc(pw) == w and from_py_ecc(pi) == i


@given(fq12_ints)
@SETTINGS
def test_int_conversions_round_trip(value):
    assert fq12_to_ints(fq12_from_ints(value)) == value
    assert fq6_to_ints(fq6_from_ints(value[0])) == value[0]


def test_conversions_reject_wrong_shapes():
    with pytest.raises(ValueError):
        fq12_from_ints(((1, 2), (3, 4)))
    with pytest.raises(ValueError):
        fq6_from_ints(((1, 2), (3, 4)))


# --- Fq6 ------------------------------------------------------------------------------------------
@given(fq6_ints, fq6_ints)
@SETTINGS
def test_fq6_ring_operations_match_reference(s, a, b):
    x, y = fq6_from_ints(a), fq6_from_ints(b)
    pa, pb = to_py_ecc(fq6_as_fq12(a)), to_py_ecc(fq6_as_fq12(b))
    out = new6()
    fq6.mul(out, x, y, s)
    assert fq6_as_fq12(fq6_to_ints(out)) == from_py_ecc(pa * pb)
    fq6.sqr(out, x, s)
    assert fq6_as_fq12(fq6_to_ints(out)) == from_py_ecc(pa * pa)
    fq6.add(out, x, y)
    assert fq6_as_fq12(fq6_to_ints(out)) == from_py_ecc(pa + pb)
    fq6.sub(out, x, y)
    assert fq6_as_fq12(fq6_to_ints(out)) == from_py_ecc(pa - pb)
    fq6.neg(out, x)
    assert fq6_as_fq12(fq6_to_ints(out)) == from_py_ecc(-pa)
    fq6.dbl(out, x)
    assert fq6_as_fq12(fq6_to_ints(out)) == from_py_ecc(pa + pa)
    pv = to_py_ecc(fq6_as_fq12(((0, 0), (1, 0), (0, 0))))
    fq6.mul_by_v(out, x, s)
    assert fq6_as_fq12(fq6_to_ints(out)) == from_py_ecc(pa * pv)


@given(fq6_ints, fq2_ints, fq2_ints)
@SETTINGS
def test_fq6_sparse_products_match_full_product(s, a, b0, b1):
    x = fq6_from_ints(a)
    full, sparse = new6(), new6()
    b01 = fq6_from_ints((b0, b1, (0, 0)))
    fq6.mul(full, x, b01, s)
    fq6.mul_by_01(sparse, x, b01[0], b01[1], s)
    assert fq6.eq(full, sparse)
    b1_only = fq6_from_ints(((0, 0), b1, (0, 0)))
    fq6.mul(full, x, b1_only, s)
    fq6.mul_by_1(sparse, x, b1_only[1], s)
    assert fq6.eq(full, sparse)


@given(fq6_ints)
@SETTINGS
def test_fq6_inverse(s, a):
    x = fq6_from_ints(a)
    inv, prod = new6(), new6()
    fq6.inv(inv, x, s)
    if fq6.is_zero(x):
        assert fq6.is_zero(inv)
        return
    fq6.mul(prod, x, inv, s)
    one = new6()
    fq6.set_one(one)
    assert fq6.eq(prod, one)


# --- Fq12 -----------------------------------------------------------------------------------------
@given(fq12_ints, fq12_ints)
@SETTINGS
def test_fq12_ring_operations_match_reference(s, a, b):
    x, y = fq12_from_ints(a), fq12_from_ints(b)
    pa, pb = to_py_ecc(a), to_py_ecc(b)
    out = new12()
    fq12.mul(out, x, y, s)
    assert fq12_to_ints(out) == from_py_ecc(pa * pb)
    fq12.sqr(out, x, s)
    assert fq12_to_ints(out) == from_py_ecc(pa * pa)
    fq12.add(out, x, y)
    assert fq12_to_ints(out) == from_py_ecc(pa + pb)
    fq12.sub(out, x, y)
    assert fq12_to_ints(out) == from_py_ecc(pa - pb)
    fq12.neg(out, x)
    assert fq12_to_ints(out) == from_py_ecc(-pa)


@given(fq12_ints, fq12_ints, fq12_ints)
@settings(max_examples=10, deadline=None)
def test_fq12_field_laws(s, a, b, c):
    x, y, z = fq12_from_ints(a), fq12_from_ints(b), fq12_from_ints(c)
    left, right, t = new12(), new12(), new12()
    fq12.mul(left, x, y, s)                 # (xy)z = x(yz)
    fq12.mul(left, left, z, s)
    fq12.mul(t, y, z, s)
    fq12.mul(right, x, t, s)
    assert fq12.eq(left, right)
    fq12.add(t, y, z)                       # x(y + z) = xy + xz
    fq12.mul(left, x, t, s)
    fq12.mul(t, x, y, s)
    fq12.mul(right, x, z, s)
    fq12.add(right, t, right)
    assert fq12.eq(left, right)


@given(fq12_ints)
@SETTINGS
def test_fq12_inverse(s, a):
    x = fq12_from_ints(a)
    inv, prod = new12(), new12()
    fq12.inv(inv, x, s)
    if fq12.is_zero(x):
        assert fq12.is_zero(inv)
        return
    fq12.mul(prod, x, inv, s)
    assert fq12.is_one(prod)
    assert fq12_to_ints(inv) == from_py_ecc(to_py_ecc(a).inv())


def test_fq12_inverse_of_zero_is_zero(s):
    zero, out = new12(), new12()
    fq12.set_zero(zero)
    fq12.inv(out, zero, s)
    assert fq12.is_zero(out)


@given(fq12_ints)
@settings(max_examples=8, deadline=None)
def test_frobenius_is_the_p_power(s, a):
    x = fq12_from_ints(a)
    out = new12()
    fq12.frobenius(out, x, 1, s)
    assert fq12_to_ints(out) == from_py_ecc(to_py_ecc(a) ** P)
    # Frobenius k is the k-th iterate of Frobenius 1, and k = 6 is conjugation (w -> -w).
    iterate = x.copy()
    for k in range(1, 13):
        fq12.frobenius(iterate, iterate, 1, s)
        fq12.frobenius(out, x, k, s)
        assert fq12.eq(out, iterate), k
    assert fq12.eq(iterate, x)              # p^12 is the identity
    fq12.frobenius(out, x, 6, s)
    conj = new12()
    fq12.conj(conj, x)
    assert fq12.eq(out, conj)


def test_frobenius_coefficients_are_derived_powers_of_xi():
    gammas = frobenius_coefficients()
    assert all(g == (1, 0) for g in gammas[0])
    assert all(row[0] == (1, 0) for row in gammas)
    # gamma[k][1]^6 = xi^(p^k - 1): check through py_ecc, where xi is W^6.
    xi = to_py_ecc((((1, 1), (0, 0), (0, 0)), ((0, 0), (0, 0), (0, 0))))
    for k in (1, 2, 3):
        g = to_py_ecc(((gammas[k][1], (0, 0), (0, 0)), ((0, 0), (0, 0), (0, 0))))
        assert g ** 6 * xi == xi ** (P**k)


@given(fq12_ints, fq2_ints, fq2_ints, fq2_ints)
@SETTINGS
def test_mul_by_014_matches_full_product(s, a, c0, c1, c4):
    x = fq12_from_ints(a)
    line = fq12_from_ints(((c0, c1, (0, 0)), ((0, 0), c4, (0, 0))))
    full, sparse = new12(), new12()
    fq12.mul(full, x, line, s)
    fq12.mul_by_014(sparse, x, line[0, 0], line[0, 1], line[1, 1], s)
    assert fq12.eq(full, sparse)


@given(fq12_ints)
@SETTINGS
def test_cyclotomic_squaring_matches_squaring_in_the_cyclotomic_subgroup(s, a):
    m = cyclotomic(a)
    if fq12.is_zero(m):
        return
    fast, slow = new12(), new12()
    fq12.cyclotomic_sqr(fast, m, s)
    fq12.sqr(slow, m, s)
    assert fq12.eq(fast, slow)
    # Unitary: the conjugate is the inverse.
    conj, prod = new12(), new12()
    fq12.conj(conj, m)
    fq12.mul(prod, m, conj, s)
    assert fq12.is_one(prod)


@given(fq12_ints)
@SETTINGS
def test_compressed_squaring_is_the_cyclotomic_square_on_the_four_kept_coefficients(s, a):
    m = cyclotomic(a)
    assume(not fq12.is_zero(m))
    full, compressed = new12(), m.copy()
    fq12.cyclotomic_sqr(full, m, s)
    fq12.cyclotomic_sqr_compressed(compressed, compressed, s)
    kept = [(0, 1), (0, 2), (1, 0), (1, 2)]
    for h, k in kept:
        assert np.array_equal(compressed[h, k], full[h, k])
    # The two dropped coefficients are left alone, not half-written.
    assert np.array_equal(compressed[0, 0], m[0, 0]) and np.array_equal(compressed[1, 1], m[1, 1])


@given(fq12_ints, st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=7, unique=True))
@settings(max_examples=15, deadline=None)
def test_compressed_power_matches_granger_scott_power(s, a, set_bits):
    m = cyclotomic(a)
    assume(not fq12.is_zero(m))      # only 0 lies outside the group the easy part lands in
    positions = np.array(sorted(set_bits), dtype=np.int64)
    e = sum(1 << int(b) for b in positions)
    bits = np.array([int(b) for b in bin(e)[2:]], dtype=np.uint8)
    # It declines exactly when some kept power m^(2^b) has a[1,0] = 0 (sparse elements such as
    # the easy part of a monomial do), and then leaves out untouched.
    declines = any(fq12_to_ints(fq12_pow(m, 1 << int(b)))[1][0] == (0, 0) for b in positions)
    fast, slow = np.full((2, 3, 2, 12), 7, dtype=np.uint32), new12()
    assert fq12.cyclotomic_pow_compressed(fast, m, positions, s) == (not declines)
    if declines:
        assert (fast == 7).all()
        return
    fq12.cyclotomic_pow_bits(slow, m, bits, s)
    assert fq12.eq(fast, slow)
    # out may alias the input.
    t = m.copy()
    assert fq12.cyclotomic_pow_compressed(t, t, positions, s)
    assert fq12.eq(t, slow)


def test_compressed_power_declines_where_it_would_divide_by_zero(s):
    # The identity has g2 = a[1,0] = 0 in every power: the routine says so and leaves out untouched,
    # so that the caller (the pairing's exponentiation by x) can take Granger-Scott instead.
    one, out = fq12_one(), np.full((2, 3, 2, 12), 7, dtype=np.uint32)
    assert not fq12.cyclotomic_pow_compressed(out, one, np.array([1, 5], dtype=np.int64), s)
    assert (out == 7).all()


@given(fq12_ints, st.integers(min_value=0, max_value=2**80))
@settings(max_examples=10, deadline=None)
def test_powers(s, a, e):
    x = fq12_from_ints(a)
    assert fq12_to_ints(fq12_pow(x, e)) == from_py_ecc(to_py_ecc(a) ** e)
    m = cyclotomic(a)
    bits = np.array([int(b) for b in bin(e)[2:]], dtype=np.uint8)
    out = new12()
    fq12.cyclotomic_pow_bits(out, m, bits, s)
    assert fq12.eq(out, fq12_pow(m, e))


def test_pow_rejects_negative_exponents():
    with pytest.raises(ValueError):
        fq12_pow(fq12_one(), -1)


@given(fq12_ints, fq12_ints)
@settings(max_examples=10, deadline=None)
def test_outputs_may_alias_inputs(s, a, b):
    x, y = fq12_from_ints(a), fq12_from_ints(b)
    expected, t = new12(), x.copy()
    fq12.mul(expected, x, y, s)
    fq12.mul(t, t, y, s)
    assert fq12.eq(t, expected)
    t = y.copy()
    fq12.mul(t, x, t, s)
    assert fq12.eq(t, expected)
    for routine in (fq12.sqr, fq12.inv, fq12.cyclotomic_sqr):
        routine(expected, x, s)
        t = x.copy()
        routine(t, t, s)
        assert fq12.eq(t, expected)
    fq12.mul_by_014(expected, x, y[0, 0], y[0, 1], y[1, 1], s)
    t = x.copy()
    fq12.mul_by_014(t, t, y[0, 0], y[0, 1], y[1, 1], s)
    assert fq12.eq(t, expected)
    f6, t6 = new6(), x[0].copy()
    fq6.mul(f6, x[0], y[0], s)
    fq6.mul(t6, t6, y[0], s)
    assert fq6.eq(t6, f6)
    for routine in (fq6.sqr, fq6.inv, fq6.mul_by_v):
        routine(f6, x[0], s)
        t6 = x[0].copy()
        routine(t6, t6, s)
        assert fq6.eq(t6, f6)


def test_one_zero_and_equality(s):
    one = fq12_one()
    assert fq12.is_one(one) and not fq12.is_zero(one)
    assert fq12_to_ints(one) == (((1, 0), (0, 0), (0, 0)), ((0, 0), (0, 0), (0, 0)))
    other = fq12_from_ints((((1, 0), (0, 0), (0, 0)), ((0, 0), (0, 1), (0, 0))))
    assert not fq12.is_one(other) and not fq12.eq(one, other)
    assert new_scratch().shape == (SCRATCH_ROWS, 12)
