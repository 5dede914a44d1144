"""What a ceremony transcript hashes and how snarkjs derives points from hashes.

- Encodings (ffjavascript's, for BLS12-381): *uncompressed* ("U") is x ‖ y big-endian (G2: x.c1 ‖
  x.c0 ‖ y.c1 ‖ y.c0), the point at infinity all zero bytes; *compressed* ("C") is x big-endian with
  0x80 set when y is the larger root (y > (p−1)/2, on c1 unless it is zero), infinity 0x40. These
  are the zkcrypto bytes with the flags moved, so the kernels' encoders do the work.
- Randomness from a hash: ChaCha20 (ffjavascript's `ChaCha`, 10 double rounds, seed = the first
  eight big-endian u32 of the hash). `Fr/Fq.fromRng` read u64 words (high u32 first), mask to the
  modulus' bit length, reject ≥ modulus, and keep the value *as a Montgomery word*: the element is
  v·2^-256 mod r (Fr) or v·2^-384 mod p (Fq). `G.fromRng` draws x and a sign bit until x³ + b is a
  square, picks the root of that sign and clears the cofactor. `hashToG2` = G2.fromRng(ChaCha(hash)).
- Beacon: SHA-256 iterated 2^e times from the beacon hash seeds the ChaCha.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from kernels import params
from kernels.ff.fields import FQ, FR
from kernels.ff.montgomery import int_to_limbs

# ffjavascript's cofactors for bls12381 (G2's is the full h2, not the "effective" one)
COFACTOR_G1 = 0x396C8C005555E1568C00AAAB0000AAAB
COFACTOR_G2 = int("5d543a95414e7f1091d50792876a202cd91de4547085abaa68a205b2e5a7ddfa628f1cb4d9e82ef21537e2"
                  "93a6691ae1616ec6e786f0c70cf1c38e31c7238e5", 16)
G1_U, G2_U, G1_C, G2_C = 96, 192, 48, 96


# --- encodings -------------------------------------------------------------------------------------
def _zero_infinity(raw: np.ndarray, width: int) -> None:
    inf = raw[:, 0] & 0x40 != 0
    raw[inf] = 0


def g1_uncompressed(points: np.ndarray) -> bytes:
    """snarkjs "U" bytes of one (2, 12) point or an (m, 2, 12) array."""
    from kernels.ec.encoding import g1_to_bytes_uncompressed
    raw = np.frombuffer(g1_to_bytes_uncompressed(points), np.uint8).reshape(-1, G1_U).copy()
    _zero_infinity(raw, G1_U)
    return raw.tobytes()


def g2_uncompressed(points: np.ndarray) -> bytes:
    from kernels.ec.encoding import g2_to_bytes_uncompressed
    raw = np.frombuffer(g2_to_bytes_uncompressed(points), np.uint8).reshape(-1, G2_U).copy()
    _zero_infinity(raw, G2_U)
    return raw.tobytes()


def _move_flags(raw: np.ndarray) -> bytes:
    top = raw[:, 0]
    inf = top & 0x40 != 0
    larger = (top & 0x20 != 0) & ~inf
    raw[:, 0] = (top & 0x1F) | np.where(inf, 0x40, 0).astype(np.uint8) | np.where(larger, 0x80, 0).astype(np.uint8)
    return raw.tobytes()


def g1_compressed(points: np.ndarray) -> bytes:
    """snarkjs "C" bytes of one point or an (m, 2, 12) array."""
    from kernels.ec.encoding import g1_compress_many
    pts = np.asarray(points).reshape(-1, 2, 12)
    return _move_flags(np.frombuffer(g1_compress_many(pts), np.uint8).reshape(-1, G1_C).copy())


def g2_compressed(points: np.ndarray) -> bytes:
    from kernels.ec.encoding import g2_compress_many
    pts = np.asarray(points).reshape(-1, 2, 2, 12)
    return _move_flags(np.frombuffer(g2_compress_many(pts), np.uint8).reshape(-1, G2_C).copy())


# --- ChaCha ----------------------------------------------------------------------------------------
_MASK32 = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _MASK32


def _quarter(st, a, b, c, d):
    st[a] = (st[a] + st[b]) & _MASK32; st[d] = _rotl(st[d] ^ st[a], 16)  # noqa: E702
    st[c] = (st[c] + st[d]) & _MASK32; st[b] = _rotl(st[b] ^ st[c], 12)  # noqa: E702
    st[a] = (st[a] + st[b]) & _MASK32; st[d] = _rotl(st[d] ^ st[a], 8)   # noqa: E702
    st[c] = (st[c] + st[d]) & _MASK32; st[b] = _rotl(st[b] ^ st[c], 7)   # noqa: E702


class ChaCha:
    """ffjavascript's ChaCha20 generator: `next_u32`, `next_u64` (high word first), `next_bool`."""

    def __init__(self, seed: list[int]):
        self.state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *seed, 0, 0, 0, 0]
        self.buff: list[int] = []
        self.idx = 16

    @classmethod
    def from_hash(cls, digest: bytes) -> ChaCha:
        return cls(list(struct.unpack(">8I", digest[:32])))

    def _update(self) -> None:
        st = list(self.state)
        for _ in range(10):
            _quarter(st, 0, 4, 8, 12); _quarter(st, 1, 5, 9, 13)    # noqa: E702
            _quarter(st, 2, 6, 10, 14); _quarter(st, 3, 7, 11, 15)  # noqa: E702
            _quarter(st, 0, 5, 10, 15); _quarter(st, 1, 6, 11, 12)  # noqa: E702
            _quarter(st, 2, 7, 8, 13); _quarter(st, 3, 4, 9, 14)    # noqa: E702
        self.buff = [(st[i] + self.state[i]) & _MASK32 for i in range(16)]
        self.idx = 0
        for k in range(12, 16):          # 128-bit little-endian counter
            self.state[k] = (self.state[k] + 1) & _MASK32
            if self.state[k]:
                break

    def next_u32(self) -> int:
        if self.idx == 16:
            self._update()
        v = self.buff[self.idx]
        self.idx += 1
        return v

    def next_u64(self) -> int:
        hi = self.next_u32()
        return (hi << 32) | self.next_u32()

    def next_bool(self) -> bool:
        return self.next_u32() & 1 == 1

    def wipe(self) -> None:
        """Overwrite the seed and the buffered output (the list slots; CPython frees the old ints later)."""
        self.state[:] = [0] * 16
        self.buff = [0] * 16
        self.idx = 16


