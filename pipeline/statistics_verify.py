"""Verify statistics entries, and export their proofs for snarkjs.

Statement v2 (pipeline/circuit/statistics.py) is checked from the entry and its proofs alone:
  1. the encoding the entry declares is one the circuit can prove without wrapping mod r
     (scale ≤ 18, |lo|, |hi| < 2^63, lo ≤ hi ≤ lo + 2^k − 1);
  2. the verifying key has no point at infinity (decoding already refuses points off the curve
     or outside the subgroup), was made for exactly the circuit of the claimed shape (its R1CS
     digest is rebuilt here), matches the hash the entry records, and is one the verifier pinned
     (pipeline/key_trust.py; the entry's own key only when the verifier says so, with a warning);
  3. chunk k's statement names this entry (raw-bytes root, name, version) and position k, uses
     the declared bounds, has n = rows per chunk unless it is the last, and the mask commitments
     chain from P_0 to P_K, both derived from the binding;
  4. every proof verifies (batch verification, 2^−128 soundness error);
  5. the totals, the sums mod r of the masked sums, equal the entry's statistics.
With the data and the openings (`data=`), each chunk's re-encoded rows must also give the same
row count and open the commitment. Entries of statement v1 still verify, with a warning that
names its weaknesses (pipeline/statistics_v1.py).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ledger import Entry, Ledger
from pipeline.circuit.statistics import (R, STATEMENT, ChunkStatement, DatasetBinding, Shape, chain_ends, circuit,
                                         commitment_of, signed)
from pipeline.dataset_files import DEFAULT_NULL_VALUES, TextOptions, dataset_of_entry
from pipeline.encoding import MAX_SCALE, ColumnEncoding
from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import Proof, VerifyingKey
from pipeline.ingest import iter_chunks
from pipeline.key_trust import KeyTrust
from pipeline.statistics_proof import BUNDLE_FORMAT, OPENINGS_FORMAT, batch_verify_all, column_statistics

MAX_BOUND = 1 << 63
MAX_CONSTRAINTS = 1 << 28        # QAP domains stop at 2^31; no honest shape comes near this


@dataclass
class StatisticsCheck:
    entry: int
    statement: str
    chunks: int
    rows: int
    vk_hash: str
    key_trust: str              # how the verifying key is trusted ("pinned by --vk ...")
    data_checked: bool = False
    warnings: list[str] = field(default_factory=list)
    reading: str = ""           # how the entry says its text is read (delimiter, null markers)

    def summary(self) -> str:
        data = "; data re-encoded and matched every commitment" if self.data_checked else ""
        data += f"; {self.reading}" if self.reading else ""
        text = (f"{self.statement}: {self.chunks} chunk proofs valid (batch-verified), totals equal what the "
                f"proofs' public inputs sum to, {self.rows} rows; verifying key {self.vk_hash[:16]}, "
                f"{self.key_trust}{data}")
        return "\n".join([text, *(f"WARNING: {w}" for w in self.warnings)])


def load_bundle(ledger: Ledger, entry: Entry) -> tuple[dict, VerifyingKey, Shape]:
    """The entry's proof bundle, its verifying key (as stored in the ledger) and circuit shape.

    Raises ProofError when any of them is unreadable or the key does not match the recorded hash
    or the shape's number of public inputs.
    """
    record = entry.record
    circ = record.get("circuit") or {}
    try:
        bundle = json.loads(ledger.get_object(record["proof_bundle"]))
        if not isinstance(bundle, dict) or not str(bundle.get("format", "")).startswith("zkp-ledger/statistics-bundle/"):
            raise ValueError("not a statistics proof bundle")
        vk_bytes = ledger.get_object(circ["vk_object"])
        s = circ["shape"]
        shape = Shape(s["rows"], s["columns"], s["range_bits"], s["width"])
    except (ValueError, KeyError, TypeError, InputError) as exc:
        raise ProofError(f"entry {entry.index}: its proof bundle, verifying key or shape is unreadable "
                         f"({type(exc).__name__}: {exc})") from None
    vk = VerifyingKey.from_bytes(vk_bytes, what=f"entry {entry.index} verifying key")
    if vk.digest() != circ.get("vk_hash") or bundle.get("vk_sha256") != circ.get("vk_hash"):
        raise ProofError(f"entry {entry.index}: verifying key does not match the recorded vk_hash")
    return bundle, vk, shape


def check_encoding(record: dict, shape: Shape, where: str) -> list[ColumnEncoding]:
    """The column encodings an entry declares, refused unless the circuit proves them exactly."""
    try:
        columns = record["encoding"]["columns"]
        encodings = [ColumnEncoding(c["name"], c["scale"], c["lo"], c["hi"]) for c in columns]
    except (KeyError, TypeError) as exc:
        raise ProofError(f"{where}: unreadable encoding ({type(exc).__name__}: {exc})") from None
    if len(encodings) != shape.columns:
        raise ProofError(f"{where}: encoding has {len(encodings)} columns, shape {shape.key_id()} has {shape.columns}")
    if record["encoding"].get("range_bits") != shape.range_bits or record["encoding"].get("chunk_rows") != shape.rows:
        raise ProofError(f"{where}: encoding's range bits or chunk rows differ from the shape {shape.key_id()}")
    for e in encodings:
        ints = all(isinstance(x, int) and not isinstance(x, bool) for x in (e.scale, e.lo, e.hi))
        if not ints or not 0 <= e.scale <= MAX_SCALE:
            raise ProofError(f"{where}: column '{e.name}' has scale {e.scale!r}; the verifier accepts whole scales "
                             f"0..{MAX_SCALE}")
        if not (-MAX_BOUND < e.lo <= e.hi < MAX_BOUND and e.hi <= e.lo + (1 << shape.range_bits) - 1):
            raise ProofError(f"{where}: column '{e.name}' declares bounds [{e.lo}, {e.hi}], which the circuit cannot "
                             f"prove exactly (need |lo|, |hi| < 2^63 and lo <= hi <= lo + 2^{shape.range_bits} - 1)")
    if len({e.name for e in encodings}) != len(encodings):
        raise ProofError(f"{where}: a column is named twice in the encoding")
    if columns != [e.describe() for e in encodings]:
        raise ProofError(f"{where}: the encoding's descriptions (bounds in units) differ from its scaled bounds")
    try:
        TextOptions.from_encoding(record["encoding"])
    except InputError as exc:
        raise ProofError(f"{where}: {exc}") from None
    if shape.rows * shape.columns * (shape.range_bits + 3) > MAX_CONSTRAINTS:
        raise ProofError(f"{where}: shape {shape.key_id()} is beyond what this verifier builds "
                         f"(more than {MAX_CONSTRAINTS} constraints per chunk)")
    return encodings


def describe_reading(encoding: dict) -> str:
    """How the entry's cells were read, when it is not the default: a null marker can stand for real
    values (a sentinel such as -999), so a verifier is told which texts counted as null."""
    parts = []
    if encoding.get("delimiter") not in (None, ",", "\t"):
        parts.append(f"fields split at {encoding['delimiter']!r}")
    markers = encoding.get("null_values")
    if markers is not None and set(markers) != set(DEFAULT_NULL_VALUES):
        parts.append("cells read as null: " + (", ".join(repr(m) for m in markers) or "none"))
    return "; ".join(parts)


def check_verifying_key(vk: VerifyingKey, shape: Shape, where: str) -> None:
    """Refuse a key with a point at infinity, or one made for any circuit but `circuit(shape)`."""
    points = [("alpha", vk.alpha_g1), ("beta", vk.beta_g2), ("gamma", vk.gamma_g2), ("delta", vk.delta_g2)]
    points += [(f"IC[{i}]", p) for i, p in enumerate(vk.ic)]
    for name, point in points:
        if not np.any(point):          # the kernels' layout: infinity is all zeros
            raise ProofError(f"{where}: verifying key point {name} is the point at infinity; such a key makes "
                             "false statements verify, refusing it")
    if vk.n_public != shape.n_public:
        raise ProofError(f"{where}: verifying key has {vk.n_public} public inputs, shape {shape.key_id()} "
                         f"needs {shape.n_public}")
    if vk.circuit_digest != circuit(shape).digest():
        raise ProofError(f"{where}: verifying key was made for another circuit than {STATEMENT} "
                         f"{shape.key_id()} (R1CS digest differs)")


def compare_statistics(record: dict, encodings: list[ColumnEncoding], range_bits: int, rows: int,
                       totals: list[list[int]], where: str) -> None:
    """The entry's statistics must be exactly those of the proven totals [sum, squares, nulls]."""
    if rows != record.get("rows"):
        raise ProofError(f"{where}: the chunks prove {rows} rows, the entry says {record.get('rows')}")
    stated = record.get("statistics")
    if not isinstance(stated, dict) or set(stated) != {e.name for e in encodings}:
        raise ProofError(f"{where}: the entry states statistics of columns {sorted(stated or {})}, the proofs cover "
                         f"{sorted(e.name for e in encodings)}")
    for enc, (s, q, n_null) in zip(encodings, totals):
        if not 0 <= n_null <= rows or q < 0:
            raise ProofError(f"{where}: column '{enc.name}' totals are impossible ({n_null} nulls, Σv² = {q})")
        expected = column_statistics(enc, range_bits, rows - n_null, n_null, s, q)
        if (record.get("statistics") or {}).get(enc.name) != expected:
            raise ProofError(f"{where}: statistics of column '{enc.name}' differ from what the proofs prove")


