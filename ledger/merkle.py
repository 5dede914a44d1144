"""RFC 9162 Merkle trees with a pluggable hash: proofs, their verifiers, and trees that grow cheaply.

The verifiers (`verify_inclusion`, `verify_consistency`) transcribe RFC 9162 §2.1.3.2 and
§2.1.4.2 step by step; the proof builders (`MerkleTree.inclusion_proof`,
`MerkleTree.consistency_proof`) transcribe PATH (§2.1.3.1) and SUBPROOF (§2.1.4.1).
SHA-256 reproduces the RFC 6962 vectors; BLAKE3 is the hash of the ledger and of data roots.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Sequence

import blake3

from ledger.errors import ProofError

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


@dataclass(frozen=True)
class MerkleHash:
    """A hash function for RFC 9162 trees: leaf = H(0x00 || data), node = H(0x01 || left || right)."""

    name: str
    digest_size: int
    _hash: Callable[[bytes], bytes]

    def hash_leaf(self, data: bytes) -> bytes:
        return self._hash(LEAF_PREFIX + bytes(data))

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        return self._hash(NODE_PREFIX + left + right)

    def empty_root(self) -> bytes:
        """MTH({}) = HASH() (RFC 9162 §2.1.1)."""
        return self._hash(b"")


SHA256 = MerkleHash("sha256", 32, lambda data: hashlib.sha256(data).digest())
BLAKE3 = MerkleHash("blake3", 32, lambda data: blake3.blake3(data).digest())
HASHES = {h.name: h for h in (SHA256, BLAKE3)}


def largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n > 1): the RFC's split point."""
    return 1 << ((n - 1).bit_length() - 1)


# --- verifiers: RFC 9162 §2.1.3.2 and §2.1.4.2, line for line ---------------------------------


def _check_proof_hashes(h: MerkleHash, proof: Sequence[bytes], what: str) -> list[bytes]:
    proof = list(proof or [])
    for i, p in enumerate(proof):
        if not isinstance(p, (bytes, bytearray)) or len(p) != h.digest_size:
            raise ProofError(f"{what} proof element {i} is not a {h.digest_size}-byte {h.name} hash")
    return [bytes(p) for p in proof]


def root_from_inclusion_proof(h: MerkleHash, leaf_index: int, tree_size: int, leaf_hash: bytes,
                              inclusion_path: Sequence[bytes]) -> bytes:
    """The root that `inclusion_path` implies for `leaf_hash` at `leaf_index`; raises ProofError."""
    if len(leaf_hash) != h.digest_size:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, not {h.digest_size}")
    inclusion_path = _check_proof_hashes(h, inclusion_path, "inclusion")
    # 1. If leaf_index >= tree_size, fail.
    if leaf_index < 0 or leaf_index >= tree_size:
        raise ProofError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. Set r to hash.
    r = bytes(leaf_hash)
    # 4. For each value p in the inclusion_path array:
    for p in inclusion_path:
        # If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        # If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            r = h.hash_children(p, r)
            # If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = h.hash_children(r, p)
        # Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0.
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(h: MerkleHash, leaf_index: int, tree_size: int, leaf_hash: bytes,
                     inclusion_path: Sequence[bytes], root_hash: bytes) -> None:
    """Return if `inclusion_path` proves `leaf_hash` at `leaf_index` under `root_hash`; raise ProofError."""
    r = root_from_inclusion_proof(h, leaf_index, tree_size, leaf_hash, inclusion_path)
    if r != bytes(root_hash):
        raise ProofError("inclusion proof leads to a different root")


def verify_consistency(h: MerkleHash, first: int, second: int, consistency_path: Sequence[bytes],
                       first_hash: bytes, second_hash: bytes) -> None:
    """Return if `consistency_path` proves the tree of size `first` is a prefix of the one of size
    `second`; raise ProofError. Sizes must satisfy 0 < first <= second (equal sizes need an empty
    proof and equal roots)."""
    consistency_path = _check_proof_hashes(h, consistency_path, "consistency")
    if first <= 0:
        raise ProofError("consistency with an empty tree proves nothing (first size must be > 0)")
    if second < first:
        raise ProofError(f"second size {second} is smaller than first size {first}")
    if first == second:
        if consistency_path:
            raise ProofError("equal sizes need an empty consistency proof")
        if bytes(first_hash) != bytes(second_hash):
            raise ProofError("equal sizes but different roots")
        return
    # 1. If consistency_path is an empty array, stop and fail.
    if not consistency_path:
        raise ProofError("empty consistency proof")
    # 2. If first is an exact power of 2, prepend first_hash to the consistency_path array.
    if first & (first - 1) == 0:
        consistency_path = [bytes(first_hash)] + consistency_path
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = consistency_path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in consistency_path[1:]:
        # If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise ProofError("consistency proof is longer than needed")
        # If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            fr = h.hash_children(c, fr)
            sr = h.hash_children(c, sr)
            # If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = h.hash_children(sr, c)
        # Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Verify fr == first_hash, sr == second_hash and sn == 0.
    if sn != 0:
        raise ProofError("consistency proof is shorter than needed")
    if fr != bytes(first_hash):
        raise ProofError("consistency proof does not lead to the first root")
    if sr != bytes(second_hash):
        raise ProofError("consistency proof does not lead to the second root")


