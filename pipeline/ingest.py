"""Ingest: stream the chosen columns of a dataset (a CSV or Parquet file, or a directory or glob of
part files: pipeline.dataset_files) through Dask partitions into fixed-size chunks of encoded
integers, one chunk per circuit instance.

Memory is bounded by one partition (`blocksize` bytes of CSV, one Parquet row group, one block of a
decompressed stream) plus one chunk, never by the file. Rows are numbered from 1, header
excluded, within each file, so every error names the file and its exact row; chunks run across
file boundaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.dataset_files import DataFile, Dataset, TextOptions, resolve_dataset
from pipeline.encoding import ColumnEncoding, encode_values
from pipeline.errors import InputError

DEFAULT_BLOCKSIZE = 64 * 2**20


def _open_text(file: DataFile):
    """A readable stream of a CSV file's text bytes, decompressed in bounded memory. Files are opened
    by this process, never handed to fsspec by name (which reads '*', '[', '::' in a name as a
    pattern or a URL, and would read other files than the committed ones)."""
    raw = open(file.path, "rb")
    if file.compression is None:
        return raw
    if file.compression == "xz":
        import lzma

        return lzma.open(raw, "rb")
    return pa.CompressedInputStream(raw, file.compression)


def file_columns(file: DataFile, text: TextOptions) -> list[str]:
    """Column names from the header (CSV) or the schema (Parquet)."""
    try:
        if file.format == "parquet":
            with open(file.path, "rb") as fh:
                return list(pq.ParquetFile(fh).schema_arrow.names)
        import pyarrow.csv as pacsv

        with _open_text(file) as stream, pacsv.open_csv(
                stream, read_options=pacsv.ReadOptions(block_size=1 << 16),
                parse_options=pacsv.ParseOptions(delimiter=text.delimiter_for(file), newlines_in_values=True)) as reader:
            return list(reader.schema.names)
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        what = "Parquet file" if file.format == "parquet" else "CSV"
        raise InputError(f"{file.path}: is not a well-formed {what} ({str(exc).strip().splitlines()[-1]}); "
                         "fix or remove the file") from None


@dataclass
class Chunk:
    """One circuit instance's rows: `values` and `nulls` are (chunk_rows, columns); rows past
    `active_rows` are padding (value 0, not null, excluded by the circuit)."""

    index: int
    first_row: int
    active_rows: int
    values: np.ndarray
    nulls: np.ndarray


def _csv_frame(source, columns: list[str], sep: str, names: list[str] | None = None, chunksize=None):
    """pandas' C parser over text: cells stay text (no null guessing: the markers apply in
    encode_values); the one CSV reader of ingest, so every layout reads the same text alike."""
    import pandas as pd

    return pd.read_csv(source, usecols=columns, dtype=str, na_filter=False, sep=sep, encoding="utf-8",
                       header=0 if names is None else None, names=names, chunksize=chunksize, engine="c")


def _columns_of(frame, columns: list[str], legacy: bool) -> dict:
    """{column: Arrow array}. `legacy`: as entries made before the text options were recorded read
    them, through pandas' NumPy dtypes (a float NaN is null; a nullable int64 passes through float64)."""
    out = {}
    for c in columns:
        column = pa.Array.from_pandas(frame[c]) if legacy else pa.array(frame[c])
        out[c] = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return out


def _read_csv_block(path: str, offset: int, length: int, columns: list[str], names: list[str], sep: str) -> dict:
    """One byte range of an uncompressed CSV, cut at line ends (a Dask task)."""
    import io

    from fsspec.utils import read_block

    with open(path, "rb") as fh:
        data = read_block(fh, offset, length, delimiter=b"\n")
    if not data.strip():
        return {c: pa.array([], pa.string()) for c in columns}
    frame = _csv_frame(io.BytesIO(data), columns, sep, names=None if offset == 0 else names)
    return _columns_of(frame, columns, False)


def _read_row_group(path: str, group: int, columns: list[str], legacy: bool) -> dict:
    """One Parquet row group's columns (a Dask task): exact Arrow types, or the legacy reading."""
    with open(path, "rb") as fh:
        table = pq.ParquetFile(fh).read_row_group(group, columns=columns)
    if legacy:
        return _columns_of(table.to_pandas(), columns, True)
    return {c: table.column(c).combine_chunks() for c in columns}


def _partitions(file: DataFile, columns: list[str], names: list[str], blocksize: int, text: TextOptions):
    """Dask tasks reading one uncompressed file's chosen columns, in file order: byte ranges of a CSV
    (`blocksize` each), row groups of a Parquet file."""
    from dask import delayed

    path = str(file.path)
    if file.format == "csv":
        sep = text.delimiter_for(file)
        return [delayed(_read_csv_block, pure=True)(path, offset, blocksize, columns, names, sep)
                for offset in range(0, max(file.size, 1), blocksize)]
    with open(file.path, "rb") as fh:
        groups = pq.ParquetFile(fh).metadata.num_row_groups
    return [delayed(_read_row_group, pure=True)(path, g, columns, text.legacy) for g in range(groups)]


