"""Poseidon over Fr: Grain constants, MDS checks, round numbers, the permutation and the sponge."""

from __future__ import annotations

import itertools
import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import params as curve
from kernels.ff.fields import FR
from kernels.poseidon import (GrainLFSR, PoseidonSponge, mds_security_check, permute_batch_inplace,
                              poseidon_hash, poseidon_hash_batch, poseidon_hash_many, poseidon_params,
                              poseidon_permutation, poseidon_permutation_ints, round_numbers,
                              security_bound_rounds, sponge_domain_tag)
from kernels.poseidon import grain, linalg

R = curve.R


@pytest.fixture(scope="module")
def vectors(shared_testdata):
    return json.loads((shared_testdata / "poseidon" / "bls12_381_x5.json").read_text())


def test_published_vectors(vectors):
    assert int(vectors["field_modulus"], 16) == R
    assert {v["t"] for v in vectors["permutations"]} == {3, 5}
    for v in vectors["permutations"]:
        t = v["t"]
        p = poseidon_params(t)
        assert (p.alpha, p.full_rounds, p.partial_rounds) == (v["alpha"], v["R_F"], v["R_P"])
        state = [int(x, 16) for x in v["input"]]
        expected = [int(x, 16) for x in v["output"]]
        assert poseidon_permutation_ints(state, t) == expected
        assert poseidon_permutation(state, t) == expected
        if "round_constants" in v:
            assert [c for row in p.round_constants for c in row] == [int(x, 16) for x in v["round_constants"]]
        if "mds" in v:
            assert [list(row) for row in p.mds] == [[int(x, 16) for x in row] for row in v["mds"]]


def reference_grain_bits(field_bits, t, full, partial, count):
    """The reference generator transcribed literally (list state, pop(0)/append), for comparison."""
    seq = [int(b) for b in format(1, "02b") + format(0, "04b") + format(field_bits, "012b") + format(t, "012b")
           + format(full, "010b") + format(partial, "010b")] + [1] * 30

    def step():
        new = seq[62] ^ seq[51] ^ seq[38] ^ seq[23] ^ seq[13] ^ seq[0]
        seq.pop(0)
        seq.append(new)
        return new

    for _ in range(160):
        step()
    out = []
    while len(out) < count:
        bit = step()
        while bit == 0:
            step()
            bit = step()
        out.append(step())
    return "".join(map(str, out))


@pytest.mark.parametrize("t,full,partial", [(3, 8, 57), (9, 8, 63)])
def test_grain_stream_matches_the_literal_reference(t, full, partial):
    lfsr = GrainLFSR(255, t, full, partial)
    got = lfsr.bits(700) + lfsr.bits(333)        # across refills and uneven requests
    assert got == reference_grain_bits(255, t, full, partial, 1033)


def test_round_numbers():
    assert security_bound_rounds(3) == (8, 56)
    # the early-stopping search finds what the reference's full brute force finds
    from kernels.poseidon.rounds import _bounds_2019, _bounds_current, _cheapest
    for t in (2, 3, 5, 9, 12):
        for bounds in (_bounds_2019, _bounds_current):
            assert _cheapest(bounds, R, t, 5, 128, 255) == _cheapest(bounds, R, t, 5, 128, 255, exhaustive=True)
    assert round_numbers(3) == (8, 57)          # reference instance
    assert round_numbers(5) == (8, 60)          # reference instance
    assert round_numbers(9) == (8, 63)
    assert round_numbers(12) == (8, 60)
    with pytest.raises(ValueError):
        round_numbers(1)


def _minors_nonzero(m):
    t = len(m)
    for k in range(1, t + 1):
        for rows in itertools.combinations(range(t), k):
            for cols in itertools.combinations(range(t), k):
                if linalg.rank([[m[i][j] for j in cols] for i in rows], R) < k:
                    return False
    return True


@pytest.mark.parametrize("t", [3, 5])
def test_generated_matrix_is_mds_and_passes_the_checks(t):
    p = poseidon_params(t)
    m = [list(row) for row in p.mds]
    assert _minors_nonzero(m)                   # every square submatrix invertible: MDS
    check = mds_security_check(m, R)
    assert check.secure and check == p.mds_check
    assert len(p.round_constants) == p.rounds and all(len(row) == t and all(0 <= c < R for c in row)
                                                      for row in p.round_constants)


