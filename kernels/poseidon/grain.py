"""Poseidon parameters from the reference Grain LFSR (hadeshash `generate_parameters_grain.sage`).

Transcribed from the reference generator for field = 1 (GF(p)) and sbox = 0 (x^alpha):

* the 80-bit state starts as field (2 bits) ‖ sbox (4) ‖ n (12) ‖ t (12) ‖ R_F (10) ‖ R_P (10) ‖
  thirty 1s, each number most significant bit first; the feedback is b62 ⊕ b51 ⊕ b38 ⊕ b23 ⊕ b13 ⊕ b0;
  the first 160 output bits are discarded;
* the bit-pair filter: of each following pair (b1, b2), b2 is kept when b1 = 1, both are dropped otherwise;
* a field element is n kept bits read most significant first; round constants reject values ≥ p
  and draw again, the (R_F + R_P)·t constants come first;
* the MDS matrix is Cauchy, M[i][j] = 1/(x_i + y_j), with x_0..x_{t-1}, y_0..y_{t-1} the next 2t
  draws reduced mod p (drawn again as a whole while any two coincide or some x_i + y_j = 0), and
  drawn again until the reference's three invariant-subspace checks (`mds_security_check`) pass.
"""

from __future__ import annotations

import hashlib

from dataclasses import dataclass

from kernels.poseidon import linalg

FIELD_PRIME = 1          # the reference's `field` flag: GF(p)
SBOX_POWER = 0           # the reference's `sbox` flag: x^alpha
_TAPS = (62, 51, 38, 23, 13, 0)
_BLOCK = 80 - 62 - 1     # new bits computable at once: each depends only on bits k + tap ≤ 79