def verify_statistics(ledger: Ledger, entry: Entry, data: Path | None = None, *, trust: KeyTrust) -> StatisticsCheck:
    """Check a statistics entry (see the module docstring) under the verifying keys `trust` pins.

    Raises ProofError on any failure, InputError when `trust` pins nothing and does not accept the
    entry's own key.
    """
    statement = (entry.record.get("circuit") or {}).get("name")
    if statement == STATEMENT:
        return _verify_v2(ledger, entry, data, trust)
    from pipeline import statistics_v1

    if statement == statistics_v1.STATEMENT:
        if not trust.allow_v1:
            raise ProofError(f"entry {entry.index} is a statistics v1 entry: {statistics_v1.WEAKNESSES}; "
                             "pass --allow-v1 to check it anyway")
        return statistics_v1.verify(ledger, entry, data, trust)
    raise ProofError(f"entry {entry.index}: unknown statement {statement!r}; this zkp-ledger verifies "
                     f"'{STATEMENT}' and '{statistics_v1.STATEMENT}'")


def entry_binding(entry: Entry) -> DatasetBinding:
    try:
        return DatasetBinding(entry.record["data"]["root"], entry.name, entry.version)
    except (KeyError, TypeError, InputError) as exc:
        raise ProofError(f"entry {entry.index}: no dataset binding ({exc})") from None


