"""snarkjs Groth16 proving keys (.zkey: iden3 container, magic "zkey", version 1) -> our keys.

Sections: 1 protocol (u32, 1 = Groth16); 2 header: u32 n8q, q, u32 n8r, r, u32 nVars, nPublic,
domainSize, then α₁, β₁, β₂, γ₂, δ₁, δ₂; 3 IC; 4 the A and B coefficients (u32 count, then u32
matrix, u32 row, u32 wire, n8r-byte value); 5 A, 6 B₁, 7 B₂, 8 C (private wires), 9 H;
10 contributions. Points are affine x‖y with each Fq coordinate in Montgomery form, R = 2^384,
little-endian: exactly the kernels' uint32 layout, so they are used in place. A coefficient c is
stored as the plain bytes of c·R² mod r (R = 2^256), i.e. one Montgomery reduction from our form.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from kernels import params
from kernels.ff.fields import FR
from pipeline.errors import InputError
from pipeline.groth16.keys import ProvingKey, VerifyingKey, _validate
from pipeline.groth16.r1cs import SparseMatrix
from pipeline.groth16.r1cs_to_qap import QapMatrices
from pipeline.snarkjs.binfile import Reader, contribution_params, read_binfile, read_contribution_params

SNARKJS_LABEL = "snarkjs .zkey (phase-2 ceremony as recorded in the file)"
_COEF = np.dtype([("matrix", "<u4"), ("row", "<u4"), ("wire", "<u4"), ("value", "<u4", (8,))])


@dataclass
class Zkey:
    """A .zkey's proving key (with its verifying key) and the QAP rows the prover needs."""

    pk: ProvingKey
    qap: QapMatrices

    @property
    def vk(self) -> VerifyingKey:
        return self.pk.vk


def _points(buf: memoryview, count: int, g2: bool, where: str) -> np.ndarray:
    shape = (count, 2, 2, 12) if g2 else (count, 2, 12)
    need = int(np.prod(shape)) * 4
    if len(buf) != need:
        raise InputError(f"{where}: holds {len(buf)} bytes, expected {need} for {count} points")
    return np.frombuffer(buf, "<u4").reshape(shape)


def _csr(rows: np.ndarray, wires: np.ndarray, values: np.ndarray, n_rows: int) -> SparseMatrix:
    order = np.argsort(rows, kind="stable")
    ptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=ptr[1:])
    return SparseMatrix(ptr, wires[order].astype(np.int64), np.ascontiguousarray(values[order]))


