"""Groth16 keys and proofs, and their formats on disk.

- Proof: 192 bytes, A (G1, 48) ‖ B (G2, 96) ‖ C (G1, 48) in the compressed zkcrypto/blst form.
- Verifying key: a short header and compressed points (see `VerifyingKey.to_bytes`).
- Proving key: a binary file of fixed-offset sections holding the points exactly as the kernels
  keep them in memory (affine, Montgomery, uint32 little-endian limbs), so `load_proving_key`
  maps GB-sized keys with `np.memmap` instead of reading and decoding them. Loading checks that
  every point is on its curve and in the prime-order subgroup.
Points use the kernels' layout: G1 (2, 12) uint32, G2 (2, 2, 12); infinity is all zeros.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernels.errors import EncodingError
from pipeline.errors import ProofError

G1_SHAPE = (2, 12)
G2_SHAPE = (2, 2, 12)
G1_BYTES, G2_BYTES = 48, 96
PROOF_BYTES = 2 * G1_BYTES + G2_BYTES
ONE_PARTY_LABEL = "one-party setup: the toxic waste was drawn and erased by one process; not a multi-party ceremony"


def _ec():
    from kernels.ec import encoding, points
    return points, encoding


def _validate(kind: str, arr: np.ndarray, what: str) -> None:
    """Raise ProofError unless every point of arr is on the curve and in the subgroup."""
    points, _ = _ec()
    try:
        (points.g1_validate if kind == "g1" else points.g2_validate)(arr)
    except EncodingError as exc:
        raise ProofError(f"{what}: invalid point ({exc})") from None


def _decompress(kind: str, data: bytes, what: str) -> np.ndarray:
    _, encoding = _ec()
    try:
        return (encoding.g1_decompress if kind == "g1" else encoding.g2_decompress)(bytes(data))
    except EncodingError as exc:
        raise ProofError(f"{what}: {exc}") from None


# --- proof ---------------------------------------------------------------------------------------

@dataclass
class Proof:
    """A Groth16 proof (A ∈ G1, B ∈ G2, C ∈ G1), affine kernel arrays."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray

    def to_bytes(self) -> bytes:
        """The 192-byte compressed encoding A ‖ B ‖ C."""
        _, enc = _ec()
        return enc.g1_compress(self.a) + enc.g2_compress(self.b) + enc.g1_compress(self.c)

    @classmethod
    def from_bytes(cls, data: bytes) -> Proof:
        """Proof of its 192-byte encoding; raises ProofError on a wrong length or an invalid point."""
        if len(data) != PROOF_BYTES:
            raise ProofError(f"a proof is {PROOF_BYTES} bytes, got {len(data)} (truncated or not a proof)")
        return cls(_decompress("g1", data[:48], "proof A"), _decompress("g2", data[48:144], "proof B"),
                   _decompress("g1", data[144:], "proof C"))


# --- verifying key -------------------------------------------------------------------------------

_VK_MAGIC = b"ZKVK"
_VK_HEAD = struct.Struct("<4sII32sH")   # magic, version, n_public, circuit digest, label length


