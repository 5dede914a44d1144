"""Fixed-base tables of a proving key (kernels.msm.tables), built once and kept beside the key.

Every chunk of a shape is proved with the same bases, so the prover can precompute, per query
(A, B₁, B₂, L, H), the window multiples [2^(c·w)]·P of every base and prove each chunk with one
set of buckets per MSM. The file, `proving.tables` beside `proving.key`, holds them as the kernels
keep them in memory, so `load_tables` maps it with `np.memmap` (workers on one node share the pages):

    magic "ZKPT", version (u32), header length (u32), a JSON header, zero padding, then the
    sections, each 64-byte aligned: uint32 little-endian limbs of (n, windows) + point shape.
    Header: {"key_blake3": hex, "sections": [{"name", "group", "c", "n", "offset"}, ...]}

Tables are trusted by construction only. `keys tables` records the BLAKE3 of the file it wrote
(pipeline.checked_files, kind "tables") and the key store refuses a file whose hash is not recorded:
checking a table would cost as much as building it, and a planted table leaks the witness without
ever yielding a wrong proof. Its entry [2^(c w)] P_j + Q (Q in the subgroup) shifts A by d·Q for the
digit d of z_j in window w, so the proof verifies exactly when that digit is 0: whoever sees whether
`prove` succeeds learns one fact about the data per run. The header's key_blake3 is not
authentication (anyone can copy it); `load_tables` refuses a file made for other key bytes. The key
store hashes the file and maps it from one open file (pipeline.checked_files.open_trusted), so a
file renamed over it after the hash is never used, and `save` returns the hash of the bytes as it
wrote them, which is what `keys tables` records.

A proof made with tables must still have its points in the order-r subgroups and verify against the
(checked) verifying key before it leaves the prover (pipeline.groth16.prover), so a table damaged
after it was recorded yields an error, never a wrong proof. The subgroup check matters: a table
point with a small-order component adds z_j times that component to A or C, which the pairing does
not see. With A, B, C in the subgroups, a valid proof is distributed as the honest prover's (A and
B uniform through r and s, C then determined).
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import numpy as np

from pipeline.errors import ProofError

TABLE_FILE = "proving.tables"
QUERIES = (("a_query", "g1"), ("b_g1_query", "g1"), ("b_g2_query", "g2"), ("l_query", "g1"), ("h_query", "g1"))
_MAGIC, _VERSION = b"ZKPT", 1
_HEAD = struct.Struct("<4sII")
_ALIGN = 64


def _align(x: int) -> int:
    return (x + _ALIGN - 1) // _ALIGN * _ALIGN


@dataclass
class ProverTables:
    """One kernels.msm.tables.BaseTable per query of a proving key, and the key they were made from."""

    key_blake3: str
    tables: dict             # query name -> BaseTable

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tables.values())

    def describe(self) -> dict:
        return {name: {"group": t.group, "c": t.c, "bases": t.n, "windows": t.points.shape[1],
                       "bytes": t.nbytes} for name, t in self.tables.items()}

    def save(self, path) -> str:
        """Write the file atomically (a temporary beside it, fsync, rename); returns the BLAKE3 of the
        bytes written (hashed as they are written, so that a file swapped in meanwhile is not vouched for)."""
        import blake3
        path = Path(path)
        sections = []
        header = {"key_blake3": self.key_blake3, "sections": sections}
        # Offsets depend on the header length, which depends on the offsets' digits: fix them with
        # room to spare (a header of at most 4 KiB per 16 sections).
        base = _align(_HEAD.size + 4096)
        offset = base
        for name, table in self.tables.items():
            sections.append({"name": name, "group": table.group, "c": table.c, "n": table.n, "offset": offset})
            offset = _align(offset + table.nbytes)
        blob = json.dumps(header, sort_keys=True).encode()
        if _HEAD.size + len(blob) > base:
            raise ProofError("fixed-base table header too long")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        written = 0

        def put(f, data) -> None:
            nonlocal written
            view = memoryview(data).cast("B")
            hasher.update(view)
            f.write(view)
            written += len(view)

        try:
            with open(tmp, "xb") as f:
                put(f, _HEAD.pack(_MAGIC, _VERSION, len(blob)) + blob)
                for section, table in zip(sections, self.tables.values()):
                    put(f, b"\0" * (section["offset"] - written))
                    points = np.ascontiguousarray(table.points, "<u4").reshape(-1)
                    for lo in range(0, points.size, 1 << 24):
                        put(f, points[lo:lo + (1 << 24)])
                put(f, b"\0" * (offset - written))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return hasher.hexdigest()


def build_tables(pk, key_blake3: str, c: int | None = None, sample=None, log=None) -> ProverTables:
    """Tables of every query of `pk` (a checked proving key whose file has BLAKE3 `key_blake3`).

    Window bits: `c` for all, else per query from `sample` (a full assignment z of the circuit, as
    ints or (n, 8) canonical limbs, like the witnesses to come: A, B and L meet mostly short scalars, so a smaller c pays),
    else the full-width choice. H always meets full-width scalars.
    """
    from kernels.ff.fields import FR
    from kernels.msm.tables import build_table, window_for_scalars

    sample_scalars = None
    if sample is not None:
        sample_scalars = (np.ascontiguousarray(sample, np.uint32) if isinstance(sample, np.ndarray)
                          else FR.canonical(sample))
    tables = {}
    for name, group in QUERIES:
        start = perf_counter()
        window = c
        if window is None and sample_scalars is not None and name != "h_query":
            window = window_for_scalars(sample_scalars[pk.n_public + 1:] if name == "l_query" else sample_scalars)
        tables[name] = build_table(group, np.asarray(getattr(pk, name)), window)
        if log:
            t = tables[name]
            log(f"fixed-base table {name}: {t.n} bases x {t.points.shape[1]} windows of {t.c} bits, "
                f"{t.nbytes / 2**20:.0f} MiB, {perf_counter() - start:.1f} s")
    return ProverTables(key_blake3, tables)


def load_tables(path, key_blake3: str, file=None) -> ProverTables:
    """The tables in `path` (or in `file`, an open binary file of it, which is then read and mapped
    instead of the path: the bytes the caller hashed), memory-mapped; ProofError if the file is
    damaged or made for another key."""
    path = Path(path)
    if file is None:
        with open(path, "rb") as f:
            return load_tables(path, key_blake3, f)
    from kernels.msm.tables import MAX_WINDOW, MIN_WINDOW, BaseTable, windows
    from pipeline.groth16.keys import G1_SHAPE, G2_SHAPE

    f = file
    size = os.fstat(f.fileno()).st_size
    f.seek(0)
    head = f.read(_HEAD.size)
    if len(head) < _HEAD.size:
        raise ProofError(f"fixed-base tables {path} are truncated ({size} bytes)")
    magic, version, length = _HEAD.unpack(head)
    if magic != _MAGIC or version != _VERSION:
        raise ProofError(f"{path} is not a zkp-ledger fixed-base table file (magic {magic!r}, version {version})")
    if _HEAD.size + length > size:
        raise ProofError(f"fixed-base tables {path} are truncated (header of {length} bytes)")
    try:
        header = json.loads(f.read(length))
        if not isinstance(header, dict):
            raise ValueError("header is not an object")
        if header["key_blake3"] != key_blake3:
            raise ProofError(f"fixed-base tables {path} belong to other proving-key bytes; "
                             f"rebuild them with `zkp-ledger keys tables` or delete the file")
        tables = {}
        for section in header["sections"]:
            name, group, c, n, offset = (section[k] for k in ("name", "group", "c", "n", "offset"))
            if not isinstance(name, str) or (name, group) not in QUERIES or name in tables:
                raise ValueError(f"unexpected section {name!r}")
            if not all(type(v) is int for v in (c, n, offset)) or not MIN_WINDOW <= c <= MAX_WINDOW \
                    or n < 0 or offset < 0:
                raise ValueError(f"section {name}: window {c!r}, bases {n!r}, offset {offset!r} out of range")
            shape = (n, windows(c)) + (G1_SHAPE if group == "g1" else G2_SHAPE)
            nbytes = math.prod(shape) * 4
            if offset % _ALIGN or offset + nbytes > size:
                raise ProofError(f"fixed-base tables {path} are truncated (section {name})")
            points = np.memmap(f, dtype="<u4", mode="r", offset=offset, shape=shape) if n else \
                np.zeros(shape, np.uint32)
            tables[name] = BaseTable(group, int(c), points)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProofError(f"fixed-base tables {path} have a damaged header ({exc})") from None
    if sys.byteorder != "little":
        raise ProofError("fixed-base tables are stored little-endian; this machine is big-endian")
    return ProverTables(key_blake3, tables)


def tables_fit(pk, tables: ProverTables) -> bool:
    """True when every query of pk has a table of as many bases."""
    return all(name in tables.tables and tables.tables[name].n == np.asarray(getattr(pk, name)).shape[0]
               for name, _ in QUERIES)


__all__ = ["TABLE_FILE", "QUERIES", "ProverTables", "build_tables", "load_tables", "tables_fit"]
