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
from pipeline.snarkjs.binfile import Reader, read_binfile

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


def read_zkey(path, validate: bool = True) -> Zkey:
    """Proving key, verifying key and QAP rows of a snarkjs Groth16 .zkey on BLS12-381.

    The point arrays are read-only views of the memory-mapped file. With `validate` every point is
    checked to be on its curve and in the subgroup. Raises InputError naming the file when it is
    not a Groth16 zkey for BLS12-381 or is truncated, ProofError for an invalid point.
    """
    f = read_binfile(path, b"zkey", 1)
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
