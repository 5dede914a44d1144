"""BLAKE2b-512 with an exportable midstate, as snarkjs's ptau transcript needs.

snarkjs stores in every .ptau contribution the *partial* state of the response hasher (216 bytes:
the pending block, h0..h7 as low/high u32 words, the count of compressed bytes and the pending
length; the layout of @noble/hashes' BLAKE2b as `misc.toPartialHash` dumps it) so that a verifier
can finish the hash with the contributor's public key. `hashlib` cannot export its state, so this is
RFC 7693 BLAKE2b (unkeyed, 64-byte digest), compiled with Numba for the bulk of the points; it is
checked against `hashlib.blake2b` in the tests. Not field or curve math: a hash of bytes.
"""

from __future__ import annotations

import struct

import numpy as np
from numba import njit

_IV = np.array([0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
                0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179], np.uint64)
_SIGMA = np.array([
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0]], np.int64)
BLOCK = 128
PARTIAL_BYTES = 216


@njit(cache=True, nogil=True)
def _rotr(x, n):
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@njit(cache=True, nogil=True)
def _compress(h, m, t, last, iv, sigma):
    v = np.empty(16, np.uint64)
    v[:8] = h
    v[8:] = iv
    v[12] ^= np.uint64(t & 0xFFFFFFFFFFFFFFFF)
    v[13] ^= np.uint64(t >> 64)
    if last:
        v[14] = ~v[14]
    for r in range(12):
        s = sigma[r % 10]
        for i in range(8):
            if i < 4:
                a, b, c, d = i, i + 4, i + 8, i + 12
            else:
                a, b, c, d = i - 4, 4 + (i - 3) % 4, 8 + (i - 2) % 4, 12 + (i - 1) % 4
            x, y = m[s[2 * i]], m[s[2 * i + 1]]
            v[a] = v[a] + v[b] + x
            v[d] = _rotr(v[d] ^ v[a], 32)
            v[c] = v[c] + v[d]
            v[b] = _rotr(v[b] ^ v[c], 24)
            v[a] = v[a] + v[b] + y
            v[d] = _rotr(v[d] ^ v[a], 16)
            v[c] = v[c] + v[d]
            v[b] = _rotr(v[b] ^ v[c], 63)
    for i in range(8):
        h[i] ^= v[i] ^ v[i + 8]


@njit(cache=True, nogil=True)
def _compress_blocks(h, words, counter, iv, sigma):
    """Compress the (k, 16) uint64 blocks in order (none is the last); returns the new byte count."""
    for k in range(words.shape[0]):
        counter += 128
        _compress(h, words[k], counter, False, iv, sigma)
    return counter


class Blake2b:
    """Unkeyed BLAKE2b with a 64-byte digest: `update`, `digest`, `copy`, and snarkjs's partial state."""

    def __init__(self):
        self.h = _IV.copy()
        self.h[0] ^= np.uint64(0x01010040)
        self.buffer = bytearray(BLOCK)
        self.pos = 0             # bytes pending in `buffer` (a full block stays pending until more data)
        self.compressed = 0      # bytes already compressed

    def copy(self) -> Blake2b:
        other = Blake2b.__new__(Blake2b)
        other.h, other.buffer, other.pos, other.compressed = self.h.copy(), bytearray(self.buffer), self.pos, self.compressed
        return other

    def update(self, data) -> Blake2b:
        data = memoryview(data).cast("B")
        n, i = len(data), 0
        if n == 0:
            return self
        if self.pos < BLOCK:                       # fill the pending block
            take = min(BLOCK - self.pos, n)
            self.buffer[self.pos:self.pos + take] = data[:take]
            self.pos += take
            i = take
        if i == n:
            return self
        self._flush_pending()
        # Whole blocks from the data, keeping at least one byte back for the pending block.
        full = (n - i - 1) // BLOCK
        if full:
            words = np.frombuffer(data[i:i + full * BLOCK], "<u8").reshape(full, 16)
            self.compressed = _compress_blocks(self.h, words, self.compressed, _IV, _SIGMA)
            i += full * BLOCK
        rest = n - i
        self.buffer[:rest] = data[i:]
        self.pos = rest
        return self

    def _flush_pending(self) -> None:
        words = np.frombuffer(bytes(self.buffer), "<u8").reshape(1, 16)
        self.compressed = _compress_blocks(self.h, words, self.compressed, _IV, _SIGMA)
        self.pos = 0

    def digest(self) -> bytes:
        h = self.h.copy()
        block = bytes(self.buffer[:self.pos]) + bytes(BLOCK - self.pos)
        _compress(h, np.frombuffer(block, "<u8"), self.compressed + self.pos, True, _IV, _SIGMA)
        return h.astype("<u8").tobytes()

    def partial(self) -> bytes:
        """The 216-byte state snarkjs stores as a contribution's `partialHash`."""
        words = self.h.astype("<u8").view("<u4")
        tail = list(words) + [self.compressed & 0xFFFFFFFF, self.compressed >> 32, self.pos, 0, 0, 0]
        return bytes(self.buffer) + struct.pack("<22I", *tail)

    @classmethod
    def from_partial(cls, data: bytes) -> Blake2b:
        """The hasher of a `partial()` state (as snarkjs's `fromPartialHash`)."""
        if len(data) != PARTIAL_BYTES:
            raise ValueError(f"a partial BLAKE2b state is {PARTIAL_BYTES} bytes, got {len(data)}")
        other = cls.__new__(cls)
        rest = struct.unpack("<22I", data[BLOCK:])
        other.buffer = bytearray(data[:BLOCK])
        other.h = np.array(rest[:16], "<u4").view("<u8").astype(np.uint64)
        other.compressed = rest[16] + (rest[17] << 32)
        other.pos = rest[18]
        if other.pos > BLOCK:
            raise ValueError("partial BLAKE2b state with a pending length over one block")
        return other


def blake2b(*parts) -> bytes:
    """64-byte BLAKE2b of the concatenated parts (hashlib; for hashes whose state is never stored)."""
    import hashlib

    h = hashlib.blake2b(digest_size=64)
    for p in parts:
        h.update(p)
    return h.digest()
