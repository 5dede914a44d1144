"""Notarization: commit to the exact bytes of a dataset, and read its schema and row count.

The raw-bytes commitment of a file is the RFC 9162 Merkle root (BLAKE3, leaf = H(0x00 || chunk),
node = H(0x01 || l || r)) over its consecutive `chunk_size`-byte chunks (the last one shorter;
an empty file has the empty-tree root BLAKE3("")). A directory is committed as the same kind of
tree over its regular files in sorted relative-path order, each leaf being the canonical JSON
{"path", "root", "size"} of one file. Files are read by one thread per core, each owning whole
leaves and streaming them through one reused buffer: memory does not grow with their size. CSV
files are read once: the same buffers are hashed, checked to be UTF-8 and scanned for rows, quotes
and ragged lines by a compiled kernel (pipeline/csv_scan.py: quote masks by prefix XOR, the
in-quote state carried across pieces and threads). A compressed CSV (.csv.gz, .bz2, .xz, .zst) is
committed as stored, like any file, and scanned as it decompresses, so its rows are the
decompressed ones. Parquet files are read from their footer.
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import gzip
import io
import lzma
import os
import re
import stat
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import blake3
import numpy as np

from ledger.entry import canonical_json
from ledger.merkle import BLAKE3, MerkleFrontier
from pipeline.errors import InputError

CHUNK_SIZE = 4 << 20          # bytes per Merkle leaf of the raw data
SCHEMA_BLOCK = 1 << 20         # CSV column types are inferred from this first block
SCHEMA_BLOCK_MAX = 4 << 20     # ... made up to this large when a row in it is longer
SCAN_UNIT = 8 << 20            # bytes (whole leaves) per task of the reading threads
SCAN_PIECE = 1 << 20           # bytes per read (and per kernel call) of a thread
PIECE_PAD = 128                # buffer bytes past a piece: 3 bytes of look-ahead, room for 64-byte loads
MAX_THREADS = 8                # reading threads: one per core, at most this many
DATA_HASH = "blake3-merkle-rfc9162"
FORMATS = ("csv", "tsv", "parquet", "binary")

Progress = Callable[[int], None]  # called with the number of bytes just hashed


@dataclass
class FileDigest:
    path: str            # relative, '/'-separated, inside a directory; the file's name otherwise
    size: int
    root: str            # hex Merkle root of the file's chunks
    format: str = "binary"
    schema: list[dict] | None = None
    rows: int | None = None
    compression: str | None = None   # gzip, bz2, xz or zstd: the bytes are stored compressed
    delimiter: str | None = None     # the field delimiter a CSV/TSV was scanned with

    def reading(self) -> dict:
        """How the file's rows were read (for the ledger), beside its format."""
        return {k: v for k, v in (("compression", self.compression), ("delimiter", self.delimiter)) if v is not None}


@dataclass
class Notarization:
    """What `notarize` found: the commitment, the format, the schema, the row count."""

    path: str
    layout: str          # "file" or "directory"
    root: str
    size: int
    chunk_size: int
    format: str
    files: list[FileDigest] = field(default_factory=list)
    schema: list[dict] | None = None
    rows: int | None = None

    def data_record(self) -> dict:
        """The `data` field of a ledger record."""
        data = {"hash": DATA_HASH, "root": self.root, "size": self.size, "chunk_size": self.chunk_size,
                "format": self.format, "layout": self.layout}
        if self.layout == "directory":
            data["files"] = [{"path": f.path, "size": f.size, "root": f.root, "format": f.format, "rows": f.rows,
                              **f.reading()} for f in self.files]
        elif self.files:
            data.update(self.files[0].reading())
        return data


