"""Prove the statistics of a dataset's columns and record them; verify such a record.

`prove_statistics` notarizes the raw bytes, streams the chosen columns through Dask partitions
into fixed-size chunks, proves each chunk under the shape's Groth16 key, and appends ONE ledger
entry holding the dataset totals, the encoding, the circuit shape and verifying-key hash, and the
hash of the proof bundle (every chunk's public inputs and proof) kept in `objects/`. The salts
that open the commitments stay private, in `openings/<bundle hash>.json` (mode 0600).

`verify_statistics` checks every chunk proof (batch verification), that the recorded totals are
exactly the sums of the chunks' public inputs, and, given the data and the openings, that the data
encodes to the committed cells.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np

from ledger import Entry, Ledger, canonical_json
from pipeline import __version__
from pipeline.circuit.statistics import ChunkStatistics, Shape, circuit, commitment_of
from pipeline.encoding import ColumnEncoding, column_encodings
from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import Proof, VerifyingKey
from pipeline.ingest import DEFAULT_BLOCKSIZE, detect_format, iter_chunks
from pipeline.keystore import KeyStore

BUNDLE_FORMAT = "zkp-ledger/statistics-bundle/v1"
OPENINGS_FORMAT = "zkp-ledger/statistics-openings/v1"
VERIFY_BATCH = 256


@dataclass
class ProveRequest:
    dataset: Path
    name: str
    columns: list[str]
    scale: str | None = None
    ranges: str | None = None
    range_bits: int = 32
    chunk_rows: int = 1024
    width: int = 9
    blocksize: int = DEFAULT_BLOCKSIZE
    device: str = "cpu"
    tag: str | None = None
    parent: str | None = None
    log: object = field(default=None, repr=False)          # log(text): messages (default: stderr)
    progress: object = field(default=None, repr=False)     # progress(rows_done, rows_total) per chunk


def _decimal_text(value: Fraction, scale: int, digits: int = 28) -> str:
    """A Fraction in the column's units as decimal text (exact when it terminates, else 28 digits)."""
    with localcontext() as ctx:
        ctx.prec = digits
        return str((Decimal(value.numerator) / Decimal(value.denominator)).scaleb(-scale))


def column_statistics(enc: ColumnEncoding, range_bits: int, count: int, nulls: int, total: int,
                      squares: int) -> dict:
    """The `statistics` item of one column: units first, the exact scaled integers beside them."""
    max_bound = enc.lo + (1 << range_bits) - 1
    out = {"count": count, "nulls": nulls, "sum": str(enc.to_units(total)),
           "sum_squares": str(Decimal(squares).scaleb(-2 * enc.scale)),
           "min_bound": str(enc.to_units(enc.lo)), "max_bound": str(enc.to_units(max_bound)),
           "declared_max": str(enc.to_units(enc.hi)),
           "scaled": {"scale": enc.scale, "sum": total, "sum_squares": squares, "min_bound": enc.lo,
                      "max_bound": max_bound}}
    if count:
        mean = Fraction(total, count)
        variance = Fraction(squares, count) - mean * mean      # population variance, exact
        out["mean"] = _decimal_text(mean, enc.scale)
        out["variance"] = _decimal_text(variance, 2 * enc.scale)
        out["scaled"]["mean"] = f"{mean.numerator}/{mean.denominator}"
        out["scaled"]["variance"] = f"{variance.numerator}/{variance.denominator}"
    else:
        out["mean"] = out["variance"] = None
    return out


def _log(request: ProveRequest, text: str) -> None:
    (request.log or (lambda t: print(f"zkp-ledger: {t}", file=sys.stderr)))(text)


def key_store(ledger: Ledger) -> KeyStore:
    return KeyStore(ledger.dir / "keys")


