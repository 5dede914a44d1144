"""Fq, Fr and Fq2 against Python integers: known constants, field laws, conversions, bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import params
from kernels.errors import EncodingError
from kernels.ff.fields import FQ, FR, fq, fq2, fq2_from_ints, fq2_to_ints, fr
from kernels.ff.fq2 import S_INV, S_MUL, S_SQR, new_scratch
from kernels.ff.montgomery import FieldSpec, field_source, int_to_limbs, limbs_to_int

P, R = params.P, params.R
FIELDS = [pytest.param(FQ, fq, id="fq"), pytest.param(FR, fr, id="fr")]
SETTINGS = settings(max_examples=40, deadline=None)


def test_derived_constants_match_published_values():
    assert P == int(
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 16)
    assert R == int("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)
    # Curve orders: the generators are on their curves, and h1 * r = |E1(Fq)| = p + 1 - t with t = x + 1.
    gx, gy = params.G1_GENERATOR
    assert (gy * gy - gx**3 - params.B1) % P == 0
    assert params.H1 * R == P + 1 - (params.X + 1)


def test_limb_conversions_round_trip():
    for value in [0, 1, 2**32 - 1, 2**32, P - 1]:
        assert limbs_to_int(int_to_limbs(value, 12)) == value
    with pytest.raises(ValueError):
        int_to_limbs(2**384, 12)
    with pytest.raises(ValueError):
        int_to_limbs(-1, 12)


def test_montgomery_constants():
    for spec in (FQ.spec, FR.spec):
        m = spec.modulus
        assert spec.r == 2 ** (32 * spec.nlimbs) % m
        assert (spec.n0 * m) % 2**32 == 2**32 - 1  # n0 = -m^-1 mod 2^32
        assert spec.from_mont_int(spec.to_mont_int(12345)) == 12345


def test_generator_rejects_moduli_too_wide_for_no_carry_product():
    with pytest.raises(AssertionError):
        FieldSpec("wide", 2**255 - 19 + 2**255, 8)
    assert "def mul(out, a, b):" in field_source(FR.spec)


def edge_values(m):
    return [0, 1, 2, m - 1, m - 2, (m - 1) // 2, 2**32 - 1, 2**32, 2**64 + 7]


@pytest.mark.parametrize("field,ops", FIELDS)
def test_edge_values_against_integers(field, ops):
    m = field.modulus
    xs = edge_values(m)
    ys = list(reversed(xs))
    a, b = field.from_ints(xs), field.from_ints(ys)
    out = np.empty_like(a)
    field.mul_vec(out, a, b)
    assert field.to_ints(out) == [x * y % m for x, y in zip(xs, ys)]
    field.add_vec(out, a, b)
    assert field.to_ints(out) == [(x + y) % m for x, y in zip(xs, ys)]
    field.sub_vec(out, a, b)
    assert field.to_ints(out) == [(x - y) % m for x, y in zip(xs, ys)]
    field.inv_batch(out, a)
    assert field.to_ints(out) == [pow(x, -1, m) if x % m else 0 for x in xs]
    for x in xs:
        e = field.element(x)
        o = np.empty_like(e)
        ops.neg(o, e)
        assert field.value(o) == (-x) % m
        ops.dbl(o, e)
        assert field.value(o) == 2 * x % m
        ops.sqr(o, e)
        assert field.value(o) == x * x % m
        assert ops.is_zero(e) == (x % m == 0)


@pytest.mark.parametrize("field,ops", FIELDS)
def test_outputs_may_alias_inputs(field, ops):
    m = field.modulus
    x, y = 0x1234567890ABCDEF % m, (m - 3)
    a = field.element(x)
    b = field.element(y)
    ops.mul(a, a, b)
    assert field.value(a) == x * y % m
    ops.sub(b, a, b)
    assert field.value(b) == (x * y - y) % m
    ops.add(a, a, a)
    assert field.value(a) == 2 * x * y % m


def elements(m):
    return st.integers(min_value=0, max_value=m - 1)


@SETTINGS
@given(x=elements(P), y=elements(P), z=elements(P))
def test_fq_laws(x, y, z):
    _check_laws(FQ, fq, x, y, z)


@SETTINGS
@given(x=elements(R), y=elements(R), z=elements(R))
def test_fr_laws(x, y, z):
    _check_laws(FR, fr, x, y, z)


def _check_laws(field, ops, x, y, z):
    m = field.modulus
    a, b, c = (field.element(v) for v in (x, y, z))
    t1, t2, t3, tmp = (np.empty_like(a) for _ in range(4))
    ops.mul(t1, a, b)
    assert field.value(t1) == x * y % m
    ops.mul(t1, t1, c)                     # (ab)c
    ops.mul(t2, b, c)
    ops.mul(t2, a, t2)                     # a(bc)
    assert ops.eq(t1, t2)
    ops.add(t1, b, c)
    ops.mul(t1, a, t1)                     # a(b + c)
    ops.mul(t2, a, b)
    ops.mul(t3, a, c)
    ops.add(t2, t2, t3)                    # ab + ac
    assert ops.eq(t1, t2)
    ops.neg(t1, a)
    ops.add(t1, a, t1)                     # a + (-a)
    assert ops.is_zero(t1)
    ops.inv(t1, a, tmp)
    assert field.value(t1) == (pow(x, -1, m) if x else 0)
    bits = np.array([int(ch) for ch in bin(y)[2:]], dtype=np.uint8)
    ops.pow_bits(t1, a, bits, tmp)
    assert field.value(t1) == pow(x, y, m)


@pytest.mark.parametrize("field", [FQ, FR], ids=["fq", "fr"])
def test_canonical_bytes(field):
    m = field.modulus
    for value in [0, 1, m - 1]:
        for order in ("big", "little"):
            assert field.from_bytes(field.to_bytes(value, order), order) == value
    with pytest.raises(EncodingError, match="not canonical"):
        field.from_bytes(m.to_bytes(field.nbytes, "big"))
    with pytest.raises(EncodingError, match="bytes"):
        field.from_bytes(b"\x00" * (field.nbytes - 1))


def fq2_mul_ref(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


@SETTINGS
@given(a=st.tuples(elements(P), elements(P)), b=st.tuples(elements(P), elements(P)))
def test_fq2_against_integers(a, b):
    A, B = fq2_from_ints([a, b])
    out = np.empty_like(A)
    s = new_scratch(max(S_MUL, S_SQR, S_INV))
    fq2.mul(out, A, B, s)
    assert fq2_to_ints(out) == [fq2_mul_ref(a, b)]
    fq2.sqr(out, A, s)
    assert fq2_to_ints(out) == [fq2_mul_ref(a, a)]
    fq2.add(out, A, B)
    assert fq2_to_ints(out) == [((a[0] + b[0]) % P, (a[1] + b[1]) % P)]
    fq2.sub(out, A, B)
    assert fq2_to_ints(out) == [((a[0] - b[0]) % P, (a[1] - b[1]) % P)]
    fq2.mul_by_nonresidue(out, A, s)
    assert fq2_to_ints(out) == [fq2_mul_ref(a, (1, 1))]
    fq2.conj(out, A)
    assert fq2_to_ints(out) == [(a[0], (-a[1]) % P)]
    fq2.inv(out, A, s)
    if a == (0, 0):
        assert fq2.is_zero(out)
    else:
        fq2.mul(out, out, A, s)
        assert fq2_to_ints(out) == [(1, 0)]