def read_zkey(path, validate: bool = True, file=None) -> Zkey:
    """Proving key, verifying key and QAP rows of a snarkjs Groth16 .zkey on BLS12-381.

    The point arrays are read-only views of the memory-mapped file. With `validate` every point is
    checked to be on its curve and in the subgroup. Raises InputError naming the file when it is
    not a Groth16 zkey for BLS12-381 or is truncated, ProofError for an invalid point. `file`: an
    open binary file of `path` to map instead of opening the path again.
    """
    f = read_binfile(path, b"zkey", 1, file)
    proto = Reader(f.section(1), f"{path} protocol")
    if proto.u32() != 1:
        raise InputError(f"{path}: not a Groth16 zkey (protocol section says otherwise)")
    head = Reader(f.section(2), f"{path} header")
    n8q = head.u32()
    q = head.bigint(n8q)
    n8r = head.u32()
    r = head.bigint(n8r)
    if (q, r) != (params.P, params.R) or (n8q, n8r) != (48, 32):
        raise InputError(f"{path}: zkey for another curve (q = {q:#x}); expected BLS12-381")
    n_vars, n_public, domain_size = head.u32(), head.u32(), head.u32()
    g1 = lambda what: _points(head.take(96), 1, False, f"{path} {what}")[0]  # noqa: E731
    g2 = lambda what: _points(head.take(192), 1, True, f"{path} {what}")[0]  # noqa: E731
    alpha1, beta1, beta2, gamma2, delta1, delta2 = (g1("alpha_1"), g1("beta_1"), g2("beta_2"), g2("gamma_2"),
                                                    g1("delta_1"), g2("delta_2"))
    if not n_public < n_vars:
        raise InputError(f"{path}: header has {n_public} public of {n_vars} variables")

    coef_buf = f.section(4)
    count = Reader(coef_buf, f"{path} coefficients").u32()
    if len(coef_buf) != 4 + count * _COEF.itemsize:
        raise InputError(f"{path}: coefficient section holds {len(coef_buf)} bytes, expected {4 + count * _COEF.itemsize}")
    coefs = np.frombuffer(coef_buf, _COEF, count, 4)
    if count and (coefs["row"].max() >= domain_size or coefs["wire"].max() >= n_vars or coefs["matrix"].max() > 1):
        raise InputError(f"{path}: coefficient refers to a row, wire or matrix out of range")
    values = np.empty((count, 8), np.uint32)
    FR.from_mont_vec(values, np.ascontiguousarray(coefs["value"]))   # c·R² → c·R, our Montgomery form
    mats = []
    for m in (0, 1):
        sel = coefs["matrix"] == m
        mats.append(_csr(coefs["row"][sel].astype(np.int64), coefs["wire"][sel], values[sel], domain_size))
    qap = QapMatrices(n_vars, n_public, domain_size, mats[0], mats[1])

    digest = hashlib.sha256(b"snarkjs zkey v1" + bytes(f.section(2)) + bytes(coef_buf)).digest()
    ic = _points(f.section(3), n_public + 1, False, f"{path} IC")
    vk = VerifyingKey(alpha1, beta2, gamma2, delta2, ic, digest, SNARKJS_LABEL)
    pk = ProvingKey(vk, beta1, delta1,
                    a_query=_points(f.section(5), n_vars, False, f"{path} A"),
                    b_g1_query=_points(f.section(6), n_vars, False, f"{path} B1"),
                    b_g2_query=_points(f.section(7), n_vars, True, f"{path} B2"),
                    l_query=_points(f.section(8), n_vars - n_public - 1, False, f"{path} C"),
                    h_query=_points(f.section(9), domain_size, False, f"{path} H"),
                    domain_size=domain_size)
    if validate:
        for name, kind, arr in pk._sections():
            _validate(kind, np.asarray(arr), f"{path} {name}")
    return Zkey(pk, qap)


# --- the ceremony's view: header points, raw sections and the MPC parameters (section 10) --------

import struct  # noqa: E402
from dataclasses import field  # noqa: E402

from pipeline.snarkjs.binfile import write_binfile  # noqa: E402

ZKEY_SECTIONS = tuple(range(1, 11))


@dataclass
class ZkeyContribution:
    """One phase-2 contribution: δ after it, the proof-of-knowledge key, the transcript hash."""

    delta_after: np.ndarray        # G1
    g1_s: np.ndarray
    g1_sx: np.ndarray
    g2_spx: np.ndarray             # G2
    transcript: bytes
    type: int = 0
    name: str | None = None
    iterations_exp: int | None = None
    beacon_hash: bytes | None = None

    def hash_bytes(self) -> bytes:
        """What snarkjs's `hashPubKey` feeds the transcript: the points uncompressed, then the transcript."""
        from pipeline.ceremony.transcript import g1_uncompressed, g2_uncompressed
        return (g1_uncompressed(self.delta_after) + g1_uncompressed(self.g1_s) + g1_uncompressed(self.g1_sx)
                + g2_uncompressed(self.g2_spx) + self.transcript)

    def to_bytes(self) -> bytes:
        pts = b"".join(np.ascontiguousarray(p, "<u4").tobytes() for p in (self.delta_after, self.g1_s, self.g1_sx, self.g2_spx))
        params_bytes = contribution_params(self.name, self.type == 1, self.iterations_exp, self.beacon_hash)
        return pts + self.transcript + struct.pack("<II", self.type, len(params_bytes)) + params_bytes


