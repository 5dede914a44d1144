"""Notarization: commit to the exact bytes of a dataset, and read its schema and row count.

The raw-bytes commitment of a file is the RFC 9162 Merkle root (BLAKE3, leaf = H(0x00 || chunk),
node = H(0x01 || l || r)) over its consecutive `chunk_size`-byte chunks (the last one shorter;
an empty file has the empty-tree root BLAKE3("")). A directory is committed as the same kind of
tree over its regular files in sorted relative-path order, each leaf being the canonical JSON
{"path", "root", "size"} of one file. Files are read by one thread per core, each owning whole
leaves and streaming them through one reused buffer: memory does not grow with their size. CSV
files are read once: the same buffers are hashed, checked to be UTF-8 and scanned for rows and
ragged lines (a compiled kernel while the text has no quotes, pyarrow's streaming parser from the
first quote on); Parquet files are read from their footer.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import io
import os
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
SCAN_UNIT = 8 << 20            # bytes (whole leaves) per task of the reading threads
SCAN_PIECE = 1 << 20           # bytes per read (and per kernel call) of a thread
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
    """(hex root, size) of one file's bytes, read and hashed by a thread per core."""
    if chunk_size <= 0:
        raise InputError("chunk size must be positive")
    units = _Units(path, chunk_size, None)
    with contextlib.closing(units):
        for _ in _fold(units, progress):
            pass
    return units.frontier.root().hex(), units.size


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


