"""snarkjs/circom witness files (iden3 container, magic "wtns", version 2) -> assignment.

Section 1: u32 n8, prime (n8 bytes), u32 nWitness. Section 2: nWitness canonical little-endian
field elements, the full assignment z with z[0] = 1.
"""

from __future__ import annotations

import numpy as np

from kernels import params
from pipeline.errors import InputError
from pipeline.snarkjs.binfile import Reader, read_binfile


def read_wtns(path) -> np.ndarray:
    """(nWitness, 8) uint32 canonical Fr limbs of a .wtns file (z[0] = 1 first).

    Raises InputError naming the file when it is not a .wtns, is truncated, or uses another prime.
    """
    f = read_binfile(path, b"wtns", 2)
    head = Reader(f.section(1), f"{path} header")
    n8 = head.u32()
    prime = head.bigint(n8)
    if prime != params.R:
        raise InputError(f"{path}: witness for another prime ({prime:#x}); expected BLS12-381's r")
    count = head.u32()
    body = f.section(2)
    if n8 != 32 or len(body) != count * n8:
        raise InputError(f"{path}: witness section holds {len(body)} bytes, expected {count} × {n8}")
    return np.frombuffer(body, "<u4").reshape(count, 8).astype(np.uint32)
