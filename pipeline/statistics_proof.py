"""Prove the statistics of a dataset's columns and record them (statement v2).

`prove_statistics` notarizes the raw bytes, streams the chosen columns through Dask partitions
into fixed-size chunks, proves each chunk under the shape's Groth16 key, and appends ONE ledger
entry holding the dataset totals, the encoding, the circuit shape and verifying-key hash, and the
hash of the proof bundle (every chunk's public inputs and proof) kept in `objects/`. Each chunk's
statement names the entry (raw-bytes root, name, version) and the chunk's place, and publishes
only masked sums that telescope to the totals (pipeline/circuit/statistics.py). The salts that
open the commitments and the mask key stay private, in `openings/<bundle hash>.json` (mode 0600).
Verification lives in pipeline/statistics_verify.py.
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

import blake3
import numpy as np

from ledger import Entry, Ledger, canonical_json
from pipeline import __version__
from pipeline.circuit.statistics import (STATEMENT, R, ChunkAssignment, ChunkStatement, DatasetBinding, Mask, MaskChain, Shape, chunk_witness, circuit,
                                         signed)
from pipeline.encoding import ColumnEncoding, column_encodings
from pipeline.errors import InputError, ProofError
from pipeline.dataset_files import TextOptions, resolve_dataset
from pipeline.ingest import DEFAULT_BLOCKSIZE, compute_in_order, iter_chunks
from pipeline.keystore import KeyStore

BUNDLE_FORMAT = "zkp-ledger/statistics-bundle/v2"
OPENINGS_FORMAT = "zkp-ledger/statistics-openings/v2"


@dataclass
class ProveRequest:
    dataset: Path | str                                    # a file, a directory or a glob of part files
    name: str
    columns: list[str]
    scale: str | list[str] | None = None
    ranges: str | list[str] | None = None
    delimiter: str | None = None                           # CSV field delimiter (default: by suffix)
    null_values: str | list[str] | None = None             # null markers, comma-separated (default: pandas')
    range_bits: int = 32
    chunk_rows: int = 1024
    width: int = 9
    blocksize: int = DEFAULT_BLOCKSIZE
    device: str = "cpu"
    tag: str | None = None
    parent: str | None = None
    keys: Path | None = None                               # a key folder to take the keys from (never make)
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


def proving_keys(ledger: Ledger, request: ProveRequest, shape: Shape):
    """(pk, vk) from `request.keys` (must hold them) or the ledger's key store (made on first use)."""
    if request.keys is None:
        return key_store(ledger).keys_for(shape)
    store = KeyStore(request.keys)
    if not store.has_keys(shape):
        raise InputError(f"--keys {request.keys}: no keys for shape {shape.key_id()} there; ask whoever makes your "
                         f"keys for them (`zkp-ledger setup --shape {shape.key_id()} --out DIR`, or a ceremony)")
    return store.load_keys(shape)


def _with_lookahead(iterable):
    """(item, is_last) pairs: the chunk stream with one chunk of lookahead (the last closes the chain)."""
    it = iter(iterable)
    try:
        current = next(it)
    except StopIteration:
        return
    for following in it:
        yield current, False
        current = following
    yield current, True


@dataclass
class ChunkJob:
    """One chunk proof as a task: all a worker needs (picklable; the keys are read from `keys_dir`)."""

    shape: Shape
    keys_dir: str
    device: str
    index: int
    first_row: int
    active_rows: int
    values: np.ndarray
    nulls: np.ndarray
    lo: list[int]
    binding: DatasetBinding
    mask_in: Mask
    mask_out: Mask
    vk_digest: str = ""     # the verifying key the coordinator records: the worker's key must match it

    def public_inputs(self, salt: int) -> list[int]:
        """The public inputs this chunk's proof must have under the commitment salt `salt`."""
        chunk = ChunkAssignment.from_values(self.shape, self.values, self.nulls, self.active_rows, self.lo, salt,
                                            self.binding, self.index, self.mask_in, self.mask_out)
        return chunk.statement(self.shape).public_inputs()

    def cache_key(self, vk_hash: str) -> str:
        """Content address of this chunk's proof: the shape, the key, the statement's binding, place
        and masks, and the encoded cells. Any change to one of them is another chunk."""
        h = blake3.blake3(b"zkp-ledger chunk proof v2\0")
        h.update(canonical_json({"shape": self.shape.key_id(), "vk": vk_hash, "binding": self.binding.elements(),
                                 "index": self.index, "rows": self.active_rows, "lo": self.lo,
                                 "masks": [[m.salt, *m.values] for m in (self.mask_in, self.mask_out)]}))
        h.update(np.ascontiguousarray(self.values, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.nulls, dtype=np.uint8).tobytes())
        return h.hexdigest()


