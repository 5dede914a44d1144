"""`ceremony contribute` / `ceremony beacon` on a .ptau (snarkjs's powersoftau_contribute.js and
powersoftau_beacon.js): multiply the accumulator by fresh τ, α, β and record the proof of knowledge.

Response hash = BLAKE2b(previous challenge ‖ new sections 2–6 compressed ‖ public key
uncompressed); its midstate before the key is stored. Next challenge = BLAKE2b(response hash ‖ new
sections 2–6 uncompressed). A contribution's secrets come from ChaCha seeded by BLAKE2b(64 bytes of
the OS CSPRNG ‖ --entropy); a beacon's from the public beacon hash (anyone can recompute it).
"""

from __future__ import annotations

import sys

import numpy as np

from pipeline.ceremony.apply_key import apply_key
from pipeline.ceremony.blake2b import Blake2b, blake2b
from pipeline.ceremony.keypair import create_ptau_key
from pipeline.ceremony.powersoftau_new import first_challenge_hash
from pipeline.ceremony.transcript import (beacon_rng, entropy_rng, g1_compressed, g1_uncompressed, g2_compressed,
                                          g2_uncompressed)
from pipeline.errors import InputError
from pipeline.snarkjs.ptau_file import PtauContribution, read_ptau, write_ptau_sections

_ENC = {"g1": (g1_compressed, g1_uncompressed), "g2": (g2_compressed, g2_uncompressed)}


def last_challenge(ptau) -> bytes:
    return ptau.contributions[-1].next_challenge if ptau.contributions else first_challenge_hash(ptau.power)


_PTAU_SECTIONS = ((2, "tauG1", "g1"), (3, "tauG2", "g2"), (4, "alphaTauG1", "g1"), (5, "betaTauG1", "g1"),
                  (6, "betaG2", "g2"))


def check_input_points(items, path, say) -> None:
    """InputError unless every point a contributor is about to multiply by its secret is on its curve
    and in the order-r subgroup; items: (what, "g1" | "g2", points). A point with a small-order
    component would come back as that component times the secret (times the GLV/GLS halves, which act
    as scalars only in the subgroup) and hand the secret's residues modulo the small orders to whoever
    made the file, who could then clean the file so that it still verifies. Parallel subgroup checks,
    about half a multiplication per point. `points` must be private memory, not a view of a file
    that someone else can still write."""
    from kernels.ec.points import g1_validate, g2_validate
    from kernels.errors import EncodingError

    for what, group, points in items:
        say(f"checking {what}: {points.shape[0]} points, before the secret touches them")
        try:
            (g2_validate if group == "g2" else g1_validate)(np.ascontiguousarray(points))
        except EncodingError as exc:
            raise InputError(f"{path}: {what}: {exc}; refusing to contribute: a file with such points "
                             "can extract the contributor's secret") from None


def _contribute(in_path, out_path, name: str | None, rng, kind: int, beacon: tuple | None, log) -> dict:
    say = log or (lambda _m: None)
    ptau = read_ptau(in_path)
    if ptau.power != ptau.ceremony_power:
        raise InputError(f"{in_path}: this file was reduced (power {ptau.power} of {ptau.ceremony_power}); "
                         "contribute to the full ceremony file")
    if ptau.prepared:
        say(f"{in_path} was prepared for phase 2; the output drops those sections: run `ceremony prepare` again")
    # Private copies: the reader maps the file, and a coordinator who can still write it could
    # swap points between the check and the multiplication.
    for k, _what, _group in _PTAU_SECTIONS:
        ptau.sections[k] = np.array(ptau.sections[k])
    check_input_points([(f"section {k} ({what})", group, ptau.sections[k]) for k, what, group in _PTAU_SECTIONS],
                       in_path, say)
    challenge = last_challenge(ptau)
    secret, key = create_ptau_key(challenge, rng)
    rng.wipe()
    del rng
    tau = secret["tau"]
    response = Blake2b().update(challenge)
    new = {}
    try:
        for kind_, first, group, what in ((2, 1, "g1", "tauG1"), (3, 1, "g2", "tauG2"), (4, secret["alpha"], "g1", "alphaTauG1"),
                                          (5, secret["beta"], "g1", "betaTauG1"), (6, secret["beta"], "g2", "betaG2")):
            say(f"{what}: {ptau.sections[kind_].shape[0]} points")
            new[kind_] = apply_key(ptau.sections[kind_], first, tau, group)
            response.update(_ENC[group][0](new[kind_]))
    finally:
        secret.clear()
        del tau
    partial = response.partial()
    response_hash = response.update(key.uncompressed()).digest()
    next_challenge = blake2b(response_hash, *(_ENC["g2" if k in (3, 6) else "g1"][1](new[k]) for k in (2, 3, 4, 5, 6)))
    record = PtauContribution(new[2][1], new[3][1], new[4][0], new[5][0], new[6][0], key, partial, next_challenge,
                              kind, name)
    if beacon:
        record.beacon_hash, record.iterations_exp = beacon
    write_ptau_sections(out_path, ptau.power, new, ptau.contributions + [record])
    return {"file": str(out_path), "power": ptau.power, "contributions": len(ptau.contributions) + 1,
            "response_hash": response_hash.hex(), "next_challenge": next_challenge.hex()}


def contribute_ptau(in_path, out_path, name: str, entropy: str | None = None, log=None) -> dict:
    """Add one contribution with secrets from the OS CSPRNG (plus `entropy`); returns hashes to publish.

    Raises InputError for an unreadable, reduced or foreign file.
    """
    return _contribute(in_path, out_path, name, entropy_rng(entropy), 0, None, log)


def parse_beacon(hash_hex: str, iterations_exp: int) -> bytes:
    """The beacon hash bytes; InputError unless hex of 1..255 bytes and 10 ≤ iterations ≤ 63 (snarkjs's limits)."""
    try:
        beacon = bytes.fromhex(hash_hex[2:] if hash_hex.startswith("0x") else hash_hex)
    except ValueError:
        raise InputError(f"beacon hash {hash_hex!r} is not hexadecimal") from None
    if not 1 <= len(beacon) < 256:
        raise InputError(f"beacon hash must be 1..255 bytes, got {len(beacon)}")
    if not 10 <= iterations_exp <= 63:
        raise InputError(f"beacon iterations exponent must be in 10..63 (as snarkjs), got {iterations_exp}")
    return beacon


def beacon_ptau(in_path, out_path, name: str, hash_hex: str, iterations_exp: int, log=None) -> dict:
    """Close phase 1 with a public random beacon: secrets from SHA-256^(2^e)(beacon hash)."""
    beacon = parse_beacon(hash_hex, iterations_exp)
    if iterations_exp > 24:
        print(f"zkp-ledger: hashing the beacon 2^{iterations_exp} times; this takes a while", file=sys.stderr)
    return _contribute(in_path, out_path, name, beacon_rng(beacon, iterations_exp), 1, (beacon, iterations_exp), log)
