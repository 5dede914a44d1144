"""The optimal ate pairing: a published known answer, py_ecc, bilinearity, multi-pairings, checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bls12_381 import G1, G2, add, multiply, neg, normalize
from py_ecc.optimized_bls12_381 import pairing as py_ecc_pairing

from kernels import params
from kernels.errors import KernelError
from kernels.ff.fields import FQ, fq2_from_ints
from kernels.ff.towers import fq12, fq12_from_ints, fq12_pow, fq12_to_ints, new_scratch
from kernels.pairing import (
    X_ABS_BITS, final_exponentiation, fq12_eq, fq12_is_one, miller_loop, multi_pairing, pairing,
    pairing_check,
)
from tests.kernels.test_towers import from_py_ecc

P, R, X = params.P, params.R, params.X
scalars = st.integers(min_value=1, max_value=R - 1)

# e(G1, G2) published by zkcrypto/bls12_381 (src/pairings.rs, `Gt::generator`): Fp12 coefficients in
# the same tower (c0.c0.c0, c0.c0.c1, c0.c1.c0, ...), each as six 64-bit little-endian limbs of the
# Montgomery form with R = 2^384, which is also our Montgomery radix.
ZKCRYPTO_GT_GENERATOR_MONT = [
    [0x1972E433A01F85C5, 0x97D32B76FD772538, 0xC8CE546FC96BCDF9,
     0xCEF63E7366D40614, 0xA611342781843780, 0x13F3448A3FC6D825],
    [0xD26331B02E9D6995, 0x9D68A482F7797E7D, 0x9C9B29248D39EA92,
     0xF4801CA2E13107AA, 0xA16C0732BDBCB066, 0x083CA4AFBA360478],
    [0x59E261DB0916B641, 0x2716B6F4B23E960D, 0xC8E55B10A0BD9C45,
     0x0BDB0BD99C4DEDA8, 0x8CF89EBF57FDAAC5, 0x12D6B7929E777A5E],
    [0x5FC85188B0E15F35, 0x34A06E3A8F096365, 0xDB3126A6E02AD62C,
     0xFC6F5AA97D9A990B, 0xA12F55F5EB89C210, 0x1723703A926F8889],
    [0x93588F2971828778, 0x43F65B8611AB7585, 0x3183AAF5EC279FDF,
     0xFA73D7E18AC99DF6, 0x64E176A6A64C99B0, 0x179FA78C58388F1F],
    [0x672A0A11CA2AEF12, 0x0D11B9B52AA3F16B, 0xA44412D0699D056E,
     0xC01D0177221A5BA5, 0x66E0CEDE6C735529, 0x05F5A71E9FDDC339],
    [0xD30A88A1B062C679, 0x5AC56A5D35FC8304, 0xD0C834A6A81F290D,
     0xCD5430C2DA3707C7, 0xF0C27FF780500AF0, 0x09245DA6E2D72EAE],
    [0x9F2E0676791B5156, 0xE2D1C8234918FE13, 0x4C9E459F3C561BF4,
     0xA3E85E53B9D3E3C1, 0x820A121E21A70020, 0x15AF618341C59ACC],
    [0x7C95658C24993AB1, 0x73EB38721CA886B9, 0x5256D749477434BC,
     0x8BA41902EA504A8B, 0x04A3D3F80C86CE6D, 0x18A64A87FB686EAA],
    [0xBB83E71BB920CF26, 0x2A5277AC92A73945, 0xFC0EE59F94F046A0,
     0x7158CDF3786058F7, 0x7CC1061B82F945F6, 0x03F847AA9FDBE567],
    [0x8078DBA56134E657, 0x1CD7EC9A43998A6E, 0xB1AA599A1A993766,
     0xC9A0F62F0842EE44, 0x8E159BE3B605DFFA, 0x0C86BA0D4AF13FC2],
    [0xE80FF2A06A52FFB1, 0x7694CA48721A906C, 0x7583183E03B08514,
     0xF567AFDD40CEE4E2, 0x9A6D96D2E526A5FC, 0x197E9F49861F2242],
]


def g1(point) -> np.ndarray:
    """(2, 12) Montgomery array of a py_ecc G1 point (all zero for infinity)."""
    if point[2] == point[2].zero():
        return np.zeros((2, 12), dtype=np.uint32)
    x, y = normalize(point)
    return FQ.from_ints([int(x), int(y)])


def g2(point) -> np.ndarray:
    """(2, 2, 12) Montgomery array of a py_ecc G2 point (all zero for infinity)."""
    if point[2] == point[2].zero():
        return np.zeros((2, 2, 12), dtype=np.uint32)
    x, y = normalize(point)
    return fq2_from_ints([tuple(int(c) for c in x.coeffs), tuple(int(c) for c in y.coeffs)])


def mul12(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    fq12.mul(out, a, b, new_scratch())
    return out


@pytest.fixture(scope="module")
def e_gen() -> np.ndarray:
    return pairing(g1(G1), g2(G2))


def test_hard_part_chain_is_three_times_the_hard_exponent():
    # The x-chain in final_exponentiation computes this exponent (eprint 2020/875).
    assert (P**4 - P**2 + 1) % R == 0
    assert (X - 1) ** 2 * (X + P) * (X**2 + P**2 - 1) + 3 == 3 * (P**4 - P**2 + 1) // R
    assert int("".join(map(str, X_ABS_BITS)), 2) == -X


def test_generators_pair_to_the_published_gt_generator(e_gen):
    ints = [sum(limb << (64 * k) for k, limb in enumerate(limbs)) * pow(2**384, -1, P) % P
            for limbs in ZKCRYPTO_GT_GENERATOR_MONT]
    expected = tuple(tuple((ints[6 * h + 2 * k], ints[6 * h + 2 * k + 1]) for k in range(3)) for h in range(2))
    assert fq12_to_ints(e_gen) == expected


def test_agrees_with_py_ecc():
    # py_ecc raises its Miller value for |x| (no conjugation for x < 0) to exactly (p^12 - 1)/r; ours is
    # conjugated and cubed by the x-chain, so ours = py_ecc^(-3).
    p_point, q_point = multiply(G1, 0x1234567), multiply(G2, 0x89ABCDEF)
    ours = pairing(g1(p_point), g2(q_point))
    ref = py_ecc_pairing(q_point, p_point)
    assert fq12_to_ints(ours) == from_py_ecc((ref ** 3).inv())
    assert not fq12_is_one(ours)


@given(scalars, scalars)
@settings(max_examples=4, deadline=None)
def test_bilinearity(e_gen, a, b):
    lhs = pairing(g1(multiply(G1, a)), g2(multiply(G2, b)))
    assert fq12_eq(lhs, fq12_pow(e_gen, a * b % R))
    assert fq12_eq(lhs, pairing(g1(multiply(G1, a * b % R)), g2(G2)))
    assert fq12_eq(lhs, pairing(g1(G1), g2(multiply(G2, a * b % R))))


def test_linearity_in_each_argument():
    p1, p2, q1, q2 = multiply(G1, 11), multiply(G1, 1 << 200), multiply(G2, 7), multiply(G2, R - 5)
    assert fq12_eq(pairing(g1(add(p1, p2)), g2(q1)), mul12(pairing(g1(p1), g2(q1)), pairing(g1(p2), g2(q1))))
    assert fq12_eq(pairing(g1(p1), g2(add(q1, q2))), mul12(pairing(g1(p1), g2(q1)), pairing(g1(p1), g2(q2))))


def test_non_degenerate_and_of_order_r(e_gen):
    # r is prime, so an element other than 1 with e^r = 1 has order exactly r.
    assert not fq12_is_one(e_gen)
    assert fq12_is_one(fq12_pow(e_gen, R))


def test_infinity_pairs_to_one():
    assert fq12_is_one(pairing(np.zeros((2, 12), np.uint32), g2(G2)))
    assert fq12_is_one(pairing(g1(G1), np.zeros((2, 2, 12), np.uint32)))
    assert fq12_is_one(multi_pairing(np.zeros((0, 2, 12), np.uint32), np.zeros((0, 2, 2, 12), np.uint32)))


def test_multi_pairing_is_the_product_of_pairings():
    pairs = [(multiply(G1, 3), multiply(G2, 5)), (multiply(G1, 1 << 100), G2), (G1, multiply(G2, R - 1)),
             (multiply(G1, 9), None)]
    ps = np.stack([g1(p) for p, _ in pairs])
    qs = np.stack([g2(q) if q is not None else np.zeros((2, 2, 12), np.uint32) for _, q in pairs])
    expected = pairing(ps[0], qs[0])
    for k in range(1, len(pairs)):
        expected = mul12(expected, pairing(ps[k], qs[k]))
    assert fq12_eq(multi_pairing(ps, qs), expected)
    # Miller values multiply before one shared final exponentiation.
    split = mul12(miller_loop(ps[:2], qs[:2]), miller_loop(ps[2:], qs[2:]))
    assert fq12_eq(final_exponentiation(split), expected)


def test_pairing_check():
    p_point, q_point = multiply(G1, 1234), multiply(G2, 5678)
    assert pairing_check(np.stack([g1(p_point), g1(neg(p_point))]), np.stack([g2(q_point), g2(q_point)]))
    # Groth16-shaped: e(aP, Q) e(-P, aQ) = 1.
    a = 0xDEADBEEF
    assert pairing_check(np.stack([g1(multiply(p_point, a)), g1(neg(p_point))]),
                         np.stack([g2(q_point), g2(multiply(q_point, a))]))
    assert not pairing_check(np.stack([g1(p_point), g1(neg(p_point))]),
                             np.stack([g2(q_point), g2(multiply(q_point, 2))]))
    assert not pairing_check(g1(p_point)[None], g2(q_point)[None])


def test_final_exponentiation_of_one_and_of_zero():
    # 1 takes the Granger-Scott fallback of the compressed exponentiation by x (it has a[1,0] = 0);
    # 0 is documented to map to 0.
    one = np.zeros((2, 3, 2, 12), np.uint32)
    fq12.set_one(one)
    assert fq12_is_one(final_exponentiation(one))
    assert fq12.is_zero(final_exponentiation(np.zeros((2, 3, 2, 12), np.uint32)))


@pytest.mark.parametrize("value", [
    (((0, 0), (0, 0), (0, 0)), ((0, 0), (0, 0), (0, 1))),      # i w^5: its easy part is 1, the fallback
    (((1, 0), (0, 0), (0, 0)), ((1, 0), (0, 0), (0, 0))),      # 1 + w
    (((3, 1), (4, 1), (5, 9)), ((2, 6), (5, 3), (5, 8))),
])
def test_final_exponentiation_is_the_power_it_names(value):
    f = fq12_from_ints(value)
    assert fq12_eq(final_exponentiation(f), fq12_pow(f, 3 * (P**12 - 1) // R))


def test_rejects_wrong_shapes_and_dtypes():
    p, q = g1(G1), g2(G2)
    with pytest.raises(KernelError):
        pairing(p.astype(np.int64), q)
    with pytest.raises(KernelError):
        pairing(q, p)
    with pytest.raises(KernelError):
        multi_pairing(np.stack([p, p]), q[None])
    with pytest.raises(KernelError):
        final_exponentiation(np.zeros((2, 3, 2, 11), np.uint32))