@dataclass
class ChunkProof:
    """A worker's answer: the chunk's public inputs, its 192-byte proof, the commitment's salt (private:
    it goes to the openings), and the seconds the witness and proof took."""

    index: int
    first_row: int
    active_rows: int
    public_inputs: list[int]
    proof: bytes
    salt: int
    seconds: float = 0.0


VERIFY_BATCH = 256      # proofs per random-linear-combination check
_WORKER_KEYS: dict[tuple[str, Shape], tuple] = {}


def _worker_keys(keys_dir: str, shape: Shape, vk_digest: str = ""):
    """(pk, r1cs, tables) loaded once per process: the proving key and its fixed-base tables (None
    when none were built) are memory-mapped, so the workers of one node share their pages through
    the page cache. Loaded again when the coordinator records another verifying key (`vk_digest`,
    e.g. after `setup --force` while a long-lived worker held the old key); ProofError if they
    still differ."""
    from pipeline.groth16.prover import qap_of

    cached = _WORKER_KEYS.get((keys_dir, shape))
    if cached is not None and vk_digest and cached[0].vk.digest() != vk_digest:
        cached = None
    if cached is None:
        store = KeyStore(Path(keys_dir))
        pk, _ = store.load_keys(shape)
        if vk_digest and pk.vk.digest() != vk_digest:
            raise ProofError(f"the keys of shape {shape.key_id()} in {keys_dir} changed while this dataset was "
                             "being proved; run the command again")
        r1cs = circuit(shape)
        qap_of(r1cs)
        cached = _WORKER_KEYS[(keys_dir, shape)] = (pk, r1cs, store.load_tables(shape, pk))
    return cached


def prove_chunk(job: ChunkJob) -> ChunkProof:
    """Witness and Groth16 proof of one chunk (runs in this process or on a Dask worker)."""
    from time import perf_counter

    from pipeline.groth16.prover import prove

    pk, r1cs, tables = _worker_keys(job.keys_dir, job.shape, job.vk_digest)
    start = perf_counter()
    z, statement, salt = chunk_witness(job.shape, job.values, job.nulls, job.active_rows, job.lo, job.binding,
                                       job.index, job.mask_in, job.mask_out)
    proof = prove(pk, r1cs, z, device=job.device, tables=tables)
    return ChunkProof(job.index, job.first_row, job.active_rows, statement.public_inputs(), proof.to_bytes(), salt,
                      perf_counter() - start)


def run_in_process(jobs):
    """The default runner: prove the chunks one after another here."""
    for job in jobs:
        yield prove_chunk(job)