class ChunkHasher:
    """Fold a byte stream into the Merkle root of its fixed-size chunks."""

    def __init__(self, chunk_size: int = CHUNK_SIZE, threads: int = blake3.blake3.AUTO):
        if chunk_size <= 0:
            raise InputError("chunk size must be positive")
        self.chunk_size = chunk_size
        self.threads = threads
        self.frontier = MerkleFrontier(BLAKE3)
        self.size = 0
        self._new_chunk()

    def _new_chunk(self) -> None:
        # The leaf prefix goes in first: the chunk's leaf hash is BLAKE3(0x00 || chunk).
        self._chunk = blake3.blake3(b"\x00", max_threads=self.threads)
        self._fill = 0

    def update(self, data) -> None:
        view = memoryview(data).cast("B")
        while len(view):
            take = min(len(view), self.chunk_size - self._fill)
            self._chunk.update(view[:take])
            self._fill += take
            self.size += take
            view = view[take:]
            if self._fill == self.chunk_size:
                self.frontier.append(self._chunk.digest())
                self._new_chunk()

    def root(self) -> str:
        frontier = self.frontier
        if self._fill:  # the last, shorter chunk (hash a copy: the stream may go on)
            frontier = MerkleFrontier(BLAKE3)
            frontier.size, frontier._peaks = self.frontier.size, list(self.frontier._peaks)
            frontier.append(self._chunk.digest())
        return frontier.root().hex()


def _open_input(path: Path):
    """Open a regular, non-empty-checkable file for reading; InputError for anything else."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or directory") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; make it readable") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, a file is needed here")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: not a regular file (a pipe, socket or device cannot be notarized)")
    try:
        return open(path, "rb", buffering=0)
    except PermissionError:
        raise InputError(f"{path}: permission denied; make it readable (chmod u+r)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None


def hash_file(path: Path, chunk_size: int = CHUNK_SIZE, progress: Progress | None = None) -> tuple[str, int]:
    """(hex root, size) of one file's bytes, read and hashed by a thread per core."""
    if chunk_size <= 0:
        raise InputError("chunk size must be positive")
    units = _Units(path, chunk_size, None)
    with contextlib.closing(units):
        for _ in _fold(units, progress):
            pass
    return units.frontier.root().hex(), units.size


def detect_format(path: Path) -> str:
    """"parquet" (PAR1 magic at both ends), "csv"/"tsv" (by extension, also under a compression
    suffix: d.csv.gz), else "binary"."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            size = f.seek(0, os.SEEK_END)
            tail = b""
            if size >= 8:
                f.seek(size - 4)
                tail = f.read(4)
    except OSError:
        return "binary"  # the hashing pass reports the error with its cause
    if head == b"PAR1" and tail == b"PAR1":
        return "parquet"
    suffix = path.suffix.lower()
    if suffix in COMPRESSIONS:
        suffix = Path(path.stem).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    return "binary"


def _schema_of(arrow_schema) -> list[dict]:
    return [{"name": f.name, "type": str(f.type)} for f in arrow_schema]


def _csv_error(path: Path, exc: Exception, names: list[str], line: int | None = None) -> InputError:
    """One line for a pyarrow CSV error; `line` is the physical line of pyarrow's "Row #N"."""
    msg = str(exc)
    row = re.search(r"Row #(\d+)", msg)
    col = re.search(r"In CSV column #(\d+)", msg)
    where = f"{path}: line {line}" if line else f"{path}: row {row.group(1)}" if row else f"{path}"
    if col:
        k = int(col.group(1))
        where += f", column {names[k]!r}" if k < len(names) else f", column {k + 1}"
    ragged = re.search(r"Expected (\d+) columns, got (\d+): ?(.*)", msg, re.S)
    if ragged:
        return _ragged_error(where, int(ragged.group(2)), int(ragged.group(1)), ragged.group(3))
    if "straddle" in msg:
        return InputError(f"{where}: a row longer than {SCHEMA_BLOCK_MAX >> 20} MiB or an unclosed quote; "
                          "check the quoting of the file")
    return InputError(f"{where}: not readable as CSV ({msg.splitlines()[0][:200]})")


def _ragged_error(where: str, got: int, want: int, text: str) -> InputError:
    return InputError(f"{where} has {got} fields but the header has {want} ({text.strip()[:80]!r}); "
                      "fix that line (quote fields that contain the delimiter)")


def _utf8_error(where: str) -> InputError:
    return InputError(f"{where}: invalid UTF-8; re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")


# --- the parallel read -----------------------------------------------------------------------
#
# A file is cut into units of whole Merkle leaves (SCAN_UNIT bytes or one leaf), and the units go
# to a pool of threads, one per core. A thread reads its unit SCAN_PIECE bytes at a time into one
# reused buffer (plus 3 bytes past the piece, for a UTF-8 sequence cut by its end), hashes the
# bytes into the unit's leaves and, for a CSV, scans the piece with the compiled kernel
# (pipeline/csv_scan.py) into a summary of a few integers. Leaf hashes and summaries come back in
# file order: the leaves are folded into the Merkle frontier, the summaries are stitched
# (_Stitch). Hashing and the kernel release the GIL, so the threads run in parallel; memory is one
# buffer per thread. (Loading the kernel, Numba's start of about a CPU-second, in a thread while
# the first units are hashed was tried: its Python work holds the GIL that the hashing threads
# need between pieces, and on 2 busy cores it made notarize slower, 3.5 s against 2.8 s for 0.5 GB.)