def _verify_v2(ledger: Ledger, entry: Entry, data: Path | None, trust: KeyTrust) -> StatisticsCheck:
    where = f"entry {entry.index}"
    record = entry.record
    bundle, vk, shape = load_bundle(ledger, entry)
    if bundle.get("format") != BUNDLE_FORMAT:
        raise ProofError(f"{where}: proof bundle format {bundle.get('format')!r} is not {BUNDLE_FORMAT}")
    encodings = check_encoding(record, shape, where)
    key_trust, warnings = trust.check(vk, where)      # before building the claimed shape's circuit
    check_verifying_key(vk, shape, where)
    binding = entry_binding(entry)
    expected_binding = binding.elements()
    first_mask, last_mask = chain_ends(shape, binding)
    m = shape.columns
    chunks = bundle.get("chunks")
    if not isinstance(chunks, list) or not chunks:
        raise ProofError(f"{where}: the proof bundle holds no chunks")
    totals = [[0, 0, 0] for _ in range(m)]
    rows, chain = 0, first_mask
    statements: list[tuple[list[int], Proof]] = []
    for k, chunk in enumerate(chunks):
        last = k == len(chunks) - 1
        try:
            inputs = [int(v) for v in chunk["public_inputs"]]
            st = ChunkStatement.from_public_inputs(inputs, m)
            proof = Proof.from_bytes(base64.b64decode(chunk["proof"], validate=True))
        except (KeyError, TypeError, ValueError, InputError) as exc:
            raise ProofError(f"{where}: chunk {k} is unreadable ({exc})") from None
        if st.index != k:
            raise ProofError(f"{where}: the proof at position {k} is the proof of chunk {st.index} "
                             "(chunks dropped, repeated or reordered)")
        if st.binding != expected_binding:
            raise ProofError(f"{where}: chunk {k} was proved for another dataset entry (its binding is not this "
                             f"entry's root, name and version)")
        if st.mask_in != chain:
            raise ProofError(f"{where}: chunk {k} does not continue the mask chain (a chunk before it is missing, "
                             "repeated or foreign)")
        if st.lo != [e.lo for e in encodings]:
            raise ProofError(f"{where}: chunk {k} was proved with bounds {st.lo}, the entry declares "
                             f"{[e.lo for e in encodings]}")
        full = st.active_rows == shape.rows
        if not (full or (last and (1 <= st.active_rows < shape.rows or (k == 0 and st.active_rows == 0)))):
            raise ProofError(f"{where}: chunk {k} proves {st.active_rows} rows; every chunk but the last must hold "
                             f"{shape.rows}, the last between 1 and {shape.rows}")
        if chunk.get("index") != k or chunk.get("rows") != st.active_rows:
            raise ProofError(f"{where}: chunk {k}'s index or row count differ from its statement")
        chain = st.mask_out
        rows += st.active_rows
        for j in range(m):
            totals[j][0] += st.masked_sums[j]
            totals[j][1] += st.masked_squares[j]
            totals[j][2] += st.masked_nulls[j]
        statements.append((inputs, proof))
    if chain != last_mask:
        raise ProofError(f"{where}: the mask chain does not end where this entry's binding says (the last "
                         "chunks are missing)")
    batch_verify_all(vk, statements, where)
    compare_statistics(record, encodings, shape.range_bits, rows,
                       [[signed(x % R) for x in t] for t in totals], where)
    check = StatisticsCheck(entry.index, STATEMENT, len(statements), rows, vk.digest(), key_trust, warnings=warnings,
                            reading=describe_reading(record["encoding"]))
    if data is not None:
        check_data(ledger, entry, shape, encodings, [ChunkStatement.from_public_inputs(x, m) for x, _ in statements],
                   Path(data))
        check.data_checked = True
    return check