def prove_statistics(ledger: Ledger, request: ProveRequest) -> Entry:
    """Prove and record; returns the appended entry. Nothing is appended on any error."""
    from pipeline.groth16.prover import prove, qap_of
    from pipeline.notarize import notarize

    encodings = column_encodings(request.columns, request.scale, request.ranges, request.range_bits)
    shape = Shape(request.chunk_rows, len(encodings), request.range_bits, request.width)
    dataset = Path(request.dataset)
    detect_format(dataset)                 # one CSV or Parquet file, before any long read
    notarized = notarize(dataset)          # raw-bytes root, schema, row count; rejects bad CSV
    if notarized.layout != "file" or notarized.format not in ("csv", "parquet"):
        raise InputError(f"{dataset}: prove needs one CSV or Parquet file (found {notarized.layout} "
                         f"of format {notarized.format}); use notarize for other data")
    pk = vk = None
    r1cs = circuit(shape)
    lo = [e.lo for e in encodings]
    chunks, openings = [], []
    totals = np.zeros((3, shape.columns), dtype=object)
    rows = 0
    from pipeline.circuit.statistics import chunk_witness

    for chunk in iter_chunks(dataset, encodings, shape.rows, request.blocksize):
        z, statement, salt = chunk_witness(shape, chunk.values, chunk.nulls, chunk.active_rows, lo)
        if pk is None:   # keys only once the first chunk encoded cleanly
            pk, vk = key_store(ledger).keys_for(shape)
            qap_of(r1cs)
        proof = prove(pk, r1cs, z, device=request.device)
        chunks.append({"index": chunk.index, "first_row": chunk.first_row, "rows": chunk.active_rows,
                       "public_inputs": [str(v) for v in statement.public_inputs()],
                       "proof": base64.b64encode(proof.to_bytes()).decode()})
        openings.append(str(salt))
        totals += np.array([statement.sums, statement.sums_of_squares, statement.nulls], dtype=object)
        rows += chunk.active_rows
        if request.progress is not None:
            request.progress(rows, notarized.rows)
    if notarized.rows is not None and rows != notarized.rows:
        raise InputError(f"{dataset}: read {rows} rows through Dask but notarize counted {notarized.rows}; "
                         "the file changed while it was proved, or it has blank lines")

    vk_bytes = vk.to_bytes()
    bundle = {"format": BUNDLE_FORMAT, "shape": shape.describe(), "vk_sha256": vk.digest(), "chunks": chunks}
    bundle_hash = ledger.put_object(canonical_json(bundle))
    vk_object = ledger.put_object(vk_bytes)
    _write_openings(ledger, bundle_hash, openings)
    statistics = {}
    for j, enc in enumerate(encodings):
        s, q, n_null = (int(x) for x in totals[:, j])
        statistics[enc.name] = column_statistics(enc, shape.range_bits, rows - n_null, n_null, s, q)
    record = {
        "kind": "statistics", "name": request.name, "tag": request.tag, "tool": f"zkp-ledger {__version__}",
        "data": notarized.data_record(), "schema": notarized.schema, "rows": rows,
        "encoding": {"columns": [e.describe() for e in encodings], "range_bits": shape.range_bits,
                     "chunk_rows": shape.rows, "fixed_point": "value * 10^scale, exact"},
        "statistics": statistics,
        "circuit": {"name": "zkp-ledger statistics v1", "shape": shape.describe(), "key_id": shape.key_id(),
                    "vk_hash": vk.digest(), "vk_object": vk_object, "setup": vk.label,
                    "chunks": len(chunks), "constraints_per_chunk": r1cs.n_constraints},
        "proof_bundle": bundle_hash,
    }
    if request.parent is not None:
        record["parent"] = ledger.resolve(request.parent).id
    return ledger.append(record)


def _write_openings(ledger: Ledger, bundle_hash: str, salts: list[str]) -> Path:
    folder = ledger.dir / "openings"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{bundle_hash}.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"format": OPENINGS_FORMAT, "bundle": bundle_hash, "salts": salts}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


# --- verification --------------------------------------------------------------------------------

@dataclass
class StatisticsCheck:
    entry: int
    chunks: int
    rows: int
    vk_hash: str
    vk_pinned: bool | None      # True: equals this ledger's key store; None: no local key to compare
    data_checked: bool = False

    def summary(self) -> str:
        pin = {True: "matches the local key store", False: "DIFFERS from the local key store",
               None: "not pinned locally"}[self.vk_pinned]
        data = "; data re-encoded and matched every commitment" if self.data_checked else ""
        return (f"statistics: {self.chunks} chunk proofs valid (batch-verified), totals equal the sums of "
                f"the chunks' public inputs, {self.rows} rows; verifying key {self.vk_hash[:16]} {pin}{data}")