def _cores() -> int:
    try:
        return max(1, min(len(os.sched_getaffinity(0)), MAX_THREADS))
    except AttributeError:  # not Linux
        return max(1, min(os.cpu_count() or 1, MAX_THREADS))


def _read_into(fd: int, view: memoryview, offset: int) -> int:
    """Fill `view` from `offset`, short only at the end of the file."""
    got = 0
    while got < len(view):
        n = os.preadv(fd, [view[got:]], offset + got)
        if not n:
            break
        got += n
    return got


class _Units:
    """Ordered (offset, length, leaf hashes, piece summaries) of a file's units, computed by a
    thread pool; `scan` (a _PieceScan, or None) summarises each piece."""

    def __init__(self, path: Path, chunk_size: int, scan: "_PieceScan | None"):
        self.path, self.chunk_size, self.scan = path, chunk_size, scan
        self.f = _open_input(path)
        self.size = os.fstat(self.f.fileno()).st_size
        self.unit = chunk_size * max(1, SCAN_UNIT // chunk_size)
        self.piece = SCAN_PIECE
        self.local = threading.local()

    def _work(self, offset: int, length: int):
        buf = getattr(self.local, "buf", None)
        if buf is None or len(buf) != self.piece + PIECE_PAD:
            buf = self.local.buf = bytearray(self.piece + PIECE_PAD)  # 3 look-ahead bytes, room for 64-byte loads
        view = memoryview(buf)
        leaves, pieces = [], []
        leaf, leaf_left = None, 0
        pos, stop = offset, offset + length
        fd = self.f.fileno()
        if self.scan is not None:
            hypotheses = self.scan.hypotheses(offset)
            prev = os.pread(fd, 1, offset - 1)[0] if offset else 10  # the file's start is a line start
        while pos < stop:
            n = min(self.piece, stop - pos)
            want = n + min(3, self.size - pos - n)
            got = _read_into(fd, view[:want], pos)
            if got < n:
                raise InputError(f"{self.path}: the file shrank while it was read; notarize it when it is complete")
            done = 0
            while done < n:  # hash, a new leaf at every chunk_size bytes of the file
                if not leaf_left:
                    leaf, leaf_left = blake3.blake3(b"\x00"), self.chunk_size
                take = min(n - done, leaf_left)
                leaf.update(view[done:done + take])
                done += take
                leaf_left -= take
                if not leaf_left:
                    leaves.append(leaf.digest())
            if self.scan is not None and hypotheses:
                pieces.append((not pieces, self.scan(buf, n, got, pos + got >= self.size, prev, hypotheses)))
                prev = buf[n - 1]
            pos += n
        if leaf_left:
            leaves.append(leaf.digest())  # the file's last, shorter chunk
        view.release()
        return offset, length, leaves, pieces

    def __iter__(self):
        threads = _cores()
        starts = iter(range(0, self.size, self.unit))
        pending: collections.deque = collections.deque()
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="notarize") as pool:
            try:
                for _ in range(threads + 2):
                    if (s := next(starts, None)) is not None:
                        pending.append(pool.submit(self._work, s, min(self.unit, self.size - s)))
                while pending:
                    try:
                        item = pending.popleft().result()
                    except OSError as exc:
                        raise InputError(f"{self.path}: read failed ({exc.strerror})") from None
                    if (s := next(starts, None)) is not None:
                        pending.append(pool.submit(self._work, s, min(self.unit, self.size - s)))
                    yield item
            finally:
                for fut in pending:
                    fut.cancel()

    def close(self) -> None:
        self.f.close()


def _fold(units: _Units, progress: Progress | None):
    """Yield each unit's piece summaries while its leaves go into a frontier; the frontier is
    `units.frontier` once the iteration ends."""
    frontier = MerkleFrontier(BLAKE3)
    for _, length, leaves, pieces in units:
        for leaf in leaves:
            frontier.append(leaf)
        if progress:
            progress(length)
        yield from pieces
    units.frontier = frontier


