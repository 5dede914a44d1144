"""Poseidon instances over Fr: round numbers, Grain constants, MDS matrix and its check, cached."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache

from kernels import params as curve
from kernels.poseidon.grain import GrainLFSR, MdsCheck, round_constants, secure_mds_matrix
from kernels.poseidon.rounds import round_numbers, security_bound_rounds

ALPHA = 5
SECURITY_BITS = 128
FIELD_BITS = curve.R.bit_length()        # n = 255 in the Grain initial state


@dataclass(frozen=True)
class PoseidonParams:
    """One Poseidon instance over Fr (S-box x^alpha): what a circuit shape records about its hash."""

    t: int
    full_rounds: int                     # R_F, half before and half after the partial rounds
    partial_rounds: int                  # R_P
    alpha: int
    field_bits: int
    security_bits: int
    round_constants: tuple[tuple[int, ...], ...] = field(repr=False)   # (R_F + R_P) rows of t
    mds: tuple[tuple[int, ...], ...] = field(repr=False)               # t × t, new_state = M · state
    mds_check: MdsCheck = field(repr=False)
    bound_partial_rounds: int = 0        # R_P from the bounds, before rounding to a multiple of t

    @property
    def rounds(self) -> int:
        return self.full_rounds + self.partial_rounds

    def fingerprint(self) -> str:
        """SHA-256 over t, R_F, R_P, alpha, every round constant and the MDS matrix (32-byte big-endian)."""
        h = hashlib.sha256(b"poseidon-bls12-381-fr")
        for value in (self.t, self.full_rounds, self.partial_rounds, self.alpha):
            h.update(value.to_bytes(4, "big"))
        for row in self.round_constants + self.mds:
            for value in row:
                h.update(value.to_bytes(32, "big"))
        return h.hexdigest()

    def describe(self) -> dict:
        """JSON-ready summary for circuit shapes and ledger entries."""
        return {
            "hash": "poseidon", "field": "bls12-381-fr", "t": self.t, "alpha": self.alpha,
            "R_F": self.full_rounds, "R_P": self.partial_rounds, "R_P_bound": self.bound_partial_rounds,
            "field_bits": self.field_bits, "security_bits": self.security_bits,
            "constants": "grain-lfsr (hadeshash generate_parameters_grain, field=1, sbox=0)",
            "mds": "cauchy",
            "mds_check": {"algorithm_1": self.mds_check.algorithm_1, "algorithm_2": self.mds_check.algorithm_2,
                          "algorithm_3": self.mds_check.algorithm_3,
                          "minpoly_irreducible": self.mds_check.minpoly_irreducible,
                          "secure": self.mds_check.secure},
            "fingerprint": self.fingerprint(),
        }


def generate_params(t: int, full_rounds: int, partial_rounds: int, alpha: int = ALPHA,
                    modulus: int = curve.R, field_bits: int = FIELD_BITS) -> PoseidonParams:
    """Generate constants and MDS matrix for explicit round numbers (no caching, no rounding rule)."""
    if alpha != ALPHA:
        raise NotImplementedError("only the x^5 S-box is generated (the Grain state records sbox=0 only)")
    lfsr = GrainLFSR(field_bits, t, full_rounds, partial_rounds)
    constants = round_constants(lfsr, field_bits, t, full_rounds + partial_rounds, modulus)
    mds, check = secure_mds_matrix(lfsr, field_bits, t, modulus)
    return PoseidonParams(t, full_rounds, partial_rounds, alpha, field_bits, SECURITY_BITS,
                          tuple(map(tuple, constants)), tuple(map(tuple, mds)), check, partial_rounds)


@lru_cache(maxsize=None)
def poseidon_params(t: int) -> PoseidonParams:
    """The instance of width t over Fr (x^5, 128-bit security); t = 3 and t = 5 are the reference
    instances (R_F = 8, R_P = 57 and 60). Raises ValueError for t < 2."""
    full, partial = round_numbers(t, ALPHA, SECURITY_BITS)
    generated = generate_params(t, full, partial)
    bound = security_bound_rounds(t, ALPHA, SECURITY_BITS)[1]
    return PoseidonParams(**{**generated.__dict__, "bound_partial_rounds": bound})
