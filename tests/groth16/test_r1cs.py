"""R1CS, builder, witness check and the QAP's H numerator against a Python-int reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import params
from kernels.ntt import SNARKJS_GENERATOR, domain_root
from pipeline.errors import InputError, ProofError
from pipeline.groth16.r1cs import R1CSBuilder
from pipeline.groth16.r1cs_to_qap import domain_size_for, h_numerator_odd_coset, qap_matrices
from tests.groth16.conftest import small_builder

R = params.R


def test_builder_puts_public_inputs_first(small_circuit):
    r1cs, z = small_circuit
    assert (r1cs.n_vars, r1cs.n_public, r1cs.n_constraints) == (6, 2, 3)
    assert z == [1, 3, 82, 5, 25, 75]      # one, x, out, then a, a², a²x
    assert r1cs.public_inputs(z) == [3, 82]
    r1cs.check_witness(z)


def test_unsatisfied_constraint_is_named(small_circuit):
    r1cs, z = small_circuit
    bad = list(z)
    bad[4] = 26                             # a² wrong: the first constraint fails
    with pytest.raises(ProofError, match=r"constraint 0 \(a squared\)"):
        r1cs.check_witness(bad)
    bad = list(z)
    bad[2] = 83                             # the output wrong: only the last constraint fails
    with pytest.raises(ProofError, match=r"constraint 2 \(out = a²x \+ offset\)"):
        r1cs.check_witness(bad)


def test_malformed_witness_is_an_input_error(small_circuit):
    r1cs, z = small_circuit
    with pytest.raises(InputError, match="6 variables"):
        r1cs.check_witness(z[:-1])
    with pytest.raises(InputError, match="constant 1"):
        r1cs.check_witness([2] + z[1:])
    with pytest.raises(InputError, match=r"\[0, r\)"):
        r1cs.check_witness(z[:3] + [R] + z[4:])


def test_missing_value_is_named():
    b = R1CSBuilder()
    x = b.private_input("x")
    b.mul(x, x, "square")
    with pytest.raises(InputError, match="'x' has no value"):
        b.witness()


def test_digest_tells_circuits_apart():
    assert small_builder().build().digest() == small_builder(x=4, a=6).build().digest()   # same shape
    assert small_builder().build().digest() != small_builder(offset=8).build().digest()


def test_a_circuit_cannot_change_under_its_cached_digest_and_qap(small_circuit):
    # prove() caches the digest and the QAP rows on the R1CS: an edit in place or a replaced matrix
    # would leave them describing another circuit, so neither is possible
    import dataclasses

    r1cs = small_circuit[0]
    digest = r1cs.digest()
    for m in (r1cs.a, r1cs.b, r1cs.c):
        for array in (m.row_ptr, m.cols, m.coeffs):
            with pytest.raises(ValueError, match="read-only"):
                array[...] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        r1cs.a = r1cs.b
    with pytest.raises(dataclasses.FrozenInstanceError):
        r1cs.a.coeffs = r1cs.b.coeffs
    assert r1cs.digest() == digest


def test_domain_size_counts_public_rows():
    assert domain_size_for(3, 2) == 8       # 3 + 2 + 1 = 6 rows
    assert domain_size_for(5, 2) == 8
    assert domain_size_for(6, 2) == 16


# --- the QAP numerator against naive interpolation over Python ints ---------------------------

def _interpolate_eval(xs, ys, at):
    """Value at `at` of the polynomial through (xs, ys), by Lagrange's formula."""
    total = 0
    for i, (xi, yi) in enumerate(zip(xs, ys)):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if j != i:
                num = num * (at - xj) % R
                den = den * (xi - xj) % R
        total += yi * num * pow(den, -1, R)
    return total % R


def _reference_numerator(r1cs, z):
    """p = A·B − C at ω_{2n}·ω^i, with A, B, C interpolated on snarkjs's domain (C = A∘B there)."""
    n = domain_size_for(r1cs.n_constraints, r1cs.n_public)
    omega, shift = domain_root(n, SNARKJS_GENERATOR), domain_root(2 * n, SNARKJS_GENERATOR)
    from kernels.ff.fields import FR

    def rows(m):
        out = []
        for i in range(m.n_rows):
            lo, hi = m.row_ptr[i], m.row_ptr[i + 1]
            coeffs = FR.to_ints(m.coeffs[lo:hi]) if hi > lo else []
            out.append(sum(c * z[col] for c, col in zip(coeffs, m.cols[lo:hi])) % R)
        return out

    a = rows(r1cs.a) + z[:r1cs.n_public + 1]
    b = rows(r1cs.b)
    a += [0] * (n - len(a))
    b += [0] * (n - len(b))
    c = [x * y % R for x, y in zip(a, b)]
    xs = [pow(omega, i, R) for i in range(n)]
    pts = [shift * x % R for x in xs]
    return [(_interpolate_eval(xs, a, t) * _interpolate_eval(xs, b, t) - _interpolate_eval(xs, c, t)) % R
            for t in pts], n, pts


