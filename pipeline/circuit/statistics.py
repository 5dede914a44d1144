"""The dataset statistics circuit, statement v2: one instance proves one chunk of rows of one
dataset entry, and only the dataset totals can be read from the proofs of all its chunks.

Shape: (rows per chunk R, columns m, range bits k, sponge width t). Keys are made once per shape.

Public inputs, in order (n_public = 8 + 4m):
    C                 Poseidon commitment to (salt, n, every cell of the chunk)
    n                 active rows (the first n rows; the rest is padding)
    binding (3)       the entry: raw-bytes BLAKE3 root as two 128-bit halves, and a hash of
                      (name, version) below 2^248 (see `DatasetBinding`)
    i                 the chunk's position in the entry
    lo_j   (m)        lower bound of column j (scaled integer; the field element of a signed int)
    S'_j   (m)        S_j + rS_ij − rS_(i+1)j   with S_j = Σ v over counted cells
    Q'_j   (m)        Q_j + rQ_ij − rQ_(i+1)j   with Q_j = Σ v²
    N'_j   (m)        N_j + rN_ij − rN_(i+1)j   with N_j = null cells among the active rows
    P_in, P_out       mask commitments H(s_i, r_i), H(s_(i+1), r_(i+1)) (r: 3m field elements)

Private: the salt of C, the masks and their salts, per row an active flag a, per cell the k
bits of d = v − lo and a counted flag e (active and not null). Constraints (k + 3 per cell, 2 per
row, 2 per column, 3 per S-box):
    bits boolean                                   d = Σ 2^l·bit_l (free)
    a boolean, a_i·(1 − a_{i−1}) = 0, Σ a_i = n    (the active rows are exactly the first n)
    e·(a − e) = 0                                  (e a bit, and 0 in padding rows); z = a − e
    w = e·d, y = w·d                               (counted offset and its square; 0 unless counted)
    c_j = Σ e, T_j = lo_j·c_j, U_j = lo_j·(T_j + 2·Σw)
    S_j = T_j + Σ w,  Q_j = U_j + Σ y,  N_j = n − c_j     (Σ e·(lo + d)² = lo²c + 2·lo·Σw + Σy)
    C = sponge(salt, n, packed cells)              each cell packs as w + 2^k·z in k+1 bits,
                                                   ⌊253/(k+1)⌋ cells per field element (free)
    P_in, P_out = mask sponges; the masked sums as above (linear)
A padding cell packs as 0 and a null cell as exactly 2^k (its offset is forced to zero), so C
opens to one table only: n rows, every counted value in [lo_j, lo_j + 2^k − 1], the nulls.

Chaining (checked by the verifier, see pipeline/statistics_verify.py): chunk i's P_out is chunk
i+1's P_in; P_0 and P_K commit to the zero vector under salts derived from the binding, so the
masks telescope: Σ_i S'_ij = S_j exactly, while each S'_ij alone is uniform. A chunk dropped,
repeated, reordered or taken from another entry breaks the chain or the binding.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import blake3
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
        return 8 + 4 * self.columns      # C, n, binding (3), i, lo, S', Q', N', P_in, P_out

    @property
    def mask_length(self) -> int:
        """Field elements in one mask vector: S, Q and N of every column."""
        return 3 * self.columns

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


STATEMENT = "zkp-ledger statistics v2"


def domain_tag(shape: Shape) -> int:
    """Capacity of the cell commitment's sponge: binds the statement, the shape and the input length."""
    label = json.dumps({"circuit": STATEMENT, "shape": asdict(shape)}, sort_keys=True)
    return sponge_domain_tag(label, 2 + shape.packed_elements, shape.width)


def mask_tag(shape: Shape) -> int:
    """Capacity of the mask commitments' sponge (another label, so they never meet cell commitments)."""
    label = json.dumps({"circuit": STATEMENT, "commits": "masks", "shape": asdict(shape)}, sort_keys=True)
    return sponge_domain_tag(label, 1 + shape.mask_length, shape.width)


