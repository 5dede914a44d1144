"""`ceremony new`: a fresh powers-of-tau accumulator (every point the generator, no contribution),
as `snarkjs powersoftau new`, and the first challenge hash every contributor builds on."""

from __future__ import annotations

import numpy as np

from pipeline.ceremony.blake2b import blake2b
from pipeline.errors import InputError
from pipeline.snarkjs.ptau_file import MAX_POWER, write_ptau_sections


def _generators():
    from kernels.ec.points import g1_generator, g2_generator
    return g1_generator(), g2_generator()


def first_challenge_hash(power: int) -> bytes:
    """snarkjs's `calculateFirstChallengeHash`: BLAKE2b of BLAKE2b("") and the blank accumulator."""
    import hashlib

    from pipeline.ceremony.transcript import g1_uncompressed, g2_uncompressed

    g1, g2 = _generators()
    u1, u2 = g1_uncompressed(g1), g2_uncompressed(g2)
    n = 1 << power
    h = hashlib.blake2b(digest_size=64)
    h.update(blake2b())
    for block, count in ((u1, 2 * n - 1), (u2, n), (u1, n), (u1, n)):
        chunk = block * 4096
        for _ in range(count // 4096):
            h.update(chunk)
        h.update(block * (count % 4096))
    h.update(u2)
    return h.digest()


def new_ptau(power: int, out_path) -> dict:
    """Write the blank accumulator of `power` to `out_path`; returns {"power", "first_challenge"}.

    Raises InputError for a power outside 1..28.
    """
    if not isinstance(power, int) or not 1 <= power <= MAX_POWER:
        raise InputError(f"ptau power must be an integer in [1, {MAX_POWER}], got {power!r}")
    g1, g2 = _generators()
    n = 1 << power
    sections = {2: np.broadcast_to(g1, (2 * n - 1,) + g1.shape), 3: np.broadcast_to(g2, (n,) + g2.shape),
                4: np.broadcast_to(g1, (n,) + g1.shape), 5: np.broadcast_to(g1, (n,) + g1.shape), 6: g2[None]}
    write_ptau_sections(out_path, power, sections, [])
    return {"power": power, "first_challenge": first_challenge_hash(power).hex()}