# --- the CSV row scan ------------------------------------------------------------------------
#
# The kernel (pipeline/csv_scan.py) summarises one piece under each live hypothesis about the
# in-quote state at its unit's start; _Stitch takes, unit by unit, the summaries of the true
# hypothesis (the state at the end of the previous unit) and joins the records cut by piece
# boundaries. Its module docstring explains the quote masks and the hypotheses.

TEXT = 100  # bytes of a line kept for an error message


class _PieceScan:
    """The `scan` of _Units for a CSV. Called with a piece and the live hypotheses of its unit
    ({unit start state: current state}), it returns {unit start state: (summary row, texts)}
    and drops from `hypotheses` each one that met an error (its summary says where)."""

    def __init__(self, delimiter: str, ncols: int):
        from pipeline import csv_scan

        self.kernel, self.delim, self.k = csv_scan.scan_piece, ord(delimiter), ncols - 1
        self.local = threading.local()

    @staticmethod
    def hypotheses(offset: int) -> dict[int, int]:
        return {0: 0} if offset == 0 else {0: 0, 1: 1}

    def __call__(self, buf: bytearray, n: int, end: int, eof: bool, prev: int, hypotheses: dict) -> dict:
        from pipeline.csv_scan import END_Q, ERR, ERR_NONE, ERR_POS, ERR_QUOTE, ERR_RAGGED, ERR_START, \
            HEAD_LEN, NFIELDS, STOP, TAIL_LEN

        arrays = getattr(self.local, "arrays", None)
        if arrays is None or self.local.buf is not buf:
            self.local.buf = buf
            arrays = self.local.arrays = (np.frombuffer(buf, np.uint8), np.empty((2, NFIELDS), np.int64))
        a, out = arrays
        states = set(hypotheses.values())
        self.kernel(a, n, end, eof, prev, 0 in states, 1 in states, buf.find(b'"', 0, n) >= 0,
                    self.delim, self.k, out)
        result = {}
        for h, state in list(hypotheses.items()):
            s = out[state].tolist()
            start = s[STOP] - s[TAIL_LEN]
            err = b""
            if s[ERR] == ERR_RAGGED:
                err = bytes(buf[s[ERR_START]:min(s[ERR_POS], s[ERR_START] + TEXT)])
            elif s[ERR] == ERR_QUOTE:  # 20 bytes either side (the stitch adds the previous piece's)
                err = bytes(buf[max(0, s[ERR_POS] - 20):min(s[ERR_POS] + 20, end)])
            result[h] = (s, bytes(buf[:min(s[HEAD_LEN], TEXT)]), bytes(buf[start:start + min(s[TAIL_LEN], TEXT)]), err)
            if s[ERR] != ERR_NONE:
                del hypotheses[h]
            else:
                hypotheses[h] = s[END_Q]
        return result