class GrainLFSR:
    """The reference's filtered Grain bit stream for one (n, t, R_F, R_P) instance."""

    def __init__(self, field_bits: int, t: int, full_rounds: int, partial_rounds: int,
                 field: int = FIELD_PRIME, sbox: int = SBOX_POWER):
        fields = ((field, 2), (sbox, 4), (field_bits, 12), (t, 12), (full_rounds, 10), (partial_rounds, 10))
        init = "".join(format(value, f"0{width}b") for value, width in fields) + "1" * 30
        assert len(init) == 80 and all(value < 1 << width for value, width in fields)
        # Bit k of the int is bit_sequence[k] of the reference (bit 0 is the oldest).
        self._state = sum(int(b) << k for k, b in enumerate(init))
        self._raw = ""
        self._kept = ""
        self._raw_bits(160)                                   # warm-up, discarded

    def _step_block(self) -> str:
        s = self._state
        new = (s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s
        new &= (1 << _BLOCK) - 1
        self._state = (s >> _BLOCK) | (new << (80 - _BLOCK))
        return format(new, f"0{_BLOCK}b")[::-1]               # oldest new bit first

    def _raw_bits(self, count: int) -> str:
        while len(self._raw) < count:
            self._raw += "".join(self._step_block() for _ in range(64))
        out, self._raw = self._raw[:count], self._raw[count:]
        return out

    def bits(self, count: int) -> str:
        """The next `count` filtered bits, as a '0'/'1' string in output order."""
        while len(self._kept) < count:
            raw = self._raw_bits(2 * max(256, count))
            self._kept += "".join(b2 for b1, b2 in zip(raw[0::2], raw[1::2]) if b1 == "1")
        out, self._kept = self._kept[:count], self._kept[count:]
        return out

    def random_int(self, num_bits: int) -> int:
        """The reference's grain_random_bits: `num_bits` filtered bits, most significant first."""
        return int(self.bits(num_bits), 2)

    def field_element(self, num_bits: int, modulus: int) -> int:
        """A round constant: draws of `num_bits` bits, rejecting values ≥ modulus."""
        while True:
            value = self.random_int(num_bits)
            if value < modulus:
                return value


def round_constants(lfsr: GrainLFSR, num_bits: int, t: int, rounds: int, modulus: int) -> list[list[int]]:
    """rounds × t constants in the order the permutation adds them."""
    flat = [lfsr.field_element(num_bits, modulus) for _ in range(rounds * t)]
    return [flat[r * t:(r + 1) * t] for r in range(rounds)]


def cauchy_matrix(lfsr: GrainLFSR, num_bits: int, t: int, modulus: int) -> list[list[int]]:
    """The reference's create_mds_p: the next Cauchy matrix 1/(x_i + y_j) the stream yields."""
    while True:
        draws = [lfsr.random_int(num_bits) % modulus for _ in range(2 * t)]
        while len(set(draws)) != 2 * t:
            draws = [lfsr.random_int(num_bits) % modulus for _ in range(2 * t)]
        xs, ys = draws[:t], draws[t:]
        if all((x + y) % modulus for x in xs for y in ys):
            return [[pow(x + y, -1, modulus) for y in ys] for x in xs]


@dataclass(frozen=True)
class MdsCheck:
    """Results of the reference generator's invariant-subspace checks on an MDS matrix M.

    algorithm_1: no invariant subspace trail of the partial rounds through M^i, i < t (result code
      0 = pass, 1 = M^i is a scalar matrix, 2 = an eigenvector of M^i lies in the trail subspace,
      3 = M^j maps the trail subspace onto itself);
    algorithm_2: the first unit vector is cyclic for M (no invariant subspace contains it);
    algorithm_3: the same for M^r, r = 2 .. 4t;
    minpoly_irreducible: the stronger sufficient condition of later reference scripts: for
      i = 1 .. 2t the minimal polynomial of M^i has degree t and is irreducible (recorded, not required).
    """

    algorithm_1: int
    algorithm_2: bool
    algorithm_3: bool
    minpoly_irreducible: bool

    @property
    def secure(self) -> bool:
        """What the reference generator requires before it accepts a matrix."""
        return self.algorithm_1 == 0 and self.algorithm_2 and self.algorithm_3


def _trail_subspace(i: int, powers, t: int, p: int) -> list[list[int]]:
    # The reference's generate_vectorspace (s = 1): x_0 = 0 and (M^k x)_0 = 0 for k = 1 .. i-1.
    if i == 1:
        return [[int(j == k) for j in range(t)] for k in range(1, t)]
    rows = [powers[k][0][1:] for k in range(1, i)]
    return [[0] + v for v in linalg.kernel(rows, t - 1, p)]


def algorithm_1(m, p: int) -> int:
    """The reference's algorithm_1 with s = 1 (see `MdsCheck`); 0 when the matrix passes."""
    t = len(m)
    powers = [linalg.identity(t)]
    for _ in range(t):
        powers.append(linalg.mat_mul(powers[-1], m, p))
    for i in range(1, t):
        mi = powers[i]
        if all(mi[a][b] == (mi[0][0] if a == b else 0) for a in range(t) for b in range(t)):
            return 1
        subspace = _trail_subspace(i, powers, t, p)
        invariant: list[list[int]] = []
        for lam in linalg.roots(linalg.charpoly(mi, p), p):
            shifted = [[(mi[a][b] - (lam if a == b else 0)) % p for b in range(t)] for a in range(t)]
            eigenspace = linalg.kernel(shifted, t, p)
            invariant += linalg.intersection(subspace, eigenspace, p)
        if invariant and linalg.rank(invariant, p) < t:
            return 2
        for j in range(1, i + 1):
            image = [linalg.mat_vec(powers[j], v, p) for v in subspace]
            if linalg.same_span(subspace, image, p):
                return 3
    return 0


def algorithm_2(m, p: int) -> bool:
    """The reference's algorithm_2 with s = 1: the Krylov space of e_0 under M is the whole space."""
    t = len(m)
    v = [1] + [0] * (t - 1)
    space = [v]
    while True:
        v = linalg.mat_vec(m, v, p)
        grown = linalg.row_reduce(space + [v], p)
        if len(grown) == t:
            return True
        if len(grown) <= len(space):
            return False
        space = grown


def algorithm_3(m, p: int) -> bool:
    """The reference's algorithm_3: algorithm_2 holds for M^r, r = 2 .. 4t."""
    t = len(m)
    power = m
    for _ in range(2, 4 * t + 1):
        power = linalg.mat_mul(power, m, p)
        if not algorithm_2(power, p):
            return False
    return True


def minpoly_irreducible(m, p: int) -> bool:
    """For i = 1 .. 2t: the minimal polynomial of M^i has degree t and is irreducible.

    Equivalent to the characteristic polynomial of M^i being irreducible (the minimal polynomial
    divides it and shares its irreducible factors).
    """
    t = len(m)
    power = m
    for i in range(1, 2 * t + 1):
        if i > 1:
            power = linalg.mat_mul(power, m, p)
        if not linalg.is_irreducible(linalg.charpoly(power, p), p):
            return False
    return True


def mds_security_check(m, p: int) -> MdsCheck:
    """Run the reference's checks (and the minimal-polynomial condition) on the matrix m over F_p."""
    return MdsCheck(algorithm_1(m, p), algorithm_2(m, p), algorithm_3(m, p), minpoly_irreducible(m, p))


def matrix_digest(m) -> str:
    """SHA-256 of a matrix's entries, row by row, as 32-byte big-endian integers."""
    h = hashlib.sha256()
    for row in m:
        for value in row:
            h.update(value.to_bytes(32, "big"))
    return h.hexdigest()


def secure_mds_matrix(lfsr: GrainLFSR, num_bits: int, t: int, modulus: int,
                      checked: dict | None = None) -> tuple[list[list[int]], MdsCheck]:
    """The reference's generate_matrix: Cauchy matrices from the stream until one passes 1-3.

    `checked` maps `matrix_digest` of matrices already put through every check to their MdsCheck
    (pinned in code, recomputed by the tests); such a matrix is taken with its recorded result."""
    while True:
        m = cauchy_matrix(lfsr, num_bits, t, modulus)
        known = checked.get(matrix_digest(m)) if checked else None
        if known is not None and known.algorithm_1 == 0 and known.algorithm_2 and known.algorithm_3:
            return m, known          # a pin is a shortcut for a pass only; anything else is checked
        if algorithm_1(m, modulus) == 0 and algorithm_2(m, modulus) and algorithm_3(m, modulus):
            return m, MdsCheck(0, True, True, minpoly_irreducible(m, modulus))