def test_h_numerator_matches_interpolation(small_circuit):
    from kernels.ff.fields import FR
    from pipeline.groth16.r1cs import witness_to_mont

    r1cs, z = small_circuit
    want, n, _ = _reference_numerator(r1cs, z)
    got = FR.canonical_to_ints(h_numerator_odd_coset(qap_matrices(r1cs), witness_to_mont(z, r1cs.n_vars)))
    assert got == want
    # the prover's path: A·z and B·z of the witness check as the first rows, the input rows added here
    z_mont, rows = r1cs.checked_evaluations(z)
    assert rows[0].shape[0] == r1cs.n_constraints
    assert FR.canonical_to_ints(h_numerator_odd_coset(qap_matrices(r1cs), z_mont, rows)) == want
    with pytest.raises(ValueError):
        h_numerator_odd_coset(qap_matrices(r1cs), z_mont, (np.zeros((99, 8), np.uint32), rows[1]))


@settings(max_examples=10, deadline=None)
@given(x=st.integers(0, R - 1), a=st.integers(0, R - 1), offset=st.integers(0, R - 1))
def test_h_numerator_is_divisible_by_the_vanishing_polynomial(x, a, offset):
    """For a satisfying witness, p/Z (Z = −2 on the odd coset) has degree ≤ n − 2: its top coefficient is 0."""
    from kernels.ff.fields import FR
    from pipeline.groth16.r1cs import witness_to_mont

    b = small_builder(x, a, offset)
    r1cs, z = b.build(), b.witness()
    qap = qap_matrices(r1cs)
    n = qap.domain_size
    p = FR.canonical_to_ints(h_numerator_odd_coset(qap, witness_to_mont(z, r1cs.n_vars)))
    shift = domain_root(2 * n, SNARKJS_GENERATOR)
    omega = domain_root(n, SNARKJS_GENERATOR)
    h = [v * pow(R - 2, -1, R) % R for v in p]
    # Top coefficient of the interpolant of h on the coset: Σ h_i / Π_{j≠i}(x_i − x_j) = Σ h_i·x_i / (n·shift^n).
    xs = [shift * pow(omega, i, R) % R for i in range(n)]
    top = sum(hi * xi for hi, xi in zip(h, xs)) % R
    assert top == 0


def test_witness_values_outside_the_field_are_named(small_circuit):
    from kernels.ff.fields import FR
    from pipeline.groth16.r1cs import witness_to_mont

    r1cs, z = small_circuit
    ok = witness_to_mont(z, r1cs.n_vars)
    assert FR.to_ints(ok) == [v % R for v in z]
    for bad_value in (-1, R, R + 5, 1 << 256, (1 << 256) - 1):
        bad = list(z)
        bad[3] = bad_value
        with pytest.raises(InputError, match="witness value 3 is not a field element"):
            witness_to_mont(bad, r1cs.n_vars)
        if 0 <= bad_value < 1 << 256:           # the same value as canonical limbs
            limbs = FR.canonical(z)
            limbs[3] = np.frombuffer(bad_value.to_bytes(32, "little"), "<u4")
            with pytest.raises(InputError, match="witness value 3 is not a field element"):
                witness_to_mont(limbs, r1cs.n_vars)
    with pytest.raises(InputError, match="witness value 1 is not a field element"):
        witness_to_mont((v for v in [1, -1, -2, 4, 5, 6]), r1cs.n_vars)     # a generator: read once
    edge = list(z)
    edge[3] = R - 1                             # the largest field element is accepted
    assert FR.to_ints(witness_to_mont(edge, r1cs.n_vars))[3] == R - 1
    with pytest.raises(InputError, match="the circuit has 6 variables"):
        witness_to_mont(z[:-1], r1cs.n_vars)