class _Stitch:
    """Piece summaries, in file order, stitched into rows; InputError at the first ragged row,
    misplaced quote or invalid UTF-8, naming its physical line (and column)."""

    def __init__(self, path: Path, names: list[str]):
        self.path, self.names, self.k = path, names, len(names) - 1
        self.lines = 0           # physical lines before the next piece
        self.rows = 0            # non-empty records ended (the header included)
        self.part_d = 0          # the unfinished record: delimiters, length, first line, text
        self.part_len = 0
        self.part_line = 1
        self.part_text = b""
        self.over = 0            # continuation bytes the next piece must start with
        self.trunc = False
        self.q = 0               # inside a quoted field after the last piece
        self.h = 0               # the hypothesis of the current unit: its start state
        self.open_line = 0       # where the last quoted field opened
        self.last = b""          # the last bytes of the pieces so far (context for a message)

    def _column(self, d: int) -> str:
        return f"column {self.names[d]!r}" if d < len(self.names) else f"column {d + 1}"

    def _ragged(self, line: int, delims: int, text: bytes) -> InputError:
        return _ragged_error(f"{self.path}: line {line}", delims + 1, len(self.names), text.decode("utf-8", "replace"))

    def add(self, piece) -> None:
        """One piece (first of its unit?, {hypothesis: summary}); InputError at its first problem."""
        from pipeline.csv_scan import (BRK, END_Q, ERR, ERR_D, ERR_LINE, ERR_POS, ERR_QUOTE, ERR_RAGGED, ERR_UTF8,
                                       HEAD_D, HEAD_LEN, LINES, OPEN_LINE, OVER, ROWS, SKIP, TAIL_D, TAIL_LEN,
                                       TAIL_LINE, TRUNC)

        first, by_hypothesis = piece
        if first:
            self.h = self.q
        s, head, tail, err_text = by_hypothesis[self.h]
        last, self.last = self.last, tail[-20:] if s[BRK] else (self.last + head)[-20:]
        if s[SKIP] > self.over:  # a continuation byte that no sequence claims
            raise _utf8_error(f"{self.path}: line {self.lines + 1}, {self._column(self.part_d)}")
        self.over, self.trunc = s[OVER], bool(s[TRUNC])
        err = s[ERR]
        if s[BRK]:
            d, length = self.part_d + s[HEAD_D], self.part_len + s[HEAD_LEN]
            if length:  # else a blank line
                if d != self.k:
                    raise self._ragged(self.part_line, d, self.part_text + head)
                self.rows += 1
            self.rows += s[ROWS]
            self.part_d, self.part_len, self.part_text = s[TAIL_D], s[TAIL_LEN], tail
            if not err:
                self.part_line = self.lines + s[TAIL_LINE] + 1
        else:
            self.part_d += s[HEAD_D]
            self.part_len += s[HEAD_LEN]
            if len(self.part_text) < TEXT:
                self.part_text += head
        if err:
            where = f"{self.path}: line {self.lines + s[ERR_LINE] + 1}"
            if err == ERR_RAGGED:
                raise self._ragged(self.lines + s[ERR_LINE] + 1, s[ERR_D], err_text)
            if err == ERR_QUOTE:
                if s[ERR_POS] < 20:
                    err_text = last[len(last) - (20 - s[ERR_POS]):] + err_text if len(last) > 20 - s[ERR_POS] \
                        else last + err_text
                raise InputError(f"{where}, {self._column(self.part_d)}: a quote inside an unquoted field or "
                                 f"text after a closing quote ({err_text.decode('utf-8', 'replace')!r}); quote the "
                                 'whole field and double each quote inside it ("")')
            assert err == ERR_UTF8
            raise _utf8_error(f"{where}, {self._column(self.part_d)}")
        if s[END_Q] and s[OPEN_LINE] >= 0:
            self.open_line = self.lines + s[OPEN_LINE] + 1
        self.q = s[END_Q]
        self.lines += s[LINES]

    def finish(self) -> None:
        """The end of the file: a cut UTF-8 sequence, an open quote, the last line when no line
        break ends it."""
        if self.trunc:
            raise InputError(f"{self.path}: line {self.lines + 1}: the file ends inside a UTF-8 sequence; "
                             "re-encode the file as UTF-8")
        if self.q:
            raise InputError(f"{self.path}: line {self.open_line}: a quoted field opens here and is never closed; "
                             'close it (a quote inside a field is written twice: "")')
        if self.part_len:
            if self.part_d != self.k:
                raise self._ragged(self.part_line, self.part_d, self.part_text)
            self.rows += 1


# --- compressed CSV ----------------------------------------------------------------------------

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
_DECOMPRESS_ERRORS = (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError)


def compression_of(path: Path) -> str | None:
    """The compression of a file by its last suffix (gzip, bz2, xz, zstd), or None."""
    return COMPRESSIONS.get(path.suffix.lower())


def _open_decompressed(path: Path, compression: str):
    """A binary reader of the decompressed bytes (bounded memory: each codec streams)."""
    _open_input(path).close()  # the clear errors for a missing or unreadable file
    try:
        if compression == "gzip":
            return gzip.open(path, "rb")
        if compression == "bz2":
            return bz2.open(path, "rb")
        if compression == "xz":
            return lzma.open(path, "rb")
        import pyarrow as pa

        return pa.input_stream(str(path), compression="zstd")
    except _DECOMPRESS_ERRORS as exc:
        raise _corrupt(path, compression, 0, exc) from None


def _corrupt(path: Path, compression: str, at: int, exc: Exception) -> InputError:
    msg = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
    return InputError(f"{path}: corrupt {compression} stream after {at} decompressed bytes ({msg}); "
                      f"the file is damaged or not {compression}-compressed")