def _word_from_rng(rng: ChaCha, modulus: int, n64: int) -> int:
    mask = (1 << modulus.bit_length()) - 1
    while True:
        v = 0
        for i in range(n64):
            v += rng.next_u64() << (64 * i)
        v &= mask
        if v < modulus:
            return v


def fr_from_rng(rng: ChaCha) -> int:
    """ffjavascript's `Fr.fromRng`: the drawn word read as a Montgomery form, as an int."""
    return FR.value(int_to_limbs(_word_from_rng(rng, params.R, 4), FR.nlimbs))


def _fq_from_rng(rng: ChaCha) -> int:
    return FQ.to_ints(int_to_limbs(_word_from_rng(rng, params.P, 6), 12)[None])[0]


def _decode_candidate(raw: bytes, g2: bool):
    """The curve point of compressed zkcrypto bytes even outside the subgroup; None when x³ + b is not a square."""
    from kernels.ec import encoding as enc

    row = np.frombuffer(raw, np.uint8)[None]
    out = np.empty((1, 2, 2, 12) if g2 else (1, 2, 12), np.uint32)
    codes = np.empty(1, np.int8)
    (enc._g2_decode if g2 else enc._g1_decode)(row, True, out, codes)
    if codes[0] == 4:
        return None
    if codes[0] not in (0, 5):
        raise AssertionError(f"unexpected decoding code {codes[0]}")
    return out[0]


def g1_from_rng(rng: ChaCha) -> np.ndarray:
    """ffjavascript's `G1.fromRng` (affine kernel point)."""
    from kernels.ec.points import g1_mul

    while True:
        x = _fq_from_rng(rng)
        larger = rng.next_bool()
        raw = bytearray(x.to_bytes(48, "big"))
        raw[0] |= 0x80 | (0x20 if larger else 0)
        pt = _decode_candidate(bytes(raw), False)
        if pt is not None:
            return g1_mul(pt, COFACTOR_G1)


def g2_from_rng(rng: ChaCha) -> np.ndarray:
    """ffjavascript's `G2.fromRng` (affine kernel point)."""
    from kernels.ec.points import g2_mul

    while True:
        c0, c1 = _fq_from_rng(rng), _fq_from_rng(rng)
        larger = rng.next_bool()
        raw = bytearray(c1.to_bytes(48, "big") + c0.to_bytes(48, "big"))
        raw[0] |= 0x80 | (0x20 if larger else 0)
        pt = _decode_candidate(bytes(raw), True)
        if pt is not None:
            return g2_mul(pt, COFACTOR_G2)


def hash_to_g2(digest: bytes) -> np.ndarray:
    """snarkjs's `hashToG2`: G2.fromRng seeded by the first 32 bytes of a 64-byte hash."""
    return g2_from_rng(ChaCha.from_hash(digest))


def beacon_rng(beacon_hash: bytes, iterations_exp: int) -> ChaCha:
    """snarkjs's `rngFromBeaconParams`: SHA-256 applied 2^iterations_exp times, then ChaCha."""
    cur = bytes(beacon_hash)
    for _ in range(1 << iterations_exp):
        cur = hashlib.sha256(cur).digest()
    return ChaCha.from_hash(cur)


def entropy_rng(entropy: str | None) -> ChaCha:
    """A ChaCha seeded by BLAKE2b(64 bytes of OS CSPRNG ‖ entropy text), as snarkjs's `getRandomRng`
    (the OS bytes alone suffice; the text only adds to them)."""
    import secrets

    h = hashlib.blake2b(digest_size=64)
    h.update(secrets.token_bytes(64))
    h.update((entropy or "").encode())
    digest = h.digest()
    rng = ChaCha.from_hash(digest)
    del digest, h
    return rng
