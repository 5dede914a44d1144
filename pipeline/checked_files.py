"""Remember which key files passed which checks, by the BLAKE3 of their bytes.

Checking every point of a proving key (on curve, in subgroup) and its pairing relations costs far
more than proving at large sizes; the same bytes need it once. A file whose hash is recorded under
`~/.cache/zkp-dataset-ledger/checked/` (or $ZKP_LEDGER_CACHE) loads without the checks; a changed
byte changes the hash, so it is checked again. `kind` names the check: "points" (curve and
subgroup, the record's historic name is the bare hash) or "key" (points and the relations of
`pipeline.groth16.keys.check_key_relations`).
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


def _record(digest: str, kind: str) -> Path:
    return cache_base() / "checked" / (digest if kind == "points" else f"{kind}-{digest}")


def was_checked(digest: str, kind: str = "points") -> bool:
    return _record(digest, kind).is_file()


def mark_checked(digest: str, kind: str = "points") -> None:
    path = _record(digest, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
