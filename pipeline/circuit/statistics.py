"""The dataset statistics circuit: one instance proves the statistics of one chunk of rows.

Shape: (rows per chunk R, columns m, range bits k, sponge width t). Keys are made once per shape.

Public inputs, in order:
    C                 Poseidon sponge commitment to (domain tag, salt, all cells of the chunk)
    n                 active rows (rows past n are padding and count for nothing)
    lo_j   (m)        lower bound of column j (scaled integer; the field element of a signed int)
    S_j    (m)        Σ v_ij over active, non-null cells
    Q_j    (m)        Σ v_ij² over the same cells
    N_j    (m)        null cells among the active rows

Private: the salt, per cell k bits of d_ij = v_ij − lo_j and a counted flag e_ij (active and
not null), per row an active flag a_i. Constraints (k + 3 per cell, 2 per row, 3 per S-box):
    bits boolean                                  v_ij = lo_j + Σ 2^l·bit_l (free)
    a boolean, a_i·(1 − a_{i−1}) = 0, Σ a_i = n   (the active rows are exactly the first n)
    e·(a − e) = 0                                 (e a bit, and 0 in padding rows); z = a − e
    u = e·v, q = u·v
    S_j = Σ u, Q_j = Σ q, N_j = Σ z               (linear: one constraint per statistic)
    C = sponge(salt, packed cells)                each cell packs as d + 2^k·z in k+1 bits,
                                                  ⌊253/(k+1)⌋ cells per field element (free)
So v_ij ∈ [lo_j, lo_j + 2^k − 1] is proven for every active non-null cell.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from kernels import params as curve
from kernels.poseidon import poseidon_hash, sponge_domain_tag
from pipeline.circuit import poseidon as poseidon_gadget
from pipeline.errors import InputError
from pipeline.groth16.r1cs import R1CS, LinearCombination, R1CSBuilder, SparseMatrix

R = curve.R
PACK_BITS = 253          # below log2(r) ≈ 254.9, so a packed element never wraps
SUPPORTED_WIDTHS = (3, 5, 9, 12)


@dataclass(frozen=True)
class Shape:
    """A circuit shape; every dataset proved under it shares one key pair."""

    rows: int
    columns: int
    range_bits: int
    width: int = 9

    def __post_init__(self):
        if self.rows < 1 or self.columns < 1:
            raise InputError(f"circuit shape needs at least one row and one column, got {self.rows}x{self.columns}")
        if not 1 <= self.range_bits <= 62:
            raise InputError(f"range bits must be between 1 and 62, got {self.range_bits}")
        if self.width not in SUPPORTED_WIDTHS:
            raise InputError(f"sponge width must be one of {SUPPORTED_WIDTHS}, got {self.width}")

    @property
    def cells_per_element(self) -> int:
        return PACK_BITS // (self.range_bits + 1)

    @property
    def packed_elements(self) -> int:
        return -(-self.rows * self.columns // self.cells_per_element)

    @property
    def n_public(self) -> int:
        return 2 + 3 * self.columns + self.columns   # C, n, lo, S, Q, N

    def key_id(self) -> str:
        """Stable file-name id: 'r1024-c1-k32-t9'."""
        return f"r{self.rows}-c{self.columns}-k{self.range_bits}-t{self.width}"

    def describe(self) -> dict:
        return asdict(self) | {"poseidon": poseidon_params(self.width).describe(),
                               "cells_per_element": self.cells_per_element}

    @classmethod
    def parse(cls, text: str) -> Shape:
        """'rows=1024,columns=2,bits=32,width=9' (also the key_id form 'r1024-c2-k32-t9')."""
        fields = {}
        try:
            if "=" in text:
                for item in text.split(","):
                    key, _, value = item.partition("=")
                    fields[key.strip()] = int(value)
                return cls(fields.pop("rows"), fields.pop("columns"), fields.pop("bits"), fields.pop("width", 9))
            parts = {p[0]: int(p[1:]) for p in text.split("-")}
            return cls(parts["r"], parts["c"], parts["k"], parts.get("t", 9))
        except (KeyError, ValueError):
            raise InputError(f"--shape '{text}' is not rows=R,columns=C,bits=K[,width=T]") from None


def poseidon_params(width: int):
    from kernels.poseidon import poseidon_params as native_params
    return native_params(width)


def domain_tag(shape: Shape) -> int:
    """Capacity element of the sponge: binds the commitment to the shape and its input length."""
    label = json.dumps({"circuit": "zkp-ledger statistics v1", "shape": asdict(shape)}, sort_keys=True)
    return sponge_domain_tag(label, 1 + shape.packed_elements, shape.width)


def packed_cells(shape: Shape, offsets: np.ndarray, nulls: np.ndarray) -> list[int]:
    """The field elements the sponge absorbs after the salt: cells d + 2^k·z, row-major,
    ⌊253/(k+1)⌋ per element, slot 0 in the lowest bits (the circuit packs the same way)."""
    k = shape.range_bits
    cells = [int(d) + (int(z) << k) for d, z in zip(offsets.reshape(-1).tolist(), nulls.reshape(-1).tolist())]
    per = shape.cells_per_element
    out = []
    for start in range(0, len(cells), per):
        element = 0
        for slot, cell in enumerate(cells[start:start + per]):
            element |= cell << ((k + 1) * slot)
        out.append(element)
    return out


def commitment_of(shape: Shape, salt: int, offsets: np.ndarray, nulls: np.ndarray) -> int:
    """The native Poseidon commitment (kernels.poseidon) of a chunk's cells under a salt."""
    return poseidon_hash([salt, *packed_cells(shape, offsets, nulls)], shape.width, domain_tag(shape))