def _scan_stream(path: Path, compression: str, scanner: _PieceScan, stitch: _Stitch) -> int:
    """Decompress in order, SCAN_PIECE bytes at a time into one buffer, and scan each piece
    with the state known (one hypothesis); returns the decompressed size."""
    buf = bytearray(SCAN_PIECE + PIECE_PAD)
    view = memoryview(buf)
    fill, total, prev, eof = 0, 0, 10, False
    with contextlib.closing(_open_decompressed(path, compression)) as src:
        while True:
            while fill < SCAN_PIECE + 3 and not eof:
                try:
                    got = src.readinto(view[fill:SCAN_PIECE + 3])
                except _DECOMPRESS_ERRORS as exc:
                    raise _corrupt(path, compression, total + fill, exc) from None
                eof = not got
                fill += got or 0
            if not fill:
                break
            n = fill if eof else fill - 3  # keep 3 bytes to look ahead into the next piece
            stitch.add((True, scanner(buf, n, fill, eof, prev, {stitch.q: stitch.q})))
            prev = buf[n - 1]
            total += n
            buf[:fill - n] = buf[n:fill]
            fill -= n
    view.release()
    return total


def _delimiter(delimiter: str | None, fmt: str) -> str:
    """The field delimiter: `delimiter` (one ASCII character; "\\t" or "tab" for a tab) or the
    format's (",", or a tab for tsv)."""
    if delimiter is None:
        return "\t" if fmt == "tsv" else ","
    d = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if len(d) != 1 or not d.isascii() or d in '"\r\n':
        raise InputError(f"delimiter {delimiter!r}: give one ASCII character other than a quote or a line break "
                         "(e.g. ';', '|', or '\\t' for a tab)")
    return d


