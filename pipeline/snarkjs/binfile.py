"""The iden3 binary container of .r1cs, .wtns, .zkey and .ptau files.

Layout (little-endian): 4-byte magic, u32 version, u32 number of sections, then each section as
u32 type, u64 size, and its bytes. A type may repeat; readers here take its first occurrence.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError


@dataclass
class BinFile:
    """An opened container: its path, version, the whole file as a buffer, and section spans."""

    path: Path
    version: int
    data: memoryview
    sections: dict[int, tuple[int, int]]      # type -> (offset, size) of the first such section

    def section(self, kind: int) -> memoryview:
        """The bytes of section `kind`; raises InputError naming the file when it is absent."""
        if kind not in self.sections:
            raise InputError(f"{self.path}: section {kind} is missing")
        off, size = self.sections[kind]
        return self.data[off:off + size]


def read_binfile(path, magic: bytes, max_version: int, file=None) -> BinFile:
    """Open an iden3 container, checking magic, version and that every section fits in the file.

    `file`, an open binary file of `path`, is mapped instead of opening the path again (the bytes a
    caller hashed). Raises InputError naming the file for a wrong magic, an unknown version or truncation.
    """
    path = Path(path)
    if file is None:
        with open(path, "rb") as f:
            return read_binfile(path, magic, max_version, f)
    size = os.fstat(file.fileno()).st_size
    if size < 12:
        raise InputError(f"{path}: not a {magic.decode()} file (only {size} bytes)")
    data = memoryview(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
    got, version, count = struct.unpack_from("<4sII", data)
    if got != magic:
        raise InputError(f"{path}: not a {magic.decode()} file (magic {bytes(got)!r})")
    if not 1 <= version <= max_version:
        raise InputError(f"{path}: unsupported {magic.decode()} version {version}")
    sections: dict[int, tuple[int, int]] = {}
    pos = 12
    for _ in range(count):
        if pos + 12 > size:
            raise InputError(f"{path}: truncated (section header at byte {pos} of {size})")
        kind, length = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if pos + length > size:
            raise InputError(f"{path}: truncated (section {kind} needs {length} bytes at {pos}, file has {size})")
        sections.setdefault(kind, (pos, length))
        pos += length
    return BinFile(path, version, data, sections)


class Reader:
    """Sequential little-endian reads within one section, with a truncation check."""

    def __init__(self, buf: memoryview, where: str):
        self.buf, self.pos, self.where = buf, 0, where

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise InputError(f"{self.where}: section ends early (wanted {n} bytes at {self.pos} of {len(self.buf)})")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def bigint(self, n8: int) -> int:
        return int.from_bytes(self.take(n8), "little")


def write_binfile(path, magic: bytes, version: int, sections) -> None:
    """Write an iden3 container atomically (to `path` + ".tmp", then renamed).

    `sections` is a list of (type, parts), parts a list of bytes-like objects (NumPy arrays are
    written as their bytes) concatenated into the section in order.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<4sII", magic, version, len(sections)))
            for kind, parts in sections:
                views = [memoryview(p if not hasattr(p, "dtype") else p.tobytes()).cast("B") for p in parts]
                f.write(struct.pack("<IQ", kind, sum(len(v) for v in views)))
                for v in views:
                    f.write(v)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- ceremony contribution parameters (shared by .ptau and .zkey) ---------------------------------

def contribution_params(name: str | None, beacon: bool, iterations_exp: int | None,
                        beacon_hash: bytes | None) -> bytes:
    """snarkjs's parameter list of one contribution: 1 name (≤ 64 bytes), then for a beacon
    2 iterations exponent and 3 beacon hash, each as type byte, (length,) value."""
    out = b""
    if name:
        data = name[:64].encode()
        out += bytes([1, len(data)]) + data
    if beacon:
        out += bytes([2, iterations_exp, 3, len(beacon_hash)]) + beacon_hash
    return out


def read_contribution_params(body: "Reader", beacon: bool, where: str) -> tuple[str | None, int | None, bytes | None]:
    """(name, iterations exponent, beacon hash) of a parameter list; InputError for types out of order
    or unknown, or a beacon contribution without its hash or iterations."""
    from pipeline.errors import InputError

    name = iterations_exp = beacon_hash = None
    last = 0
    while body.pos < len(body.buf):
        kind = body.take(1)[0]
        if kind <= last or kind > 3:
            raise InputError(f"{where}: malformed parameters (type {kind} after {last})")
        last = kind
        if kind == 1:
            name = bytes(body.take(body.take(1)[0])).decode(errors="replace")
        elif kind == 2:
            iterations_exp = body.take(1)[0]
        else:
            beacon_hash = bytes(body.take(body.take(1)[0]))
    if beacon and (iterations_exp is None or beacon_hash is None):
        raise InputError(f"{where}: a beacon contribution without its beacon hash or iterations")
    return name, iterations_exp, beacon_hash