@dataclass
class VerifyingKey:
    """α ∈ G1, β, γ, δ ∈ G2 and IC_0..IC_n_public ∈ G1, with the digest of the circuit they belong to."""

    alpha_g1: np.ndarray
    beta_g2: np.ndarray
    gamma_g2: np.ndarray
    delta_g2: np.ndarray
    ic: np.ndarray                 # (n_public + 1, 2, 12)
    circuit_digest: bytes
    label: str = ONE_PARTY_LABEL

    @property
    def n_public(self) -> int:
        return self.ic.shape[0] - 1

    def to_bytes(self) -> bytes:
        """Header (magic "ZKVK", version 1, n_public, circuit digest, label), then α, β, γ, δ, IC compressed."""
        _, enc = _ec()
        label = self.label.encode()
        return (_VK_HEAD.pack(_VK_MAGIC, 1, self.n_public, self.circuit_digest, len(label)) + label
                + enc.g1_compress(self.alpha_g1) + enc.g2_compress(self.beta_g2)
                + enc.g2_compress(self.gamma_g2) + enc.g2_compress(self.delta_g2)
                + enc.g1_compress_many(self.ic))

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "verifying key") -> VerifyingKey:
        """Key of `to_bytes` output; raises ProofError on a malformed or truncated encoding or a bad point."""
        if len(data) < _VK_HEAD.size:
            raise ProofError(f"{what} is truncated ({len(data)} bytes)")
        magic, version, n_public, digest, label_len = _VK_HEAD.unpack_from(data)
        if magic != _VK_MAGIC or version != 1:
            raise ProofError(f"{what} is not a zkp-ledger verifying key (magic {magic!r}, version {version})")
        pos = _VK_HEAD.size + label_len
        expected = pos + G1_BYTES + 3 * G2_BYTES + (n_public + 1) * G1_BYTES
        if len(data) != expected:
            raise ProofError(f"{what} has {len(data)} bytes, expected {expected} (truncated or corrupt)")
        label = data[_VK_HEAD.size:pos].decode("utf-8", "replace")
        alpha = _decompress("g1", data[pos:pos + 48], f"{what} alpha")
        pos += 48
        g2 = [_decompress("g2", data[pos + 96 * k:pos + 96 * (k + 1)], f"{what} {name}")
              for k, name in enumerate(("beta", "gamma", "delta"))]
        pos += 3 * 96
        _, enc = _ec()
        try:
            ic = enc.g1_decompress_many(data[pos:], n_public + 1)
        except EncodingError as exc:
            raise ProofError(f"{what} IC: {exc}") from None
        return cls(alpha, g2[0], g2[1], g2[2], ic, digest, label)

    def digest(self) -> str:
        """Hex SHA-256 of the encoding: the verifying-key hash a ledger entry records."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def save(self, path) -> None:
        Path(path).write_bytes(self.to_bytes())


def load_verifying_key(path) -> VerifyingKey:
    """Verifying key from a file written by `VerifyingKey.save`; raises ProofError when malformed."""
    return VerifyingKey.from_bytes(Path(path).read_bytes(), what=f"verifying key {path}")


# --- proving key ---------------------------------------------------------------------------------

@dataclass
class ProvingKey:
    """Everything the prover needs besides the circuit: the vk, β/δ in G1, and the query vectors."""

    vk: VerifyingKey
    beta_g1: np.ndarray
    delta_g1: np.ndarray
    a_query: np.ndarray            # (n_vars, 2, 12): A_j(τ)·G1
    b_g1_query: np.ndarray         # (n_vars, 2, 12): B_j(τ)·G1
    b_g2_query: np.ndarray         # (n_vars, 2, 2, 12): B_j(τ)·G2
    l_query: np.ndarray            # (n_vars − n_public − 1, 2, 12): (βA_j + αB_j + C_j)(τ)/δ·G1
    h_query: np.ndarray            # (domain_size, 2, 12): L^{2n}_{2i+1}(τ)/δ·G1
    domain_size: int

    @property
    def n_vars(self) -> int:
        return self.a_query.shape[0]

    @property
    def n_public(self) -> int:
        return self.vk.n_public

    @property
    def circuit_digest(self) -> bytes:
        return self.vk.circuit_digest

    def _sections(self):
        vk = self.vk
        return [("alpha_g1", "g1", vk.alpha_g1[None]), ("beta_g1", "g1", self.beta_g1[None]),
                ("delta_g1", "g1", self.delta_g1[None]), ("beta_g2", "g2", vk.beta_g2[None]),
                ("gamma_g2", "g2", vk.gamma_g2[None]), ("delta_g2", "g2", vk.delta_g2[None]),
                ("ic", "g1", vk.ic), ("a_query", "g1", self.a_query), ("b_g1_query", "g1", self.b_g1_query),
                ("b_g2_query", "g2", self.b_g2_query), ("l_query", "g1", self.l_query),
                ("h_query", "g1", self.h_query)]

    def save(self, path) -> str:
        """Write the memory-mappable key file (see the module docstring and `_PK_HEAD`); returns the
        BLAKE3 of the bytes written, hashed as they are written (what a record of the key may vouch for)."""
        import blake3
        sections = self._sections()
        label = self.vk.label.encode()
        head_len = _PK_HEAD.size + len(label) + 16 * len(sections)
        offset = _align(head_len)
        table = []
        for _, _, arr in sections:
            table.append((offset, arr.shape[0]))
            offset = _align(offset + arr.nbytes)
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        with open(path, "wb") as f:
            def put(data) -> None:
                hasher.update(data)
                f.write(data)

            put(_PK_HEAD.pack(_PK_MAGIC, 1, self.n_vars, self.n_public, self.domain_size,
                              self.circuit_digest, len(label)) + label)
            for off, count in table:
                put(struct.pack("<QQ", off, count))
            for (off, _), (_, _, arr) in zip(table, sections):
                put(b"\0" * (off - f.tell()))
                put(np.ascontiguousarray(arr, "<u4").tobytes())
            put(b"\0" * (offset - f.tell()))
        return hasher.hexdigest()


_PK_MAGIC = b"ZKPK"
# magic, version, n_vars, n_public, domain_size, circuit digest, label length; then the label,
# then per section (offset, point count) as two u64, sections 64-byte aligned.
_PK_HEAD = struct.Struct("<4sIQQQ32sI")
_ALIGN = 64


def _align(x: int) -> int:
    return (x + _ALIGN - 1) // _ALIGN * _ALIGN


def _pread_all(f, n: int, offset: int) -> bytes:
    parts = []
    while n > 0:
        block = os.pread(f.fileno(), min(n, 1 << 30), offset)
        if not block:
            break
        parts.append(block)
        n -= len(block)
        offset += len(block)
    return b"".join(parts)


def load_proving_key(path, mmap: bool = True, validate: bool = True, file=None) -> ProvingKey:
    """Proving key from a file written by `ProvingKey.save`.

    With mmap the query vectors are read-only `np.memmap` views of the file. `file`, an open binary
    file of `path` (pipeline.checked_files.open_trusted), is read and mapped instead of opening the
    path again, so that the key is the very bytes the caller hashed. Raises ProofError for a file
    that is not a proving key, is truncated, or holds a point off the curve or outside the subgroup
    (validate=False skips the point checks, for a key whose bytes were checked before).
    """
    path = Path(path)
    if file is None:
        with open(path, "rb") as f:
            return load_proving_key(path, mmap, validate, f)
    f = file
    size = os.fstat(f.fileno()).st_size
    f.seek(0)
    head = f.read(_PK_HEAD.size)
    if len(head) < _PK_HEAD.size:
        raise ProofError(f"proving key {path} is truncated ({size} bytes)")
    magic, version, n_vars, n_public, domain_size, digest, label_len = _PK_HEAD.unpack(head)
    if magic != _PK_MAGIC or version != 1:
        raise ProofError(f"{path} is not a zkp-ledger proving key (magic {magic!r}, version {version})")
    if not (n_public < n_vars < 1 << 40 and domain_size < 1 << 40):
        raise ProofError(f"proving key {path} has an implausible header")
    label = f.read(label_len).decode("utf-8", "replace")
    table = [struct.unpack("<QQ", f.read(16)) for _ in range(12)] if size >= _PK_HEAD.size + label_len + 192 else None
    if table is None:
        raise ProofError(f"proving key {path} is truncated ({size} bytes)")
    names = ["alpha_g1", "beta_g1", "delta_g1", "beta_g2", "gamma_g2", "delta_g2", "ic", "a_query",
             "b_g1_query", "b_g2_query", "l_query", "h_query"]
    kinds = ["g1", "g1", "g1", "g2", "g2", "g2", "g1", "g1", "g1", "g2", "g1", "g1"]
    counts = [1, 1, 1, 1, 1, 1, n_public + 1, n_vars, n_vars, n_vars, n_vars - n_public - 1, domain_size]
    arrays = {}
    for name, kind, count, (off, stored) in zip(names, kinds, counts, table):
        shape = (count,) + (G1_SHAPE if kind == "g1" else G2_SHAPE)
        nbytes = int(np.prod(shape)) * 4
        if stored != count:
            raise ProofError(f"proving key {path}: section {name} holds {stored} points, expected {count}")
        if off % _ALIGN or off + nbytes > size:
            raise ProofError(f"proving key {path} is truncated (section {name} ends at {off + nbytes}, file has {size} bytes)")
        if mmap and count:
            arr = np.memmap(f, dtype="<u4", mode="r", offset=off, shape=shape)
        else:
            arr = np.frombuffer(_pread_all(f, nbytes, off), "<u4").reshape(shape).astype(np.uint32)
        if validate:
            _validate(kind, np.asarray(arr), f"proving key {path} section {name}")
        arrays[name] = arr
    vk = VerifyingKey(arrays["alpha_g1"][0], arrays["beta_g2"][0], arrays["gamma_g2"][0],
                      arrays["delta_g2"][0], arrays["ic"], digest, label)
    return ProvingKey(vk, arrays["beta_g1"][0], arrays["delta_g1"][0], arrays["a_query"],
                      arrays["b_g1_query"], arrays["b_g2_query"], arrays["l_query"], arrays["h_query"],
                      domain_size)


# --- checks a prover can make of a key it is handed ------------------------------------------------

def _random_128(m: int) -> np.ndarray:
    import secrets

    out = np.zeros((m, 8), np.uint32)
    out[:, :4] = np.frombuffer(secrets.token_bytes(16 * m), "<u4").reshape(m, 4)
    return out


def check_key_relations(pk: ProvingKey, what: str = "proving key") -> None:
    """Raise ProofError unless the relations a key alone allows hold (subversion zero knowledge).

    α, β, γ, δ are not the point at infinity; β₁ and β₂, δ₁ and δ₂, and every B query pair
    (B_j in G1, B_j in G2) have the same discrete logarithm. With random 128-bit ρ, σ, r_j this is one
    multi-pairing: e(ρβ₁ + σδ₁ + Σ r_j·B1_j, G2) = e(G1, ρβ₂ + σδ₂ + Σ r_j·B2_j); a key breaking any of
    the relations passes with probability about 2^-128. Points on the curve and in the subgroup are
    checked separately (`_validate`, done when the key is loaded).
    """
    from kernels.ec.points import g1_generator, g1_neg, g2_generator
    from kernels.msm.pippenger import msm_g1, msm_g2
    from kernels.pairing import pairing_check

    vk = pk.vk
    for name, point in (("alpha_g1", vk.alpha_g1), ("beta_g1", pk.beta_g1), ("beta_g2", vk.beta_g2),
                        ("gamma_g2", vk.gamma_g2), ("delta_g1", pk.delta_g1), ("delta_g2", vk.delta_g2)):
        if not np.asarray(point).any():
            raise ProofError(f"{what}: {name} is the point at infinity (a malformed key: it would reveal the data)")
    r = _random_128(pk.n_vars + 2)
    g1_pts = np.concatenate([np.asarray(pk.beta_g1)[None], np.asarray(pk.delta_g1)[None], np.asarray(pk.b_g1_query)])
    g2_pts = np.concatenate([np.asarray(vk.beta_g2)[None], np.asarray(vk.delta_g2)[None], np.asarray(pk.b_g2_query)])
    left = msm_g1(np.ascontiguousarray(g1_pts, np.uint32), r)
    right = msm_g2(np.ascontiguousarray(g2_pts, np.uint32), r)
    if not pairing_check(np.stack([left, g1_neg(g1_generator())]), np.stack([g2_generator(), right])):
        raise ProofError(f"{what}: β, δ or the B query differ between G1 and G2 (a malformed key; refusing to prove with it)")


def check_proving_key(pk: ProvingKey, what: str = "proving key") -> None:
    """Every point on its curve and in its subgroup, then `check_key_relations`; ProofError otherwise."""
    for name, kind, arr in pk._sections():
        _validate(kind, np.asarray(arr), f"{what} {name}")
    check_key_relations(pk, what)