def signed(value: int) -> int:
    """A field element read as a signed integer (values above r/2 are negative)."""
    value %= R
    return value - R if value > R // 2 else value


@dataclass
class ChunkStatistics:
    """The public statement of one chunk, as Python ints (signed where they may be negative)."""

    commitment: int
    active_rows: int
    lo: list[int]
    sums: list[int]
    sums_of_squares: list[int]
    nulls: list[int]

    def public_inputs(self) -> list[int]:
        """The field elements the verifier feeds to Groth16, in circuit order."""
        values = [self.commitment, self.active_rows, *self.lo, *self.sums, *self.sums_of_squares, *self.nulls]
        return [v % R for v in values]

    @classmethod
    def from_public_inputs(cls, inputs: list[int], columns: int) -> ChunkStatistics:
        if len(inputs) != 2 + 4 * columns:
            raise InputError(f"expected {2 + 4 * columns} public inputs for {columns} columns, got {len(inputs)}")
        m = columns
        s = [signed(v) for v in inputs]
        return cls(inputs[0], s[1], s[2:2 + m], s[2 + m:2 + 2 * m], s[2 + 2 * m:2 + 3 * m], s[2 + 3 * m:2 + 4 * m])


@dataclass
class ChunkAssignment:
    """The private side of one chunk: per-cell offsets d = v − lo and null flags (padding rows
    hold 0 and not-null), the active row count, the bounds and the salt."""

    offsets: np.ndarray       # (rows, columns) int64, in [0, 2^k)
    nulls: np.ndarray         # (rows, columns) bool
    active_rows: int
    lo: list[int]
    salt: int

    @classmethod
    def from_values(cls, shape: Shape, values: np.ndarray, nulls: np.ndarray, active_rows: int,
                    lo: list[int], salt: int) -> ChunkAssignment:
        """Raises InputError naming the cell whose value lies outside [lo, lo + 2^k − 1]."""
        active = (np.arange(shape.rows) < active_rows)[:, None]
        live = active & ~nulls
        lo_arr = np.array(lo, dtype=object)
        offsets = np.where(live, values.astype(object) - lo_arr, 0)
        bad = live & ((offsets < 0) | (offsets >= (1 << shape.range_bits)))
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            raise InputError(f"row {i} column {j} of the chunk: value {values[i, j]} is outside the proven range "
                             f"[{lo[j]}, {lo[j] + (1 << shape.range_bits) - 1}]")
        return cls(offsets.astype(np.int64), nulls & active, active_rows, list(lo), salt % R)

    def statement(self, shape: Shape) -> ChunkStatistics:
        """The public inputs these cells imply (computed exactly with Python ints)."""
        live = (np.arange(shape.rows) < self.active_rows)[:, None] & ~self.nulls
        sums, squares = [], []
        for j in range(shape.columns):
            values = [self.lo[j] + int(d) for d in self.offsets[live[:, j], j].tolist()]
            sums.append(sum(values))
            squares.append(sum(v * v for v in values))
        nulls = [int(self.nulls[:, j].sum()) for j in range(shape.columns)]
        return ChunkStatistics(commitment_of(shape, self.salt, self.offsets, self.nulls), self.active_rows,
                               list(self.lo), sums, squares, nulls)


