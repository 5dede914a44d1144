"""Point encodings: py_ecc's bytes, round trips, every class of invalid encoding; Fq/Fq2 square roots."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from py_ecc import optimized_bls12_381 as ref
from py_ecc.bls import point_compression as pc

from kernels import params
from kernels.ec import encoding as E, points as P, sqrt as S
from kernels.errors import EncodingError
from kernels.ff.fields import FQ, fq2_from_ints, fq2_to_ints
from tests.kernels.test_ec_points import g1_ints, g1_outside_subgroup, g2_ints, g2_outside_subgroup

R, Q = params.R, params.P


def py_g1(pt) -> bytes:
    return pc.compress_G1(pt).to_bytes(48, "big")


def py_g2(pt) -> bytes:
    z1, z2 = pc.compress_G2(pt)
    return z1.to_bytes(48, "big") + z2.to_bytes(48, "big")


@settings(max_examples=10, deadline=None)
@given(k=st.integers(min_value=0, max_value=R - 1))
def test_g1_compress_matches_py_ecc_and_round_trips(k):
    pt = ref.multiply(ref.G1, k)
    arr = P.g1_from_ints([g1_ints(pt)])[0]
    data = E.g1_compress(arr)
    assert data == py_g1(pt)
    assert np.array_equal(E.g1_decompress(data), arr)
    assert np.array_equal(E.g1_from_bytes_uncompressed(E.g1_to_bytes_uncompressed(arr)), arr)


@settings(max_examples=5, deadline=None)
@given(k=st.integers(min_value=0, max_value=R - 1))
def test_g2_compress_matches_py_ecc_and_round_trips(k):
    pt = ref.multiply(ref.G2, k)
    arr = P.g2_from_ints([g2_ints(pt)])[0]
    data = E.g2_compress(arr)
    assert data == py_g2(pt)
    assert np.array_equal(E.g2_decompress(data), arr)
    assert np.array_equal(E.g2_from_bytes_uncompressed(E.g2_to_bytes_uncompressed(arr)), arr)


def test_known_encodings_of_the_generators_and_infinity():
    # The zkcrypto/blst test vectors: the generators and infinity.
    assert E.g1_compress(P.g1_generator()).hex().startswith("97f1d3a73197d794")
    assert E.g2_compress(P.g2_generator()).hex().startswith("93e02b6052719f60")
    assert E.g1_compress(P.g1_infinity()) == b"\xc0" + bytes(47)
    assert E.g2_compress(P.g2_infinity()) == b"\xc0" + bytes(95)
    assert E.g1_to_bytes_uncompressed(P.g1_infinity()) == b"\x40" + bytes(95)
    assert not E.g1_decompress(b"\xc0" + bytes(47)).any()
    assert not E.g2_decompress(b"\xc0" + bytes(95)).any()


def test_batch_forms_and_y_with_zero_c1():
    rng = random.Random(3)
    ks = [rng.randrange(R) for _ in range(6)]
    g1s = [ref.multiply(ref.G1, k) for k in ks] + [ref.Z1]
    arr = P.g1_from_ints([g1_ints(p) for p in g1s])
    data = E.g1_compress_many(arr)
    assert data == b"".join(py_g1(p) for p in g1s)
    assert np.array_equal(E.g1_decompress_many(data, len(g1s)), arr)
    assert np.array_equal(E.g1_from_bytes_uncompressed(E.g1_to_bytes_uncompressed(arr), len(g1s)), arr)
    g2s = [ref.multiply(ref.G2, k) for k in ks[:2]] + [ref.Z2]
    arr2 = P.g2_from_ints([g2_ints(p) for p in g2s])
    data2 = E.g2_compress_many(arr2)
    assert data2 == b"".join(py_g2(p) for p in g2s)
    assert np.array_equal(E.g2_decompress_many(data2, 3), arr2)
    assert np.array_equal(E.g2_from_bytes_uncompressed(E.g2_to_bytes_uncompressed(arr2), 3), arr2)
    # The sign rule falls back to y.c0 when y.c1 = 0; such points are not in G2, so only encode.
    pt = P.g2_from_ints([((1, 0), (5, 0))])[0]
    assert E.g2_compress(pt)[0] & 0x20 == 0
    pt = P.g2_from_ints([((1, 0), (Q - 5, 0))])[0]
    assert E.g2_compress(pt)[0] & 0x20 == 0x20


def _g1_bytes(k=5):
    return bytearray(py_g1(ref.multiply(ref.G1, k)))


@pytest.mark.parametrize("mutate, reason", [
    (lambda b: b[:-1], "48 bytes"),
    (lambda b: b + b"\x00", "48 bytes"),
    (lambda b: bytes([b[0] & 0x7F]) + b[1:], "compression flag"),
    (lambda b: b"\xc0" + bytes(46) + b"\x01", "infinity"),
    (lambda b: b"\xe0" + bytes(47), "infinity"),
    (lambda b: bytes([b[0] | 0x40]) + b[1:], "infinity"),
    (lambda b: bytes([0x80 | (Q >> 376)]) + Q.to_bytes(48, "big")[1:], "not canonical"),
    (lambda b: bytes([0x80 | ((Q + 3) >> 376)]) + (Q + 3).to_bytes(48, "big")[1:], "not canonical"),
], ids=["short", "long", "no-compression-flag", "infinity-with-bits", "infinity-with-sort",
        "point-with-infinity-flag", "x-equals-p", "x-above-p"])
def test_g1_invalid_encodings_are_rejected(mutate, reason):
    with pytest.raises(EncodingError, match=reason):
        E.g1_decompress(bytes(mutate(bytes(_g1_bytes()))))


def test_g1_off_curve_and_outside_subgroup_rejected():
    # x with x^3 + 4 a non-square: no curve point has it.
    x = next(x for x in range(1, 100) if pow((x**3 + 4) % Q, (Q - 1) // 2, Q) == Q - 1)
    with pytest.raises(EncodingError, match="not a point of the curve"):
        E.g1_decompress(bytes([0x80 | (x >> 376)]) + x.to_bytes(48, "big")[1:])
    x, y = g1_outside_subgroup(random.Random(5))
    data = E.g1_compress(P.g1_from_ints([(x, y)])[0])
    with pytest.raises(EncodingError, match="not in the prime-order subgroup"):
        E.g1_decompress(data)
    # uncompressed: off curve, sort flag set, compression flag set
    good = bytearray(E.g1_to_bytes_uncompressed(P.g1_generator()))
    bad = bytearray(good)
    bad[-1] ^= 1
    for data, reason in ((bad, "not a point of the curve"), (bytes([good[0] | 0x20]) + good[1:], "sort flag"),
                         (bytes([good[0] | 0x80]) + good[1:], "compression flag")):
        with pytest.raises(EncodingError, match=reason):
            E.g1_from_bytes_uncompressed(bytes(data))
    # the batch form names the index
    many = py_g1(ref.G1) * 3 + E.g1_compress(P.g1_from_ints([(x, y)])[0])
    with pytest.raises(EncodingError, match=r"G1 point 3 \(of 4; 1 invalid\)"):
        E.g1_decompress_many(many, 4)
    with pytest.raises(EncodingError, match="take 192 bytes"):
        E.g1_decompress_many(many[:-1], 4)


def test_g2_invalid_encodings_are_rejected():
    good = py_g2(ref.multiply(ref.G2, 7))
    cases = [
        (good[:-1], "96 bytes"),
        (bytes([good[0] & 0x7F]) + good[1:], "compression flag"),
        (b"\xc0" + bytes(94) + b"\x01", "infinity"),
        (b"\xe0" + bytes(95), "infinity"),
        (good[:48] + Q.to_bytes(48, "big"), "not canonical"),                      # x.c0 = p
        (bytes([0x80 | (Q >> 376)]) + Q.to_bytes(48, "big")[1:] + good[48:], "not canonical"),  # x.c1 = p
    ]
    # x = (c0, 0) with x^3 + b2 a non-square in Fq2
    for c0 in range(1, 50):
        data = bytes([0x80]) + bytes(47) + c0.to_bytes(48, "big")
        try:
            E.g2_decompress(data)
        except EncodingError as err:
            if "not a point of the curve" in str(err):
                cases.append((data, "not a point of the curve"))
                break
    assert cases[-1][1] == "not a point of the curve"
    outside = P.g2_from_ints([g2_outside_subgroup(random.Random(6))])[0]
    cases.append((E.g2_compress(outside), "not in the prime-order subgroup"))
    unc = E.g2_to_bytes_uncompressed(P.g2_generator())
    cases.append((unc[:-1] + bytes([unc[-1] ^ 1]), "not a point of the curve"))
    for data, reason in cases:
        with pytest.raises(EncodingError, match=reason):
            if len(data) == 192:
                E.g2_from_bytes_uncompressed(data)
            else:
                E.g2_decompress(data)


def test_sqrt_fq_and_fq2_against_squaring():
    rng = random.Random(9)
    s = S.new_scratch()
    out = np.empty(12, np.uint32)
    squares = non_squares = 0
    for _ in range(12):
        a = rng.randrange(Q)
        ok = S.fq_sqrt(out, FQ.element(a), s)
        assert ok == (pow(a, (Q - 1) // 2, Q) in (0, 1))
        if ok:
            squares += 1
            assert FQ.value(out) ** 2 % Q == a
        else:
            non_squares += 1
    assert squares and non_squares
    assert S.fq_sqrt(out, FQ.element(0), s) and FQ.value(out) == 0
    out2 = np.empty((2, 12), np.uint32)
    found = {True: 0, False: 0}
    for case in [(0, 0), (Q - 1, 0), (4, 0), (0, 3)] + [(rng.randrange(Q), rng.randrange(Q)) for _ in range(8)]:
        a = fq2_from_ints([case])[0]
        ok = S.fq2_sqrt(out2, a, s)
        norm = (case[0] ** 2 + case[1] ** 2) % Q        # a is a square in Fq2 iff its norm is one in Fq
        assert ok == (pow(norm, (Q - 1) // 2, Q) in (0, 1))
        found[bool(ok)] += 1
        if ok:
            (r0, r1), = fq2_to_ints(out2)
            assert ((r0 * r0 - r1 * r1) % Q, 2 * r0 * r1 % Q) == case
    assert found[True] and found[False]
