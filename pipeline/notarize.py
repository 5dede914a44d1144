"""Notarization: commit to the exact bytes of a dataset, and read its schema and row count.

The raw-bytes commitment of a file is the RFC 9162 Merkle root (BLAKE3, leaf = H(0x00 || chunk),
node = H(0x01 || l || r)) over its consecutive `chunk_size`-byte chunks (the last one shorter;
an empty file has the empty-tree root BLAKE3("")). A directory is committed as the same kind of
tree over its regular files in sorted relative-path order, each leaf being the canonical JSON
{"path", "root", "size"} of one file. Files are streamed in fixed buffers: memory does not grow
with their size. CSV files are read once: the same buffers are hashed, checked to be UTF-8 and
scanned for rows and ragged lines (numpy while the text has no quotes, pyarrow's streaming parser
from the first quote on); Parquet files are read from their footer.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import re
import stat
import threading
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
CSV_BLOCK_SIZE = 16 << 20      # pyarrow block past the first quote: the longest quoted CSV row
SCHEMA_BLOCK = 1 << 20         # CSV column types are inferred from this first block
SCAN_BLOCK = 1 << 20           # bytes per read of a CSV file (hash, UTF-8 check)
SCAN_PIECE = 256 << 10         # bytes per numpy pass of the line scan
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
            data["files"] = [{"path": f.path, "size": f.size, "root": f.root, "format": f.format, "rows": f.rows}
                             for f in self.files]
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
    """(hex root, size) of one file's bytes, streamed through one reusable buffer."""
    hasher = ChunkHasher(chunk_size)
    buf = bytearray(max(chunk_size, 1 << 20))
    view = memoryview(buf)
    with _open_input(path) as f:
        try:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                hasher.update(view[:n])
                if progress:
                    progress(n)
        except OSError as exc:
            raise InputError(f"{path}: read failed ({exc.strerror})") from None
    return hasher.root(), hasher.size


def detect_format(path: Path) -> str:
    """"parquet" (PAR1 magic at both ends), "csv"/"tsv" (by extension), else "binary"."""
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
        return InputError(f"{where}: a row longer than {CSV_BLOCK_SIZE >> 20} MiB or an unclosed quote; "
                          "check the quoting of the file")
    return InputError(f"{where}: not readable as CSV ({msg.splitlines()[0][:200]})")


def _ragged_error(where: str, got: int, want: int, text: str) -> InputError:
    return InputError(f"{where} has {got} fields but the header has {want} ({text.strip()[:80]!r}); "
                      "fix that line (quote fields that contain the delimiter)")


def _utf8_error(where: str) -> InputError:
    return InputError(f"{where}: invalid UTF-8; re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")


def _blocks(path: Path, hasher: ChunkHasher, check: Callable, progress: Progress | None):
    """Yield (buffer, n, check(buffer, n)) for consecutive SCAN_BLOCK-byte blocks of the file. A
    thread reads them into a few reused buffers, hashes and checks them, so that work overlaps the
    caller's (both release the GIL). A buffer is reused once the caller asks for the next one."""
    f = _open_input(path)
    free: queue.Queue = queue.Queue()
    full: queue.Queue = queue.Queue()
    for _ in range(4):
        free.put(bytearray(SCAN_BLOCK))

    def work():
        try:
            while (buf := free.get()) is not None:
                n = f.readinto(buf)
                if n:
                    hasher.update(memoryview(buf)[:n])
                    if progress:
                        progress(n)
                full.put((buf, n, check(buf, n) if n else None))
                if not n:
                    return
        except OSError as exc:
            full.put(InputError(f"{path}: read failed ({exc.strerror})"))
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller
            full.put(exc)

    t = threading.Thread(target=work, name="notarize-read", daemon=True)
    t.start()
    try:
        while True:
            item = full.get()
            if isinstance(item, BaseException):
                raise item
            if not item[1]:
                return
            yield item
            free.put(item[0])
    finally:
        free.put(None)
        t.join()
        f.close()


