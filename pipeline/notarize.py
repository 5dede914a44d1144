"""Notarization: commit to the exact bytes of a dataset, and read its schema and row count.

The raw-bytes commitment of a file is the RFC 9162 Merkle root (BLAKE3, leaf = H(0x00 || chunk),
node = H(0x01 || l || r)) over its consecutive `chunk_size`-byte chunks (the last one shorter;
an empty file has the empty-tree root BLAKE3("")). A directory is committed as the same kind of
tree over its regular files in sorted relative-path order, each leaf being the canonical JSON
{"path", "root", "size"} of one file. Files are streamed in fixed buffers: memory does not grow
with their size. CSV files are parsed once, in the same pass as the hashing, by pyarrow's
streaming reader (row count, ragged rows, invalid UTF-8); Parquet files are read from their footer.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import blake3

from ledger.entry import canonical_json
from ledger.merkle import BLAKE3, MerkleFrontier
from pipeline.errors import InputError

CHUNK_SIZE = 4 << 20          # bytes per Merkle leaf of the raw data
CSV_BLOCK_SIZE = 16 << 20      # pyarrow block: the longest CSV row that can be read
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

    def __init__(self, chunk_size: int = CHUNK_SIZE):
        if chunk_size <= 0:
            raise InputError("chunk size must be positive")
        self.chunk_size = chunk_size
        self.frontier = MerkleFrontier(BLAKE3)
        self.size = 0
        self._new_chunk()

    def _new_chunk(self) -> None:
        # The leaf prefix goes in first: the chunk's leaf hash is BLAKE3(0x00 || chunk).
        self._chunk = blake3.blake3(b"\x00", max_threads=blake3.blake3.AUTO)
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


class _HashingReader(io.RawIOBase):
    """A raw file whose every byte read also goes into a ChunkHasher (so pyarrow parses and we
    hash in one pass over the file)."""

    def __init__(self, f, hasher: ChunkHasher, progress: Progress | None):
        self._f, self._hasher, self._progress = f, hasher, progress

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self._f.readinto(b)
        if n:
            self._hasher.update(memoryview(b)[:n])
            if self._progress:
                self._progress(n)
        return n


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


def _csv_error(path: Path, exc: Exception, names: list[str]) -> InputError:
    msg = str(exc)
    row = re.search(r"Row #(\d+)", msg)
    col = re.search(r"In CSV column #(\d+)", msg)
    where = f"{path}: row {row.group(1)} (the header is row 1)" if row else f"{path}"
    if col:
        k = int(col.group(1))
        where += f", column {names[k]!r}" if k < len(names) else f", column {k + 1}"
    ragged = re.search(r"Expected (\d+) columns, got (\d+): ?(.*)", msg, re.S)
    if ragged:
        text = ragged.group(3).strip()[:80]
        return InputError(f"{where} has {ragged.group(2)} fields but the header has {ragged.group(1)} "
                          f"({text!r}); fix that row (quote fields that contain the delimiter)")
    if "invalid UTF8" in msg or "UTF-8" in msg or "UTF8" in msg:
        return InputError(f"{where}: invalid UTF-8; re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")
    if "straddle" in msg:
        return InputError(f"{where}: a row longer than {CSV_BLOCK_SIZE >> 20} MiB or an unclosed quote; "
                          "check the quoting of the file")
    return InputError(f"{where}: not readable as CSV ({msg.splitlines()[0][:200]})")


def _scan_csv(path: Path, delimiter: str, chunk_size: int, progress: Progress | None) -> FileDigest:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_SIZE)  # single thread: row numbers
    parse = pcsv.ParseOptions(delimiter=delimiter)
    # Types are inferred from the first block only (the recorded schema); the full pass reads every
    # column as UTF-8 text, which checks every row's width and encoding at the parser's speed.
    try:
        head = pcsv.open_csv(str(path), read_options=read, parse_options=parse)
        schema = head.schema
        head.close()
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, exc, []) from None
    names = schema.names
    convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, check_utf8=True)
    hasher = ChunkHasher(chunk_size)
    rows = 0
    with _open_input(path) as f:
        raw = _HashingReader(f, hasher, progress)
        try:
            reader = pcsv.open_csv(pa.PythonFile(io.BufferedReader(raw, CSV_BLOCK_SIZE), mode="r"),
                                   read_options=read, parse_options=parse, convert_options=convert)
            for batch in reader:
                rows += batch.num_rows
        except pa.ArrowInvalid as exc:
            raise _csv_error(path, exc, names) from None
        except OSError as exc:
            raise InputError(f"{path}: read failed ({exc})") from None
        while raw.read(1 << 20):  # hash anything the parser did not need to read
            pass
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