@dataclass(frozen=True)
class DatasetBinding:
    """The ledger entry a chunk proof belongs to: the raw-bytes BLAKE3 root, the name and the version.

    Raises InputError for a root that is not 64 lowercase hex digits, an empty name or a version < 1.
    """

    root: str
    name: str
    version: int

    def __post_init__(self):
        if not (isinstance(self.root, str) and len(self.root) == 64 and all(c in "0123456789abcdef" for c in self.root)):
            raise InputError(f"dataset binding: root {self.root!r} is not 64 lowercase hex digits")
        if not isinstance(self.name, str) or not self.name:
            raise InputError("dataset binding: the dataset needs a name")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise InputError(f"dataset binding: version must be a positive integer, got {self.version!r}")

    def _hash(self, purpose: bytes, length: int) -> bytes:
        label = json.dumps({"name": self.name, "root": self.root, "version": self.version}, sort_keys=True)
        return blake3.blake3(STATEMENT.encode() + b"/" + purpose + b"\0" + label.encode()).digest(length)

    def elements(self) -> list[int]:
        """The three public inputs: root bits 255..128, root bits 127..0, H(name, version, root) < 2^248."""
        root = int(self.root, 16)
        return [root >> 128, root & ((1 << 128) - 1), int.from_bytes(self._hash(b"entry", 31), "big")]

    def edge_mask(self, shape: Shape, end: bool) -> Mask:
        """The mask before the first chunk (end=False) or after the last: the zero vector under a salt
        anyone can derive from the binding, so the verifier knows P_0 and P_K without any opening."""
        salt = int.from_bytes(self._hash(b"chain end" if end else b"chain start", 64), "big") % R
        return Mask((0,) * shape.mask_length, salt)


@dataclass(frozen=True)
class Mask:
    """One mask vector r (S, Q, N of every column, in that order) and the salt of its commitment."""

    values: tuple[int, ...]
    salt: int


def mask_commitment(shape: Shape, mask: Mask) -> int:
    """P = Poseidon sponge (mask tag) of (salt, r)."""
    if len(mask.values) != shape.mask_length:
        raise InputError(f"a mask of shape {shape.key_id()} has {shape.mask_length} elements, got {len(mask.values)}")
    return poseidon_hash([mask.salt, *mask.values], shape.width, mask_tag(shape))


def chain_ends(shape: Shape, binding: DatasetBinding) -> tuple[int, int]:
    """(P_0, P_K): the commitments a verifier expects before the first chunk and after the last."""
    return (mask_commitment(shape, binding.edge_mask(shape, end=False)),
            mask_commitment(shape, binding.edge_mask(shape, end=True)))


class MaskChain:
    """The masks r_0 .. r_K of one entry's K chunks: r_0 and r_K are the binding's zero edge masks;
    r_1 .. r_(K−1) are uniform field elements from BLAKE3 keyed by a 32-byte secret drawn from the
    OS CSPRNG (kept private with the openings), so any chunk's masks can be recomputed on any worker
    without knowing K in advance."""

    def __init__(self, shape: Shape, binding: DatasetBinding, key: bytes | None = None):
        self.shape, self.binding = shape, binding
        self.key = secrets.token_bytes(32) if key is None else bytes(key)
        if len(self.key) != 32:
            raise InputError("a mask key is 32 bytes")

    def _element(self, i: int, slot: int) -> int:
        data = b"mask" + i.to_bytes(8, "big") + slot.to_bytes(4, "big")
        return int.from_bytes(blake3.blake3(data, key=self.key).digest(64), "big") % R

    def before(self, i: int) -> Mask:
        """The mask chunk i opens with (r_i)."""
        if i == 0:
            return self.binding.edge_mask(self.shape, end=False)
        length = self.shape.mask_length
        return Mask(tuple(self._element(i, s) for s in range(length)), self._element(i, length))

    def after(self, i: int, last: bool) -> Mask:
        """The mask chunk i closes with: r_(i+1), or the end mask for the last chunk."""
        return self.binding.edge_mask(self.shape, end=True) if last else self.before(i + 1)