def _synthesize(cs: R1CSBuilder, shape: Shape, chunk: ChunkAssignment | None = None) -> None:
    """Emit the constraints of `shape` into cs; with a chunk given, also assign the witness."""
    R_, m, k = shape.rows, shape.columns, shape.range_bits
    one = R1CSBuilder.one
    zero = LinearCombination()

    def val(x):
        return None if chunk is None else x

    # Public inputs first, in the documented order.
    st = chunk.statement(shape) if chunk is not None else None
    commitment = cs.public_input("commitment", val(st and st.commitment))
    n_pub = cs.public_input("active_rows", val(st and st.active_rows))
    lo_pub = [cs.public_input(f"lo[{j}]", val(st and st.lo[j])) for j in range(m)]
    s_pub = [cs.public_input(f"sum[{j}]", val(st and st.sums[j])) for j in range(m)]
    q_pub = [cs.public_input(f"sum_squares[{j}]", val(st and st.sums_of_squares[j])) for j in range(m)]
    null_pub = [cs.public_input(f"nulls[{j}]", val(st and st.nulls[j])) for j in range(m)]

    salt = cs.private_input("salt", val(chunk and chunk.salt))
    # Sums are collected as lists and combined once (adding one term at a time is quadratic).
    counted_values = [[] for _ in range(m)]
    counted_squares = [[] for _ in range(m)]
    null_flags = [[] for _ in range(m)]
    active_flags = []
    cells: list[tuple[LinearCombination, LinearCombination]] = []     # (d, null flag)
    prev_a = None
    for i in range(R_):
        a = cs.private_input(f"active[{i}]", val(chunk and int(i < chunk.active_rows)))
        cs.constrain(a, a - one, zero, f"row {i} active flag is a bit")
        if prev_a is not None:
            cs.constrain(a, one - prev_a, zero, f"row {i} active only after an active row")
        prev_a = a
        active_flags.append(a)
        for j in range(m):
            where = f"row {i} column {j}"
            d_val = int(chunk.offsets[i, j]) if chunk is not None else 0
            bits = []
            for bit in range(k):
                b = cs.private_input(f"{where} bit {bit}", val((d_val >> bit) & 1))
                cs.constrain(b, b - one, zero, f"{where} bit {bit} is a bit")
                bits.append((b, 1 << bit))
            d = LinearCombination.combine(bits)
            # e = 1 for a counted cell (active and not null); one constraint makes it a bit and
            # zero in padding rows: e·(a − e) = 0 (a = 1: e ∈ {0, 1}; a = 0: e = 0). The null flag
            # is then the linear a − e.
            e = cs.private_input(f"{where} counted", val(chunk and int(i < chunk.active_rows and not chunk.nulls[i, j])))
            cs.constrain(e, a - e, zero, f"{where} counted flag is a bit, zero past the active rows")
            null = a - e
            v = lo_pub[j] + d
            u = cs.mul(e, v, f"{where} counted value")
            q = cs.mul(u, v, f"{where} counted square")
            counted_values[j].append(u)
            counted_squares[j].append(q)
            null_flags[j].append(null)
            cells.append((d, null))
    cs.assert_equal(LinearCombination.combine((a, 1) for a in active_flags), n_pub, "active rows = n")
    for j in range(m):
        cs.assert_equal(LinearCombination.combine((u, 1) for u in counted_values[j]), s_pub[j], f"column {j} sum")
        cs.assert_equal(LinearCombination.combine((q, 1) for q in counted_squares[j]), q_pub[j],
                        f"column {j} sum of squares")
        cs.assert_equal(LinearCombination.combine((z, 1) for z in null_flags[j]), null_pub[j],
                        f"column {j} null count")

    # Pack the range-checked cells into field elements (free) and hash them with the sponge.
    per = shape.cells_per_element
    packed = []
    for start in range(0, len(cells), per):
        parts = []
        for slot, (d, null) in enumerate(cells[start:start + per]):
            shift = (k + 1) * slot
            parts += [(d, 1 << shift), (null, 1 << (shift + k))]
        packed.append(LinearCombination.combine(parts))
    digest = sponge(cs, [salt, *packed], shape)
    if chunk is not None and cs.value(digest) != st.commitment:
        raise AssertionError("the Poseidon gadget and the native sponge disagree")  # a bug, never input
    cs.assert_equal(digest, commitment, "commitment = Poseidon sponge of salt and cells")


def sponge(cs: R1CSBuilder, inputs: list[LinearCombination], shape: Shape) -> LinearCombination:
    """The Poseidon sponge of `kernels.poseidon` as constraints (same padding and domain rule)."""
    p = poseidon_params(shape.width)
    rate = p.t - 1
    state = [LinearCombination.of(domain_tag(shape))] + [LinearCombination() for _ in range(rate)]
    for block in range(0, max(len(inputs), 1), rate):
        for pos, item in enumerate(inputs[block:block + rate]):
            state[1 + pos] = state[1 + pos] + item
        state = poseidon_gadget.permutation(cs, state, p, f"sponge block {block // rate}")
    return state[1]


@lru_cache(maxsize=8)
def circuit(shape: Shape) -> R1CS:
    """The R1CS of a shape: built once, then loaded from the disk cache (see `_cached_circuit_path`)."""
    path = _cached_circuit_path(shape)
    if path.is_file():
        try:
            return _load_circuit(path)
        except (OSError, ValueError, KeyError):
            pass                      # a damaged cache file is rebuilt below
    cs = R1CSBuilder()
    _synthesize(cs, shape)
    r1cs = cs.build()
    _save_circuit(r1cs, path)
    return r1cs


