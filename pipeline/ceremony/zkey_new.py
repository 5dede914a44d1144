"""`ceremony circuit SHAPE PTAU OUT.zkey` (snarkjs's zkey_new.js): the initial phase-2 key of a
circuit from a prepared powers of tau, byte for byte what `snarkjs zkey new` makes of the same
.r1cs and .ptau, with δ = γ = 1 and no contribution yet.

For the circuit's QAP on the domain of size n (snarkjs's: constraints plus one row per public
input): A_j = Σ_i A_ij·L_i(τ)·G1, B_j likewise in G1 and G2, K_j = Σ_i (A_ij·βL_i + B_ij·αL_i +
C_ij·L_i)·G1 (IC for the public wires, C/L section for the others), H_i = L^(2n)_(2i+1)(τ)·G1 read
from the ptau. csHash = BLAKE2b over the key's points as snarkjs hashes them: it binds every later
contribution to this circuit and this phase 1.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from kernels import params
from kernels.ff.fields import FR
from pipeline.ceremony.apply_key import add_points, multiply_points
from pipeline.ceremony.transcript import g1_uncompressed, g2_uncompressed
from pipeline.errors import InputError
from pipeline.snarkjs.zkey_file import ZkeyFile

_H_CHUNK = 1 << 14      # snarkjs hashes the H points in chunks of this many (see _h_hash_count)
NEW_ZKEY_ORDER = (1, 2, 4, 3, 9, 8, 5, 6, 7, 10)


def _terms_times_bases(bases: np.ndarray, rows: np.ndarray, short: np.ndarray, negate: np.ndarray,
                       group: str) -> np.ndarray:
    """points[t] = ±short[t]·bases[rows[t]]; terms with coefficient 1 are the base itself. (Measured
    on the 2-core VM: a per-base windowed table was slower than one double-and-add per term here,
    as each base carries only ~10 terms.)"""
    pts = np.ascontiguousarray(bases[rows])
    one = (short[:, 0] == 1) & ~short[:, 1:].any(axis=1) & ~negate
    rest = ~one
    if rest.any():
        pts[rest] = multiply_points(pts[rest], short[rest].copy(), group, negate[rest])
    return pts


def _combine(bases: np.ndarray, rows: np.ndarray, wires: np.ndarray, coeffs_mont: np.ndarray, n_out: int,
             group: str) -> np.ndarray:
    """out[w] = Σ_{terms t with wire w} coeff_t·bases[row_t] (infinity where w has no term)."""
    from kernels.ec.points import g1_sum, g2_sum

    shape = bases.shape[1:]
    out = np.zeros((n_out,) + shape, np.uint32)
    if not len(rows):
        return out
    plain = np.empty_like(coeffs_mont)
    FR.from_mont_vec(plain, np.ascontiguousarray(coeffs_mont))
    values = FR.canonical_to_ints(plain)
    negate = np.array([v > params.R // 2 for v in values])
    short = FR.canonical([params.R - v if neg else v for v, neg in zip(values, negate)])
    terms = _terms_times_bases(bases, rows, short, negate, group)
    order = np.argsort(wires, kind="stable")
    sorted_wires = wires[order]
    bounds = np.flatnonzero(np.diff(sorted_wires)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(order)]])
    singles = starts[ends - starts == 1]
    out[sorted_wires[singles]] = terms[order[singles]]
    pairs = [(lo, hi) for lo, hi in zip(starts, ends) if hi - lo > 1]
    if pairs:
        small = [(lo, hi) for lo, hi in pairs if hi - lo <= 16]
        # Few-term wires: add term by term, all wires at once per step (vectorised over wires).
        if small:
            acc_idx = np.array([lo for lo, _ in small])
            lens = np.array([hi - lo for lo, hi in small])
            acc = terms[order[acc_idx]].copy()
            for step in range(1, int(lens.max())):
                live = np.flatnonzero(lens > step)
                acc[live] = add_points(acc[live], terms[order[acc_idx[live] + step]], group)
            out[sorted_wires[acc_idx]] = acc
        total = g1_sum if group == "g1" else g2_sum
        for lo, hi in pairs:
            if hi - lo > 16:
                out[sorted_wires[lo]] = total(terms[order[lo:hi]])
    return out


def _h_hash_count(n: int) -> int:
    """How many (τ^(i+n) − τ^i)·G1 snarkjs hashes: n − 1, but whole chunks of 2^14 once n − 1 exceeds one
    (its loop takes min(n − 1, 2^14) points per chunk), i.e. n points from n = 2^15 on."""
    chunk = min(n - 1, _H_CHUNK)
    return -(-(n - 1) // chunk) * chunk


def new_zkey(r1cs, ptau, log=None) -> ZkeyFile:
    """The initial .zkey (not yet written) of `r1cs` on the prepared powers of tau `ptau` (a read Ptau).

    Raises InputError when the ptau is not prepared or too small for the circuit.
    """
    from kernels.ec.points import g1_generator, g2_generator
    from pipeline.groth16.r1cs_to_qap import qap_matrices

    say = log or (lambda _m: None)
    qap = qap_matrices(r1cs)
    n = qap.domain_size
    p = n.bit_length() - 1
    if p > ptau.power:
        raise InputError(f"{ptau.path}: powers of tau of 2^{ptau.power}, the circuit needs 2^{p} "
                         f"({r1cs.n_constraints} constraints + {r1cs.n_public + 1} public rows)")
    if not ptau.prepared:
        raise InputError(f"{ptau.path}: not prepared for phase 2; run `zkp-ledger ceremony prepare` first")
    if _h_hash_count(n) == n and p == ptau.power:
        raise InputError(f"{ptau.path}: a circuit of 2^{p} rows needs a powers of tau of 2^{p + 1} or more "
                         "(snarkjs hashes one point past 2^(p+1) − 2 for it)")
    s = ptau.sections
    lag_tau, lag_tau2 = s[12][n - 1:2 * n - 1], s[13][n - 1:2 * n - 1]
    lag_alpha, lag_beta = s[14][n - 1:2 * n - 1], s[15][n - 1:2 * n - 1]
    n_vars, n_pub = r1cs.n_vars, r1cs.n_public

    def terms(m):
        rows = np.repeat(np.arange(m.n_rows), np.diff(m.row_ptr))
        return rows, np.asarray(m.cols, np.int64), np.asarray(m.coeffs)

    ra, wa, ca = terms(qap.a)
    rb, wb, cb = terms(qap.b)
    rc, wc, cc = terms(r1cs.c)
    say(f"A, B: {len(ra)} + {len(rb)} terms")
    a_pts = _combine(lag_tau, ra, wa, ca, n_vars, "g1")
    b1_pts = _combine(lag_tau, rb, wb, cb, n_vars, "g1")
    b2_pts = _combine(lag_tau2, rb, wb, cb, n_vars, "g2")
    say("IC and L")
    k_pts = _combine(np.concatenate([lag_beta, lag_alpha, lag_tau]), np.concatenate([ra, rb + n, rc + 2 * n]),
                     np.concatenate([wa, wb, wc]), np.concatenate([ca, cb, cc]), n_vars, "g1")
    h_pts = np.ascontiguousarray(s[12][2 * n - 1:4 * n - 1][1::2])

    coef = np.dtype([("matrix", "<u4"), ("row", "<u4"), ("wire", "<u4"), ("value", "<u4", (8,))])
    n_c = r1cs.n_constraints
    ptr_a, ptr_b = qap.a.row_ptr, qap.b.row_ptr
    r2_values = {}
    for name, m in (("a", qap.a), ("b", qap.b)):
        v = np.empty_like(m.coeffs)
        FR.to_mont_vec(v, np.ascontiguousarray(m.coeffs))      # c·R → c·R²: snarkjs's stored form
        r2_values[name] = v
    # snarkjs's order: per constraint its A terms then its B terms, then the public rows of A.
    order_m, order_i = [], []
    for c in range(n_c):
        order_m += [0] * int(ptr_a[c + 1] - ptr_a[c]) + [1] * int(ptr_b[c + 1] - ptr_b[c])
        order_i += list(range(int(ptr_a[c]), int(ptr_a[c + 1]))) + list(range(int(ptr_b[c]), int(ptr_b[c + 1])))
    order_m += [0] * int(ptr_a[-1] - ptr_a[n_c])
    order_i += list(range(int(ptr_a[n_c]), int(ptr_a[-1])))
    order_m, order_i = np.array(order_m, np.int64), np.array(order_i, np.int64)
    coefs = np.empty(len(order_m), coef)
    coefs["matrix"] = order_m
    for mat, (rows, wires, name) in enumerate(((ra, wa, "a"), (rb, wb, "b"))):
        sel = order_m == mat
        coefs["row"][sel] = rows[order_i[sel]]
        coefs["wire"][sel] = wires[order_i[sel]]
        coefs["value"][sel] = r2_values[name][order_i[sel]]

    g1, g2 = g1_generator(), g2_generator()
    alpha1, beta1, beta2 = s[4][0], s[5][0], s[6][0]
    cs = hashlib.blake2b(digest_size=64)
    for part in (g1_uncompressed(alpha1), g1_uncompressed(beta1), g2_uncompressed(beta2), g2_uncompressed(g2),
                 g1_uncompressed(g1), g2_uncompressed(g2)):
        cs.update(part)
    cs.update(struct.pack(">I", n_pub + 1) + g1_uncompressed(k_pts[:n_pub + 1]))
    count = _h_hash_count(n)
    say(f"hashing {count} H points")
    cs.update(struct.pack(">I", n - 1) + g1_uncompressed(add_points(s[2][n:n + count], s[2][:count], "g1", negate_b=True)))
    cs.update(struct.pack(">I", n_vars - n_pub - 1) + g1_uncompressed(k_pts[n_pub + 1:]))
    cs.update(struct.pack(">I", n_vars) + g1_uncompressed(a_pts))
    cs.update(struct.pack(">I", n_vars) + g1_uncompressed(b1_pts))
    cs.update(struct.pack(">I", n_vars) + g2_uncompressed(b2_pts))

    z = ZkeyFile(None, n_vars, n_pub, n, alpha1, beta1, beta2, g2, g1, g2)
    z.raw = {3: k_pts[:n_pub + 1].tobytes(), 4: struct.pack("<I", len(coefs)) + coefs.tobytes(),
             5: a_pts.tobytes(), 6: b1_pts.tobytes(), 7: b2_pts.tobytes(), 8: k_pts[n_pub + 1:].tobytes(),
             9: h_pts.tobytes()}
    z.cs_hash = cs.digest()
    return z


def circuit_zkey(shape_text: str, ptau_path, out_path, log=None) -> dict:
    """`ceremony circuit`: write the initial .zkey of a statistics shape and its .r1cs beside it.

    Returns {"shape", "zkey", "r1cs", "constraints", "domain", "cs_hash"}. Raises InputError for a bad
    shape or an unsuitable ptau.
    """
    from pathlib import Path

    from pipeline.circuit.statistics import Shape, circuit
    from pipeline.snarkjs.ptau_file import read_ptau
    from pipeline.snarkjs.r1cs_file import write_r1cs
    from pipeline.snarkjs.zkey_file import write_zkey_file

    try:
        shape = Shape.parse(shape_text)
    except ValueError as exc:
        raise InputError(f"shape {shape_text!r}: {exc}") from None
    r1cs = circuit(shape)
    read_ptau(ptau_path)                 # a readable BLS12-381 ptau, before any work
    z = initial_zkey(r1cs, ptau_path, log)
    out_path = Path(out_path)
    r1cs_path = out_path.with_suffix(".r1cs")
    write_r1cs(r1cs_path, r1cs)
    write_zkey_file(out_path, z, NEW_ZKEY_ORDER)
    return {"shape": shape.key_id(), "zkey": str(out_path), "r1cs": str(r1cs_path), "constraints": r1cs.n_constraints,
            "domain": z.domain_size, "cs_hash": z.cs_hash.hex()}


def initial_zkey(r1cs, ptau_path, log=None) -> ZkeyFile:
    """`new_zkey` of a ptau file, remembered on disk by (BLAKE3 of the ptau, R1CS digest).

    The initial key is a deterministic function of public inputs; building it costs minutes at 2^16
    and more, and a coordinator needs it for `ceremony circuit`, every `ceremony verify --ptau` and
    `keys import`. Kept under the user's cache folder (`$ZKP_LEDGER_CACHE/zkey-init/`), the same
    trust as `pipeline.checked_files`.
    """
    from kernels.cache import cache_base
    from pipeline.checked_files import file_digest
    from pipeline.snarkjs.ptau_file import read_ptau
    from pipeline.snarkjs.zkey_file import read_zkey_ceremony, write_zkey_file

    folder = cache_base() / "zkey-init"
    path = folder / f"{file_digest(ptau_path)[:32]}-{r1cs.digest().hex()[:32]}.zkey"
    if path.is_file():
        try:
            return read_zkey_ceremony(path)
        except InputError:
            path.unlink(missing_ok=True)
    z = new_zkey(r1cs, read_ptau(ptau_path), log)
    folder.mkdir(parents=True, exist_ok=True)
    write_zkey_file(path, z, NEW_ZKEY_ORDER)
    return z
