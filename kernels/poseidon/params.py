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

# MDS matrices of the widths in use, put once through every check of kernels.poseidon.grain (the
# minimal-polynomial checks cost 0.2 s at t = 9, at every process start): their digest and results.
# The Grain stream still makes each matrix; a matrix with another digest is checked in full.
# tests/kernels/test_poseidon.py recomputes every entry.
_F, _T = False, True
CHECKED_MDS = {
    "0b9acd5d3d4f7d94a18a3f45748179ef5bec6be6c66419ad54d27f512a154806": MdsCheck(0, _T, _T, _F),   # t = 2
    "6b24c1e7470ba9d9cc9990dcc9d7a3067a2d3e033ccfd3d0eec307e5cb14cb4c": MdsCheck(0, _T, _T, _F),   # t = 3
    "45be210194e5e17fa3929261cfa322ac651f8619cadd574196478ee0704054ee": MdsCheck(0, _T, _T, _T),   # t = 4
    "44793a31413eb9fe972960edc91aed0c437210b0f224e3466a76e3e555d2900d": MdsCheck(0, _T, _T, _F),   # t = 5
    "51064f4f7684faf8a5327e30ff9dfbaa84785bf81caf3099161fd009c7a8c874": MdsCheck(0, _T, _T, _F),   # t = 9
    "8367ff01b71c9974b3545fe7b50ed4a9a9e96b5893fe71798f439a91927ed7c9": MdsCheck(0, _T, _T, _F),   # t = 12
    "493413079fe64a004b529695947a147bcd5f7e3f1fa8d90c32f1ffff8448dc61": MdsCheck(0, _T, _T, _F),   # t = 17
}


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
                    modulus: int = curve.R, field_bits: int = FIELD_BITS, checked: dict | None = None) -> PoseidonParams:
    """Generate constants and MDS matrix for explicit round numbers (no caching, no rounding rule);
    `checked`: MDS matrices whose checks are known (grain.secure_mds_matrix), default none."""
    if alpha != ALPHA:
        raise NotImplementedError("only the x^5 S-box is generated (the Grain state records sbox=0 only)")
    lfsr = GrainLFSR(field_bits, t, full_rounds, partial_rounds)
    constants = round_constants(lfsr, field_bits, t, full_rounds + partial_rounds, modulus)
    mds, check = secure_mds_matrix(lfsr, field_bits, t, modulus, checked)
    return PoseidonParams(t, full_rounds, partial_rounds, alpha, field_bits, SECURITY_BITS,
                          tuple(map(tuple, constants)), tuple(map(tuple, mds)), check, partial_rounds)


@lru_cache(maxsize=None)
def poseidon_params(t: int) -> PoseidonParams:
    """The instance of width t over Fr (x^5, 128-bit security); t = 3 and t = 5 are the reference
    instances (R_F = 8, R_P = 57 and 60). Raises ValueError for t < 2."""
    full, partial = round_numbers(t, ALPHA, SECURITY_BITS)
    generated = generate_params(t, full, partial, checked=CHECKED_MDS)   # over Fr, as CHECKED_MDS
    bound = security_bound_rounds(t, ALPHA, SECURITY_BITS)[1]
    return PoseidonParams(**{**generated.__dict__, "bound_partial_rounds": bound})
