"""Remember which key files passed which checks, by the BLAKE3 of their bytes.

Checking every point of a proving key (on curve, in subgroup) and its pairing relations costs far
more than proving at large sizes; the same bytes need it once. A file whose hash is recorded under
`~/.cache/zkp-dataset-ledger/checked/` (or $ZKP_LEDGER_CACHE) loads without the checks; a changed
byte changes the hash, so it is checked again. `kind` names the check: "points" (curve and
subgroup, the record's historic name is the bare hash) or "key" (points and the relations of
`pipeline.groth16.keys.check_key_relations`), or "tables" (fixed-base tables this user built).

The records are only as good as the folder and the files: the folder must be private to the user
(`_records` refuses it otherwise), and a key or table is hashed and then mapped from one open file
that only its owner can write (`open_trusted`), so no file renamed over it after the hash is used.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import blake3

from kernels.cache import cache_base
from pipeline.errors import ProofError


def file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return open_file_digest(fh)


def open_file_digest(fh) -> str:
    """BLAKE3 of the whole file behind the open binary file `fh` (read by offset; fh's position is kept)."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    fd, offset = fh.fileno(), 0
    while block := os.pread(fd, 1 << 22, offset):
        hasher.update(block)
        offset += len(block)
    return hasher.hexdigest()


def open_trusted(path, what: str):
    """`path` opened for reading, to be hashed and then mapped from this one open file (so a file
    renamed over it after the hash is never used). ProofError unless it is a regular file owned by
    this user (or root) that only its owner can write: anyone else who could write it, or who owns a
    byte-identical copy renamed in, could change the mapped bytes after the check."""
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ProofError(f"{what} {path}: cannot read it ({exc.strerror})") from None
    st = os.fstat(fh.fileno())
    foreign = hasattr(os, "geteuid") and st.st_uid not in (os.geteuid(), 0)
    if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o022 or foreign:
        fh.close()
        who = "not a regular file" if not stat.S_ISREG(st.st_mode) else \
            f"owned by another user (uid {st.st_uid})" if foreign else "writable by its group or by others"
        fix = f"copy it to a file of your own" if foreign else f"run `chmod go-w {path}`"
        raise ProofError(f"{what} {path} is {who}: whoever else can write it could change it after it was "
                         f"checked; {fix} if you trust its current content, else remove it")
    return fh


def _records() -> Path:
    """The record folder, made private (0700); ProofError when someone else could write records in it."""
    folder = cache_base() / "checked"
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(folder)
    mine = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
    if stat.S_ISDIR(st.st_mode) and mine and st.st_mode & 0o077 and not st.st_mode & 0o022:
        os.chmod(folder, 0o700)          # readable by others, made before records were kept private
        st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o022 or (not mine and st.st_uid != 0):
        raise ProofError(f"the record folder {folder} of checked keys can be written by another user: a record "
                         f"there skips every check of a key; run `chmod 700 {folder}` (and own it), or point "
                         "$ZKP_LEDGER_CACHE at a private folder")
    return folder


def _record(digest: str, kind: str) -> Path:
    return _records() / (digest if kind == "points" else f"{kind}-{digest}")


def was_checked(digest: str, kind: str = "points") -> bool:
    return _record(digest, kind).is_file()


def mark_checked(digest: str, kind: str = "points") -> None:
    _record(digest, kind).touch()