@dataclass
class ZkeyFile:
    """A Groth16 .zkey as a ceremony handles it."""

    path: object
    n_vars: int
    n_public: int
    domain_size: int
    alpha1: np.ndarray
    beta1: np.ndarray
    beta2: np.ndarray
    gamma2: np.ndarray
    delta1: np.ndarray
    delta2: np.ndarray
    raw: dict = field(default_factory=dict)          # section type -> bytes (3..9)
    cs_hash: bytes = b""
    contributions: list = field(default_factory=list)

    def points(self, kind: int) -> np.ndarray:
        g2 = kind == 7
        return np.frombuffer(self.raw[kind], "<u4").reshape((-1,) + ((2, 2, 12) if g2 else (2, 12)))


def read_zkey_ceremony(path) -> ZkeyFile:
    """Header, raw sections 3–9 and MPC parameters of a Groth16 BLS12-381 .zkey.

    Raises InputError naming the file for another curve or protocol, truncation, wrong section
    sizes or malformed contribution records.
    """
    f = read_binfile(path, b"zkey", 1)
    if Reader(f.section(1), f"{path} protocol").u32() != 1:
        raise InputError(f"{path}: not a Groth16 zkey")
    head = Reader(f.section(2), f"{path} header")
    n8q = head.u32()
    q = head.bigint(n8q)
    n8r = head.u32()
    r = head.bigint(n8r)
    if (q, r) != (params.P, params.R):
        raise InputError(f"{path}: zkey for another curve (q = {q:#x}); expected BLS12-381")
    n_vars, n_public, domain_size = head.u32(), head.u32(), head.u32()
    pts = [np.frombuffer(bytes(head.take(s)), "<u4").reshape(shape)
           for s, shape in ((96, (2, 12)), (96, (2, 12)), (192, (2, 2, 12)), (192, (2, 2, 12)), (96, (2, 12)),
                            (192, (2, 2, 12)))]
    z = ZkeyFile(path, n_vars, n_public, domain_size, *pts)
    sizes = {3: 96 * (n_public + 1), 5: 96 * n_vars, 6: 96 * n_vars, 7: 192 * n_vars,
             8: 96 * (n_vars - n_public - 1), 9: 96 * domain_size}
    for kind in range(3, 10):
        z.raw[kind] = f.section(kind)
        if kind in sizes and len(z.raw[kind]) != sizes[kind]:
            raise InputError(f"{path}: section {kind} holds {len(z.raw[kind])} bytes, expected {sizes[kind]}")
    mpc = Reader(f.section(10), f"{path} contributions")
    z.cs_hash = bytes(mpc.take(64))
    for k in range(mpc.u32()):
        p = [np.frombuffer(bytes(mpc.take(s)), "<u4").reshape(shape)
             for s, shape in ((96, (2, 12)), (96, (2, 12)), (96, (2, 12)), (192, (2, 2, 12)))]
        c = ZkeyContribution(*p, bytes(mpc.take(64)), mpc.u32())
        where = f"{path} contribution {k + 1}"
        c.name, c.iterations_exp, c.beacon_hash = read_contribution_params(
            Reader(mpc.take(mpc.u32()), f"{where} parameters"), c.type == 1, where)
        z.contributions.append(c)
    return z


def write_zkey_file(path, z: ZkeyFile, order=ZKEY_SECTIONS) -> None:
    """Write `z` as a snarkjs Groth16 .zkey (sections in `order`)."""
    header = (struct.pack("<I", 48) + params.P.to_bytes(48, "little") + struct.pack("<I", 32)
              + params.R.to_bytes(32, "little") + struct.pack("<III", z.n_vars, z.n_public, z.domain_size)
              + b"".join(np.ascontiguousarray(p, "<u4").tobytes()
                         for p in (z.alpha1, z.beta1, z.beta2, z.gamma2, z.delta1, z.delta2)))
    mpc = z.cs_hash + struct.pack("<I", len(z.contributions)) + b"".join(c.to_bytes() for c in z.contributions)
    body = {1: [struct.pack("<I", 1)], 2: [header], 10: [mpc]}
    for kind in range(3, 10):
        body[kind] = [z.raw[kind]]
    write_binfile(path, b"zkey", 1, [(k, body[k]) for k in order])