def packed_cells(shape: Shape, offsets: np.ndarray, nulls: np.ndarray) -> list[int]:
    """The cell elements the sponge absorbs after (salt, n): cells w + 2^k·z, row-major, where w is
    the offset of a counted cell (0 otherwise) and z the null flag; ⌊253/(k+1)⌋ cells per element,
    slot 0 in the lowest bits (the circuit packs the same way). `offsets` must be 0 wherever a
    cell is not counted (padding rows, nulls)."""
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


def commitment_of(shape: Shape, salt: int, active_rows: int, offsets: np.ndarray, nulls: np.ndarray) -> int:
    """The native Poseidon commitment C of a chunk: sponge(salt, n, packed cells)."""
    return poseidon_hash([salt, active_rows, *packed_cells(shape, offsets, nulls)], shape.width, domain_tag(shape))


def signed(value: int) -> int:
    """A field element read as a signed integer (values above r/2 are negative)."""
    value %= R
    return value - R if value > R // 2 else value


@dataclass
class ChunkStatement:
    """The public inputs of one chunk proof. `lo` is signed; the masked sums are field elements
    (uniform on their own; only their sum over an entry's chunks means anything)."""

    commitment: int
    active_rows: int
    binding: list[int]
    index: int
    lo: list[int]
    masked_sums: list[int]
    masked_squares: list[int]
    masked_nulls: list[int]
    mask_in: int
    mask_out: int

    def public_inputs(self) -> list[int]:
        """The field elements the verifier feeds to Groth16, in circuit order."""
        values = [self.commitment, self.active_rows, *self.binding, self.index, *self.lo, *self.masked_sums,
                  *self.masked_squares, *self.masked_nulls, self.mask_in, self.mask_out]
        return [v % R for v in values]

    @classmethod
    def from_public_inputs(cls, inputs: list[int], columns: int) -> ChunkStatement:
        """Raises InputError when the count does not fit `columns` or a value is not in [0, r)."""
        m = columns
        if len(inputs) != 8 + 4 * m:
            raise InputError(f"expected {8 + 4 * m} public inputs for {m} columns, got {len(inputs)}")
        x = [int(v) for v in inputs]
        if any(not 0 <= v < R for v in x):
            raise InputError("a public input is not a field element")
        lo = x[6:6 + m]
        return cls(x[0], x[1], x[2:5], x[5], [signed(v) for v in lo], x[6 + m:6 + 2 * m], x[6 + 2 * m:6 + 3 * m],
                   x[6 + 3 * m:6 + 4 * m], x[6 + 4 * m], x[7 + 4 * m])