def _utf8_len(lead: int) -> int:
    return 2 if 0xC0 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF8 else 1


class _Utf8Check:
    """UTF-8 validation block by block at C speed: ASCII blocks by numpy, others by pyarrow's
    validating cast. A sequence cut by the end of a block is carried into the next one."""

    def __init__(self):
        self.tail = b""  # an incomplete sequence at the end of the last block

    def check(self, buf: bytearray, n: int) -> int | None:
        """Offset in buf[:n] of the first invalid byte, or None."""
        import pyarrow as pa

        view = memoryview(buf)[:n]
        start = 0
        if self.tail:
            start = _utf8_len(self.tail[0]) - len(self.tail)
            head, self.tail = self.tail + bytes(view[:start]), b""
            try:
                head.decode("utf-8")
            except UnicodeDecodeError:
                return 0
        a = np.frombuffer(buf, np.uint8, max(0, n - start), min(start, n))
        if not len(a) or a.max() < 0x80:
            return None
        cut, i = n, n - 1
        while i > max(start, n - 4) and 0x80 <= buf[i] < 0xC0:
            i -= 1
        if buf[i] >= 0xC0 and i + _utf8_len(buf[i]) > n:
            cut = i
        try:
            offsets = pa.py_buffer(np.array([0, cut - start], np.int32))
            pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(view[start:cut])]).cast(pa.string())
        except pa.ArrowInvalid:
            try:
                bytes(view[start:cut]).decode("utf-8")
            except UnicodeDecodeError as exc:
                return start + exc.start
            return start
        self.tail = bytes(view[cut:])
        return None

    def finish(self) -> bool:
        """False when the file ends inside a sequence."""
        return not self.tail


_ONES = np.uint64(0x0101010101010101)  # (w * _ONES) >> 56 sums the eight bytes of w
_S56 = np.uint64(56)
_LOW = np.array([(1 << (8 * j)) - 1 for j in range(8)], np.uint64)  # the low j bytes of a word


