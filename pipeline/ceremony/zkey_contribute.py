"""`ceremony contribute IN.zkey OUT.zkey` and the phase-2 beacon (snarkjs's zkey_contribute.js,
zkey_beacon.js): multiply δ by a fresh secret, divide the L and H sections by it, and record the
proof of knowledge bound to the transcript hash (BLAKE2b of csHash, every earlier contribution's
public key, then this one's s and s·δ)."""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.ceremony.apply_key import scale_points
from pipeline.ceremony.powersoftau_contribute import check_input_points, parse_beacon
from pipeline.ceremony.transcript import (beacon_rng, entropy_rng, fr_from_rng, g1_from_rng, g1_uncompressed,
                                          hash_to_g2)
from pipeline.snarkjs.zkey_file import ZkeyContribution, read_zkey_ceremony, write_zkey_file


def transcript_hasher(z, upto: int):
    """BLAKE2b over csHash and the public keys of the first `upto` contributions."""
    h = hashlib.blake2b(digest_size=64)
    h.update(z.cs_hash)
    for c in z.contributions[:upto]:
        h.update(c.hash_bytes())
    return h


def _fr_inverse(x: int) -> int:
    from kernels.ff.fields import FR, fr
    out, tmp = np.empty(8, np.uint32), np.empty(8, np.uint32)
    fr.inv(out, FR.element(x), tmp)
    value = FR.value(out)
    out.fill(0)
    return value


def _contribute(in_path, out_path, name, rng, kind: int, beacon, log) -> dict:
    from kernels.ec.points import g1_mul, g2_mul

    say = log or (lambda _m: None)
    z = read_zkey_ceremony(in_path)
    z.raw[8], z.raw[9] = bytes(z.raw[8]), bytes(z.raw[9])     # private copies of the mapped file (see check_input_points)
    check_input_points([("section 8 (L)", "g1", z.points(8)), ("section 9 (H)", "g1", z.points(9)),
                        ("δ in G1", "g1", np.asarray(z.delta1)[None]), ("δ in G2", "g2", np.asarray(z.delta2)[None])],
                       in_path, say)
    h = transcript_hasher(z, len(z.contributions))
    delta = fr_from_rng(rng)
    g1_s = g1_from_rng(rng)
    rng.wipe()
    del rng
    g1_sx = g1_mul(g1_s, delta)
    h.update(g1_uncompressed(g1_s) + g1_uncompressed(g1_sx))
    transcript = h.digest()
    g2_spx = g2_mul(hash_to_g2(transcript), delta)
    z.delta1 = g1_mul(z.delta1, delta)
    z.delta2 = g2_mul(z.delta2, delta)
    inv = _fr_inverse(delta)
    del delta
    say(f"L: {z.n_vars - z.n_public - 1} points, H: {z.domain_size} points")
    z.raw[8] = scale_points(z.points(8), inv, "g1").tobytes()
    z.raw[9] = scale_points(z.points(9), inv, "g1").tobytes()
    del inv
    c = ZkeyContribution(z.delta1, g1_s, g1_sx, g2_spx, transcript, kind, name)
    if beacon:
        c.beacon_hash, c.iterations_exp = beacon
    z.contributions.append(c)
    write_zkey_file(out_path, z)
    contribution_hash = hashlib.blake2b(c.hash_bytes(), digest_size=64).hexdigest()
    return {"file": str(out_path), "contributions": len(z.contributions), "contribution_hash": contribution_hash}


def contribute_zkey(in_path, out_path, name: str, entropy: str | None = None, log=None) -> dict:
    """Add one phase-2 contribution (secret from the OS CSPRNG plus `entropy`); returns its hash to publish."""
    return _contribute(in_path, out_path, name, entropy_rng(entropy), 0, None, log)


def beacon_zkey(in_path, out_path, name: str, hash_hex: str, iterations_exp: int, log=None) -> dict:
    """Close phase 2 with a public beacon (δ from SHA-256^(2^e) of the beacon hash)."""
    beacon = parse_beacon(hash_hex, iterations_exp)
    return _contribute(in_path, out_path, name, beacon_rng(beacon, iterations_exp), 1, (beacon, iterations_exp), log)