def _csv_schema(path: Path, delimiter: str, compression: str | None) -> list[dict] | None:
    """The column names and types pyarrow infers from the first SCHEMA_BLOCK bytes."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    # Types are inferred from the first block only (the recorded schema); a bigger block costs
    # time and memory out of proportion (16 MiB: about 1 s and 400 MB in pyarrow 26), so a block
    # 4 times larger is tried only when a row is longer than the block, up to SCHEMA_BLOCK_MAX.
    # Ragged rows are skipped here: the scan reports the first one with its line.
    skip = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=lambda row: "skip")
    read = None

    def open_head(block: int):
        nonlocal source, read
        if compression is not None:
            source.close()
            source = _open_decompressed(path, compression)
        read = pcsv.ReadOptions(use_threads=False, block_size=block)
        try:
            return pcsv.open_csv(source, read_options=read, parse_options=skip)
        except pa.ArrowInvalid as exc:
            if "straddle" not in str(exc) or block >= SCHEMA_BLOCK_MAX:
                raise
        return open_head(block * 4)

    source = str(path) if compression is None else _open_decompressed(path, compression)
    try:
        try:
            head = open_head(SCHEMA_BLOCK)
        except pa.ArrowInvalid as exc:
            if "Empty CSV" not in str(exc):
                raise
            # pyarrow needs a line break after a lone header: give it one (a short file only)
            with contextlib.closing(open(path, "rb") if compression is None else
                                    _open_decompressed(path, compression)) as f:
                text = f.read(SCHEMA_BLOCK + 1)
            if len(text) > SCHEMA_BLOCK or text.endswith((b"\n", b"\r")):
                raise
            head = pcsv.open_csv(pa.BufferReader(text + b"\n"), read_options=read, parse_options=skip)
        schema = head.schema
        head.close()
    except pa.ArrowInvalid as exc:
        record = re.search(r"Row #(\d+)", str(exc))
        line = _record_line(path, compression, int(record.group(1)), delimiter) if record else None
        raise _csv_error(path, exc, [], line) from None
    except _DECOMPRESS_ERRORS as exc:
        raise _corrupt(path, compression, 0, exc) from None
    finally:
        if compression is not None:
            source.close()
    return schema


def _record_line(path: Path, compression: str | None, record: int, delimiter: str) -> int | None:
    """Physical line where the `record`-th non-empty record begins, by Python's csv module: only
    used to place a pyarrow error in the first block, so only the error path reads it again."""
    import csv

    raw = open(path, "rb") if compression is None else _open_decompressed(path, compression)
    with contextlib.closing(raw):
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        seen, end = 0, 0
        try:
            for fields in reader:
                begin, end = end + 1, reader.line_num
                if fields:
                    seen += 1
                    if seen == record:
                        return begin
        except (csv.Error, *_DECOMPRESS_ERRORS):
            return None
    return None


def _scan_csv(path: Path, fmt: str, delimiter: str, chunk_size: int, progress: Progress | None,
              compression: str | None = None) -> FileDigest:
    """One read of the file by a pool of threads (_Units): each piece is hashed, checked to be
    UTF-8 and scanned for rows, quotes and ragged lines by the compiled kernel. A compressed file
    is hashed as stored (the same pool, in another thread) while this thread decompresses and
    scans it. Memory is a buffer per thread, not the file."""
    schema = _csv_schema(path, delimiter, compression)
    names = schema.names
    stitch = _Stitch(path, names)
    scanner = _PieceScan(delimiter, len(names))
    if compression is None:
        units = _Units(path, chunk_size, scanner)
        with contextlib.closing(units):
            pieces = _fold(units, progress)
            try:
                for piece in pieces:
                    stitch.add(piece)
                stitch.finish()
            finally:
                pieces.close()
        root, size = units.frontier.root().hex(), units.size
    else:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="notarize-hash") as pool:
            hashed = pool.submit(hash_file, path, chunk_size, progress)
            try:
                _scan_stream(path, compression, scanner, stitch)
                stitch.finish()
            except BaseException:
                hashed.cancel()
                raise
            root, size = hashed.result()
    return FileDigest(path.name, size, root, fmt, _schema_of(schema), max(stitch.rows - 1, 0),
                      compression=compression, delimiter=delimiter)


def _scan_parquet(path: Path, chunk_size: int, progress: Progress | None) -> FileDigest:
    import pyarrow.parquet as pq

    root, size = hash_file(path, chunk_size, progress)
    try:
        meta = pq.ParquetFile(str(path)).metadata
        schema = meta.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several types for a bad footer
        raise InputError(f"{path}: not a valid Parquet file ({str(exc).splitlines()[0][:160]})") from None
    return FileDigest(path.name, size, root, "parquet", _schema_of(schema), meta.num_rows)


def digest_file(path: Path, *, fmt: str = "auto", scan: bool = True, chunk_size: int = CHUNK_SIZE,
                progress: Progress | None = None, allow_empty: bool = False,
                delimiter: str | None = None) -> FileDigest:
    """Hash one file and, with `scan`, read its schema and rows. A CSV/TSV is read with
    `delimiter` (default "," or a tab; given, it also makes a file of unknown suffix a CSV), a
    compressed one as it decompresses. InputError for bad input."""
    fh = _open_input(path)
    size = os.fstat(fh.fileno()).st_size
    fh.close()
    if size == 0 and not allow_empty:
        raise InputError(f"{path}: file is empty; there is nothing to notarize")
    if fmt == "auto":
        fmt = detect_format(path)
        if fmt == "binary" and delimiter is not None:
            fmt = "csv"
    sep = _delimiter(delimiter, fmt) if fmt in ("csv", "tsv") else None
    compression = compression_of(path) if sep else None
    if size == 0 or not scan or fmt == "binary":
        root, n = hash_file(path, chunk_size, progress)
        return FileDigest(path.name, n, root, fmt if size else "empty", compression=compression, delimiter=sep)
    if fmt == "parquet":
        return _scan_parquet(path, chunk_size, progress)
    return _scan_csv(path, fmt, sep, chunk_size, progress, compression)


def list_files(root: Path) -> list[tuple[str, Path]]:
    """Regular files under `root` as (relative '/' path, path), sorted by relative path; symbolic
    links to directories are not followed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_walk_error):
        dirnames.sort()
        for name in filenames:
            p = Path(dirpath) / name
            out.append((p.relative_to(root).as_posix(), p))
    out.sort(key=lambda x: x[0].encode("utf-8", "surrogateescape"))
    return out


def _walk_error(exc: OSError) -> None:
    raise InputError(f"{exc.filename}: cannot list directory ({exc.strerror}); make it readable")


