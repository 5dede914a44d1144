"""Remember which key files had every point checked, by the BLAKE3 of their bytes.

Checking every point of a proving key (on curve, in subgroup) costs far more than proving at large
sizes; the same bytes need it once. A file whose hash is recorded under
`~/.cache/zkp-dataset-ledger/checked/` (or $ZKP_LEDGER_CACHE) loads without the checks; a changed
byte changes the hash, so it is checked again.
"""

from __future__ import annotations

from pathlib import Path

import blake3

from kernels.cache import cache_base


def file_digest(path: Path) -> str:
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            hasher.update(block)
    return hasher.hexdigest()


def _record(digest: str) -> Path:
    return cache_base() / "checked" / digest


def was_checked(digest: str) -> bool:
    return _record(digest).is_file()


def mark_checked(digest: str) -> None:
    path = _record(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