def prove_statistics(ledger: Ledger, request: ProveRequest, *, run=run_in_process, compute=compute_in_order,
                     cache=None, on_chunk=None) -> Entry:
    """Prove and record; returns the appended entry. Nothing is appended on any error.

    `run(jobs) -> ChunkProofs` proves the chunks (any order; default: here, one by one; batch jobs
    pass a Dask runner); `compute` reads the partitions (pipeline.ingest); `cache` (batch's resume
    cache: mask_key(binding), load(key, vk, job), store(key, proof, binding), clear(binding)) keeps every finished chunk
    proof so a killed job resumes; `on_chunk(proof, resumed)` is told of each chunk as it is done.
    """
    from pipeline.notarize import notarize

    encodings = column_encodings(request.columns, request.scale, request.ranges, request.range_bits)
    shape = Shape(request.chunk_rows, len(encodings), request.range_bits, request.width)
    text = TextOptions.from_options(request.delimiter, request.null_values)
    files = resolve_dataset(request.dataset)       # the part files, before any long read
    dataset = files.spec
    # raw-bytes root (the tree over exactly the files read), schema, row count; rejects bad CSV
    delimiter = text.delimiter_for(files.files[0]) if files.format == "csv" else None   # also rows of .txt parts
    notarized = notarize(files.root, delimiter=delimiter,
                         files=None if files.layout == "file" else [(f.rel, f.path) for f in files.files])
    # Every chunk's statement names the entry it will be: its bytes, its name and its version.
    binding = DatasetBinding(notarized.root, request.name, ledger.next_version(request.name))
    masks = MaskChain(shape, binding, cache.mask_key(binding) if cache is not None else None)
    keys_dir = str(request.keys if request.keys is not None else key_store(ledger).folder)
    lo = [e.lo for e in encodings]
    vk = None
    proofs: dict[int, ChunkProof] = {}
    cache_keys: dict[int, str] = {}
    rows_done = 0

    def done(proof: ChunkProof, resumed: bool) -> None:
        nonlocal rows_done
        proofs[proof.index] = proof
        rows_done += proof.active_rows
        if on_chunk is not None:
            on_chunk(proof, resumed)
        if request.progress is not None:
            request.progress(rows_done, notarized.rows)

    sent: dict[int, ChunkJob] = {}

    def jobs():
        nonlocal vk
        for chunk, last in _with_lookahead(iter_chunks(files, encodings, shape.rows, request.blocksize, compute, text)):
            if vk is None:   # keys only once the first chunk encoded cleanly
                _, vk = proving_keys(ledger, request, shape)
            i = chunk.index
            job = ChunkJob(shape, keys_dir, request.device, i, chunk.first_row, chunk.active_rows, chunk.values,
                           chunk.nulls, lo, binding, masks.before(i), masks.after(i, last), vk.digest())
            if cache is not None:
                cache_keys[i] = job.cache_key(vk.digest())
                cached = cache.load(cache_keys[i], vk, job)
                if cached is not None:
                    done(cached, resumed=True)
                    continue
            sent[i] = job
            yield job

    for proof in run(jobs()):
        _check_answer(sent, proof, dataset)
        if cache is not None:
            cache.store(cache_keys[proof.index], proof, binding)
        done(proof, resumed=False)
    rows = sum(p.active_rows for p in proofs.values())
    if sorted(proofs) != list(range(len(proofs))):
        raise ProofError(f"{dataset}: chunk proofs {sorted(set(range(max(proofs) + 1)) - set(proofs))} are missing")
    if notarized.rows is not None and rows != notarized.rows:
        raise InputError(f"{dataset}: read {rows} rows through Dask but notarize counted {notarized.rows}; "
                         "the file changed while it was proved, or it has blank lines")
    # Every proof verifies under the key the entry records before anything is written: a worker's
    # stale or planted key could otherwise put proofs in the ledger that nobody can verify, or that
    # carry the data (see pipeline.groth16.prover).
    from pipeline.groth16.keys import Proof
    batch_verify_all(vk, [(proofs[i].public_inputs, Proof.from_bytes(proofs[i].proof)) for i in range(len(proofs))],
                     f"{dataset}: before recording")
    entry = _append_entry(ledger, request, encodings, shape, notarized, binding, masks, vk,
                          [proofs[i] for i in range(len(proofs))], files, text)
    if cache is not None:
        cache.clear(binding)
    return entry


def _check_answer(sent: dict, proof: ChunkProof, dataset) -> None:
    """A worker's answer must be about the very chunk it was sent: same place and rows, and the public
    inputs that chunk implies under the answer's salt. A proof is only as good as its statement, and
    the statement must never come from the prover: a worker could otherwise prove made-up cells."""
    job = sent.get(proof.index)
    if job is None or (proof.first_row, proof.active_rows) != (job.first_row, job.active_rows) \
            or not isinstance(proof.salt, int) or not 0 <= proof.salt < R \
            or list(proof.public_inputs) != job.public_inputs(proof.salt):
        raise ProofError(f"{dataset}: the worker's proof of chunk {proof.index} is not about the chunk it was "
                         "sent (its statement differs); nothing was recorded; check the workers")
    del sent[proof.index]


