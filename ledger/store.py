"""The ledger file: durable appends under an exclusive lock, strict reads, objects beside it."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import secrets
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import blake3

from ledger.entry import (FORMAT, HEX64, Entry, check_name, check_record, decode_line, encode_line)
from ledger.errors import (EntryNotFoundError, LedgerCorruptError, LedgerError, LedgerExistsError,
                           LedgerLockError, LedgerNotFoundError, ObjectStoreError, RecordError)
from ledger.merkle import BLAKE3, MerkleTree

DEFAULT_LOCK_TIMEOUT = 30.0
LINE_START = b'{"checksum":"'


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_torn_tail(tail: bytes) -> bool:
    """Whether bytes after the last newline can be the beginning of an append that never finished.

    A crash leaves a prefix of `line + b"\\n"`; a complete record followed by anything else, or
    bytes that cannot start a record, are damage instead and must be reported, not cut.
    """
    if not (tail.startswith(LINE_START) or LINE_START.startswith(tail)):
        return False
    try:
        _, end = json.JSONDecoder().raw_decode(tail.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return exc.start >= len(tail) - 3  # only a multi-byte character cut at the very end
    except ValueError:
        return True  # runs out of input: a prefix
    return end == len(tail.decode("utf-8"))


class _Index:
    """What the ledger keeps in memory per entry: where its line is, and how to find it."""

    def __init__(self) -> None:
        self.offsets: list[int] = []          # byte offset of each line
        self.ids: dict[str, int] = {}          # entry id (leaf hash hex) -> index
        self.versions: dict[str, list[int]] = {}  # name -> indices, version order
        self.end = 0                           # byte offset after the last complete line


class Ledger:
    """An append-only ledger file and its Merkle tree. Readers need no lock; `append` takes the
    exclusive writer lock, writes, fsyncs, and returns only once the entry is durable."""

    def __init__(self, path: Path, lock_timeout: float):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.tree = MerkleTree(BLAKE3)
        self._idx = _Index()
        self._genesis: dict | None = None
        self._mutex = threading.Lock()
        self.torn_tail = 0          # bytes of an unfinished append seen at the end of the file
        self.torn_tail_cut = False  # whether open() cut them off (it does when it may write)
        self._rfd = os.open(self.path, os.O_RDONLY)

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike, *, origin: str | None = None, signer: str | None = None,
               tool: str | None = None, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> "Ledger":
        """Create a new ledger holding only its genesis entry (origin, hash, format). Durable on
        return (file and directory fsynced). Raises LedgerExistsError if the file exists."""
        path = Path(path)
        origin = origin or f"zkp-ledger/{secrets.token_hex(8)}"
        check_name(origin, "origin")
        if path.is_dir():
            raise LedgerError(f"{path} is a directory; give the ledger file's path (e.g. {path}/ledger.jsonl)")
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "objects").mkdir(exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise LedgerExistsError(f"ledger {path} already exists") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # openers of the still-empty file wait for the genesis
            genesis = {"format": FORMAT, "index": 0, "kind": "genesis", "origin": origin, "hash": BLAKE3.name,
                       "prev_root": BLAKE3.empty_root().hex(), "time": utc_now(), "tool": tool,
                       "signer": signer}
            line, _ = encode_line(genesis)
            _write_all(fd, line)
            os.fsync(fd)
            fsync_dir(path.parent)
        finally:
            os.close(fd)
        return cls.open(path, lock_timeout=lock_timeout)

    @classmethod
    def open(cls, path: str | os.PathLike, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
             repair: bool = True) -> "Ledger":
        """Open and check an existing ledger. A torn final line (an append that never returned)
        is cut off when no writer is active and the file is writable (`torn_tail`, `torn_tail_cut`
        tell the caller, so it can report it once); any other damage raises LedgerCorruptError."""
        path = Path(path)
        if path.is_dir():
            raise LedgerError(f"{path} is a directory; give the ledger file's path (e.g. {path}/ledger.jsonl)")
        if not path.exists():
            raise LedgerNotFoundError(f"no ledger at {path}; create one with `zkp-ledger init --ledger {path}`")
        try:
            self = cls(path, lock_timeout)
        except PermissionError:
            raise LedgerError(f"cannot read ledger {path}: permission denied") from None
        if os.fstat(self._rfd).st_size == 0:
            with self._locked():  # a create in progress holds the lock until the genesis is durable
                pass
        self._scan(repair=repair)
        if self.size == 0:
            raise LedgerCorruptError(f"ledger {path} is empty (an init that did not finish); "
                                     "remove it and run `zkp-ledger init` again")
        return self

    def close(self) -> None:
        if self._rfd >= 0:
            os.close(self._rfd)
            self._rfd = -1

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # --- reading ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of entries (the genesis entry included): the Merkle tree size."""
        return self.tree.size

    @property
    def dir(self) -> Path:
        return self.path.parent

    @property
    def objects_dir(self) -> Path:
        return self.dir / "objects"

    @property
    def checkpoints_dir(self) -> Path:
        return self.dir / "checkpoints"

    @property
    def origin(self) -> str:
        """The log's origin line for checkpoints, fixed by the genesis entry."""
        return self._genesis["origin"]

    @property
    def genesis(self) -> Entry:
        return self.entry(0)

    def refresh(self) -> int:
        """Read entries appended by other processes since open; returns how many were new."""
        before = self.size
        with self._mutex:
            self._scan(repair=False)
        return self.size - before

    def _scan(self, *, repair: bool, locked: bool = False) -> None:
        """Read and check every complete line after the known end, extending the tree."""
        idx = self._idx
        with os.fdopen(os.dup(self._rfd), "rb") as f:
            f.seek(idx.end)
            while True:
                line = f.readline()
                if not line:
                    break
                if not line.endswith(b"\n"):
                    self._tail(line, repair=repair, locked=locked)
                    break
                index = self.size
                where = f"{self.path}: line {index + 1} (entry {index}, byte {idx.end})"
                entry, leaf = decode_line(line[:-1], where)
                self._check_entry(entry, leaf, where)
                idx.offsets.append(idx.end)
                idx.end += len(line)

    def _check_entry(self, entry: dict, leaf: bytes, where: str) -> None:
        index = self.size
        if entry.get("index") != index:
            raise LedgerCorruptError(f"{where}: holds index {entry.get('index')!r}; entries are missing or reordered")
        if entry.get("format") != FORMAT:
            raise LedgerCorruptError(f"{where}: unknown format {entry.get('format')!r}")
        if entry.get("prev_root") != self.tree.root(index).hex():
            raise LedgerCorruptError(f"{where}: prev_root does not match the tree before it (broken chain)")
        kind = entry.get("kind")
        if index == 0:
            if kind != "genesis" or entry.get("hash") != BLAKE3.name:
                raise LedgerCorruptError(f"{where}: the first entry must be the genesis entry with hash blake3")
            self._genesis = entry
        else:
            if kind not in ("notarization", "statistics"):
                raise LedgerCorruptError(f"{where}: unknown entry kind {kind!r}")
            name, version = entry.get("name"), entry.get("version")
            versions = self._idx.versions.get(name, [])
            if not isinstance(name, str) or version != len(versions) + 1:
                raise LedgerCorruptError(f"{where}: {name}@{version} breaks the version sequence "
                                         f"(expected version {len(versions) + 1})")
            parent = entry.get("parent")
            if parent is not None and parent not in self._idx.ids:
                raise LedgerCorruptError(f"{where}: parent {parent} is not an earlier entry")
            self._idx.versions.setdefault(name, []).append(index)
        self._idx.ids[leaf.hex()] = index
        self.tree.append(leaf)

    def _tail(self, tail: bytes, *, repair: bool, locked: bool) -> None:
        where = f"{self.path}: byte {self._idx.end} (after entry {self.size - 1})"
        if not is_torn_tail(tail):
            raise LedgerCorruptError(f"{where}: {len(tail)} bytes without a final newline that are not an "
                                     "unfinished append (damaged file)")
        if locked:
            self._cut_tail()
            return
        if not repair:
            return  # a writer may be in the middle of this line
        try:
            writer_fd = os.open(self.path, os.O_WRONLY)
        except PermissionError:
            self.torn_tail = len(tail)  # cannot cut: report it, read around it
            return
        try:
            try:
                fcntl.flock(writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a writer is active: the tail is its append in flight
            self._scan(repair=False, locked=True)  # re-read under the lock; cut if still torn
        finally:
            os.close(writer_fd)

    def _cut_tail(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)
        try:
            size = os.fstat(fd).st_size
            self.torn_tail = size - self._idx.end
            os.ftruncate(fd, self._idx.end)
            os.fsync(fd)
            self.torn_tail_cut = True
        finally:
            os.close(fd)

    def entry(self, index: int) -> Entry:
        """The entry at `index` (negative counts from the end), read and re-checked from the file."""
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise EntryNotFoundError(f"no entry {index}: the ledger has entries 0..{self.size - 1}")
        offset = self._idx.offsets[index]
        end = self._idx.offsets[index + 1] if index + 1 < self.size else self._idx.end
        raw = os.pread(self._rfd, end - offset, offset)
        where = f"{self.path}: line {index + 1} (entry {index})"
        if not raw.endswith(b"\n"):
            raise LedgerCorruptError(f"{where}: changed since the ledger was opened")
        entry, leaf = decode_line(raw[:-1], where)
        if leaf != self.tree.leaf_hash(index):
            raise LedgerCorruptError(f"{where}: changed since the ledger was opened")
        return Entry(entry, leaf)

    def entries(self, start: int = 0, stop: int | None = None) -> Iterator[Entry]:
        """Entries start..stop-1 in order (default: all, the genesis entry first)."""
        stop = self.size if stop is None else min(stop, self.size)
        for i in range(max(0, start), stop):
            yield self.entry(i)

    def history(self, name: str) -> list[Entry]:
        """Every version of dataset `name`, oldest first (empty if none)."""
        return [self.entry(i) for i in self._idx.versions.get(name, [])]

    def names(self) -> list[str]:
        return sorted(self._idx.versions)

    def next_version(self, name: str) -> int:
        """The version the next append of `name` will get (1 for a new name)."""
        return len(self._idx.versions.get(name, [])) + 1

    def resolve(self, ref: str | int) -> Entry:
        """The entry named by `ref`: an index (negative from the end), an entry id or a unique
        prefix of one (at least 6 hex digits), `NAME@VERSION`, `NAME@latest`, or a bare NAME
        (its latest version). Raises EntryNotFoundError."""
        if isinstance(ref, int):
            return self.entry(ref)
        ref = str(ref).strip()
        if re.fullmatch(r"-?\d{1,9}", ref):  # short all-digit refs are indices
            return self.entry(int(ref))
        if "@" in ref:
            name, _, version = ref.rpartition("@")
            indices = self._idx.versions.get(name)
            if not indices:
                raise EntryNotFoundError(f"no dataset named {name!r} in the ledger")
            if version == "latest":
                return self.entry(indices[-1])
            if not version.isdigit() or not 1 <= int(version) <= len(indices):
                raise EntryNotFoundError(f"{name!r} has versions 1..{len(indices)}, not {version!r}")
            return self.entry(indices[int(version) - 1])
        if ref in self._idx.versions:
            return self.entry(self._idx.versions[ref][-1])
        if re.fullmatch(r"[0-9a-f]{6,64}", ref):
            if ref in self._idx.ids:
                return self.entry(self._idx.ids[ref])
            hits = [i for h, i in self._idx.ids.items() if h.startswith(ref)]
            if len(hits) == 1:
                return self.entry(hits[0])
            if len(hits) > 1:
                raise EntryNotFoundError(f"entry id prefix {ref} is ambiguous ({len(hits)} entries); give more digits")
        raise EntryNotFoundError(f"no entry {ref!r}: give an index (0..{self.size - 1}), an entry id, "
                                 "NAME@VERSION or NAME")

    # --- Merkle ----------------------------------------------------------------------------

    def root(self, size: int | None = None) -> bytes:
        """The BLAKE3 Merkle root of the first `size` entries (default: all)."""
        return self.tree.root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `size` entries."""
        return self.tree.inclusion_proof(index, size)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof from the tree of `old` entries to that of `new`."""
        return self.tree.consistency_proof(old, new)

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[int]:
        """Hold the exclusive writer lock (flock) on the ledger file; wait up to lock_timeout."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except PermissionError:
            raise LedgerError(f"cannot write ledger {self.path}: permission denied") from None
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LedgerLockError(
                            f"ledger {self.path} is locked by another writer (waited {self.lock_timeout:g} s); "
                            "retry when it has finished") from None
                    time.sleep(0.01)
            yield fd
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def append(self, record: dict, *, expected_version: int | None = None) -> Entry:
        """Append one record (kind, name, data, ...; see ledger/__init__.py) and return its Entry.
        Durable on return. Raises RecordError for a bad record, LedgerLockError on lock timeout.

        `expected_version`: the version the caller bound into the record's content (e.g. a proof
        statement); checked under the writer lock, RecordError if another writer took it first."""
        return self.append_many([record], expected_versions=None if expected_version is None else [expected_version])[0]

    def append_many(self, records: list[dict], *, expected_versions: list[int | None] | None = None) -> list[Entry]:
        """Append several records under one lock and one fsync; all are durable on return."""
        checked = [check_record(r) for r in records]
        with self._mutex, self._locked() as fd:
            self._scan(repair=False, locked=True)  # catch up with other writers, cut a torn tail
            for record, want in zip(checked, expected_versions or []):
                if want is not None and self.next_version(record["name"]) != want:
                    raise RecordError(f"{record['name']}@{want} was taken by another writer meanwhile "
                                      f"(next version is {self.next_version(record['name'])}); run the command again")
            built: list[tuple[dict, bytes, bytes]] = []
            start_size, start_end = self.size, self._idx.end
            try:
                for record in checked:
                    entry = self._complete(record)
                    line, leaf = encode_line(entry)
                    self._check_entry(entry, leaf, f"new entry {self.size}")
                    self._idx.offsets.append(self._idx.end)
                    self._idx.end += len(line)
                    built.append((entry, leaf, line))
                _write_all(fd, b"".join(line for _, _, line in built))
                os.fsync(fd)
            except BaseException:
                self._rollback(start_size, start_end)
                raise
        return [Entry(entry, leaf) for entry, leaf, _ in built]

    def _complete(self, record: dict) -> dict:
        """Add the fields the ledger owns: index, version, prev_root, time, default parent."""
        name = record["name"]
        index = self.size
        if "parent" not in record:
            versions = self._idx.versions.get(name)
            record["parent"] = self.tree.leaf_hash(versions[-1]).hex() if versions else None
        elif record["parent"] is not None:
            try:
                record["parent"] = self.resolve(record["parent"]).id
            except EntryNotFoundError as exc:
                raise RecordError(f"parent: {exc}") from None
        bundle = record.get("proof_bundle")
        if bundle is not None and not self.has_object(bundle):
            raise RecordError(f"proof_bundle {bundle} is not in {self.objects_dir}; put_object it first")
        record.setdefault("tool", None)
        return {**record, "format": FORMAT, "index": index, "version": self.next_version(name),
                "prev_root": self.tree.root(index).hex(), "time": utc_now()}

    def _rollback(self, size: int, end: int) -> None:
        # The in-memory state ran ahead of the file; rebuild it from disk (rare: failed append).
        fresh = Ledger.open(self.path, lock_timeout=self.lock_timeout, repair=False)
        self.tree, self._idx, self._genesis = fresh.tree, fresh._idx, fresh._genesis
        fresh.close()

    # --- objects ---------------------------------------------------------------------------

    def _object_path(self, digest: str) -> Path:
        if not isinstance(digest, str) or not HEX64.match(digest):
            raise ObjectStoreError(f"{digest!r} is not an object hash (64 lowercase hex digits)")
        return self.objects_dir / digest

    def has_object(self, digest: str) -> bool:
        return self._object_path(digest).is_file()

    def put_object(self, data: bytes) -> str:
        """Store `data` in objects/<blake3 hex> (atomically, fsynced) and return the hex hash."""
        digest = blake3.blake3(data).hexdigest()
        target = self._object_path(digest)
        if target.is_file():
            return digest
        self.objects_dir.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.objects_dir, prefix=".tmp-")
        try:
            _write_all(fd, bytes(data))
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, target)
            fsync_dir(self.objects_dir)
        finally:
            if fd >= 0:
                os.close(fd)
            if os.path.exists(tmp):
                os.unlink(tmp)
        return digest

    def get_object(self, digest: str) -> bytes:
        """The bytes stored under `digest`; ObjectStoreError if missing or not matching the hash."""
        path = self._object_path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ObjectStoreError(f"object {digest} is missing from {self.objects_dir}") from None
        if blake3.blake3(data).hexdigest() != digest:
            raise ObjectStoreError(f"object {path} does not match its hash (damaged)")
        return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise LedgerError("no space left on the device holding the ledger") from None
            raise
        view = view[n:]