@dataclass
class ChunkAssignment:
    """The private side of one chunk: per-cell offsets d = v − lo (0 unless counted) and null flags
    (only in active rows), the active row count, the bounds, the commitment salt, the entry binding,
    the chunk's position and its two masks."""

    offsets: np.ndarray       # (rows, columns) int64, in [0, 2^k), 0 where not counted
    nulls: np.ndarray         # (rows, columns) bool, False in padding rows
    active_rows: int
    lo: list[int]
    salt: int
    binding: DatasetBinding
    index: int
    mask_in: Mask
    mask_out: Mask

    @classmethod
    def from_values(cls, shape: Shape, values: np.ndarray, nulls: np.ndarray, active_rows: int, lo: list[int],
                    salt: int, binding: DatasetBinding, index: int, mask_in: Mask, mask_out: Mask) -> ChunkAssignment:
        """Raises InputError naming the cell whose value lies outside [lo, lo + 2^k − 1]."""
        if values.shape != (shape.rows, shape.columns) or nulls.shape != values.shape:
            raise InputError(f"chunk is {values.shape}, shape expects ({shape.rows}, {shape.columns})")
        if not 0 <= active_rows <= shape.rows:
            raise InputError(f"a chunk of {shape.rows} rows cannot have {active_rows} active rows")
        active = (np.arange(shape.rows) < active_rows)[:, None]
        live = active & ~nulls
        offsets = np.where(live, values.astype(object) - np.array(lo, dtype=object), 0)
        bad = live & ((offsets < 0) | (offsets >= (1 << shape.range_bits)))
        if bad.any():
            i, j = map(int, np.argwhere(bad)[0])
            raise InputError(f"row {i} column {j} of the chunk: value {values[i, j]} is outside the proven range "
                             f"[{lo[j]}, {lo[j] + (1 << shape.range_bits) - 1}]")
        return cls(offsets.astype(np.int64), nulls & active, active_rows, list(lo), salt % R, binding, index,
                   mask_in, mask_out)

    def counted(self, shape: Shape) -> np.ndarray:
        return (np.arange(shape.rows) < self.active_rows)[:, None] & ~self.nulls

    def totals(self, shape: Shape) -> tuple[list[int], list[int], list[int]]:
        """The chunk's true (sums, sums of squares, null counts) per column, as Python ints."""
        live = self.counted(shape)
        sums, squares = [], []
        for j in range(shape.columns):
            values = [self.lo[j] + int(d) for d in self.offsets[live[:, j], j].tolist()]
            sums.append(sum(values))
            squares.append(sum(v * v for v in values))
        return sums, squares, [int(self.nulls[:, j].sum()) for j in range(shape.columns)]

    def statement(self, shape: Shape) -> ChunkStatement:
        """The public inputs these cells and masks imply (exact Python ints, reduced mod r)."""
        m = shape.columns
        sums, squares, nulls = self.totals(shape)
        r_in, r_out = self.mask_in.values, self.mask_out.values

        def masked(values, part):
            return [(v + r_in[part * m + j] - r_out[part * m + j]) % R for j, v in enumerate(values)]

        return ChunkStatement(commitment_of(shape, self.salt, self.active_rows, self.offsets, self.nulls),
                              self.active_rows, self.binding.elements(), self.index, list(self.lo),
                              masked(sums, 0), masked(squares, 1), masked(nulls, 2),
                              mask_commitment(shape, self.mask_in), mask_commitment(shape, self.mask_out))


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
    for b in range(3):
        cs.public_input(f"binding[{b}]", val(st and st.binding[b]))     # bound by the QAP's input rows
    cs.public_input("chunk_index", val(st and st.index))
    lo_pub = [cs.public_input(f"lo[{j}]", val(st and st.lo[j])) for j in range(m)]
    s_pub = [cs.public_input(f"masked_sum[{j}]", val(st and st.masked_sums[j])) for j in range(m)]
    q_pub = [cs.public_input(f"masked_sum_squares[{j}]", val(st and st.masked_squares[j])) for j in range(m)]
    null_pub = [cs.public_input(f"masked_nulls[{j}]", val(st and st.masked_nulls[j])) for j in range(m)]
    p_in_pub = cs.public_input("mask_in", val(st and st.mask_in))
    p_out_pub = cs.public_input("mask_out", val(st and st.mask_out))

    salt = cs.private_input("salt", val(chunk and chunk.salt))
    masks = []
    for side, mask in (("in", chunk and chunk.mask_in), ("out", chunk and chunk.mask_out)):
        mask_salt = cs.private_input(f"mask_{side} salt", val(mask and mask.salt))
        values = [cs.private_input(f"mask_{side}[{s}]", val(mask and mask.values[s])) for s in range(shape.mask_length)]
        masks.append((mask_salt, values))

    # Sums are collected as lists and combined once (adding one term at a time is quadratic).
    counted_flags = [[] for _ in range(m)]
    counted_offsets = [[] for _ in range(m)]
    counted_squares = [[] for _ in range(m)]
    active_flags = []
    cells: list[tuple[LinearCombination, LinearCombination]] = []     # (w, null flag)
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
            # e = 1 for a counted cell (active and not null); e·(a − e) = 0 makes it a bit and zero in
            # padding rows. The null flag is then the linear a − e.
            e = cs.private_input(f"{where} counted", val(chunk and int(i < chunk.active_rows and not chunk.nulls[i, j])))
            cs.constrain(e, a - e, zero, f"{where} counted flag is a bit, zero past the active rows")
            w = cs.mul(e, d, f"{where} counted offset")            # d where counted, else 0
            y = cs.mul(w, d, f"{where} counted offset squared")
            counted_flags[j].append(e)
            counted_offsets[j].append(w)
            counted_squares[j].append(y)
            cells.append((w, a - e))
    cs.assert_equal(LinearCombination.combine((a, 1) for a in active_flags), n_pub, "active rows = n")
    (salt_in, r_in), (salt_out, r_out) = masks
    for j in range(m):
        c = LinearCombination.combine((e, 1) for e in counted_flags[j])
        w_sum = LinearCombination.combine((w, 1) for w in counted_offsets[j])
        y_sum = LinearCombination.combine((y, 1) for y in counted_squares[j])
        t = cs.mul(lo_pub[j], c, f"column {j} lo·count")
        u = cs.mul(lo_pub[j], t + w_sum * 2, f"column {j} lo·(lo·count + 2·Σw)")
        for part, (true_value, public) in enumerate(((t + w_sum, s_pub[j]), (u + y_sum, q_pub[j]),
                                                     (n_pub - c, null_pub[j]))):
            slot = part * m + j
            name = ("sum", "sum of squares", "null count")[part]
            cs.assert_equal(true_value + r_in[slot] - r_out[slot], public, f"column {j} masked {name}")

    # Pack the cells into field elements (free) and hash them with the sponge.
    per = shape.cells_per_element
    packed = []
    for start in range(0, len(cells), per):
        parts = []
        for slot, (w, null) in enumerate(cells[start:start + per]):
            shift = (k + 1) * slot
            parts += [(w, 1 << shift), (null, 1 << (shift + k))]
        packed.append(LinearCombination.combine(parts))
    digest = sponge(cs, [salt, n_pub, *packed], shape.width, domain_tag(shape), "commitment")
    if chunk is not None and cs.value(digest) != st.commitment:
        raise AssertionError("the Poseidon gadget and the native sponge disagree")  # a bug, never input
    cs.assert_equal(digest, commitment, "commitment = Poseidon sponge of salt, n and cells")
    for (mask_salt, values), public, side in zip(masks, (p_in_pub, p_out_pub), ("in", "out")):
        digest = sponge(cs, [mask_salt, *values], shape.width, mask_tag(shape), f"mask_{side}")
        cs.assert_equal(digest, public, f"mask_{side} = Poseidon sponge of its salt and values")


