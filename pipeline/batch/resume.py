"""The resume cache: every finished chunk proof, written at once beside the ledger, content-addressed.

    <ledger dir>/batch-cache/<binding id>/mask.key          the entry's mask key (0600)
    <ledger dir>/batch-cache/<binding id>/<chunk key>.json   public inputs, proof, salt (0600)

A dataset's binding id names its raw-bytes root, name and version, so a cache serves only the entry
it was made for; a chunk's key (statistics_proof.ChunkJob.cache_key) names its cells, place, masks,
shape and verifying key. A file that does not parse, whose statement is not the one its chunk
implies (cells, salt, place, masks), or whose proof does not verify, counts as missing and is
proved again. Files are written to a temporary name, fsynced and renamed, so a kill leaves either a
whole file or none.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path

from pipeline.circuit.statistics import DatasetBinding
from pipeline.statistics_proof import ChunkProof

CACHE_FORMAT = "zkp-ledger/chunk-proof/v2"


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ResumeCache:
    """Chunk proofs of unfinished entries. With `resume` False, what is cached is not reused (but
    everything proved now is still written, so this run can be resumed)."""

    def __init__(self, folder: Path, resume: bool):
        self.folder = Path(folder)
        self.resume = resume
        self.rejected = 0          # cache files that were damaged or did not verify

    def _dir(self, binding: DatasetBinding) -> Path:
        ident = hashlib.sha256(json.dumps(binding.elements()).encode()).hexdigest()[:32]
        d = self.folder / ident
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        return d

    def mask_key(self, binding: DatasetBinding) -> bytes:
        """The entry's mask key: the cached one when resuming, else a new one from the CSPRNG."""
        path = self._dir(binding) / "mask.key"
        if self.resume and path.is_file():
            key = path.read_bytes()
            if len(key) == 32:
                return key
        key = secrets.token_bytes(32)
        _write_private(path, key)
        return key

    def load(self, key: str, vk, job) -> ChunkProof | None:
        """The cached proof under `key` if resuming, its statement is exactly the one `job` (a
        statistics_proof.ChunkJob) implies under the cached salt, and it verifies; else None."""
        if not self.resume:
            return None
        path = self._find(key)
        if path is None:
            return None
        try:
            doc = json.loads(path.read_text())
            if doc["format"] != CACHE_FORMAT:
                raise ValueError("format")
            proof = ChunkProof(int(doc["index"]), int(doc["first_row"]), int(doc["rows"]),
                               [int(x) for x in doc["public_inputs"]], base64.b64decode(doc["proof"], validate=True),
                               int(doc["salt"]), float(doc.get("seconds", 0.0)))
            from pipeline.groth16.keys import Proof
            from pipeline.groth16.verifier import verify

            if (proof.index, proof.active_rows) != (job.index, job.active_rows) \
                    or proof.public_inputs != job.public_inputs(proof.salt):
                raise ValueError("the cached statement is not this chunk's")
            if not verify(vk, proof.public_inputs, Proof.from_bytes(proof.proof)):
                raise ValueError("the proof does not verify")
        except Exception:           # any damage: prove that chunk again
            self.rejected += 1
            path.unlink(missing_ok=True)
            return None
        return proof

    def _find(self, key: str) -> Path | None:
        for d in self.folder.glob("*/"):
            p = d / f"{key}.json"
            if p.is_file():
                return p
        return None

    def store(self, key: str, proof: ChunkProof, binding: DatasetBinding) -> Path:
        path = self._dir(binding) / f"{key}.json"
        doc = {"format": CACHE_FORMAT, "index": proof.index, "first_row": proof.first_row, "rows": proof.active_rows,
               "public_inputs": [str(x) for x in proof.public_inputs], "proof": base64.b64encode(proof.proof).decode(),
               "salt": str(proof.salt), "seconds": proof.seconds}
        _write_private(path, json.dumps(doc).encode())
        return path

    def clear(self, binding: DatasetBinding) -> None:
        """Drop an entry's cache once the entry is in the ledger."""
        shutil.rmtree(self._dir(binding), ignore_errors=True)
