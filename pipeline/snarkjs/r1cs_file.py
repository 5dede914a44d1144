"""circom .r1cs files (iden3 container, magic "r1cs", version 1) -> R1CS.

Section 1 (header): u32 n8, prime (n8 bytes), u32 nWires, nPubOut, nPubIn, nPrvIn, u64 nLabels,
u32 nConstraints. Section 2: per constraint, for A, B, C: u32 nTerms, then (u32 wire, n8-byte
canonical coefficient). Wires: 0 is the constant one, then the public outputs, the public inputs,
the private inputs and the internal signals, which is our layout with n_public = nPubOut + nPubIn.
"""

from __future__ import annotations

import numpy as np

from kernels import params
from kernels.ff.fields import FR
from pipeline.errors import InputError
from pipeline.groth16.r1cs import R1CS, SparseMatrix
from pipeline.snarkjs.binfile import Reader, read_binfile


def read_r1cs(path) -> R1CS:
    """The constraint system of a circom .r1cs file compiled with `--prime bls12381`.

    Raises InputError naming the file when it is not an .r1cs, is truncated, or uses another prime.
    """
    f = read_binfile(path, b"r1cs", 1)
    head = Reader(f.section(1), f"{path} header")
    n8 = head.u32()
    prime = head.bigint(n8)
    if prime != params.R:
        raise InputError(f"{path}: compiled for another prime ({prime:#x}); compile with --prime bls12381")
    n_wires, n_out, n_pub_in, _n_prv_in = head.u32(), head.u32(), head.u32(), head.u32()
    head.u64()                                           # number of labels
    n_constraints = head.u32()
    body = Reader(f.section(2), f"{path} constraints")
    buf = body.buf
    ptrs = [[0], [0], [0]]
    cols: list[list[int]] = [[], [], []]
    raws: list[list[bytes]] = [[], [], []]
    term = np.dtype([("wire", "<u4"), ("coef", "V%d" % n8)])
    for _ in range(n_constraints):
        for m in range(3):
            n_terms = body.u32()
            start = body.pos
            body.take(n_terms * term.itemsize)
            terms = np.frombuffer(buf, term, n_terms, start)
            cols[m].extend(terms["wire"].tolist())
            raws[m].append(bytes(buf[start:start + n_terms * term.itemsize]))
            ptrs[m].append(len(cols[m]))
    mats = []
    for m in range(3):
        coef = np.frombuffer(b"".join(raws[m]), term)["coef"].tobytes()
        plain = np.frombuffer(coef, "<u4").reshape(-1, n8 // 4).astype(np.uint32)
        if plain.shape[1] != FR.nlimbs:
            raise InputError(f"{path}: field elements of {n8} bytes, expected {4 * FR.nlimbs}")
        mont = np.empty_like(plain)
        FR.to_mont_vec(mont, plain)
        mats.append(SparseMatrix(np.array(ptrs[m], np.int64), np.array(cols[m], np.int64), mont))
    try:
        return R1CS(n_vars=n_wires, n_public=n_out + n_pub_in, a=mats[0], b=mats[1], c=mats[2])
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def write_r1cs(path, r1cs: R1CS) -> None:
    """Write `r1cs` as a circom .r1cs (prime r of BLS12-381): every public variable as a public
    input, wire i labelled i. `snarkjs r1cs info` and `snarkjs zkey new/verify` read it."""
    import struct

    from pipeline.snarkjs.binfile import write_binfile

    n8 = 32
    header = (struct.pack("<I", n8) + params.R.to_bytes(n8, "little")
              + struct.pack("<IIIIQI", r1cs.n_vars, 0, r1cs.n_public, 0, r1cs.n_vars, r1cs.n_constraints))
    term = np.dtype([("wire", "<u4"), ("coef", "<u4", (8,))])
    per_matrix = []
    for m in (r1cs.a, r1cs.b, r1cs.c):
        plain = np.empty_like(m.coeffs)
        FR.from_mont_vec(plain, np.ascontiguousarray(m.coeffs))
        terms = np.empty(len(m.cols), term)
        terms["wire"] = m.cols
        terms["coef"] = plain
        per_matrix.append((m.row_ptr, terms.tobytes()))
    parts = []
    size = term.itemsize
    for c in range(r1cs.n_constraints):
        for ptr, raw in per_matrix:
            lo, hi = int(ptr[c]), int(ptr[c + 1])
            parts.append(struct.pack("<I", hi - lo))
            parts.append(raw[lo * size:hi * size])
    labels = np.arange(r1cs.n_vars, dtype="<u8")
    write_binfile(path, b"r1cs", 1, [(1, [header]), (2, [b"".join(parts)]), (3, [labels])])