def total_size(path: Path) -> int:
    """Bytes `notarize` will read (for a progress bar); 0 when unknown."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for _, p in list_files(path))
        return path.stat().st_size
    except (OSError, InputError):
        return 0


def notarize(path: str | os.PathLike, *, fmt: str = "auto", scan: bool = True, chunk_size: int = CHUNK_SIZE,
             progress: Progress | None = None, delimiter: str | None = None,
             files: list[tuple[str, Path]] | None = None) -> Notarization:
    """Commit to the bytes of a file or a directory of files; with `scan`, also the format's
    schema and row count (CSV fields split at `delimiter`). `files` ((relative '/' path, path) in
    sorted order) commits a directory to those files only (the parts a dataset reads); default:
    every file below it. Raises InputError naming the file (and row, column) for bad input."""
    path = Path(path)
    if fmt not in ("auto",) + FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path}: no such file or directory")
    if not path.is_dir():
        d = digest_file(path, fmt=fmt, scan=scan, chunk_size=chunk_size, progress=progress, delimiter=delimiter)
        return Notarization(str(path), "file", d.root, d.size, chunk_size, d.format, [d], d.schema, d.rows)
    if not os.access(path, os.R_OK | os.X_OK):
        raise InputError(f"{path}: cannot list directory (permission denied); make it readable")
    files = list_files(path) if files is None else files
    if not files:
        raise InputError(f"{path}: directory holds no files; there is nothing to notarize")
    digests = []
    tree = MerkleFrontier(BLAKE3)
    for rel, p in files:
        d = digest_file(p, fmt=fmt, scan=scan, chunk_size=chunk_size, progress=progress, allow_empty=True,
                        delimiter=delimiter)
        d.path = rel
        digests.append(d)
        tree.append(BLAKE3.hash_leaf(canonical_json({"path": rel, "root": d.root, "size": d.size})))
    data_files = [d for d in digests if d.format != "empty"]
    formats = {d.format for d in data_files}
    fmt_all = formats.pop() if len(formats) == 1 else "mixed"
    schemas = [d.schema for d in data_files]
    schema = schemas[0] if schemas and all(s == schemas[0] for s in schemas) else None
    rows = sum(d.rows for d in data_files) if data_files and all(d.rows is not None for d in data_files) else None
    return Notarization(str(path), "directory", tree.root().hex(), sum(d.size for d in digests), chunk_size,
                        fmt_all, digests, schema, rows)


def compare(entry_data: dict, path: str | os.PathLike, progress: Progress | None = None,
            files: list[tuple[str, Path]] | None = None) -> list[str]:
    """Re-hash `path` the way `entry_data` (a ledger entry's `data`) was made; return the
    differences (empty when the bytes are exactly those notarized). `files`: the files of the
    directory that the entry's selection takes (default: all of them)."""
    chunk = entry_data.get("chunk_size", CHUNK_SIZE)
    if entry_data.get("hash", DATA_HASH) != DATA_HASH:
        raise InputError(f"entry's data hash {entry_data.get('hash')!r} is not {DATA_HASH}")
    path = Path(path)
    layout = entry_data.get("layout", "file")
    if layout == "file" and path.is_dir():
        raise InputError(f"{path}: is a directory, but the entry notarized a single file")
    if layout == "directory" and path.exists() and not path.is_dir():
        raise InputError(f"{path}: is a file, but the entry notarized a directory")
    now = notarize(path, scan=False, chunk_size=chunk, progress=progress, files=files) if layout == "directory" else None
    if now is None:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        root, size = hash_file(path, chunk, progress)
        now = Notarization(str(path), "file", root, size, chunk, "binary")
    diffs = []
    if layout == "directory":
        before = {f["path"]: f for f in entry_data.get("files", [])}
        after = {f.path: f for f in now.files}
        for p in sorted(set(before) | set(after)):
            if p not in after:
                diffs.append(f"{p}: missing")
            elif p not in before:
                diffs.append(f"{p}: not in the entry")
            elif (before[p]["root"], before[p]["size"]) != (after[p].root, after[p].size):
                diffs.append(f"{p}: content differs ({after[p].size} bytes now, {before[p]['size']} notarized)")
    if now.size != entry_data["size"] and not diffs:
        diffs.append(f"size is {now.size} bytes, the entry has {entry_data['size']}")
    if now.root != entry_data["root"] and not diffs:
        diffs.append(f"BLAKE3 Merkle root is {now.root}, the entry has {entry_data['root']}")
    return diffs