# --- trees -------------------------------------------------------------------------------------


class MerkleFrontier:
    """The compact range of a growing tree: one hash per set bit of its size, so a stream of leaves
    (the chunks of a 10 GB file) is folded in O(log n) memory and its root read at any time."""

    def __init__(self, h: MerkleHash):
        self.h = h
        self.size = 0
        self._peaks: list[bytes] = []  # perfect subtree roots, largest (leftmost) first

    def append(self, leaf_hash: bytes) -> None:
        node = leaf_hash
        size = self.size
        while size & 1:  # merge equal-height peaks, as a binary counter carries
            node = self.h.hash_children(self._peaks.pop(), node)
            size >>= 1
        self._peaks.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return self.h.empty_root()
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            node = self.h.hash_children(peak, node)
        return node


class MerkleTree:
    """All leaf hashes plus every perfect aligned subtree root, level by level.

    `levels[k]` holds the roots of the complete subtrees of 2**k leaves, back to back (a flat
    bytearray, `digest_size` bytes each). An append hashes at most log2(n) new nodes (amortised
    one); the root of any prefix and any RFC subtree is then O(log n) lookups and hashes, so
    proofs on a 100,000-entry ledger never rehash the tree.
    """

    def __init__(self, h: MerkleHash):
        self.h = h
        self.size = 0
        self.levels: list[bytearray] = [bytearray()]

    def _node(self, level: int, index: int) -> bytes:
        d = self.h.digest_size
        return bytes(self.levels[level][index * d:(index + 1) * d])

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} outside a tree of size {self.size}")
        return self._node(0, index)

    def append(self, leaf_hash: bytes) -> None:
        if len(leaf_hash) != self.h.digest_size:
            raise ValueError("leaf hash has the wrong length")
        self.levels[0] += leaf_hash
        self.size += 1
        level, count, node = 0, self.size, bytes(leaf_hash)
        while count % 2 == 0:  # this leaf completes a perfect subtree one level up
            node = self.h.hash_children(self._node(level, count - 2), node)
            level += 1
            count //= 2
            if len(self.levels) == level:
                self.levels.append(bytearray())
            self.levels[level] += node

    def subtree_root(self, start: int, n: int) -> bytes:
        """MTH(D[start:start+n]) for the ranges the RFC recursions visit (start aligned to the
        largest power of two <= n); O(log n)."""
        if n == 0:
            return self.h.empty_root()
        if start < 0 or start + n > self.size:
            raise IndexError(f"range {start}..{start + n} outside a tree of size {self.size}")
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            if start % n:
                raise ValueError("unaligned perfect subtree")
            return self._node(level, start >> level)
        k = largest_power_of_two_below(n)
        return self.h.hash_children(self.subtree_root(start, k), self.subtree_root(start + k, n - k))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise IndexError(f"no tree of size {size}: the ledger holds {self.size} entries")
        return self.subtree_root(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 9162 §2.1.3.1."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise IndexError(f"no tree of size {size}: the ledger holds {self.size} entries")
        if not 0 <= index < size:
            raise IndexError(f"entry {index} is not in a tree of size {size}")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, n: int) -> list[bytes]:
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return self._path(m, start, k) + [self.subtree_root(start + k, n - k)]
        return self._path(m - k, start + k, n - k) + [self.subtree_root(start, k)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]) = SUBPROOF(first, D[second], true) of RFC 9162 §2.1.4.1."""
        second = self.size if second is None else second
        if not 0 <= second <= self.size:
            raise IndexError(f"no tree of size {second}: the ledger holds {self.size} entries")
        if not 0 < first <= second:
            raise IndexError(f"consistency needs 0 < old size <= new size (got {first}, {second})")
        if first == second:
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, n: int, b: bool) -> list[bytes]:
        if m == n:
            return [] if b else [self.subtree_root(start, n)]
        k = largest_power_of_two_below(n)
        if m <= k:
            return self._subproof(m, start, k, b) + [self.subtree_root(start + k, n - k)]
        return self._subproof(m - k, start + k, n - k, False) + [self.subtree_root(start, k)]