def sponge(cs: R1CSBuilder, inputs: list[LinearCombination], width: int, tag: int,
           name: str = "sponge") -> LinearCombination:
    """The Poseidon sponge of `kernels.poseidon` as constraints (same padding and domain rule)."""
    p = poseidon_params(width)
    rate = p.t - 1
    state = [LinearCombination.of(tag)] + [LinearCombination() for _ in range(rate)]
    for block in range(0, max(len(inputs), 1), rate):
        for pos, item in enumerate(inputs[block:block + rate]):
            state[1 + pos] = state[1 + pos] + item
        state = poseidon_gadget.permutation(cs, state, p, f"{name} block {block // rate}")
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


def chunk_witness(shape: Shape, values: np.ndarray, nulls: np.ndarray, active_rows: int, lo: list[int],
                  binding: DatasetBinding, index: int, mask_in: Mask, mask_out: Mask,
                  salt: int | None = None) -> tuple[np.ndarray, ChunkStatement, int]:
    """(full assignment z as (n_vars, 8) canonical Fr limbs, see `assignment`; the chunk's public
    statement; salt) for one chunk of encoded cells.

    A fresh salt comes from the OS CSPRNG unless one is given (re-opening a commitment).
    Raises InputError for a cell outside its column's proven range.
    """
    if salt is None:
        salt = secrets.randbelow(R)
    chunk = ChunkAssignment.from_values(shape, values, nulls, active_rows, lo, salt, binding, index, mask_in, mask_out)
    statement = chunk.statement(shape)
    return assignment(shape, chunk, statement), statement, chunk.salt


