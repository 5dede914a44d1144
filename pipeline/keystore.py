"""Groth16 keys per circuit shape, cached on disk beside the ledger.

    <ledger dir>/keys/<shape id>/proving.key     memory-mappable proving key (pipeline.groth16.keys)
    <ledger dir>/keys/<shape id>/verifying.key   verifying key (also stored in objects/ by `prove`)
    <ledger dir>/keys/<shape id>/shape.json      the shape, its Poseidon parameters, the R1CS digest
    <ledger dir>/keys/<shape id>/proving.tables  optional fixed-base tables of the proving key
                                                 (`zkp-ledger keys tables`; pipeline.groth16.prover_tables)

A key is reused only if it was made for the very same R1CS (its digest is in the key), so a
change of the circuit code can never pair a proof with a stale key. Before the first proof with a
key's bytes, every point is checked (curve, subgroup) and so are the pairing relations a key alone
allows (`check_key_relations`): a malformed key could otherwise leak the data. `install_keys` puts
keys from a ceremony (`zkp-ledger keys import`) in place of a one-party setup.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from pipeline.checked_files import file_digest, mark_checked, open_file_digest, open_trusted, was_checked
from pipeline.circuit.statistics import Shape, circuit
from pipeline.errors import ProofError
from pipeline.groth16.keys import (ProvingKey, VerifyingKey, check_key_relations, load_proving_key,
                                   load_verifying_key)
from pipeline.groth16.prover_tables import TABLE_FILE


PROBES = 6     # random-data proofs before the first use of a key made elsewhere (KeyStore._probe)


class KeyStore:
    """Keys of circuit shapes in one folder; `keys_for` makes them on first use."""

    def __init__(self, folder: Path, log=None):
        self.folder = Path(folder)
        self.log = log or (lambda text: print(f"zkp-ledger: {text}", file=sys.stderr))
        self._key_digests: dict[Shape, str] = {}     # BLAKE3 of each proving.key as load_keys read it

    def shape_dir(self, shape: Shape) -> Path:
        return self.folder / shape.key_id()

    def has_keys(self, shape: Shape) -> bool:
        d = self.shape_dir(shape)
        return (d / "proving.key").is_file() and (d / "verifying.key").is_file()

    def make_keys(self, shape: Shape) -> tuple[ProvingKey, VerifyingKey]:
        """Run the one-party setup for `shape` and write the keys (atomically, folder by folder)."""
        from pipeline.groth16.setup import setup

        r1cs = circuit(shape)
        self.log(f"making Groth16 keys for shape {shape.key_id()} ({r1cs.n_constraints} constraints, "
                 "one-party setup from the OS CSPRNG); later proofs of this shape reuse them")
        pk, vk = setup(r1cs)
        return self._write(shape, pk, vk, {"shape": shape.describe(), "r1cs_digest": r1cs.digest().hex(),
                                           "constraints": r1cs.n_constraints, "vk_sha256": vk.digest(),
                                           "setup": vk.label})

    def install_keys(self, shape: Shape, pk: ProvingKey, vk: VerifyingKey, info: dict, replace: bool = False):
        """Write checked keys of `shape` (from a ceremony) with `info` in shape.json; keys already there are
        kept unless `replace`. Returns the (pk, vk) now in the store."""
        final = self.shape_dir(shape)
        if final.exists() and replace:
            old = final.with_name(f".{final.name}.{os.getpid()}.old")
            os.replace(final, old)
            for path in old.iterdir():
                path.unlink()
            old.rmdir()
        return self._write(shape, pk, vk, info)

    def check_folder(self) -> None:
        """ProofError when someone else could write the key folder: they could rename files or the
        private temporary folders of `_write` and `keys import` between a write and its record."""
        self.folder.mkdir(parents=True, exist_ok=True)
        st = os.stat(self.folder)
        foreign = hasattr(os, "geteuid") and st.st_uid not in (os.geteuid(), 0)
        if st.st_mode & 0o022 or foreign:
            raise ProofError(f"key folder {self.folder} can be written by {'its owner, another user' if foreign else 'its group or others'}: "
                             f"they could swap keys while they are written; run `chmod go-w {self.folder}` or use a "
                             "folder of your own")

    def _write(self, shape: Shape, pk: ProvingKey, vk: VerifyingKey, info: dict):
        final = self.shape_dir(shape)
        self.check_folder()
        # A private (0700) folder of an unpredictable name: nobody else can swap the key between its
        # writing, its hash (recorded as checked) and the rename into place.
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
        # Fresh or just-checked keys: remember the hash of the bytes as written, so the first load
        # skips the checks (and a file swapped in meanwhile is not vouched for).
        digest = pk.save(tmp / "proving.key")
        vk.save(tmp / "verifying.key")
        (tmp / "shape.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        mark_checked(digest)
        mark_checked(digest, "key")
        for path in tmp.iterdir():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():       # another process made them meanwhile: keep theirs
            for path in tmp.iterdir():
                path.unlink()
            tmp.rmdir()
            return self.load_keys(shape)
        os.replace(tmp, final)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(final, 0o777 & ~umask)       # readable as any folder the user makes
        return pk, vk

    def load_keys(self, shape: Shape) -> tuple[ProvingKey, VerifyingKey]:
        """The stored keys of `shape`; ProofError if they belong to another circuit.

        Every point of the proving key is checked (curve, subgroup) the first time these bytes
        are loaded (pipeline.checked_files remembers them by hash).
        """
        d = self.shape_dir(shape)
        pk_path = d / "proving.key"
        with open_trusted(pk_path, "proving key") as fh:     # hashed and mapped from one open file
            digest = self._key_digests[shape] = open_file_digest(fh)
            checked = was_checked(digest, "key")
            pk = load_proving_key(pk_path, validate=not checked, file=fh)
        if not checked:
            check_key_relations(pk, f"proving key {pk_path}")
        vk = load_verifying_key(d / "verifying.key")
        if vk.to_bytes() != pk.vk.to_bytes():
            # Proofs are made with the proving key and checked (and recorded) against this file:
            # a swapped one would put proofs in the ledger that nobody can verify.
            raise ProofError(f"{d / 'verifying.key'} is not the verifying key inside {pk_path}; the folder was "
                             f"altered: remove it and run `zkp-ledger setup --shape {shape.key_id()}` again "
                             "(or `zkp-ledger keys import` for ceremony keys)")
        digest = circuit(shape).digest()
        if pk.circuit_digest != digest or vk.circuit_digest != digest:
            raise ProofError(f"keys in {d} were made for another version of the {shape.key_id()} circuit; "
                             f"remove that folder and run `zkp-ledger setup --shape {shape.key_id()}` again")
        if not checked:
            self._probe(shape, pk, pk_path)
            mark_checked(digest)
            mark_checked(digest, "key")
        return pk, vk

    def _probe(self, shape: Shape, pk: ProvingKey, pk_path: Path) -> None:
        """Prove PROBES chunks of random data with a key this store did not make or import (a
        one-party key from someone else) and refuse it if any proof fails. Nothing checks such a
        key's A, L and H points, and its maker can plant them so that a proof verifies exactly when
        a cell has a guessed value: whether `prove` succeeds on real data would then answer the
        guess. Probes vary everything real chunks vary, so a planted relation fails on each with
        probability at least about 1/2; one that survives all of them (at most 2^-PROBES) leaks
        at most one bit per run. Ceremony keys (`keys import`) are checked in full instead."""
        from pipeline.circuit.statistics import probe_assignment
        from pipeline.groth16.prover import ProofFailsCheck, prove

        r1cs = circuit(shape)
        self.log(f"first use of {pk_path}: proving {PROBES} chunks of random data with it before any of yours "
                 "(a key made elsewhere could be planted to leak data)")
        for _ in range(PROBES):
            try:
                prove(pk, r1cs, probe_assignment(shape))
            except ProofFailsCheck:
                raise ProofError(f"proving key {pk_path}: a proof of random data made with it does not verify under "
                                 "its own verifying key: the key is damaged or was made to leak data (planted A, L "
                                 "or H points); refusing it; use keys from a ceremony (`zkp-ledger keys import`)") from None

    def keys_for(self, shape: Shape) -> tuple[ProvingKey, VerifyingKey]:
        return self.load_keys(shape) if self.has_keys(shape) else self.make_keys(shape)

    def tables_path(self, shape: Shape) -> Path:
        return self.shape_dir(shape) / TABLE_FILE

    def build_tables(self, shape: Shape, window: int | None = None):
        """Build and write the fixed-base tables of `shape`'s proving key (which must exist); returns them."""
        from pipeline.groth16.prover_tables import build_tables

        from pipeline.circuit.statistics import sample_assignment

        pk, _ = self.load_keys(shape)
        sample = None if window else sample_assignment(shape)
        tables = build_tables(pk, self._key_digests[shape], window, sample, log=self.log)
        # Trusted because built here (prover_tables explains why a table is never checked instead):
        # the record is the hash of the bytes as they were written.
        mark_checked(tables.save(self.tables_path(shape)), "tables")
        return tables

    def load_tables(self, shape: Shape, pk: ProvingKey):
        """The fixed-base tables beside `shape`'s proving key `pk`, memory-mapped, or None when there are
        none; ProofError when `keys tables` did not write these bytes (their hash is not recorded in
        this user's cache), when they were made for other key bytes, or when they do not fit the key."""
        from kernels.cache import cache_base
        from pipeline.groth16.prover_tables import load_tables, tables_fit

        path = self.tables_path(shape)
        if not path.is_file():
            return None
        with open_trusted(path, "fixed-base tables") as fh:   # hashed and mapped from one open file
            recorded = was_checked(open_file_digest(fh), "tables")
            if recorded:
                digest = self._key_digests.get(shape) or file_digest(self.shape_dir(shape) / "proving.key")
                tables = load_tables(path, digest, fh)
        if not recorded:
            raise ProofError(f"fixed-base tables {path} were not built by `zkp-ledger keys tables` with the cache "
                             f"{cache_base()} (their hash is not recorded there): a table cannot be checked for "
                             f"less than building it, and a planted one leaks the data; rebuild it with "
                             f"`zkp-ledger keys tables {shape.key_id()}` or delete the file")
        if not tables_fit(pk, tables):
            raise ProofError(f"fixed-base tables {path} do not fit the proving key beside them; "
                             f"rebuild them with `zkp-ledger keys tables {shape.key_id()}` or delete the file")
        return tables
