"""The radix-2 NTT over Fr against naive O(n²) evaluation in Python ints."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.ff.fields import FR
from kernels.ntt import (SNARKJS_GENERATOR, TWO_ADIC_ROOT, TWO_ADICITY, coset_intt, coset_ntt, domain_root, intt,
                         ntt, ntt_inplace)
from kernels.ntt import radix2

R = FR.modulus


def naive_eval(coeffs: list[int], point: int) -> int:
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * point + c) % R
    return acc


def naive_dft(coeffs: list[int], omega: int) -> list[int]:
    return [naive_eval(coeffs, pow(omega, k, R)) for k in range(len(coeffs))]


def random_ints(n: int, rng: random.Random) -> list[int]:
    # Edge values first so that every size sees 0, 1 and r - 1.
    return ([0, 1, R - 1] + [rng.randrange(R) for _ in range(n)])[:n]


def test_roots_of_unity_have_exact_order():
    t = (R - 1) >> TWO_ADICITY
    assert TWO_ADICITY == 32 and t % 2 == 1
    assert TWO_ADIC_ROOT == pow(7, t, R)
    for k in (0, 1, 2, 5, 16, 20, 31, 32):
        w = domain_root(1 << k)
        assert pow(w, 1 << k, R) == 1
        assert k == 0 or pow(w, 1 << (k - 1), R) == R - 1
        if k < 32:
            assert pow(domain_root(1 << (k + 1)), 2, R) == w
    # snarkjs (wasmcurves) derives its roots from the smallest quadratic non-residue.
    assert SNARKJS_GENERATOR == next(g for g in range(2, 100) if pow(g, (R - 1) // 2, R) == R - 1)
    w5 = domain_root(8, SNARKJS_GENERATOR)
    assert pow(w5, 8, R) == 1 and pow(w5, 4, R) == R - 1 and w5 != domain_root(8)


@pytest.mark.parametrize("n", [0, 3, 6, 12, 1 << 33])
def test_sizes_that_are_not_powers_of_two_are_rejected(n):
    with pytest.raises(ValueError):
        domain_root(n)
    if 0 < n < 64:
        with pytest.raises(ValueError, match="power of two"):
            ntt(np.zeros((n, 8), np.uint32))


def test_bad_inputs_are_rejected():
    x = FR.from_ints(range(8))
    with pytest.raises(ValueError):
        ntt(x.astype(np.uint64))
    with pytest.raises(ValueError):
        ntt(x[:, :4])
    with pytest.raises(ValueError):
        ntt_inplace(x[::2])                                   # not contiguous
    with pytest.raises(ValueError, match="primitive"):
        ntt(x, omega=domain_root(4))                          # order 4, not 8
    with pytest.raises(ValueError, match="non-zero"):
        coset_ntt(x, R)
    before = x.copy()
    with pytest.raises(ValueError):
        coset_ntt(x, 3, omega=2)
    assert (x == before).all()


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 32, 64])
def test_ntt_matches_naive_dft(n):
    rng = random.Random(n)
    a = random_ints(n, rng)
    x = FR.from_ints(a)
    assert FR.to_ints(ntt(x)) == naive_dft(a, domain_root(n))
    assert FR.to_ints(x) == a                                 # ntt() does not touch its input
    assert FR.to_ints(intt(FR.from_ints(naive_dft(a, domain_root(n))))) == a
    w5 = domain_root(n, SNARKJS_GENERATOR)
    assert FR.to_ints(ntt(x, omega=w5)) == naive_dft(a, w5)


def test_large_stage_path_matches_naive(monkeypatch):
    # With tiny blocks, the strided per-stage path does most stages; it must agree as well.
    monkeypatch.setattr(radix2, "BLOCK_LOG", 1)
    rng = random.Random(7)
    for n in (8, 64):
        a = random_ints(n, rng)
        assert FR.to_ints(ntt(FR.from_ints(a))) == naive_dft(a, domain_root(n))
        assert FR.to_ints(intt(ntt(FR.from_ints(a)))) == a


def test_size_beyond_one_block_spot_checks():
    n = 1 << (radix2.BLOCK_LOG + 2)
    rng = random.Random(11)
    a = random_ints(n, rng)
    x = FR.from_ints(a)
    y = ntt_inplace(x)
    assert y is x
    w = domain_root(n)
    values = FR.to_ints(y)
    for k in (0, 1, n // 2, n - 1, rng.randrange(n)):
        assert values[k] == naive_eval(a, pow(w, k, R))
    assert FR.to_ints(intt(y)) == a


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10).flatmap(lambda k: st.lists(st.integers(0, R - 1), min_size=1 << k, max_size=1 << k)))
def test_inverse_ntt_undoes_ntt(a):
    x = FR.from_ints(a)
    assert FR.to_ints(intt(ntt(x))) == a
    assert FR.to_ints(ntt(intt(x))) == a


@pytest.mark.parametrize("n", [1, 2, 8, 32])
def test_coset_ntt_evaluates_on_the_coset(n):
    rng = random.Random(100 + n)
    a = random_ints(n, rng)
    w = domain_root(n)
    for shift in (7, domain_root(2 * n), rng.randrange(1, R)):
        got = FR.to_ints(coset_ntt(FR.from_ints(a), shift))
        assert got == [naive_eval(a, shift * pow(w, k, R) % R) for k in range(n)]
        assert FR.to_ints(coset_intt(FR.from_ints(got), shift)) == a


def test_groth16_coset_is_the_odd_half_of_the_double_domain():
    # coset_ntt with shift ω_{2n} gives A(ω_{2n}^(2k+1)): the odd entries of the size-2n transform.
    rng = random.Random(5)
    n = 256
    a = random_ints(n, rng)
    odd = FR.to_ints(coset_ntt(FR.from_ints(a), domain_root(2 * n)))
    double = FR.to_ints(ntt(FR.from_ints(a + [0] * n)))
    assert odd == double[1::2]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, R - 1), min_size=1, max_size=40),
       st.lists(st.integers(0, R - 1), min_size=1, max_size=40))
def test_polynomial_product_via_ntt_equals_schoolbook(f, g):
    schoolbook = [0] * (len(f) + len(g) - 1)
    for i, fi in enumerate(f):
        for j, gj in enumerate(g):
            schoolbook[i + j] = (schoolbook[i + j] + fi * gj) % R
    n = 1 << (len(schoolbook) - 1).bit_length()
    ef = ntt(FR.from_ints(f + [0] * (n - len(f))))
    eg = ntt(FR.from_ints(g + [0] * (n - len(g))))
    prod = np.empty_like(ef)
    FR.mul_vec(prod, ef, eg)
    assert FR.to_ints(intt(prod)) == schoolbook + [0] * (n - len(schoolbook))