def sample_assignment(shape: Shape) -> np.ndarray:
    """The assignment of a full middle chunk of uniform random values (no nulls, random masks): a
    witness like those to come, for choices that depend on the scalars' sizes (fixed-base tables)."""
    rng = np.random.default_rng(secrets.randbits(64))
    values = rng.integers(0, 1 << shape.range_bits, (shape.rows, shape.columns), dtype=np.uint64).astype(np.int64)
    nulls = np.zeros(values.shape, dtype=bool)
    binding = DatasetBinding("00" * 32, "sample", 1)
    chain = MaskChain(shape, binding)
    z, _, _ = chunk_witness(shape, values, nulls, shape.rows, [0] * shape.columns, binding, 1, chain.before(1),
                            chain.before(2))
    return z


def probe_assignment(shape: Shape) -> np.ndarray:
    """A valid assignment on random data of every kind a real chunk can hold, for probing a key made
    by someone else (pipeline.keystore): random binding, index, salt and masks, a random number of
    active rows, random nulls, and values of random bit lengths (short, long, the range's top)."""
    rng = np.random.default_rng(secrets.randbits(128))
    active = int(rng.integers(1, shape.rows + 1))
    bits = rng.integers(0, shape.range_bits + 1, (shape.rows, shape.columns))
    values = np.array([[int(rng.integers(0, 1 << int(b), dtype=np.uint64)) if b else 0 for b in row] for row in bits],
                      dtype=np.uint64).astype(np.int64)
    nulls = rng.random((shape.rows, shape.columns)) < rng.random()
    nulls[active:] = False
    values[active:] = 0
    lo = [int(rng.integers(-(1 << 20), 1 << 20)) for _ in range(shape.columns)]
    values = values + np.array(lo, dtype=np.int64)
    binding = DatasetBinding(secrets.token_hex(32), f"probe-{secrets.token_hex(4)}", int(rng.integers(1, 1 << 20)))
    chain = MaskChain(shape, binding)
    index = int(rng.integers(0, 1 << 20))
    z, _, _ = chunk_witness(shape, values, nulls, active, lo, binding, index, chain.before(index),
                            chain.after(index, bool(rng.integers(0, 2))))
    return z


def _sponge_trace(inputs: list[int], width: int, tag: int) -> tuple[np.ndarray, int]:
    return poseidon_gadget.sponge_trace_mont(inputs, poseidon_params(width), tag)


def _limbs_of_small(values: np.ndarray) -> np.ndarray:
    """(..., 8) canonical Fr limbs of non-negative ints below 2^64 (any integer dtype)."""
    v = values.astype(np.uint64)
    out = np.zeros(values.shape + (8,), np.uint32)
    out[..., 0] = (v & _LOW32).astype(np.uint32)
    out[..., 1] = (v >> np.uint64(32)).astype(np.uint32)
    return out


