"""G1 and G2 arithmetic and checks against py_ecc (the slow reference) and the group order."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st
from py_ecc import optimized_bls12_381 as ref
from py_ecc.bls.point_compression import modular_squareroot_in_FQ2

from kernels import params
from kernels.ec import constants, points as P
from kernels.errors import EncodingError

R, Q = params.R, params.P
scalars = st.integers(min_value=0, max_value=R - 1)
EXAMPLES = settings(max_examples=15, deadline=None)


def g1_ints(pt):
    if ref.is_inf(pt):
        return None
    x, y = ref.normalize(pt)
    return (int(x), int(y))


def g2_ints(pt):
    if ref.is_inf(pt):
        return None
    x, y = ref.normalize(pt)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


def g1_of(k):
    return P.g1_from_ints([g1_ints(ref.multiply(ref.G1, k))])[0]


def g2_of(k):
    return P.g2_from_ints([g2_ints(ref.multiply(ref.G2, k))])[0]


def g1_outside_subgroup(rng):
    """A point of E1(Fq) that is not in G1: a random x with a square x^3 + 4, cofactor not cleared."""
    while True:
        x = rng.randrange(Q)
        y2 = (x**3 + 4) % Q
        y = pow(y2, (Q + 1) // 4, Q)
        if y * y % Q == y2:
            return (x, y)


def g2_outside_subgroup(rng):
    while True:
        x = ref.FQ2([rng.randrange(Q), rng.randrange(Q)])
        y = modular_squareroot_in_FQ2(x**3 + ref.b2)
        if y is not None:
            return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


# --- known answers and conversions ---------------------------------------------------------------
def test_generators_and_int_round_trip():
    assert P.g1_to_ints(P.g1_generator()) == [g1_ints(ref.G1)]
    assert P.g2_to_ints(P.g2_generator()) == [g2_ints(ref.G2)]
    assert P.g1_to_ints(P.g1_from_ints([None, params.G1_GENERATOR])) == [None, params.G1_GENERATOR]
    assert P.g2_to_ints(P.g2_from_ints([None, params.G2_GENERATOR])) == [None, params.G2_GENERATOR]
    assert not P.g1_infinity().any() and not P.g2_infinity().any()


def test_endomorphism_constants_act_as_documented():
    # sigma(G1) = [-x^2] G1 and psi(G2) = [x] G2, checked with py_ecc.
    gx, gy = params.G1_GENERATOR
    assert (constants.BETA * gx % Q, gy) == g1_ints(ref.neg(ref.multiply(ref.G1, params.X**2)))
    assert pow(constants.BETA, 3, Q) == 1 and constants.BETA != 1
    (x0, x1), (y0, y1) = params.G2_GENERATOR
    psi = (constants.fq2_mul((x0, -x1 % Q), constants.PSI_X), constants.fq2_mul((y0, -y1 % Q), constants.PSI_Y))
    assert psi == g2_ints(ref.neg(ref.multiply(ref.G2, -params.X)))


@EXAMPLES
@given(a=scalars, b=scalars)
def test_g1_add_neg_mul_match_py_ecc(a, b):
    pa, pb = g1_of(a), g1_of(b)
    assert P.g1_to_ints(P.g1_add(pa, pb)) == [g1_ints(ref.multiply(ref.G1, (a + b) % R))]
    assert P.g1_to_ints(P.g1_neg(pa)) == [g1_ints(ref.multiply(ref.G1, -a % R))]
    assert P.g1_to_ints(P.g1_mul(pa, b)) == [g1_ints(ref.multiply(ref.G1, a * b % R))]


@settings(max_examples=6, deadline=None)
@given(a=scalars, b=scalars)
def test_g2_add_neg_mul_match_py_ecc(a, b):
    pa, pb = g2_of(a), g2_of(b)
    assert P.g2_to_ints(P.g2_add(pa, pb)) == [g2_ints(ref.multiply(ref.G2, (a + b) % R))]
    assert P.g2_to_ints(P.g2_neg(pa)) == [g2_ints(ref.multiply(ref.G2, -a % R))]
    assert P.g2_to_ints(P.g2_mul(pa, b)) == [g2_ints(ref.multiply(ref.G2, a * b % R))]


G1_OPS = (P.g1_add, P.g1_neg, P.g1_mul, P.g1_infinity, P.g1_generator, P.g1_to_ints)
G2_OPS = (P.g2_add, P.g2_neg, P.g2_mul, P.g2_infinity, P.g2_generator, P.g2_to_ints)


@pytest.mark.parametrize("ops", [G1_OPS, G2_OPS], ids=["g1", "g2"])
def test_group_laws(ops):
    add, neg, mul, inf, gen, to_ints = ops
    rng = random.Random(7)
    g = gen()
    a, b, c = (mul(g, rng.randrange(R)) for _ in range(3))
    same = lambda x, y: to_ints(x) == to_ints(y)  # noqa: E731
    assert same(add(add(a, b), c), add(a, add(b, c)))            # associativity
    assert same(add(a, b), add(b, a))                            # commutativity
    assert same(add(a, inf()), a) and same(add(inf(), a), a)     # identity
    assert not add(a, neg(a)).any()                              # inverse gives all-zero infinity
    assert same(add(a, a), mul(a, 2))                            # doubling = adding itself
    assert same(mul(a, -3), neg(mul(a, 3)))
    assert not mul(g, R).any() and not mul(g, 0).any()           # r G = O
    assert same(mul(g, R + 5), mul(g, 5))
    assert not mul(inf(), 12345).any() and not neg(inf()).any()


# --- checks --------------------------------------------------------------------------------------
def test_on_curve_and_subgroup_checks_g1():
    rng = random.Random(11)
    good = g1_of(rng.randrange(R))
    assert P.g1_is_on_curve(good) and P.g1_in_subgroup(good) and P.g1_in_subgroup_by_order(good)
    assert P.g1_is_on_curve(P.g1_infinity()) and P.g1_in_subgroup(P.g1_infinity())
    for _ in range(4):
        outside = P.g1_from_ints([g1_outside_subgroup(rng)])[0]
        assert P.g1_is_on_curve(outside)
        assert not P.g1_in_subgroup_by_order(outside)
        assert not P.g1_in_subgroup(outside)
        # clearing the cofactor lands in the subgroup, and both checks agree
        cleared = P.g1_mul(outside, params.H1)
        assert P.g1_in_subgroup(cleared) and P.g1_in_subgroup_by_order(cleared)
    x, y = g1_ints(ref.multiply(ref.G1, 5))
    assert not P.g1_is_on_curve(P.g1_from_ints([(x, y + 1)])[0])


def test_on_curve_and_subgroup_checks_g2():
    rng = random.Random(12)
    good = g2_of(rng.randrange(R))
    assert P.g2_is_on_curve(good) and P.g2_in_subgroup(good) and P.g2_in_subgroup_by_order(good)
    for _ in range(2):
        outside = P.g2_from_ints([g2_outside_subgroup(rng)])[0]
        assert P.g2_is_on_curve(outside)
        assert not P.g2_in_subgroup_by_order(outside)
        assert not P.g2_in_subgroup(outside)
    cleared = P.g2_mul(outside, params.H2)
    assert P.g2_in_subgroup(cleared) and P.g2_in_subgroup_by_order(cleared)
    (x, y) = params.G2_GENERATOR
    assert not P.g2_is_on_curve(P.g2_from_ints([(x, (y[0], y[1] + 1))])[0])


def test_validate_names_the_first_bad_point():
    rng = random.Random(13)
    pts = [g1_ints(ref.multiply(ref.G1, k)) for k in (1, 2, 3)] + [None]
    P.g1_validate(P.g1_from_ints(pts))
    P.g1_validate(P.g1_from_ints(pts)[0])
    off = (pts[0][0], pts[0][1] + 1)
    with pytest.raises(EncodingError, match=r"G1 point 2 is not on the curve"):
        P.g1_validate(P.g1_from_ints(pts[:2] + [off] + pts[2:]))
    with pytest.raises(EncodingError, match=r"G1 point 1 is not in the prime-order subgroup"):
        P.g1_validate(P.g1_from_ints([pts[0], g1_outside_subgroup(rng), off]))
    g2pts = [g2_ints(ref.multiply(ref.G2, 3)), None]
    P.g2_validate(P.g2_from_ints(g2pts))
    with pytest.raises(EncodingError, match=r"G2 point 2 is not in the prime-order subgroup"):
        P.g2_validate(P.g2_from_ints(g2pts + [g2_outside_subgroup(rng)]))


# --- batches -------------------------------------------------------------------------------------
def test_batch_to_affine_and_sum():
    rng = random.Random(14)
    ks = [rng.randrange(R) for _ in range(5)]
    # Jacobian inputs with random Z: (x z^2, y z^3, z), plus infinity (Z = 0).
    jac1, jac2 = [], []
    for k in ks:
        x, y = g1_ints(ref.multiply(ref.G1, k))
        z = rng.randrange(1, Q)
        jac1.append([x * z * z % Q, y * z**3 % Q, z])
        (x0, x1), (y0, y1) = g2_ints(ref.multiply(ref.G2, k))
        zz = (rng.randrange(1, Q), rng.randrange(Q))
        z2 = constants.fq2_mul(zz, zz)
        z3 = constants.fq2_mul(z2, zz)
        jac2.append([constants.fq2_mul((x0, x1), z2), constants.fq2_mul((y0, y1), z3), zz])
    jac1.insert(2, [1, 1, 0])
    jac2.insert(2, [(1, 0), (1, 0), (0, 0)])
    from kernels.ff.fields import FQ

    arr1 = FQ.from_ints([c for p in jac1 for c in p]).reshape(6, 3, 12)
    arr2 = FQ.from_ints([c for p in jac2 for pair in p for c in pair]).reshape(6, 3, 2, 12)
    want1 = [g1_ints(ref.multiply(ref.G1, k)) for k in ks]
    want2 = [g2_ints(ref.multiply(ref.G2, k)) for k in ks]
    assert P.g1_to_ints(P.g1_batch_to_affine(arr1)) == want1[:2] + [None] + want1[2:]
    assert P.g2_to_ints(P.g2_batch_to_affine(arr2)) == want2[:2] + [None] + want2[2:]
    # sums, with repeated points (the doubling case) and infinity
    pts = P.g1_from_ints(want1 + [want1[0], None])
    assert P.g1_to_ints(P.g1_sum(pts)) == [g1_ints(ref.multiply(ref.G1, (sum(ks) + ks[0]) % R))]
    pts2 = P.g2_from_ints(want2 + [None])
    assert P.g2_to_ints(P.g2_sum(pts2)) == [g2_ints(ref.multiply(ref.G2, sum(ks) % R))]
    assert not P.g1_sum(P.g1_from_ints([want1[0], g1_ints(ref.neg(ref.multiply(ref.G1, ks[0])))])).any()