def batch_verify_all(vk, statements: list[tuple[list[int], Proof]], where: str) -> None:
    """Raise ProofError naming the first chunk whose proof fails (statements: (public inputs, Proof))."""
    from pipeline.groth16.verifier import batch_verify

    for start in range(0, len(statements), VERIFY_BATCH):
        if not batch_verify(vk, statements[start:start + VERIFY_BATCH]):
            bad = next(start + i for i, (inp, pr) in enumerate(statements[start:start + VERIFY_BATCH])
                       if not batch_verify(vk, [(inp, pr)]))
            raise ProofError(f"{where}: the proof of chunk {bad} does not verify")


def _append_entry(ledger: Ledger, request: ProveRequest, encodings, shape: Shape, notarized, binding, masks, vk,
                  proofs: list[ChunkProof], files, text: TextOptions) -> Entry:
    """Write the bundle, the key and the openings, then append the one entry (checked version)."""
    chunks = [{"index": p.index, "first_row": p.first_row, "rows": p.active_rows,
               "public_inputs": [str(v) for v in p.public_inputs], "proof": base64.b64encode(p.proof).decode()}
              for p in proofs]
    # Masked sums: each alone is uniform; summed mod r over all chunks they are the exact totals.
    statements = [ChunkStatement.from_public_inputs(p.public_inputs, shape.columns) for p in proofs]
    totals = [[sum(st.masked_sums[j] for st in statements), sum(st.masked_squares[j] for st in statements),
               sum(st.masked_nulls[j] for st in statements)] for j in range(shape.columns)]
    bundle = {"format": BUNDLE_FORMAT, "statement": STATEMENT, "shape": shape.describe(), "vk_sha256": vk.digest(),
              "binding": {"root": binding.root, "name": binding.name, "version": binding.version}, "chunks": chunks}
    bundle_hash = ledger.put_object(canonical_json(bundle))
    vk_object = ledger.put_object(vk.to_bytes())
    _write_openings(ledger, bundle_hash, {"salts": [str(p.salt) for p in proofs], "mask_key": masks.key.hex()})
    rows = sum(p.active_rows for p in proofs)
    statistics = {}
    for enc, total in zip(encodings, totals):
        s, q, n_null = (signed(x) for x in total)
        statistics[enc.name] = column_statistics(enc, shape.range_bits, rows - n_null, n_null, s, q)
    data = notarized.data_record()
    if files.layout == "directory":       # which files were read, so `verify --data DIR` reads the same
        data |= {"selection": files.selection, "skipped": files.skipped,
                 "partition_columns": files.partition_columns}
    compressed = sorted({f.compression for f in files.files if f.compression})
    if compressed:
        data["compression"] = compressed
    record = {
        "kind": "statistics", "name": request.name, "tag": request.tag, "tool": f"zkp-ledger {__version__}",
        "data": data, "schema": notarized.schema, "rows": rows,
        "encoding": {"columns": [e.describe() for e in encodings], "range_bits": shape.range_bits,
                     "chunk_rows": shape.rows, "fixed_point": "value * 10^scale, exact", **text.describe(files)},
        "statistics": statistics,
        "circuit": {"name": STATEMENT, "shape": shape.describe(), "key_id": shape.key_id(),
                    "vk_hash": vk.digest(), "vk_object": vk_object, "setup": vk.label,
                    "chunks": len(chunks), "constraints_per_chunk": circuit(shape).n_constraints},
        "proof_bundle": bundle_hash,
    }
    if request.parent is not None:
        record["parent"] = ledger.resolve(request.parent).id
    return ledger.append(record, expected_version=binding.version)


def _write_openings(ledger: Ledger, bundle_hash: str, secrets_: dict) -> Path:
    """openings/<bundle>.json, mode 0600: the salts of the chunk commitments and the mask key. They
    open the commitments to whoever also holds the data; a verifier never needs them."""
    folder = ledger.dir / "openings"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{bundle_hash}.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"format": OPENINGS_FORMAT, "bundle": bundle_hash, **secrets_}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
