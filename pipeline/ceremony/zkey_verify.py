"""`ceremony verify FILE.zkey [--ptau P] [--r1cs R]` (snarkjs's zkey_verify_frominit.js).

Always: every contribution's transcript hash, its proof of knowledge of δ (e(s, s'δ) = e(sδ, s')
with s' = hashToG2(transcript)), the δ chain from the generator to the key's δ, a beacon's δ
recomputed from its beacon hash, every point on its curve and in its subgroup, and the relations a
key alone allows. With the powers of tau and the circuit: the initial key is rebuilt (`zkey_new`)
and must have the same csHash, IC, coefficients, A, B₁, B₂ byte for byte and the same L and H up to
the final δ (one pairing each over random linear combinations).
"""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.ceremony.keypair import same_ratio
from pipeline.ceremony.powersoftau_verify import _msm, _random_scalars
from pipeline.ceremony.transcript import beacon_rng, fr_from_rng, g1_from_rng, g1_uncompressed, hash_to_g2
from pipeline.errors import ProofError
from pipeline.snarkjs.zkey_file import read_zkey_ceremony


def verify_transcript(z) -> None:
    """The contribution chain of an opened .zkey; ProofError naming the first bad contribution."""
    from kernels.ec.points import g1_generator, g1_mul, g2_generator

    h = hashlib.blake2b(digest_size=64)
    h.update(z.cs_hash)
    cur_delta = g1_generator()
    for i, c in enumerate(z.contributions):
        who = f"{z.path}: contribution {i + 1} ({c.name or 'unnamed'})"
        ours = h.copy()
        ours.update(g1_uncompressed(c.g1_s) + g1_uncompressed(c.g1_sx))
        if ours.digest() != c.transcript:
            raise ProofError(f"{who}: transcript hash does not match the contributions before it")
        g2_sp = hash_to_g2(c.transcript)
        if not same_ratio(c.g1_s, c.g1_sx, g2_sp, c.g2_spx):
            raise ProofError(f"{who}: the proof of knowledge of δ is wrong")
        if not same_ratio(cur_delta, c.delta_after, g2_sp, c.g2_spx):
            raise ProofError(f"{who}: δ after it is not δ before it times the proven secret")
        if c.type == 1:
            rng = beacon_rng(c.beacon_hash, c.iterations_exp)
            k = fr_from_rng(rng)
            g1_s = g1_from_rng(rng)
            if not (np.array_equal(g1_s, c.g1_s) and np.array_equal(g1_mul(g1_s, k), c.g1_sx)):
                raise ProofError(f"{who}: the beacon's δ does not follow from its beacon hash and iterations")
        h.update(c.hash_bytes())
        cur_delta = c.delta_after
    if not np.array_equal(z.delta1, cur_delta):
        raise ProofError(f"{z.path}: δ in G1 is not the last contribution's δ")
    if not same_ratio(g1_generator(), z.delta1, g2_generator(), z.delta2):
        raise ProofError(f"{z.path}: δ in G1 and G2 differ")


def _same_ratio_sections(a: np.ndarray, b: np.ndarray, delta2_b: np.ndarray) -> bool:
    """Σ r·a and Σ r·b have the ratio δ (b = a/δ): e(Σ r·a, G2) = e(Σ r·b, δ₂)."""
    from kernels.ec.points import g2_generator
    if a.shape[0] == 0:
        return True
    r = _random_scalars(a.shape[0])
    return same_ratio(_msm(a, r, "g1"), _msm(b, r, "g1"), delta2_b, g2_generator())


def verify_zkey(path, ptau_path=None, r1cs=None, log=None) -> dict:
    """Verify a .zkey (see the module docstring); `r1cs` is an R1CS or a .r1cs path.

    Returns {"contributions", "names", "beacon", "against_circuit", ...}. Raises ProofError with one
    line for a failed check, InputError for an unreadable file or a ptau/r1cs given without the other.
    """
    from pipeline.errors import InputError
    from pipeline.groth16.keys import check_proving_key
    from pipeline.snarkjs.zkey_file import read_zkey

    say = log or (lambda _m: None)
    if (ptau_path is None) != (r1cs is None):
        raise InputError("checking a .zkey against its circuit needs both --ptau and --r1cs")
    z = read_zkey_ceremony(path)
    say("transcript")
    verify_transcript(z)
    say("points and key relations")
    check_proving_key(read_zkey(path, validate=False).pk, str(path))
    against = False
    if ptau_path is not None:
        from pipeline.ceremony.zkey_new import initial_zkey
        from pipeline.snarkjs.r1cs_file import read_r1cs

        if not hasattr(r1cs, "n_constraints"):
            r1cs = read_r1cs(r1cs)
        say("rebuilding the initial key from the powers of tau and the circuit")
        init = initial_zkey(r1cs, ptau_path, log)
        if (init.n_vars, init.n_public, init.domain_size) != (z.n_vars, z.n_public, z.domain_size):
            raise ProofError(f"{path}: a key for another circuit ({z.n_vars} variables, {z.n_public} public, "
                             f"domain {z.domain_size}; the circuit has {init.n_vars}, {init.n_public}, {init.domain_size})")
        if init.cs_hash != z.cs_hash:
            raise ProofError(f"{path}: not made from this circuit and powers of tau (csHash differs)")
        for name, a, b in (("alpha_1", init.alpha1, z.alpha1), ("beta_1", init.beta1, z.beta1),
                           ("beta_2", init.beta2, z.beta2), ("gamma_2", init.gamma2, z.gamma2)):
            if not np.array_equal(a, b):
                raise ProofError(f"{path}: {name} differs from the powers of tau's")
        for kind, what in ((3, "IC"), (4, "coefficients"), (5, "A"), (6, "B1"), (7, "B2")):
            if bytes(init.raw[kind]) != bytes(z.raw[kind]):
                raise ProofError(f"{path}: section {kind} ({what}) differs from the circuit's (a key for another circuit?)")
        for kind, what in ((8, "L"), (9, "H")):
            if not _same_ratio_sections(init.points(kind), z.points(kind), z.delta2):
                raise ProofError(f"{path}: section {kind} ({what}) is not the initial one divided by δ")
        against = True
    return {"file": str(path), "contributions": len(z.contributions), "names": [c.name for c in z.contributions],
            "beacon": any(c.type == 1 for c in z.contributions), "against_circuit": against,
            "cs_hash": z.cs_hash.hex()}