# --- the parallel read -----------------------------------------------------------------------
#
# A file is cut into units of whole Merkle leaves (SCAN_UNIT bytes or one leaf), and the units go
# to a pool of threads, one per core. A thread reads its unit SCAN_PIECE bytes at a time into one
# reused buffer (plus a few bytes past the piece, for a UTF-8 sequence or a "\r\n" cut by its
# end), hashes the bytes into the unit's leaves and, for a CSV, scans the piece with a compiled
# kernel into a summary of a few integers. Leaf hashes and summaries come back in file order: the
# leaves are folded into the Merkle frontier, the summaries are stitched (a line cut by a piece
# boundary is the previous piece's last partial line plus this piece's first one). Hashing and
# the kernel release the GIL, so the threads run in parallel; memory is one buffer per thread.

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
    thread pool; `scan(buf, n, end, eof)` (or None) summarises one piece held in buf[:end],
    of which buf[:n] is the piece itself."""

    def __init__(self, path: Path, chunk_size: int, scan: Callable | None):
        self.path, self.chunk_size, self.scan = path, chunk_size, scan
        self.f = _open_input(path)
        self.size = os.fstat(self.f.fileno()).st_size
        self.unit = chunk_size * max(1, SCAN_UNIT // chunk_size)
        self.piece = SCAN_PIECE
        self.local = threading.local()

    def _work(self, offset: int, length: int):
        buf = getattr(self.local, "buf", None)
        if buf is None or len(buf) != (self.piece + 15) & ~7:
            buf = self.local.buf = bytearray((self.piece + 15) & ~7)  # room for 3 bytes more, whole words
        view = memoryview(buf)
        leaves, pieces = [], []
        leaf, leaf_left = None, 0
        pos, stop = offset, offset + length
        fd = self.f.fileno()
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
            if self.scan is not None:
                pieces.append(self.scan(buf, n, got, pos + got >= self.size))
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


# --- the CSV line scan (compiled) ------------------------------------------------------------
#
# A piece summary (an int64 array, fields below) describes the lines of the piece up to `STOP`:
# the text before its first newline (the end of a line that began earlier), the complete lines,
# the text after its last newline. Within STOP the text holds no quote and no "\r" other than
# before "\n", so every newline ends a record and a line is ragged exactly when its delimiter
# count is not the header's. Empty lines (also a lone "\r") are skipped as pyarrow skips them.
# UTF-8 is checked over the whole piece: each piece validates the sequences that start in it
# (reading up to 3 bytes past it), and the stitching checks that the continuation bytes a piece
# starts with are the ones its predecessor's last sequence claimed.

(NL, BLANKS, HEAD_D, HEAD_LEN, HEAD_LAST, TAIL_D, TAIL_LEN, LAST, BAD_P, BAD_D, BAD_START, STOP, WHY,
 NL_ALL, UTF8_BAD, SKIP, OVER, TRUNC, ASCII, PIECE_LEN) = range(20)
WHY_END, WHY_PARSER, WHY_UTF8 = 0, 1, 2  # STOP is the piece's end / the first quote or lone "\r" / bad UTF-8

_U0, _U1, _U7, _U56 = np.uint64(0), np.uint64(1), np.uint64(7), np.uint64(56)
_ONES = np.uint64(0x0101010101010101)  # (m >> 7) * _ONES >> 56 counts the 0x80 bytes of a mask m
_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_FF = np.uint64(0xFF)


@functools.lru_cache(maxsize=None)
def _kernels():
    """The compiled piece scanner (Numba, cached on disk: compiled once per installation)."""
    from kernels.cache import cached_njit, configure_numba_cache

    configure_numba_cache()

    @cached_njit(nogil=True)
    def span(wi, s, e):
        """0x80 in the bytes of word wi that lie in [s, e)."""
        m = _HIGH
        lo, hi = s - wi * 8, e - wi * 8
        if lo > 0:
            m &= ~((_U1 << np.uint64(8 * lo)) - _U1)
        if hi < 8:
            m &= (_U1 << np.uint64(8 * hi)) - _U1
        return m

    @cached_njit(nogil=True)
    def equal(x, pattern, m):
        """0x80 in the bytes of x (among m's) equal to pattern's (SWAR, exact)."""
        y = x ^ pattern
        return ~(((y & _LOW7) + _LOW7) | y) & m

    @cached_njit(nogil=True)
    def lines(a, w, e, delim, k, out):
        """Lines of a[0:e], eight bytes a step: fills NL .. BAD_START, LAST and ASCII of out.
        `w` is `a` as words and covers a[0:e] (so the caller's buffer ends in a spare word)."""
        dpat = np.uint64(delim) * _ONES
        npat = np.uint64(10) * _ONES
        kk = np.uint64(k)
        d = _U0
        acc = _U0
        nl = blanks = 0
        head_d = head_last = 0
        head_len = e
        last_p = bad_p = -1
        wfull, wend = e >> 3, (e + 7) >> 3
        saved = _U0
        if wend > wfull:  # zero the bytes past e in the last word while it is scanned (0 is no delimiter)
            saved = w[wfull]
            w[wfull] = saved & ((_U1 << np.uint64(8 * (e & 7))) - _U1)
        wi = 0
        while wi < wend:
            x = w[wi]
            acc |= x
            y = x ^ dpat
            dm = ~(((y & _LOW7) + _LOW7) | y) & _HIGH
            y = x ^ npat
            nm = ~(((y & _LOW7) + _LOW7) | y) & _HIGH
            while nm != _U0:
                low = nm & (~nm + _U1)
                below = low - _U1
                d += (((dm & below) >> _U7) * _ONES) >> _U56
                dm &= ~(low | below)
                nm &= nm - _U1
                p = wi * 8 + np.int64((((below & _HIGH) >> _U7) * _ONES) >> _U56)  # the newline's byte in the word
                if nl == 0:
                    head_d, head_len = np.int64(d), p
                    head_last = np.int64(a[p - 1]) if p > 0 else -1
                elif d != kk or k == 0:
                    if a[p - 1] == 10 or (a[p - 1] == 13 and a[p - 2] == 10):
                        blanks += 1
                    elif d != kk:
                        bad_p = p
                        break
                nl += 1
                last_p = p
                d = _U0
            if bad_p >= 0:
                break
            d += ((dm >> _U7) * _ONES) >> _U56
            wi += 1
        if wend > wfull:
            w[wfull] = saved
        out[NL], out[BLANKS], out[BAD_P], out[ASCII] = nl, blanks, bad_p, (acc & _HIGH) == _U0
        out[BAD_D], out[BAD_START] = np.int64(d), last_p + 1
        if nl == 0:
            head_d = np.int64(d)
            head_last = np.int64(a[e - 1]) if e > 0 else -1
        out[HEAD_D], out[HEAD_LEN], out[HEAD_LAST] = head_d, head_len, head_last
        out[TAIL_D], out[TAIL_LEN] = np.int64(d), e - last_p - 1
        out[LAST] = np.int64(a[e - 1]) if e > 0 else -1

    @cached_njit(nogil=True)
    def newlines(a, w, s, e):
        """(newlines in a[s:e], whether those bytes are all ASCII)."""
        npat = np.uint64(10) * _ONES
        c = _U0
        acc = _U0
        for wi in range(s >> 3, (e + 7) >> 3):
            x = w[wi]
            m = _HIGH if wi * 8 >= s and wi * 8 + 8 <= e else span(wi, s, e)
            acc |= x & ((m >> _U7) * _FF)
            c += ((equal(x, npat, m) >> _U7) * _ONES) >> _U56
        return np.int64(c), (acc & _HIGH) == _U0

    @cached_njit(nogil=True)
    def utf8(a, n, end, eof, out):
        """Check the UTF-8 sequences that start in a[0:n] (continuing up to a[end - 1]) as
        Python's decoder does: UTF8_BAD is the start of the first invalid one (or -1); SKIP the
        continuation bytes the piece starts with (a previous piece's); OVER the bytes past n of
        its last sequence; TRUNC 1 when the data ends (eof) inside a sequence."""
        i = 0
        while i < n and i < 4 and (a[i] & 0xC0) == 0x80:
            i += 1
        out[SKIP] = i
        bad, trunc = -1, 0
        while i < n:
            c = a[i]
            if c < 0x80:
                i += 1
                continue
            lo, hi = 0x80, 0xBF  # the range of the second byte
            if 0xC2 <= c <= 0xDF:
                need = 1
            elif 0xE0 <= c <= 0xEF:
                need = 2
                if c == 0xE0:
                    lo = 0xA0
                elif c == 0xED:
                    hi = 0x9F
            elif 0xF0 <= c <= 0xF4:
                need = 3
                if c == 0xF0:
                    lo = 0x90
                elif c == 0xF4:
                    hi = 0x8F
            else:
                bad = i
                break
            j = 1
            while j <= need and i + j < end:
                b = a[i + j]
                if b < lo or b > hi:
                    break
                lo, hi = 0x80, 0xBF
                j += 1
            if j <= need:
                if i + j >= end and eof:
                    trunc = 1  # what there is of the sequence is right: the data ends inside it
                else:
                    bad = i
                break
            i += need + 1
        out[UTF8_BAD], out[TRUNC], out[OVER] = bad, trunc, max(0, i - n) if bad < 0 and not trunc else 0

    @cached_njit(nogil=True)
    def piece(a, w, n, end, eof, quote, cr, delim, k, out):
        """Summary of the piece a[0:n] (bytes to a[end - 1] follow it): lines up to the first
        quote (`quote`, n when none), lone "\\r" (the first "\\r" at `cr`, -1 when none) or
        invalid UTF-8, whichever comes first; newlines and UTF-8 over all of it."""
        stop = min(quote, n)
        why = WHY_PARSER if stop < n else WHY_END
        if 0 <= cr < stop:
            for i in range(cr, stop):
                if a[i] == 13 and i + 1 < end and a[i + 1] != 10:
                    stop, why = i, WHY_PARSER
                    break
        lines(a, w, stop, delim, k, out)
        scanned = out[BAD_P] if out[BAD_P] >= 0 else stop
        rest, ascii_rest = newlines(a, w, scanned, n)
        out[NL_ALL] = out[NL] + rest
        out[UTF8_BAD], out[SKIP], out[OVER], out[TRUNC] = -1, 0, 0, 0
        if not (out[ASCII] and ascii_rest):
            utf8(a, n, end, eof, out)
            bad = out[UTF8_BAD]
            if bad >= 0:
                if bad < scanned:
                    lines(a, w, bad, delim, k, out)
                    stop, why = bad, WHY_UTF8
                out[NL_ALL] = newlines(a, w, 0, bad)[0]
        out[STOP], out[WHY] = stop, why

    return piece


def _piece_scanner(delimiter: str, ncols: int, fallen: list):
    """The `scan` callable of _Units for a CSV: summaries as lists of ints. Once `fallen` holds
    anything (pyarrow reads the rest), pieces are only counted (newlines, UTF-8)."""
    kernel, delim, k = _kernels(), ord(delimiter), ncols - 1
    quote = b'"'
    local = threading.local()

    def scan(buf: bytearray, n: int, end: int, eof: bool) -> list[int]:
        arrays = getattr(local, "arrays", None)
        if arrays is None or local.buf is not buf:
            local.buf = buf
            arrays = local.arrays = (np.frombuffer(buf, np.uint8), np.frombuffer(buf, np.uint64, len(buf) // 8),
                                     np.empty(PIECE_LEN + 1, np.int64))
        a, w, out = arrays
        if fallen:
            q, c = 0, -1
        else:
            q = buf.find(quote, 0, n)
            q = n if q < 0 else q
            c = buf.find(b"\r", 0, q)
        kernel(a, w, n, end, eof, q, c, delim, k, out)
        out[PIECE_LEN] = n
        return out.tolist()

    return scan


class _Stitch:
    """Piece summaries, in file order, stitched into rows, the first ragged line and the first
    UTF-8 error; `fallback` is set (offset, line, rows) where the parser must take over."""

    def __init__(self, path: Path, names: list[str]):
        self.path, self.names, self.k = path, names, len(names) - 1
        self.offset = 0          # of the next piece
        self.lines = 0           # newlines before it
        self.rows = 0            # non-empty lines ended (the header included), before the fallback
        self.part_d = 0          # the unfinished line: delimiters, length, last byte, start
        self.part_len = 0
        self.part_last = 10
        self.part_start = 0
        self.over = 0            # continuation bytes the next piece must start with
        self.trunc = False
        self.fallback: tuple[int, int, int] | None = None

    def _blank(self, length: int, last: int) -> bool:
        return length == 0 or (length == 1 and last == 13)

    def _ragged(self, line: int, delims: int, start: int, length: int) -> InputError:
        with open(self.path, "rb") as f:
            f.seek(start)
            text = f.read(min(length, 4096))
        return _ragged_error(f"{self.path}: line {line}", delims + 1, len(self.names),
                             text.decode("utf-8", "replace"))

    def _utf8(self, line: int, delims: int | None) -> InputError:
        where = f"{self.path}: line {line}"
        if delims is not None and delims < len(self.names):
            where += f", column {self.names[delims]!r}"
        return _utf8_error(where)

    def add(self, s: list[int]) -> None:
        """One piece's summary; InputError at its first problem."""
        n = s[PIECE_LEN]
        if s[SKIP] > self.over:  # a continuation byte that no sequence claims
            raise self._utf8(self.lines + 1, None if self.fallback else self.part_d)
        self.over, self.trunc = s[OVER], bool(s[TRUNC])
        lines0 = self.lines
        if self.fallback:
            if s[UTF8_BAD] >= 0:
                raise self._utf8(lines0 + s[NL_ALL] + 1, None)
            self.lines += s[NL_ALL]
            self.offset += n
            return
        if s[NL]:
            d, length = self.part_d + s[HEAD_D], self.part_len + s[HEAD_LEN]
            if not self._blank(length, s[HEAD_LAST] if s[HEAD_LEN] else self.part_last):
                if d != self.k:
                    raise self._ragged(lines0 + 1, d, self.part_start, length)
                self.rows += 1
            if s[BAD_P] >= 0:
                raise self._ragged(lines0 + s[NL] + 1, s[BAD_D], self.offset + s[BAD_START], s[BAD_P] - s[BAD_START])
            self.rows += s[NL] - 1 - s[BLANKS]
            self.lines += s[NL]
            self.part_d, self.part_len, self.part_last = s[TAIL_D], s[TAIL_LEN], s[LAST]
            self.part_start = self.offset + s[STOP] - s[TAIL_LEN]
        else:
            self.part_d += s[HEAD_D]
            self.part_len += s[STOP]
            if s[STOP]:
                self.part_last = s[LAST]
        if s[WHY] == WHY_UTF8:
            raise self._utf8(self.lines + 1, self.part_d)
        if s[WHY] == WHY_PARSER:
            self.fallback = (self.part_start, self.lines, self.rows)
            if s[UTF8_BAD] >= 0:
                raise self._utf8(lines0 + s[NL_ALL] + 1, None)
            self.lines = lines0 + s[NL_ALL]
        self.offset += n

    def finish(self) -> None:
        """The end of the file: a cut UTF-8 sequence, the last line when no newline ends it."""
        if self.trunc:
            raise InputError(f"{self.path}: line {self.lines + 1}: the file ends inside a UTF-8 sequence; "
                             "re-encode the file as UTF-8")
        if self.fallback is None and not self._blank(self.part_len, self.part_last):
            if self.part_d != self.k:
                raise self._ragged(self.lines + 1, self.part_d, self.part_start, self.part_len)
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
    """One read of the file by a pool of threads (_Units): each piece is hashed, checked to be
    UTF-8 and scanned for rows and ragged lines by the compiled kernel as long as the text holds
    no quote. From the line holding the first quote (or lone "\\r") on, pyarrow's streaming
    parser counts the rows in another thread. Memory is bounded by the buffers and pyarrow's
    block, not by the file."""
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
    fallen: list = []          # non-empty once pyarrow reads the rest: the pieces are only counted
    stitch = _Stitch(path, names)
    stop = threading.Event()
    rest = None                # pyarrow's thread
    units = _Units(path, chunk_size, _piece_scanner(delimiter, len(names), fallen))
    with ThreadPoolExecutor(max_workers=1) as pool, contextlib.closing(units):
        pieces = _fold(units, progress)
        try:
            for summary in pieces:
                stitch.add(summary)
                if stitch.fallback and rest is None:
                    fallen.append(True)
                    at, _, rows = stitch.fallback
                    rest = pool.submit(_parse_rest, path, at if rows else 0, names, parse, stop)
            stitch.finish()
        except BaseException:
            stop.set()  # the pyarrow thread, if any, stops at its next batch
            pieces.close()
            raise
    root = units.frontier.root().hex()
    if rest is None:
        rows = max(stitch.rows - 1, 0)  # the header is the first non-empty line
    else:
        at, line, before = stitch.fallback
        more, exc = rest.result()
        if isinstance(exc, OSError):
            raise InputError(f"{path}: read failed ({exc})") from None
        if exc is not None:
            record = re.search(r"Row #(\d+)", str(exc))
            found = _record_line(path, at if before else 0, line if before else 0,
                                 int(record.group(1)), delimiter) if record else None
            raise _csv_error(path, exc, names, found) from None
        rows = max(before - 1, 0) + more
    return FileDigest(path.name, units.size, root, "csv" if delimiter == "," else "tsv",
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
             progress: Progress | None = None, files: list[tuple[str, Path]] | None = None) -> Notarization:
    """Commit to the bytes of a file or a directory of files; with `scan`, also the format's
    schema and row count. `files` ((relative '/' path, path) in sorted order) commits a directory
    to those files only (the parts a dataset reads); default: every file below it. Raises
    InputError naming the file (and row, column) for bad input."""
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
    files = list_files(path) if files is None else files
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