def _stream_batches(file: DataFile, columns: list[str], blocksize: int, text: TextOptions) -> Iterator[dict]:
    """A compressed CSV, decompressed as a stream in this process (a compressed file cannot be split
    into byte ranges, so Dask would read it whole): {column: text array} per block of rows."""
    rows = max(1024, blocksize // 128)
    with _open_text(file) as stream:
        for frame in _csv_frame(stream, columns, text.delimiter_for(file), chunksize=rows):
            yield _columns_of(frame, columns, False)


@contextmanager
def _parse_errors(path: Path, first_row, compressed: bool = False):
    """Turn reader exceptions into one-line InputErrors (the notarize pass names exact rows)."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: invalid UTF-8 in the rows from {first_row()} on ({exc.reason}); "
                         "re-encode the file as UTF-8") from None
    except (ValueError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot parse the rows from {first_row()} on "
                         f"({str(exc).strip().splitlines()[-1]}); fix the file") from None
    except (OSError, EOFError) as exc:      # a damaged compressed stream
        if not compressed or isinstance(exc, TimeoutError):
            raise
        raise InputError(f"{path}: cannot read the rows from {first_row()} on ({exc}); the file is damaged or "
                         "not what its suffix says") from None


def compute_in_order(parts) -> Iterator:
    """The partitions' columns one at a time, in this process (the default `compute`). The
    synchronous scheduler is passed as the function itself: named as "sync", dask imports
    distributed to look for a client first (about half a second of every `prove`)."""
    from dask.local import get_sync

    for part in parts:
        yield part.compute(scheduler=get_sync)


def _file_blocks(file: DataFile, columns: list[str], names: list[str], blocksize: int, text: TextOptions, compute,
                 first_row) -> Iterator[dict]:
    """{column: Arrow array} per partition of one file, in order (no columns: row counts only)."""
    if file.format == "csv" and file.compression is not None:
        blocks = _stream_batches(file, columns, blocksize, text)
    else:
        with _parse_errors(file.path, first_row):
            parts = _partitions(file, columns, names, blocksize, text)
        blocks = compute(parts)
    while True:
        with _parse_errors(file.path, first_row, file.compression is not None):
            block = next(blocks, None)
        if block is None:
            return
        yield block


def iter_encoded_partitions(dataset: Dataset | Path, encodings: list[ColumnEncoding],
                            blocksize: int = DEFAULT_BLOCKSIZE, compute=compute_in_order,
                            text: TextOptions = TextOptions()) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first_row, values (rows, cols) int64, nulls (rows, cols) bool) per partition, in order,
    across the dataset's files; rows count from 1 over the whole dataset.

    `compute(delayed partitions) -> iterator of {column: Arrow array}, in order` reads one file's partitions:
    in this process by default, as tasks on a Dask cluster in batch jobs (pipeline.batch.tasks).
    Encoding happens here, so every error names its file and its exact row there.
    """
    if not isinstance(dataset, Dataset):
        dataset = resolve_dataset(dataset)
    names = [e.name for e in encodings]
    hive = dataset.partition_columns
    first_row = 1
    for file in dataset.files:
        if file.size == 0:           # an empty part file holds no rows, not even a header
            continue
        own = file_columns(file, text)
        clash = sorted(set(hive) & set(own))
        if clash:
            raise InputError(f"{file.path}: column '{clash[0]}' is also a Hive partition key of its folder; "
                             "rename one of them")
        for name in names:
            if name not in own + hive:
                raise InputError(f"{file.path}: no column '{name}' (columns: {', '.join(own + hive)}); fix --columns")
        read = [n for n in names if n not in hive] or own[:1]     # at least one column, to count rows by
        if not read:
            raise InputError(f"{file.path}: has no columns of its own; a part file holds at least one column")
        file_start = first_row
        partitions = dict(file.partitions)

        def where(row: int, file=file, file_start=file_start) -> str:
            return f"{file.path} row {row - file_start + 1}"

        for block in _file_blocks(file, read, own, blocksize, text, compute, lambda: first_row - file_start + 1):
            rows = len(block[read[0]])
            values = np.empty((rows, len(names)), np.int64)
            nulls = np.empty((rows, len(names)), bool)
            for j, enc in enumerate(encodings):
                if enc.name in partitions:
                    column = pa.array([partitions[enc.name]], pa.string()).take(np.zeros(rows, np.int64))
                    is_text = True
                else:
                    column, is_text = block[enc.name], file.format == "csv" or text.legacy
                values[:, j], nulls[:, j] = encode_values(column, enc, where, first_row, text.null_values, is_text)
            if rows:
                yield first_row, values, nulls
            first_row += rows


def iter_chunks(dataset: Dataset | Path, encodings: list[ColumnEncoding], chunk_rows: int,
                blocksize: int = DEFAULT_BLOCKSIZE, compute=compute_in_order,
                text: TextOptions = TextOptions()) -> Iterator[Chunk]:
    """Fixed-size chunks of `chunk_rows` rows across partition boundaries; the last may be short."""
    if chunk_rows < 1:
        raise InputError(f"--chunk-rows must be at least 1, got {chunk_rows}")
    ncols = len(encodings)
    buf_vals = np.zeros((chunk_rows, ncols), np.int64)
    buf_nulls = np.zeros((chunk_rows, ncols), bool)
    filled, index, chunk_first = 0, 0, 1
    for first_row, values, nulls in iter_encoded_partitions(dataset, encodings, blocksize, compute, text):
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