def _limbs_of_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 8) canonical limbs of a·b for non-negative int64 arrays below 2^62 (a product below 2^124),
    by 32-bit halves in uint64 arithmetic."""
    a, b = a.astype(np.uint64), b.astype(np.uint64)
    s32 = np.uint64(32)
    al, ah, bl, bh = a & _LOW32, a >> s32, b & _LOW32, b >> s32
    low, m1, m2, high = al * bl, al * bh, ah * bl, ah * bh          # each below 2^64
    mid = (m1 & _LOW32) + (m2 & _LOW32) + (low >> s32)            # below 3 * 2^32
    top = high + (m1 >> s32) + (m2 >> s32) + (mid >> s32)         # below 2^61
    out = np.zeros(a.shape + (8,), np.uint32)
    for limb, word in enumerate((low & _LOW32, mid & _LOW32, top & _LOW32, top >> s32)):
        out[..., limb] = word.astype(np.uint32)
    return out


_LOW32 = np.uint64(0xFFFFFFFF)


def assignment(shape: Shape, chunk: ChunkAssignment, statement: ChunkStatement) -> np.ndarray:
    """The full assignment z of `circuit(shape)` for a chunk as an (n_vars, 8) array of canonical Fr
    limbs (as `pipeline.groth16.prover.prove` takes it; `kernels.ff.fields.FR.canonical_to_ints` for
    ints), computed directly (vectorised cells, compiled traces of the sponges) in the variable order
    `_synthesize` declares: 1, the public inputs, the salt, the two masks (salt, values), per row
    [a, per column (k bits, e, w, y)], per column (T, U), then the S-box values of the commitment
    sponge and of the two mask sponges."""
    from kernels.ff.fields import FR

    R_, m, k = shape.rows, shape.columns, shape.range_bits
    active = np.arange(R_) < chunk.active_rows
    counted = chunk.counted(shape)
    d = chunk.offsets.astype(np.int64)                                           # [0, 2^k), k <= 62
    w = np.where(counted, d, 0)
    cells = np.zeros((R_, m, k + 3, 8), np.uint32)
    cells[:, :, :k, 0] = (d[:, :, None] >> np.arange(k)) & 1                     # the bits of d
    cells[:, :, k, 0] = counted
    cells[:, :, k + 1] = _limbs_of_small(w)
    cells[:, :, k + 2] = _limbs_of_product(w, d)                                  # y = w·d
    rows = np.zeros((R_, 1 + m * (k + 3), 8), np.uint32)
    rows[:, 0, 0] = active
    rows[:, 1:] = cells.reshape(R_, m * (k + 3), 8)
    head = [1, *statement.public_inputs(), chunk.salt]
    for mask in (chunk.mask_in, chunk.mask_out):
        head += [mask.salt, *mask.values]
    totals = []
    for j in range(m):
        c = int(counted[:, j].sum())
        t = chunk.lo[j] * c % R
        totals += [t, chunk.lo[j] * (t + 2 * int(w[:, j].astype(object).sum())) % R]

    cells_in = [chunk.salt, chunk.active_rows, *packed_cells(shape, chunk.offsets, chunk.nulls)]
    traces = []
    trace, digest = _sponge_trace(cells_in, shape.width, domain_tag(shape))
    if digest != statement.commitment:
        raise AssertionError("the sponge trace and the native sponge disagree")  # a bug, never input
    traces.append(trace)
    for mask, public in ((chunk.mask_in, statement.mask_in), (chunk.mask_out, statement.mask_out)):
        trace, digest = _sponge_trace([mask.salt, *mask.values], shape.width, mask_tag(shape))
        if digest != public:
            raise AssertionError("the mask sponge trace and the native sponge disagree")
        traces.append(trace)
    if not all(0 <= v < R for v in head + totals):
        raise AssertionError("an assignment value is not a field element")   # a bug, never input
    mont = np.concatenate(traces)
    sboxes = np.empty_like(mont)
    FR.from_mont_vec(sboxes, mont)
    return np.concatenate([FR.canonical(head), rows.reshape(-1, 8), FR.canonical(totals), sboxes])