@pytest.mark.parametrize("t", [9, 12])
def test_wide_instances_are_recorded(t):
    p = poseidon_params(t)
    d = p.describe()
    assert (d["t"], d["R_F"], d["R_P"], d["alpha"], d["R_P_bound"]) == (t, 8, round_numbers(t)[1], 5, 57)
    assert d["mds_check"]["secure"] is True and d["mds_check"]["algorithm_1"] == 0
    assert d["fingerprint"] == poseidon_params(t).fingerprint() and len(d["fingerprint"]) == 64
    assert json.loads(json.dumps(d)) == d
    state = list(range(t))
    assert poseidon_permutation(state, t) == poseidon_permutation_ints(state, t)


@pytest.mark.parametrize("t", [2, 3, 4, 5, 9, 12, 17])
def test_pinned_mds_checks_are_what_the_full_checks_give(t):
    # poseidon_params takes these matrices with their recorded results; generating with no pins runs
    # every check again: the same matrix, the same results, and a pin for each width recorded.
    from kernels.poseidon.grain import matrix_digest
    from kernels.poseidon.params import CHECKED_MDS, generate_params

    full, partial = round_numbers(t)
    fresh = generate_params(t, full, partial)
    assert CHECKED_MDS[matrix_digest(fresh.mds)] == fresh.mds_check == mds_security_check(fresh.mds, R)
    pinned = poseidon_params(t)
    assert (pinned.mds, pinned.mds_check, pinned.round_constants) == (fresh.mds, fresh.mds_check, fresh.round_constants)
    assert pinned.fingerprint() == fresh.fingerprint()


def test_an_unpinned_matrix_is_checked_in_full(monkeypatch):
    from kernels.poseidon import grain

    calls = []
    real = grain.algorithm_1
    monkeypatch.setattr(grain, "algorithm_1", lambda m, p: calls.append(len(m)) or real(m, p))
    full, partial = round_numbers(3)
    from kernels.poseidon.params import CHECKED_MDS, generate_params
    assert generate_params(3, full, partial, checked=CHECKED_MDS).mds_check.secure and calls == []
    wrong = {k: grain.MdsCheck(1, False, False, False) for k in ("0" * 64,)}   # pins of other matrices
    assert generate_params(3, full, partial, checked=wrong).mds_check.secure and calls == [3]


def test_mds_checks_reject_weak_matrices():
    p = 101
    assert grain.algorithm_1([[5, 0, 0], [0, 5, 0], [0, 0, 5]], p) == 1        # scalar matrix
    assert grain.algorithm_1([[1, 0, 0], [0, 2, 0], [0, 0, 3]], p) == 2        # eigenvectors inside x_0 = 0
    assert not grain.algorithm_2([[1, 2, 0], [3, 4, 0], [0, 0, 5]], p)         # e_0 stays in a block
    assert grain.algorithm_2([[0, 1], [1, 0]], p)
    assert not grain.algorithm_3([[0, 1], [1, 0]], p)                           # M^2 = I
    assert not mds_security_check([[1, 0, 0], [0, 2, 0], [0, 0, 3]], p).secure


@settings(max_examples=15, deadline=None)
@given(st.sampled_from([3, 5, 9]), st.randoms(use_true_random=False))
def test_native_permutation_matches_integers(t, rnd):
    state = [rnd.choice([0, 1, R - 1, rnd.randrange(R)]) for _ in range(t)]
    assert poseidon_permutation(state, t) == poseidon_permutation_ints(state, t)


def test_batch_permutation_matches_single():
    rng = random.Random(1)
    t, m = 5, 7
    ints = [[rng.randrange(R) for _ in range(t)] for _ in range(m)]
    states = FR.from_ints([v for row in ints for v in row]).reshape(m, t, 8)
    permute_batch_inplace(states, t)
    assert [FR.to_ints(states[k]) for k in range(m)] == [poseidon_permutation_ints(row, t) for row in ints]
    with pytest.raises(ValueError):
        permute_batch_inplace(states[:, :3].copy(), t)
    with pytest.raises(ValueError):
        poseidon_permutation([1, 2], 3)


