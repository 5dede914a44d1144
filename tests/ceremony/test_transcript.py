"""Transcript primitives against references: BLAKE2b (hashlib) and snarkjs's own hash-to-G2,
Fr.fromRng and G1.fromRng (known answers recorded from snarkjs 0.7 / ffjavascript on bls12381)."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.ceremony.blake2b import Blake2b
from pipeline.ceremony import transcript as T

# node: hashToG2(bls12381, bytes(i*7+3 for i<64)) as G2.toUncompressed; then rngFromBeaconParams(first 32
# of those bytes, 10): Fr.fromRng (decimal) and G1.fromRng (uncompressed).
SEED = bytes((i * 7 + 3) & 0xFF for i in range(64))
H2G = (
    "080090f97b0426ea50af165634772726c9818f2dbb7516b173fccff51553f5a25066e540057e7018c91f44691851e358"
    "05206c703328d8030f2c7c431d73b5450234721bfa2cb1f027114086ec07cc46a138cee6a025bacc9c9ea2dd7c95f6c2"
    "0d768412f9d0463b2dfc993e5e30b49c2134c3d05ac467c2bc87861cca8187a5ffedc801ba785c8b233ac88e9e920833"
    "12d7625368277f875a53075c258aa01c088f3ef261a4536f24d3fae39f3c24c9da38582a021d23124a46f695f3e94885")
FR_BEACON = 2808834598595823241806695223178268164549190940321354952630796421669867352826
G1_BEACON = (
    "09973ccf3edbe2476094ad07da4ec125ab0d6ecdb6d66fceb6f081c5c443d5e30850f1296ee2db74466fc3a09ce52373"
    "0c171a5ea61d0e241ba55bf059f45386b2b59517e7778d1fc2455b96d008c6371208104ee3fc042b2368cf2a5e6ecca1")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 400), max_size=5), st.integers(0, 300))
def test_blake2b_matches_hashlib_and_resumes_from_partial_state(sizes, tail):
    ours, ref = Blake2b(), hashlib.blake2b(digest_size=64)
    for n in sizes:
        data = os.urandom(n)
        ours.update(data)
        ref.update(data)
    assert ours.digest() == ref.digest()
    resumed = Blake2b.from_partial(ours.partial())
    extra = os.urandom(tail)
    ref.update(extra)
    assert resumed.update(extra).digest() == ref.digest()


def test_partial_state_rejects_garbage():
    with pytest.raises(ValueError):
        Blake2b.from_partial(b"\0" * 100)


def test_hash_to_g2_and_beacon_rng_match_snarkjs():
    assert T.g2_uncompressed(T.hash_to_g2(SEED)).hex() == H2G
    rng = T.beacon_rng(SEED[:32], 10)
    assert T.fr_from_rng(rng) == FR_BEACON
    assert T.g1_uncompressed(T.g1_from_rng(rng)).hex() == G1_BEACON
    assert T.g2_uncompressed(T.hash_to_g2(bytes(64))) != T.g2_uncompressed(T.hash_to_g2(SEED))


def test_snarkjs_encodings_of_infinity_and_sign():
    from kernels.ec.points import g1_generator, g1_infinity, g1_neg

    assert T.g1_uncompressed(g1_infinity()) == bytes(96)
    assert T.g1_compressed(g1_infinity())[0] == 0x40
    g = g1_generator()
    a, b = T.g1_compressed(g)[0] & 0x80, T.g1_compressed(g1_neg(g))[0] & 0x80
    assert {a, b} == {0, 0x80}


def test_entropy_rng_is_not_repeatable():
    assert T.fr_from_rng(T.entropy_rng("same")) != T.fr_from_rng(T.entropy_rng("same"))
