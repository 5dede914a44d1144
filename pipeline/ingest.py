"""Ingest: stream the chosen columns of a CSV or Parquet file through Dask partitions into
fixed-size chunks of encoded integers, one chunk per circuit instance.

Memory is bounded by one partition (`blocksize` bytes of CSV, one Parquet row group) plus one
chunk, never by the file. Rows are numbered from 1, header excluded, across partitions, so every
error names the exact row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.encoding import ColumnEncoding, encode_values
from pipeline.errors import InputError

DEFAULT_BLOCKSIZE = 64 * 2**20


def detect_format(path: Path) -> str:
    """'csv' or 'parquet' from the file's magic bytes and name; InputError otherwise."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory; prove one CSV or Parquet file at a time") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the path and permissions") from None
    if head == b"PAR1":
        return "parquet"
    if path.suffix.lower() in {".csv", ".txt", ".tsv"} or not path.suffix:
        if not head:
            raise InputError(f"{path}: file is empty; nothing to prove")
        return "csv"
    raise InputError(f"{path}: not a CSV or Parquet file (suffix {path.suffix!r}, no PAR1 magic)")


def file_columns(path: Path, fmt: str) -> list[str]:
    """Column names from the header (CSV) or the schema (Parquet)."""
    if fmt == "parquet":
        return list(pq.read_schema(path).names)
    import pyarrow.csv as pacsv

    try:
        with pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16)) as reader:
            return list(reader.schema.names)
    except pa.ArrowInvalid as exc:
        raise InputError(f"{path}: is not a well-formed CSV ({exc}); fix the file") from None


@dataclass
class Chunk:
    """One circuit instance's rows: `values` and `nulls` are (chunk_rows, columns); rows past
    `active_rows` are padding (value 0, not null, excluded by the circuit)."""

    index: int
    first_row: int
    active_rows: int
    values: np.ndarray
    nulls: np.ndarray


def _partitions(path: Path, fmt: str, columns: list[str], blocksize: int):
    """Dask partitions of the chosen columns, as delayed pandas frames, in file order."""
    import dask.dataframe as dd

    if fmt == "csv":
        frame = dd.read_csv(str(path), blocksize=blocksize, usecols=columns, dtype=str,
                            keep_default_na=False, na_values=[""], encoding="utf-8")
    else:
        frame = dd.read_parquet(str(path), columns=columns)
    return frame.to_delayed()


@contextmanager
def _parse_errors(path: Path, first_row):
    """Turn reader exceptions into one-line InputErrors (the notarize pass names exact rows)."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: invalid UTF-8 in the rows from {first_row()} on ({exc.reason}); "
                         "re-encode the file as UTF-8") from None
    except (ValueError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot parse the rows from {first_row()} on "
                         f"({str(exc).strip().splitlines()[-1]}); fix the file") from None


def compute_in_order(parts) -> Iterator:
    """The partitions' frames one at a time, in this process (the default `compute`)."""
    for part in parts:
        yield part.compute(scheduler="sync")


def iter_encoded_partitions(path: Path, encodings: list[ColumnEncoding], blocksize: int = DEFAULT_BLOCKSIZE,
                            compute=compute_in_order) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first_row, values (rows, cols) int64, nulls (rows, cols) bool) per partition, in order.

    `compute(delayed partitions) -> iterator of pandas frames, in order` reads the partitions: in
    this process by default, as tasks on a Dask cluster in batch jobs (pipeline.batch.tasks).
    Encoding happens here, so every error names its exact row.
    """
    path = Path(path)
    fmt = detect_format(path)
    names = [e.name for e in encodings]
    available = file_columns(path, fmt)
    for name in names:
        if name not in available:
            raise InputError(f"{path}: no column '{name}' (columns: {', '.join(available)}); fix --columns")
    first_row = 1
    with _parse_errors(path, lambda: first_row):
        parts = _partitions(path, fmt, names, blocksize)
    frames = compute(parts)
    while True:
        with _parse_errors(path, lambda: first_row):
            frame = next(frames, None)
        if frame is None:
            break
        rows = len(frame)
        values = np.empty((rows, len(names)), np.int64)
        nulls = np.empty((rows, len(names)), bool)
        for j, enc in enumerate(encodings):
            column = pa.Array.from_pandas(frame[enc.name])
            values[:, j], nulls[:, j] = encode_values(column, enc, lambda r: f"{path} row {r}", first_row)
        yield first_row, values, nulls
        first_row += rows


def iter_chunks(path: Path, encodings: list[ColumnEncoding], chunk_rows: int,
                blocksize: int = DEFAULT_BLOCKSIZE, compute=compute_in_order) -> Iterator[Chunk]:
    """Fixed-size chunks of `chunk_rows` rows across partition boundaries; the last may be short."""
    if chunk_rows < 1:
        raise InputError(f"--chunk-rows must be at least 1, got {chunk_rows}")
    ncols = len(encodings)
    buf_vals = np.zeros((chunk_rows, ncols), np.int64)
    buf_nulls = np.zeros((chunk_rows, ncols), bool)
    filled, index, chunk_first = 0, 0, 1
    for first_row, values, nulls in iter_encoded_partitions(path, encodings, blocksize, compute):
        pos = 0
        while pos < len(values):
            if filled == 0:
                chunk_first = first_row + pos
            take = min(chunk_rows - filled, len(values) - pos)
            buf_vals[filled:filled + take] = values[pos:pos + take]
            buf_nulls[filled:filled + take] = nulls[pos:pos + take]
            filled += take
            pos += take
            if filled == chunk_rows:
                yield Chunk(index, chunk_first, chunk_rows, buf_vals.copy(), buf_nulls.copy())
                index, filled = index + 1, 0
    if filled or index == 0:
        buf_vals[filled:] = 0
        buf_nulls[filled:] = False
        yield Chunk(index, chunk_first, filled, buf_vals.copy(), buf_nulls.copy())