def spec_hash(inputs, t, tag):
    """The sponge rule of kernels/poseidon/sponge.py, transcribed over the integer permutation."""
    rate = t - 1
    state = [tag % R] + [0] * rate
    blocks = [inputs[i:i + rate] for i in range(0, len(inputs), rate)] or [[]]
    for block in blocks:
        block = block + [0] * (rate - len(block))
        state = [state[0]] + [(s + b) % R for s, b in zip(state[1:], block)]
        state = poseidon_permutation_ints(state, t)
    return state[1]


@pytest.mark.parametrize("t,length", [(3, 0), (3, 1), (3, 2), (3, 5), (5, 4), (5, 9)])
def test_hash_follows_the_sponge_rule(t, length):
    rng = random.Random(length)
    inputs = [rng.randrange(R) for _ in range(length)]
    tag = sponge_domain_tag("shape-a", length, t)
    expected = spec_hash(inputs, t, tag)
    assert poseidon_hash(inputs, t, tag) == expected
    sponge = PoseidonSponge(t, tag)
    for value in inputs:                          # one element at a time
        sponge.absorb([value])
    assert sponge.squeeze(1) == [expected]
    assert poseidon_hash_many([inputs, inputs], t, tag) == [expected, expected]


def test_domain_separation():
    t = 3
    values = [11, 22, 33]
    tag = sponge_domain_tag("shape-a", 3, t)
    digests = {
        poseidon_hash(values, t, tag),
        poseidon_hash(values, t, sponge_domain_tag("shape-b", 3, t)),           # other label
        poseidon_hash(values + [0], t, sponge_domain_tag("shape-a", 4, t)),     # zero-padded, longer
        poseidon_hash(values, t, sponge_domain_tag("shape-a", 3, 5)),           # tag of another width
        poseidon_hash(values, 5, sponge_domain_tag("shape-a", 3, 5)),           # other width
    }
    assert len(digests) == 5
    assert len({sponge_domain_tag("a", n, t) for n in range(50)}) == 50
    with pytest.raises(ValueError):
        sponge_domain_tag("a", -1, t)


def test_sponge_squeezes_beyond_the_rate():
    tag = sponge_domain_tag("squeeze", 2, 3)
    out = PoseidonSponge(3, tag).absorb([1, 2]).squeeze(5)
    state = poseidon_permutation_ints([tag, 1, 2], 3)
    expected = state[1:]
    state = poseidon_permutation_ints(state, 3)
    expected += state[1:]
    state = poseidon_permutation_ints(state, 3)
    expected += state[1:2]
    assert out == expected
    sponge = PoseidonSponge(3, tag)
    sponge.squeeze()
    with pytest.raises(ValueError):
        sponge.absorb([1])


def test_batch_hash_of_many_rows():
    rng = random.Random(9)
    t, length, m = 5, 6, 20
    rows = [[rng.randrange(R) for _ in range(length)] for _ in range(m)]
    tag = sponge_domain_tag("batch", length, t)
    arr = FR.from_ints([v for row in rows for v in row]).reshape(m, length, 8)
    digests = FR.to_ints(poseidon_hash_batch(arr, t, tag))
    assert digests == [spec_hash(row, t, tag) for row in rows]
    assert poseidon_hash_many([], t, tag) == []
    with pytest.raises(ValueError):
        poseidon_hash_many([[1], [1, 2]], t, tag)
    with pytest.raises(ValueError):
        poseidon_hash_batch(np.zeros((2, 3), np.uint32), t, tag)


def test_a_pin_recording_a_failed_check_is_not_a_shortcut():
    # only a passing record skips the checks: a pin saying "failed" leaves the matrix to the full checks
    from kernels.poseidon import grain
    from kernels.poseidon.grain import matrix_digest
    from kernels.poseidon.params import generate_params

    full, partial = round_numbers(3)
    fresh = generate_params(3, full, partial)
    failed = {matrix_digest(fresh.mds): grain.MdsCheck(1, False, False, False)}
    again = generate_params(3, full, partial, checked=failed)
    assert again.mds == fresh.mds and again.mds_check == fresh.mds_check and again.mds_check.secure
