"""Verifying entries of statement v1 ("zkp-ledger statistics v1"), which this version no longer proves.

v1 public inputs per chunk: C, n, lo_j, S_j, Q_j, N_j, with C = sponge(salt, cells d + 2^k·z).
Its proofs stay valid and are still checked, but the statement is weak, and every check says so
(`WEAKNESSES`): re-prove such a dataset to get a v2 entry.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from pathlib import Path

from kernels.poseidon import poseidon_hash, sponge_domain_tag
from ledger import Entry, Ledger
from pipeline.circuit.statistics import Shape, packed_cells, signed
from pipeline.encoding import ColumnEncoding
from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import Proof
from pipeline.dataset_files import LEGACY_NULL_VALUES, TextOptions
from pipeline.ingest import iter_chunks
from pipeline.key_trust import KeyTrust
from pipeline.statistics_verify import (StatisticsCheck, batch_verify_all, check_encoding, committed_cells,
                                        compare_statistics, load_bundle, read_openings)

STATEMENT = "zkp-ledger statistics v1"
BUNDLE_FORMAT = "zkp-ledger/statistics-bundle/v1"
OPENINGS_FORMAT = "zkp-ledger/statistics-openings/v1"
WEAKNESSES = ("statement v1 is weak: rows past n and null cells are not bound (the row count can be changed and "
              "out-of-range values can pose as nulls), chunks are not bound to their entry or position, every "
              "chunk's sums are public, and the shape an entry claims is not checked against its key's circuit; "
              "re-prove the dataset for a v2 entry")


def _domain_tag(shape: Shape) -> int:
    label = json.dumps({"circuit": STATEMENT, "shape": asdict(shape)}, sort_keys=True)
    return sponge_domain_tag(label, 1 + shape.packed_elements, shape.width)


def _parse(inputs: list[int], m: int) -> tuple[int, int, list[int], list[list[int]]]:
    """(C, n, lo, [S, Q, N] per column) of one v1 chunk's public inputs."""
    if len(inputs) != 2 + 4 * m:
        raise ProofError(f"expected {2 + 4 * m} public inputs for {m} columns, got {len(inputs)}")
    s = [signed(v) for v in inputs]
    return inputs[0], s[1], s[2:2 + m], [[s[2 + m + j], s[2 + 2 * m + j], s[2 + 3 * m + j]] for j in range(m)]


def verify(ledger: Ledger, entry: Entry, data: Path | None, trust: KeyTrust):
    """Check a v1 entry as v1 did (proofs, totals, with data the commitments); the result carries
    the WEAKNESSES warning. Raises ProofError on any failure."""
    where = f"entry {entry.index}"
    record = entry.record
    bundle, vk, shape = load_bundle(ledger, entry)
    if bundle.get("format") != BUNDLE_FORMAT:
        raise ProofError(f"{where}: proof bundle format {bundle.get('format')!r} is not {BUNDLE_FORMAT}")
    if vk.n_public != 2 + 4 * shape.columns:
        raise ProofError(f"{where}: verifying key does not fit a v1 circuit of shape {shape.key_id()}")
    encodings = check_encoding(record, shape, where)
    key_trust, warnings = trust.check(vk, where)
    m = shape.columns
    totals = [[0, 0, 0] for _ in range(m)]
    rows = 0
    statements = []
    for k, chunk in enumerate(bundle["chunks"]):
        inputs = [int(v) for v in chunk["public_inputs"]]
        _, n, lo, sums = _parse(inputs, m)
        if chunk["index"] != k or n != chunk["rows"] or not 0 <= n <= shape.rows:
            raise ProofError(f"{where}: chunk {k} has inconsistent index or row count")
        if lo != [e.lo for e in encodings]:
            raise ProofError(f"{where}: chunk {k} was proved with bounds {lo}, the entry declares "
                             f"{[e.lo for e in encodings]}")
        rows += n
        for j in range(m):
            totals[j] = [a + b for a, b in zip(totals[j], sums[j])]
        statements.append((inputs, Proof.from_bytes(base64.b64decode(chunk["proof"]))))
    batch_verify_all(vk, statements, where)
    compare_statistics(record, encodings, shape.range_bits, rows, totals, where)
    check = StatisticsCheck(entry.index, STATEMENT, len(statements), rows, vk.digest(), key_trust,
                            warnings=[WEAKNESSES, *warnings])
    if data is not None:
        salts = [int(s) for s in read_openings(ledger, entry, OPENINGS_FORMAT)["salts"]]
        _check_data(entry, bundle["chunks"], shape, encodings, salts, Path(data))
        check.data_checked = True
    return check


def _check_data(entry: Entry, chunks: list[dict], shape: Shape, encodings: list[ColumnEncoding], salts: list[int],
                data: Path) -> None:
    seen = 0
    try:
        for chunk in iter_chunks(data, encodings, shape.rows, text=TextOptions(None, LEGACY_NULL_VALUES, legacy=True)):
            if chunk.index >= len(chunks):
                raise ProofError(f"{data}: has more rows than entry {entry.index} proved")
            cells = packed_cells(shape, *committed_cells(chunk, shape, encodings))
            expected = int(chunks[chunk.index]["public_inputs"][0])
            if chunk.active_rows != chunks[chunk.index]["rows"] or \
                    poseidon_hash([salts[chunk.index], *cells], shape.width, _domain_tag(shape)) != expected:
                raise ProofError(f"{data}: rows {chunk.first_row}..{chunk.first_row + chunk.active_rows - 1} do not "
                                 f"match the commitment of chunk {chunk.index} in entry {entry.index}")
            seen += 1
    except InputError as exc:
        raise ProofError(f"{data} does not match entry {entry.index}: {exc}") from None
    if seen != len(chunks):
        raise ProofError(f"{data}: has fewer rows than entry {entry.index} proved")
