"""Contribution keys and their proofs of knowledge, exactly as snarkjs draws and checks them.

A phase-1 key has secrets τ, α, β; for each secret x the contributor publishes s·G1 (s random),
s·x·G1 and s'·x·G2, where s' = hashToG2(BLAKE2b(personalization ‖ challenge ‖ s ‖ s·x)): anyone can
check e(s, s'·x) = e(s·x, s') and so that the contributor knew x, bound to this transcript. A
phase-2 key has one secret δ, with s' = hashToG2(transcript hash). Secrets are Python ints (the
scalar routines take ints); CPython cannot overwrite an int in place, so callers drop them with
`del` as soon as the points are made, and the garbage collector reclaims the memory.
"""

from __future__ import annotations

import numpy as np

from pipeline.ceremony.transcript import (ChaCha, fr_from_rng, g1_from_rng, g1_uncompressed, hash_to_g2)
from pipeline.snarkjs.ptau_file import PtauPubKey


def get_g2sp(personalization: int, challenge: bytes, g1_s: np.ndarray, g1_sx: np.ndarray) -> np.ndarray:
    """snarkjs's `getG2sp`: the G2 point a phase-1 proof of knowledge is checked against."""
    from pipeline.ceremony.blake2b import blake2b
    return hash_to_g2(blake2b(bytes([personalization]), challenge, g1_uncompressed(g1_s), g1_uncompressed(g1_sx)))


def create_ptau_key(challenge: bytes, rng: ChaCha) -> tuple[dict, PtauPubKey]:
    """({"tau", "alpha", "beta"} secrets, public key) drawn from `rng` as snarkjs's `createPTauKey`."""
    from kernels.ec.points import g1_mul, g2_mul

    secret = {name: fr_from_rng(rng) for name in PtauPubKey.NAMES}
    g1_s, g1_sx, g2_spx = {}, {}, {}
    for personalization, name in enumerate(PtauPubKey.NAMES):
        g1_s[name] = g1_from_rng(rng)
        g1_sx[name] = g1_mul(g1_s[name], secret[name])
        g2_spx[name] = g2_mul(get_g2sp(personalization, challenge, g1_s[name], g1_sx[name]), secret[name])
    return secret, PtauPubKey(g1_s, g1_sx, g2_spx)


def same_ratio(g1a: np.ndarray, g1b: np.ndarray, g2a: np.ndarray, g2b: np.ndarray) -> bool:
    """e(g1a, g2b) = e(g1b, g2a), none of the four the point at infinity (snarkjs's `sameRatio`), and
    every one on its curve and in the order-r subgroup: the pairing sends a small-order component to 1,
    so without this check a proof of knowledge made of small-order points would pass (snarkjs skips it)."""
    from kernels.ec.points import g1_neg, g1_validate, g2_validate
    from kernels.errors import EncodingError
    from kernels.pairing import pairing_check

    if not all(np.asarray(p).any() for p in (g1a, g1b, g2a, g2b)):
        return False
    try:
        g1_validate(np.stack([np.asarray(g1a, np.uint32), np.asarray(g1b, np.uint32)]))
        g2_validate(np.stack([np.asarray(g2a, np.uint32), np.asarray(g2b, np.uint32)]))
    except (EncodingError, ValueError):
        return False
    return pairing_check(np.stack([np.asarray(g1a, np.uint32), g1_neg(g1b)]),
                         np.stack([np.asarray(g2b, np.uint32), np.asarray(g2a, np.uint32)]))