def _cached_circuit_path(shape: Shape) -> Path:
    """Cache file named by the shape and a hash of everything that defines the circuit: the sources
    of the circuit and the R1CS format, and the Poseidon parameters; any change means a rebuild."""
    from kernels.cache import cache_base
    from pipeline.groth16 import r1cs as r1cs_module

    h = hashlib.sha256()
    for source in (Path(__file__), Path(poseidon_gadget.__file__), Path(r1cs_module.__file__)):
        h.update(source.read_bytes())
    h.update(poseidon_params(shape.width).fingerprint().encode())
    return cache_base() / "circuits" / f"{shape.key_id()}-{h.hexdigest()[:16]}.npz"


def _save_circuit(r1cs: R1CS, path: Path) -> None:
    arrays = {"sizes": np.array([r1cs.n_vars, r1cs.n_public], np.int64),
              "names": np.array(r1cs.names or [], dtype=str)}
    for key, matrix in (("a", r1cs.a), ("b", r1cs.b), ("c", r1cs.c)):
        arrays[f"{key}_ptr"], arrays[f"{key}_cols"], arrays[f"{key}_coeffs"] = matrix.row_ptr, matrix.cols, matrix.coeffs
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def _load_circuit(path: Path) -> R1CS:
    with np.load(path, allow_pickle=False) as data:
        n_vars, n_public = (int(x) for x in data["sizes"])
        mats = [SparseMatrix(data[f"{key}_ptr"], data[f"{key}_cols"], data[f"{key}_coeffs"]) for key in "abc"]
        names = data["names"].tolist()
    return R1CS(n_vars=n_vars, n_public=n_public, a=mats[0], b=mats[1], c=mats[2], names=names)


def chunk_witness(shape: Shape, values: np.ndarray, nulls: np.ndarray, active_rows: int,
                  lo: list[int], salt: int | None = None) -> tuple[list[int], ChunkStatistics, int]:
    """(full assignment z, the chunk's public statement, salt) for one chunk of encoded cells.

    A fresh salt comes from the OS CSPRNG unless one is given (re-opening a commitment).
    Raises InputError for a cell outside its column's proven range.
    """
    if values.shape != (shape.rows, shape.columns):
        raise InputError(f"chunk is {values.shape}, shape expects ({shape.rows}, {shape.columns})")
    if salt is None:
        salt = secrets.randbelow(R)
    chunk = ChunkAssignment.from_values(shape, values, nulls, active_rows, lo, salt)
    statement = chunk.statement(shape)
    return assignment(shape, chunk, statement), statement, chunk.salt


def assignment(shape: Shape, chunk: ChunkAssignment, statement: ChunkStatistics) -> list[int]:
    """The full assignment z of `circuit(shape)` for a chunk, computed directly (vectorised cells,
    an int trace of the sponge) in the variable order `_synthesize` declares: 1, the public inputs,
    the salt, per row [a, per column (k bits, e, u, q)], then the sponge's S-box values."""
    R_, m, k = shape.rows, shape.columns, shape.range_bits
    active = np.arange(R_) < chunk.active_rows
    counted = active[:, None] & ~chunk.nulls
    bits = (chunk.offsets[:, :, None] >> np.arange(k)) & 1                       # (R, m, k)
    v = np.array(chunk.lo, dtype=object)[None, :] + chunk.offsets.astype(object)  # (R, m) ints
    u = np.where(counted, v, 0) % R                                                # e·v
    q = (u * v) % R
    cells = np.empty((R_, m, k + 3), dtype=object)
    cells[:, :, :k] = bits
    cells[:, :, k] = counted.astype(np.int64)
    cells[:, :, k + 1] = u
    cells[:, :, k + 2] = q
    rows = np.empty((R_, 1 + m * (k + 3)), dtype=object)
    rows[:, 0] = active.astype(np.int64)
    rows[:, 1:] = cells.reshape(R_, m * (k + 3))
    z = [1, *statement.public_inputs(), chunk.salt, *(int(x) for x in rows.reshape(-1).tolist())]

    p = poseidon_params(shape.width)
    rate = p.t - 1
    inputs = [chunk.salt, *packed_cells(shape, chunk.offsets, chunk.nulls)]
    state = [domain_tag(shape)] + [0] * rate
    for block in range(0, len(inputs), rate):
        for pos, item in enumerate(inputs[block:block + rate]):
            state[1 + pos] = (state[1 + pos] + item) % R
        state = poseidon_gadget.permutation_trace(state, p, z)
    if state[1] != statement.commitment:
        raise AssertionError("the sponge trace and the native sponge disagree")  # a bug, never input
    return z