def read_openings(ledger: Ledger, entry: Entry, fmt: str) -> dict:
    path = ledger.dir / "openings" / f"{entry.record['proof_bundle']}.json"
    if not path.is_file():
        raise ProofError(f"entry {entry.index}: no openings file {path}; only the ledger that proved the "
                         "data holds the salts needed to match data against the commitments")
    try:
        doc = json.loads(path.read_text())
        if doc.get("format") != fmt:
            raise ValueError(f"format {doc.get('format')!r}, expected {fmt}")
        return doc
    except (ValueError, OSError) as exc:
        raise ProofError(f"{path}: unreadable openings ({exc})") from None


def committed_cells(chunk, shape: Shape, encodings: list[ColumnEncoding]) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, null flags) of a re-encoded chunk as the commitment holds them: offsets v − lo of
    counted cells, 0 in padding rows and under nulls; null flags only in active rows."""
    active = (np.arange(shape.rows) < chunk.active_rows)[:, None]
    offsets = np.where(active & ~chunk.nulls, chunk.values - np.array([e.lo for e in encodings]), 0)
    return offsets, chunk.nulls & active


def check_data(ledger: Ledger, entry: Entry, shape: Shape, encodings: list[ColumnEncoding],
               statements: list[ChunkStatement], data: Path) -> None:
    """Re-encode the data with the entry's encoding; every chunk must have the proven row count and
    open its commitment under the private salt. A value outside the declared bounds is refused
    before anything is hashed, so no value can pose as a null."""
    salts = [int(s) for s in read_openings(ledger, entry, OPENINGS_FORMAT)["salts"]]
    if len(salts) != len(statements):
        raise ProofError(f"entry {entry.index}: the openings hold {len(salts)} salts for {len(statements)} chunks")
    seen = 0
    try:
        files = dataset_of_entry(entry.record["data"], data)
        text = TextOptions.from_encoding(entry.record["encoding"])
        for chunk in iter_chunks(files, encodings, shape.rows, text=text):
            if chunk.index >= len(statements):
                raise ProofError(f"{data}: has more rows than entry {entry.index} proved")
            st = statements[chunk.index]
            if chunk.active_rows != st.active_rows:
                raise ProofError(f"{data}: chunk {chunk.index} has {chunk.active_rows} rows, entry {entry.index} "
                                 f"proved {st.active_rows}")
            offsets, nulls = committed_cells(chunk, shape, encodings)
            if commitment_of(shape, salts[chunk.index], chunk.active_rows, offsets, nulls) != st.commitment:
                raise ProofError(f"{data}: rows {chunk.first_row}..{chunk.first_row + chunk.active_rows - 1} do not "
                                 f"match the commitment of chunk {chunk.index} in entry {entry.index}")
            seen += 1
    except InputError as exc:
        raise ProofError(f"{data} does not match entry {entry.index}: {exc}") from None
    if seen != len(statements):
        raise ProofError(f"{data}: has fewer rows than entry {entry.index} proved")


def export_snarkjs(ledger: Ledger, entry: Entry, out: Path | None, *, circuit_dir: Path | None = None,
                   data: Path | None = None, keys: Path | None = None) -> list[Path]:
    """Write an entry's proofs for snarkjs and, with `circuit_dir`, its circuit to prove with.

    `out`: verification_key.json and, per chunk k, proof_<k>.json and public_<k>.json.
    `circuit_dir`: circuit.r1cs (the statistics circuit of the entry's shape), circuit.zkey (the
    proving key the entry was proved with, from `keys` or the ledger's keys/ folder, as a snarkjs
    Groth16 .zkey), verification_key.json and, with `data` (the proved file), chunk_<k>.wtns: each
    chunk's full assignment, rebuilt from the data and the entry's openings and checked to give
    exactly the public inputs of the chunk's proof. The .wtns files hold the data (mode 0600).
    Returns the paths written. Raises ProofError when the key or the data is not the entry's,
    InputError for unreadable data.
    """
    import os
    import struct

    from kernels import params
    from kernels.ff.fields import FR
    from pipeline.circuit.statistics import MaskChain, chunk_witness
    from pipeline.groth16.r1cs_to_qap import qap_matrices
    from pipeline.keystore import KeyStore
    from pipeline.snarkjs import json_io
    from pipeline.snarkjs.binfile import write_binfile
    from pipeline.snarkjs.r1cs_file import write_r1cs
    from pipeline.snarkjs.zkey_file import ZkeyFile, write_zkey_file
    from pipeline.statistics_proof import key_store

    bundle, vk, shape = load_bundle(ledger, entry)
    written: list[Path] = []
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written.append(out / "verification_key.json")
        written[-1].write_text(json.dumps(json_io.vk_to_json(vk), indent=1))
        for chunk in bundle["chunks"]:
            k = chunk["index"]
            proof = Proof.from_bytes(base64.b64decode(chunk["proof"]))
            (out / f"proof_{k}.json").write_text(json.dumps(json_io.proof_to_json(proof), indent=1))
            (out / f"public_{k}.json").write_text(json.dumps(chunk["public_inputs"]))
            written += [out / f"proof_{k}.json", out / f"public_{k}.json"]
    if circuit_dir is None:
        return written

    where = f"entry {entry.index}"
    if bundle.get("format") != BUNDLE_FORMAT:
        raise ProofError(f"{where}: --circuit exports entries of {STATEMENT} only (this one is "
                         f"{(entry.record.get('circuit') or {}).get('name')!r}); its proofs export with --out")
    store = KeyStore(Path(keys)) if keys is not None else key_store(ledger)
    if not store.has_keys(shape):
        raise ProofError(f"{where}: no proving key of shape {shape.key_id()} in {store.folder}; give the folder the "
                         "entry was proved with (--keys DIR)")
    pk, store_vk = store.load_keys(shape)
    if store_vk.digest() != vk.digest():
        raise ProofError(f"{where}: the proving key in {store.shape_dir(shape)} is not the key this entry was proved "
                         f"with (verifying key {store_vk.digest()[:16]}, entry {vk.digest()[:16]})")
    r1cs = circuit(shape)
    qap = qap_matrices(r1cs)
    circuit_dir = Path(circuit_dir)
    circuit_dir.mkdir(parents=True, exist_ok=True)
    write_r1cs(circuit_dir / "circuit.r1cs", r1cs)
    # The .zkey's coefficient section: every A and B term of the QAP rows as (matrix, row, wire, c·R²
    # mod r); our coefficients are c·R, one more Montgomery step gives snarkjs's stored form.
    coef = np.dtype([("matrix", "<u4"), ("row", "<u4"), ("wire", "<u4"), ("value", "<u4", (8,))])
    terms = []
    for matrix, m in enumerate((qap.a, qap.b)):
        t = np.empty(len(m.cols), coef)
        t["matrix"] = matrix
        t["row"] = np.repeat(np.arange(m.n_rows), np.diff(m.row_ptr))
        t["wire"] = m.cols
        values = np.empty_like(m.coeffs)
        FR.to_mont_vec(values, np.ascontiguousarray(m.coeffs))
        t["value"] = values
        terms.append(t)
    coefs = np.concatenate(terms)
    z = ZkeyFile(None, pk.n_vars, pk.n_public, pk.domain_size, vk.alpha_g1, pk.beta_g1, vk.beta_g2, vk.gamma_g2,
                 pk.delta_g1, vk.delta_g2)
    z.raw = {3: np.ascontiguousarray(vk.ic, "<u4").tobytes(), 4: struct.pack("<I", len(coefs)) + coefs.tobytes()}
    for kind, arr in ((5, pk.a_query), (6, pk.b_g1_query), (7, pk.b_g2_query), (8, pk.l_query), (9, pk.h_query)):
        z.raw[kind] = np.ascontiguousarray(arr, "<u4").tobytes()
    z.cs_hash = bytes(64)      # no ceremony transcript: `snarkjs zkey verify` cannot vouch for this key
    write_zkey_file(circuit_dir / "circuit.zkey", z)
    (circuit_dir / "verification_key.json").write_text(json.dumps(json_io.vk_to_json(vk), indent=1))
    written += [circuit_dir / "circuit.r1cs", circuit_dir / "circuit.zkey", circuit_dir / "verification_key.json"]
    if data is None:
        return written

    data = Path(data)
    encodings = check_encoding(entry.record, shape, where)
    openings = read_openings(ledger, entry, OPENINGS_FORMAT)
    try:
        salts = [int(s) for s in openings["salts"]]
        masks = MaskChain(shape, entry_binding(entry), bytes.fromhex(openings["mask_key"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofError(f"{where}: unreadable openings ({type(exc).__name__}: {exc})") from None
    chunks = bundle["chunks"]
    if len(salts) != len(chunks):
        raise ProofError(f"{where}: the openings hold {len(salts)} salts for {len(chunks)} chunks")
    header = struct.pack("<I", 32) + params.R.to_bytes(32, "little") + struct.pack("<I", r1cs.n_vars)
    seen = 0
    try:
        for chunk in iter_chunks(data, encodings, shape.rows):
            k = chunk.index
            if k >= len(chunks):
                raise ProofError(f"{data}: has more rows than {where} proved")
            assignment, statement, _ = chunk_witness(shape, chunk.values, chunk.nulls, chunk.active_rows,
                                                     [e.lo for e in encodings], masks.binding, k, masks.before(k),
                                                     masks.after(k, k == len(chunks) - 1), salt=salts[k])
            if [str(v) for v in statement.public_inputs()] != chunks[k]["public_inputs"]:
                raise ProofError(f"{data}: rows {chunk.first_row}..{chunk.first_row + chunk.active_rows - 1} do not "
                                 f"give the public inputs of chunk {k} of {where} (not the data it proved)")
            path = circuit_dir / f"chunk_{k}.wtns"
            body = np.ascontiguousarray(assignment, "<u4").tobytes()     # canonical limbs: 32-byte LE values
            write_binfile(path, b"wtns", 2, [(1, [header]), (2, [body])])
            os.chmod(path, 0o600)
            written.append(path)
            seen += 1
    except InputError as exc:
        raise ProofError(f"{data} does not match {where}: {exc}") from None
    if seen != len(chunks):
        raise ProofError(f"{data}: has fewer rows than {where} proved")
    return written