def load_bundle(ledger: Ledger, entry: Entry) -> tuple[dict, VerifyingKey, Shape]:
    record = entry.record
    circ = record.get("circuit") or {}
    try:
        bundle = json.loads(ledger.get_object(record["proof_bundle"]))
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            raise ValueError("not a statistics proof bundle")
        vk_bytes = ledger.get_object(circ["vk_object"])
        shape_fields = circ["shape"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProofError(f"entry {entry.index}: its proof bundle or verifying key is unreadable "
                         f"({type(exc).__name__}: {exc})") from None
    vk = VerifyingKey.from_bytes(vk_bytes, what=f"entry {entry.index} verifying key")
    if vk.digest() != circ.get("vk_hash") or bundle.get("vk_sha256") != circ.get("vk_hash"):
        raise ProofError(f"entry {entry.index}: verifying key does not match the recorded vk_hash")
    s = shape_fields
    shape = Shape(s["rows"], s["columns"], s["range_bits"], s["width"])
    if vk.n_public != shape.n_public:
        raise ProofError(f"entry {entry.index}: verifying key has {vk.n_public} public inputs, "
                         f"shape {shape.key_id()} needs {shape.n_public}")
    return bundle, vk, shape


def verify_statistics(ledger: Ledger, entry: Entry, data: Path | None = None) -> StatisticsCheck:
    """Check an entry's proofs and totals (see module docstring); raises ProofError on any failure."""
    from pipeline.groth16.verifier import batch_verify

    record = entry.record
    bundle, vk, shape = load_bundle(ledger, entry)
    encodings = [ColumnEncoding(c["name"], c["scale"], c["lo"], c["hi"]) for c in record["encoding"]["columns"]]
    if len(encodings) != shape.columns:
        raise ProofError(f"entry {entry.index}: encoding has {len(encodings)} columns, shape {shape.columns}")
    m = shape.columns
    totals = [[0, 0, 0] for _ in range(m)]
    rows = 0
    statements: list[tuple[list[int], Proof]] = []
    for k, chunk in enumerate(bundle["chunks"]):
        inputs = [int(v) for v in chunk["public_inputs"]]
        st = ChunkStatistics.from_public_inputs(inputs, m)
        if chunk["index"] != k or st.active_rows != chunk["rows"] or not 0 <= st.active_rows <= shape.rows:
            raise ProofError(f"entry {entry.index}: chunk {k} has inconsistent index or row count")
        if st.lo != [e.lo for e in encodings]:
            raise ProofError(f"entry {entry.index}: chunk {k} was proved with bounds {st.lo}, "
                             f"the entry declares {[e.lo for e in encodings]}")
        rows += st.active_rows
        for j in range(m):
            totals[j][0] += st.sums[j]
            totals[j][1] += st.sums_of_squares[j]
            totals[j][2] += st.nulls[j]
        statements.append((inputs, Proof.from_bytes(base64.b64decode(chunk["proof"]))))
    for start in range(0, len(statements), VERIFY_BATCH):
        if not batch_verify(vk, statements[start:start + VERIFY_BATCH]):
            bad = next(start + i for i, (inp, pr) in enumerate(statements[start:start + VERIFY_BATCH])
                       if not batch_verify(vk, [(inp, pr)]))
            raise ProofError(f"entry {entry.index}: the proof of chunk {bad} does not verify")
    if rows != record.get("rows"):
        raise ProofError(f"entry {entry.index}: chunks prove {rows} rows, the entry says {record.get('rows')}")
    for j, enc in enumerate(encodings):
        s, q, n_null = totals[j]
        expected = column_statistics(enc, shape.range_bits, rows - n_null, n_null, s, q)
        if record["statistics"].get(enc.name) != expected:
            raise ProofError(f"entry {entry.index}: statistics of column '{enc.name}' differ from what the "
                             "proofs' public inputs sum to")
    local_vk = ledger.dir / "keys" / shape.key_id() / "verifying.key"
    pinned = None
    if local_vk.is_file():
        pinned = local_vk.read_bytes() == ledger.get_object(record["circuit"]["vk_object"])
    check = StatisticsCheck(entry.index, len(statements), rows, vk.digest(), pinned)
    if data is not None:
        _check_openings(ledger, entry, bundle, shape, encodings, Path(data))
        check.data_checked = True
    return check


def _check_openings(ledger: Ledger, entry: Entry, bundle: dict, shape: Shape,
                    encodings: list[ColumnEncoding], data: Path) -> None:
    """Re-encode the data and recompute every chunk commitment with the private salts."""
    path = ledger.dir / "openings" / f"{entry.record['proof_bundle']}.json"
    if not path.is_file():
        raise ProofError(f"entry {entry.index}: no openings file {path}; only the ledger that proved the "
                         "data holds the salts needed to match data against the commitments")
    salts = [int(s) for s in json.loads(path.read_text())["salts"]]
    chunks = bundle["chunks"]
    seen = 0
    for chunk in iter_chunks(data, encodings, shape.rows):
        if chunk.index >= len(chunks):
            raise ProofError(f"{data}: has more rows than entry {entry.index} proved")
        active = (np.arange(shape.rows) < chunk.active_rows)[:, None]
        live = active & ~chunk.nulls
        offsets = np.where(live, chunk.values - np.array([e.lo for e in encodings]), 0)
        expected = int(chunks[chunk.index]["public_inputs"][0])
        if commitment_of(shape, salts[chunk.index], offsets, chunk.nulls & active) != expected:
            raise ProofError(f"{data}: rows {chunk.first_row}..{chunk.first_row + chunk.active_rows - 1} do not "
                             f"match the commitment of chunk {chunk.index} in entry {entry.index}")
        seen += 1
    if seen != len(chunks):
        raise ProofError(f"{data}: has fewer rows than entry {entry.index} proved")


def export_snarkjs(ledger: Ledger, entry: Entry, out: Path) -> list[Path]:
    """Write verification_key.json and, per chunk, proof_<k>.json and public_<k>.json."""
    from pipeline.snarkjs import json_io

    bundle, vk, _ = load_bundle(ledger, entry)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "verification_key.json"]
    written[0].write_text(json.dumps(json_io.vk_to_json(vk), indent=1))
    for chunk in bundle["chunks"]:
        k = chunk["index"]
        proof = Proof.from_bytes(base64.b64decode(chunk["proof"]))
        (out / f"proof_{k}.json").write_text(json.dumps(json_io.proof_to_json(proof), indent=1))
        (out / f"public_{k}.json").write_text(json.dumps(chunk["public_inputs"]))
        written += [out / f"proof_{k}.json", out / f"public_{k}.json"]
    return written