class _LineScan:
    """Rows and ragged lines of quote-free CSV text, fed piece by piece (numpy, no per-line Python).

    Without quotes every newline ends a record, so a line is ragged exactly when its delimiter
    count is not the header's; the counts come from a prefix sum of per-8-byte-word delimiter
    counts, read at the newline positions. Empty lines (also a lone "\\r" before "\\n") are
    skipped, as pyarrow and pandas skip them. `feed` returns False, changing nothing, for text
    only the full parser reads the same way (a quote, a "\\r" not followed by "\\n")."""

    def __init__(self, delimiter: str, ncols: int):
        self.delim, self.k = ord(delimiter), ncols - 1
        self.lines = 0        # newlines seen
        self.rows = 0         # non-empty lines ended (the header included)
        self.part_delims = 0  # delimiters in the unfinished line
        self.part_len = 0     # bytes in the unfinished line
        self.last = 10        # the byte before the next piece
        self.pending_cr = False
        self.head = b""       # the start of the unfinished line (for messages)
        self.error: tuple[int, int, bytes] | None = None  # (line, fields, text) of the first ragged line
        # Preallocated work arrays: fresh temporaries this large are mmapped and page-faulted on
        # every call by glibc's malloc, which costs about as much as the scan itself.
        self._is_nl = np.empty(SCAN_PIECE, bool)
        self._cr = np.empty(SCAN_PIECE, bool)
        self._mask = np.zeros(SCAN_PIECE + 8, bool)
        self._per_word = np.empty(SCAN_PIECE // 8 + 1, np.uint64)
        self._upto = np.zeros(SCAN_PIECE // 8 + 2, np.uint64)

    def feed(self, buf: bytearray, start: int, end: int) -> bool:
        if buf.find(b'"', start, end) >= 0:
            return False
        a = np.frombuffer(buf, np.uint8, end - start, start)
        n = len(a)
        is_nl = np.equal(a, 10, out=self._is_nl[:n])
        if self.pending_cr and not is_nl[0]:
            return False
        pending_cr = False
        if buf.find(b"\r", start, end) >= 0:
            cr = np.equal(a, 13, out=self._cr[:n])
            if np.greater(cr[:-1], is_nl[1:], out=self._cr[:n - 1]).any():  # "\r" then not "\n"
                return False
            pending_cr = bool(a[-1] == 13)
        self.pending_cr = pending_cr
        mask = self._mask[:(n + 7) & ~7]
        mask[n:] = False
        np.equal(a, self.delim, out=mask[:n])
        words = mask.view(np.uint64)
        per_word = np.multiply(words, _ONES, out=self._per_word[:len(words)])
        per_word >>= _S56
        nl = np.flatnonzero(is_nl)
        if not len(nl):
            self.part_delims += int(per_word.sum())
            self.part_len += n
            if len(self.head) < 80:
                self.head += bytes(a[:80])
            self.last = int(a[-1])
            return True
        upto = self._upto[:len(per_word) + 1]  # upto[j]: delimiters in the words before word j
        np.cumsum(per_word, out=upto[1:])
        w = nl >> 3
        words = words[w]
        words &= _LOW[nl & 7]
        words *= _ONES
        words >>= _S56
        words += upto[w]
        before = words.view(np.int64)  # delimiters before each newline
        delims = np.empty_like(before)  # delimiters on each line
        delims[0] = before[0] + self.part_delims
        np.subtract(before[1:], before[:-1], out=delims[1:])
        bad = delims != self.k
        empty = 0
        if self.k == 0 or bad.any():  # an empty line has no delimiter: is it one of those?
            length = np.diff(nl, prepend=-1 - self.part_len) - 1
            prev = a[nl - 1]
            if nl[0] == 0:
                prev[0] = self.last
            blank = (length == 0) | ((length == 1) & (prev == 13))
            bad &= ~blank
            empty = int(np.count_nonzero(blank))
        if bad.any():
            i = int(np.argmax(bad))
            text = bytes(a[nl[i - 1] + 1:nl[i]]) if i else self.head + bytes(a[:nl[0]])
            self.error = (self.lines + i + 1, int(delims[i]) + 1, text)
            return True
        self.lines += len(nl)
        self.rows += len(nl) - empty
        self.part_delims = int(upto[-1]) - int(before[-1])
        self.part_len = n - 1 - int(nl[-1])
        self.last = int(a[-1])
        self.head = bytes(a[nl[-1] + 1:nl[-1] + 81])
        return True

    def finish(self) -> None:
        """The last line, when the file does not end with a newline."""
        if self.error is None and self.part_len and not (self.part_len == 1 and self.last == 13):
            if self.part_delims != self.k:
                self.error = (self.lines + 1, self.part_delims + 1, self.head)
            else:
                self.rows += 1


def _parse_rest(path: Path, offset: int, names: list[str], parse, stop: threading.Event):
    """(rows, error) of pyarrow's parse of the file from `offset` (a line start; the header is
    read from the file when `offset` is 0). One column converted, as raw bytes: enough to split
    every row, check its width and count it. Each batch is dropped at once."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_SIZE,  # one thread: row numbers
                            column_names=names if offset else None)
    convert = pcsv.ConvertOptions(include_columns=names[:1], column_types={names[0]: pa.binary()},
                                  check_utf8=False)
    rows = 0
    try:
        with pa.OSFile(str(path)) as src:
            src.seek(offset)
            reader = pcsv.open_csv(src, read_options=read, parse_options=parse, convert_options=convert)
            while not stop.is_set():
                try:
                    rows += reader.read_next_batch().num_rows
                except StopIteration:
                    break
    except (pa.ArrowInvalid, OSError) as exc:
        return rows, exc
    return rows, None


def _record_line(path: Path, offset: int, line: int, record: int, delimiter: str) -> int | None:
    """Physical line where the `record`-th non-empty record from `offset` (a line start, itself
    on `line` + 1) begins, by Python's csv module: only used to place a parser error, so the
    error path alone reads the file again up to that record."""
    import csv

    with open(path, "rb") as raw:
        raw.seek(offset)
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        seen, end = 0, 0
        try:
            for fields in reader:
                begin, end = end + 1, reader.line_num
                if fields:
                    seen += 1
                    if seen == record:
                        return line + begin
        except csv.Error:
            return None
    return None


def _scan_csv(path: Path, delimiter: str, chunk_size: int, progress: Progress | None) -> FileDigest:
    """One read of the file: a thread reads fixed buffers, hashes them and checks that they are
    UTF-8, while this one counts rows and finds ragged lines with numpy as long as the text holds
    no quote. From the line holding the first quote (or lone "\\r") on, pyarrow's streaming parser
    counts the rows in a third thread. Memory is bounded by the buffers and pyarrow's block, not
    by the file."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(use_threads=False, block_size=SCHEMA_BLOCK)
    parse = pcsv.ParseOptions(delimiter=delimiter)
    # Types are inferred from the first block only (the recorded schema); a bigger block costs
    # time and memory out of proportion (16 MiB: about 1 s and 400 MB in pyarrow 26).
    # Ragged rows are skipped here: the scan below reports the first one with its line.
    skip = pcsv.ParseOptions(delimiter=delimiter, invalid_row_handler=lambda row: "skip")
    try:
        head = pcsv.open_csv(str(path), read_options=read, parse_options=skip)
        schema = head.schema
        head.close()
    except pa.ArrowInvalid as exc:
        record = re.search(r"Row #(\d+)", str(exc))
        line = _record_line(path, 0, 0, int(record.group(1)), delimiter) if record else None
        raise _csv_error(path, exc, [], line) from None
    names = schema.names
    hasher = ChunkHasher(chunk_size, threads=1)
    scan, utf8 = _LineScan(delimiter, len(names)), _Utf8Check()
    stop = threading.Event()
    rest = None                # the pyarrow thread, once the text needs it
    rest_at = rest_line = 0    # where it starts: byte offset, newlines before
    lines = 0                  # with `rest` running: newlines before the current buffer
    pos = 0                    # file offset of the current buffer
    error: InputError | None = None
    done = False
    newline = b"\n"
    with ThreadPoolExecutor(max_workers=1) as pool, \
            contextlib.closing(_blocks(path, hasher, utf8.check, progress)) as blocks:
        try:
            for buf, n, bad in blocks:
                end = n if bad is None else bad
                s = 0
                while rest is None and s < end and not scan.error:
                    e = min(end, s + SCAN_PIECE)
                    if not scan.feed(buf, s, e):
                        rest_at, rest_line = pos + s - scan.part_len, scan.lines
                        lines = scan.lines - buf.count(newline, 0, s)
                        rest = pool.submit(_parse_rest, path, rest_at if scan.rows else 0, names, parse, stop)
                    s = e
                if scan.error:
                    break
                if bad is not None:
                    if rest is None:
                        where = f"{path}: line {scan.lines + 1}"
                        if scan.part_delims < len(names):
                            where += f", column {names[scan.part_delims]!r}"
                    else:
                        where = f"{path}: line {lines + buf.count(newline, 0, bad) + 1}"
                    error = _utf8_error(where)
                    break
                if rest is not None:
                    lines += buf.count(newline, 0, n)
                pos += n
            else:
                done = True
                if not utf8.finish():
                    line = scan.lines + 1 if rest is None else lines + 1
                    error = InputError(f"{path}: line {line}: the file ends inside a UTF-8 sequence; "
                                       "re-encode the file as UTF-8")
        finally:
            if not done or error:
                stop.set()  # the pyarrow thread, if any, stops at its next batch
    if rest is None and not error:
        scan.finish()
    if scan.error:
        line, fields, text = scan.error
        raise _ragged_error(f"{path}: line {line}", fields, len(names), text.decode("utf-8", "replace"))
    if error:
        raise error
    if rest is None:
        rows = max(scan.rows - 1, 0)  # the header is the first non-empty line
    else:
        more, exc = rest.result()
        if isinstance(exc, OSError):
            raise InputError(f"{path}: read failed ({exc})") from None
        if exc is not None:
            record = re.search(r"Row #(\d+)", str(exc))
            line = _record_line(path, rest_at if scan.rows else 0, rest_line if scan.rows else 0,
                                int(record.group(1)), delimiter) if record else None
            raise _csv_error(path, exc, names, line) from None
        rows = max(scan.rows - 1, 0) + more
    return FileDigest(path.name, hasher.size, hasher.root(), "csv" if delimiter == "," else "tsv",
                      _schema_of(schema), rows)


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
                progress: Progress | None = None, allow_empty: bool = False) -> FileDigest:
    """Hash one file and, with `scan`, read its schema and rows. InputError for bad input."""
    fh = _open_input(path)
    size = os.fstat(fh.fileno()).st_size
    fh.close()
    if size == 0 and not allow_empty:
        raise InputError(f"{path}: file is empty; there is nothing to notarize")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if size == 0 or not scan or fmt == "binary":
        root, n = hash_file(path, chunk_size, progress)
        return FileDigest(path.name, n, root, fmt if size else "empty")
    if fmt == "parquet":
        return _scan_parquet(path, chunk_size, progress)
    return _scan_csv(path, "," if fmt == "csv" else "\t", chunk_size, progress)


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
             progress: Progress | None = None) -> Notarization:
    """Commit to the bytes of a file or a directory of files; with `scan`, also the format's
    schema and row count. Raises InputError naming the file (and row, column) for bad input."""
    path = Path(path)
    if fmt not in ("auto",) + FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")
    if not path.exists() and not path.is_symlink():
        raise InputError(f"{path}: no such file or directory")
    if not path.is_dir():
        d = digest_file(path, fmt=fmt, scan=scan, chunk_size=chunk_size, progress=progress)
        return Notarization(str(path), "file", d.root, d.size, chunk_size, d.format, [d], d.schema, d.rows)
    if not os.access(path, os.R_OK | os.X_OK):
        raise InputError(f"{path}: cannot list directory (permission denied); make it readable")
    files = list_files(path)
    if not files:
        raise InputError(f"{path}: directory holds no files; there is nothing to notarize")
    digests = []
    tree = MerkleFrontier(BLAKE3)
    for rel, p in files:
        d = digest_file(p, fmt=fmt, scan=scan, chunk_size=chunk_size, progress=progress, allow_empty=True)
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


def compare(entry_data: dict, path: str | os.PathLike, progress: Progress | None = None) -> list[str]:
    """Re-hash `path` the way `entry_data` (a ledger entry's `data`) was made; return the
    differences (empty when the bytes are exactly those notarized)."""
    chunk = entry_data.get("chunk_size", CHUNK_SIZE)
    if entry_data.get("hash", DATA_HASH) != DATA_HASH:
        raise InputError(f"entry's data hash {entry_data.get('hash')!r} is not {DATA_HASH}")
    path = Path(path)
    layout = entry_data.get("layout", "file")
    if layout == "file" and path.is_dir():
        raise InputError(f"{path}: is a directory, but the entry notarized a single file")
    if layout == "directory" and path.exists() and not path.is_dir():
        raise InputError(f"{path}: is a file, but the entry notarized a directory")
    now = notarize(path, scan=False, chunk_size=chunk, progress=progress) if layout == "directory" else None
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
