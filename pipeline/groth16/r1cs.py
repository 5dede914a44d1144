"""Rank-1 constraint systems over Fr: sparse A, B, C, a builder, and the witness check.

Variable layout (the circom/snarkjs one): index 0 is the constant one, then the public inputs
(1..n_public), then the private witness. A constraint i holds when ⟨A_i, z⟩·⟨B_i, z⟩ = ⟨C_i, z⟩.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kernels import params
from kernels.cache import cached_njit
from kernels.ff.fields import FR, fr
from pipeline.errors import InputError, ProofError

R = params.R
_fr_mul, _fr_add, _fr_set_zero, _fr_eq = fr.mul, fr.add, fr.set_zero, fr.eq


@cached_njit(nogil=True)
def _matvec(row_ptr, cols, coeffs, z, out):
    """out[i] = Σ_k coeffs[k]·z[cols[k]] over row i's entries (all Montgomery Fr)."""
    tmp = np.empty(8, np.uint32)
    for i in range(out.shape[0]):
        _fr_set_zero(out[i])
        for k in range(row_ptr[i], row_ptr[i + 1]):
            _fr_mul(tmp, coeffs[k], z[cols[k]])
            _fr_add(out[i], out[i], tmp)


@cached_njit(nogil=True)
def _transpose_matvec(row_ptr, cols, coeffs, row_values, out):
    """out[j] += Σ_i coeffs[i,j]·row_values[i]: the column sums setup needs (u_j(τ) = Σ_i A_ij L_i(τ))."""
    tmp = np.empty(8, np.uint32)
    for i in range(row_ptr.shape[0] - 1):
        for k in range(row_ptr[i], row_ptr[i + 1]):
            _fr_mul(tmp, coeffs[k], row_values[i])
            _fr_add(out[cols[k]], out[cols[k]], tmp)


@cached_njit(nogil=True)
def _first_unsatisfied(a, b, c):
    """Index of the first row with a·b ≠ c, or -1."""
    tmp = np.empty(8, np.uint32)
    for i in range(a.shape[0]):
        _fr_mul(tmp, a[i], b[i])
        if not _fr_eq(tmp, c[i]):
            return i
    return -1


@dataclass(frozen=True)
class SparseMatrix:
    """Rows of (column, coefficient) pairs in CSR form; coefficients are Montgomery Fr (nnz, 8).

    Immutable, arrays included (made read-only): an R1CS caches its digest and its QAP rows, which
    an edit in place would leave describing another circuit."""

    row_ptr: np.ndarray          # (rows + 1,) int64
    cols: np.ndarray             # (nnz,) int64
    coeffs: np.ndarray           # (nnz, 8) uint32, Montgomery form

    def __post_init__(self):
        for array in (self.row_ptr, self.cols, self.coeffs):
            array.flags.writeable = False

    @classmethod
    def from_rows(cls, rows: Sequence[Iterable[tuple[int, int]]]) -> SparseMatrix:
        """Matrix of rows given as (column, int coefficient) pairs; zero coefficients are dropped."""
        ptr = [0]
        cols: list[int] = []
        values: list[int] = []
        for row in rows:
            for col, coeff in row:
                coeff %= R
                if coeff:
                    cols.append(col)
                    values.append(coeff)
            ptr.append(len(cols))
        return cls(np.array(ptr, np.int64), np.array(cols, np.int64),
                   FR.from_ints(values) if values else np.zeros((0, 8), np.uint32))

    @property
    def n_rows(self) -> int:
        return self.row_ptr.shape[0] - 1

    def matvec(self, z_mont: np.ndarray, first_row: int = 0) -> np.ndarray:
        """(rows, 8) Montgomery values ⟨row, z⟩ of a Montgomery assignment z (n_vars, 8), for the
        rows from `first_row` on."""
        out = np.empty((self.n_rows - first_row, 8), np.uint32)
        _matvec(self.row_ptr[first_row:], self.cols, self.coeffs, z_mont, out)
        return out

    def transpose_matvec(self, row_values: np.ndarray, n_cols: int) -> np.ndarray:
        """(n_cols, 8) Montgomery column sums Σ_i M_ij·row_values[i]."""
        out = np.zeros((n_cols, 8), np.uint32)
        _transpose_matvec(self.row_ptr, self.cols, self.coeffs, row_values, out)
        return out

    def digest_into(self, h) -> None:
        h.update(np.ascontiguousarray(self.row_ptr, "<i8").tobytes())
        h.update(np.ascontiguousarray(self.cols, "<i8").tobytes())
        h.update(np.ascontiguousarray(self.coeffs, "<u4").tobytes())


def witness_to_mont(witness, n_vars: int) -> np.ndarray:
    """(n_vars, 8) Montgomery array of a full assignment z (z[0] = 1).

    `witness` is a sequence of ints in [0, r) or an (n_vars, 8) array of canonical Fr limbs
    (as a .wtns file holds). Raises InputError on a wrong length, z[0] ≠ 1, or a value ≥ r.
    """
    if isinstance(witness, np.ndarray):
        plain = np.ascontiguousarray(witness, np.uint32)
        if plain.ndim != 2 or plain.shape[1] != 8:
            raise InputError(f"witness array must have shape (n, 8), got {plain.shape}")
    else:
        if not isinstance(witness, (list, tuple)):
            witness = list(witness)             # a one-shot iterator: the error path reads it again
        try:        # little-endian bytes of each value; negative or ≥ 2^256 does not convert
            data = b"".join(int(v).to_bytes(32, "little") for v in witness)
        except OverflowError:
            values = [int(v) for v in witness]
            bad = next(i for i, v in enumerate(values) if not 0 <= v < R)
            raise InputError(f"witness value {bad} is not a field element (must be in [0, r))") from None
        plain = np.frombuffer(data, "<u4").reshape(-1, 8).astype(np.uint32)
    if plain.shape[0] != n_vars:
        raise InputError(f"witness has {plain.shape[0]} values, the circuit has {n_vars} variables")
    # Canonical limbs must be below r; compare as big integers only where the top limb allows.
    top = int(R >> 224)
    for i in np.nonzero(plain[:, 7] >= top)[0]:
        if FR.canonical_to_ints(plain[i])[0] >= R:
            raise InputError(f"witness value {int(i)} is not a field element (must be in [0, r))")
    if n_vars and FR.canonical_to_ints(plain[0])[0] != 1:
        raise InputError("witness must start with the constant 1 (z[0] = 1)")
    out = np.empty_like(plain)
    FR.to_mont_vec(out, plain)
    return out


@dataclass(frozen=True)
class R1CS:
    """A constraint system ⟨A_i,z⟩·⟨B_i,z⟩ = ⟨C_i,z⟩ with public inputs z[1..n_public].

    `c` is None for systems read from a .zkey, which stores A and B only. Immutable (as its
    matrices), so the digest and the QAP rows cached on it stay its own.
    """

    n_vars: int
    n_public: int
    a: SparseMatrix
    b: SparseMatrix
    c: SparseMatrix | None
    names: list[str] | None = None
    _digest: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if not 0 <= self.n_public < self.n_vars:
            raise InputError(f"R1CS needs 0 ≤ n_public < n_vars, got {self.n_public}, {self.n_vars}")
        mats = [m for m in (self.a, self.b, self.c) if m is not None]
        if len({m.n_rows for m in mats}) != 1:
            raise InputError("R1CS matrices A, B, C have different numbers of rows")
        for m in mats:
            if m.cols.size and (m.cols.min() < 0 or m.cols.max() >= self.n_vars):
                raise InputError(f"R1CS refers to a variable outside 0..{self.n_vars - 1}")

    @property
    def n_constraints(self) -> int:
        return self.a.n_rows

    def constraint_name(self, i: int) -> str:
        if self.names and i < len(self.names) and self.names[i]:
            return f"constraint {i} ({self.names[i]})"
        return f"constraint {i}"

    def digest(self) -> bytes:
        """SHA-256 over the sizes and the three matrices: keys record it to refuse other circuits."""
        if self._digest is None:
            h = hashlib.sha256(b"zkp-ledger r1cs v1")
            h.update(np.array([self.n_vars, self.n_public, self.n_constraints], "<i8").tobytes())
            for m in (self.a, self.b, self.c):
                if m is None:
                    h.update(b"absent")
                else:
                    m.digest_into(h)
            object.__setattr__(self, "_digest", h.digest())
        return self._digest

    def evaluate(self, z_mont: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A·z, B·z), Montgomery (n_constraints, 8) each."""
        return self.a.matvec(z_mont), self.b.matvec(z_mont)

    def check_witness(self, witness) -> np.ndarray:
        """The Montgomery assignment (n_vars, 8) of a witness that satisfies every constraint.

        Raises InputError for a malformed witness and ProofError naming the first unsatisfied
        constraint. A system without C (read from a .zkey) checks the shape only.
        """
        return self.checked_evaluations(witness)[0]

    def checked_evaluations(self, witness) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """(z, (A·z, B·z)) as `check_witness` checks them (the evaluations None without C), so that
        the prover's H numerator need not compute them again."""
        z = witness_to_mont(witness, self.n_vars)
        if self.c is None:
            return z, None
        a, b = self.evaluate(z)
        bad = _first_unsatisfied(a, b, self.c.matvec(z))
        if bad >= 0:
            raise ProofError(f"witness does not satisfy the R1CS: {self.constraint_name(bad)} fails (A·z · B·z ≠ C·z)")
        return z, (a, b)

    def public_inputs(self, witness) -> list[int]:
        """z[1..n_public] of a full assignment, as ints."""
        if isinstance(witness, np.ndarray):
            return FR.canonical_to_ints(witness[1:self.n_public + 1])
        return [int(v) for v in list(witness)[1:self.n_public + 1]]


# --- builder ---------------------------------------------------------------------------------

class LinearCombination:
    """Σ coeff·variable over Fr, keyed by the builder's variable handles (0 is the constant one)."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[int, int] | None = None):
        self.terms = {k: v % R for k, v in (terms or {}).items() if v % R}

    @classmethod
    def _reduced(cls, terms: dict[int, int]) -> LinearCombination:
        # terms already reduced mod r and without zeros: skip the normalising pass
        lc = cls.__new__(cls)
        lc.terms = terms
        return lc

    @classmethod
    def combine(cls, scaled) -> LinearCombination:
        """Σ k·lc over (lc, k) pairs in one pass (no intermediate combinations)."""
        out: dict[int, int] = {}
        for lc, k in scaled:
            for var, v in cls.of(lc).terms.items():
                out[var] = out.get(var, 0) + v * k
        return cls(out)

    @staticmethod
    def of(x) -> LinearCombination:
        if isinstance(x, LinearCombination):
            return x
        if isinstance(x, int):
            return LinearCombination({0: x})
        raise TypeError(f"cannot use {type(x).__name__} in a linear combination")

    def __add__(self, other):
        out = dict(self.terms)
        for k, v in LinearCombination.of(other).terms.items():
            x = (out.get(k, 0) + v) % R
            if x:
                out[k] = x
            else:
                out.pop(k, None)
        return LinearCombination._reduced(out)

    __radd__ = __add__

    def __neg__(self):
        return LinearCombination._reduced({k: R - v for k, v in self.terms.items()})

    def __sub__(self, other):
        return self + (-LinearCombination.of(other))

    def __rsub__(self, other):
        return LinearCombination.of(other) - self

    def __mul__(self, k):
        if not isinstance(k, int):
            raise TypeError("a linear combination can only be scaled by an int; use R1CSBuilder.mul for products")
        return LinearCombination({var: v * k for var, v in self.terms.items()})

    __rmul__ = __mul__

    def __repr__(self):
        return f"LinearCombination({self.terms})"


class R1CSBuilder:
    """Builds an R1CS and, when every variable is given a value, its witness.

    Public inputs may be declared in any order relative to private variables; `build` places
    them first. Handles in linear combinations are the builder's own; `build` renumbers them.
    """

    def __init__(self):
        self._public: list[int] = []        # handles of public inputs, in declaration order
        self._private: list[int] = []
        self._values: dict[int, int | None] = {0: 1}
        self._labels: dict[int, str] = {0: "one"}
        self._constraints: list[tuple[LinearCombination, LinearCombination, LinearCombination]] = []
        self._names: list[str] = []

    one = LinearCombination({0: 1})

    def _new(self, label: str, value: int | None) -> LinearCombination:
        handle = len(self._values)
        self._values[handle] = None if value is None else value % R
        self._labels[handle] = label
        return LinearCombination({handle: 1})

    def public_input(self, label: str, value: int | None = None) -> LinearCombination:
        """A new public input (a verifier supplies its value)."""
        lc = self._new(label, value)
        self._public.append(next(iter(lc.terms)))
        return lc

    def private_input(self, label: str, value: int | None = None) -> LinearCombination:
        """A new private witness variable."""
        lc = self._new(label, value)
        self._private.append(next(iter(lc.terms)))
        return lc

    def value(self, lc) -> int | None:
        """Value of a linear combination under the assigned values (None if any is unknown)."""
        total = 0
        for k, v in LinearCombination.of(lc).terms.items():
            x = self._values[k]
            if x is None:
                return None
            total += v * x
        return total % R

    def constrain(self, a, b, c, name: str = "") -> None:
        """Require a·b = c."""
        self._constraints.append((LinearCombination.of(a), LinearCombination.of(b), LinearCombination.of(c)))
        self._names.append(name)

    def mul(self, a, b, name: str = "") -> LinearCombination:
        """A new private variable constrained to a·b (its value computed when a and b have values)."""
        va, vb = self.value(a), self.value(b)
        out = self.private_input(name or f"mul{len(self._constraints)}",
                                 None if va is None or vb is None else va * vb)
        self.constrain(a, b, out, name)
        return out

    def assert_equal(self, a, b, name: str = "") -> None:
        """Require a = b (one constraint: (a − b)·1 = 0)."""
        self.constrain(LinearCombination.of(a) - b, self.one, LinearCombination(), name)

    @property
    def n_constraints(self) -> int:
        return len(self._constraints)

    def _index(self) -> dict[int, int]:
        order = [0] + self._public + self._private
        return {h: i for i, h in enumerate(order)}

    def build(self) -> R1CS:
        index = self._index()

        def rows(which):
            return [[(index[k], v) for k, v in con[which].terms.items()] for con in self._constraints]

        return R1CS(n_vars=len(index), n_public=len(self._public),
                    a=SparseMatrix.from_rows(rows(0)), b=SparseMatrix.from_rows(rows(1)),
                    c=SparseMatrix.from_rows(rows(2)), names=list(self._names))

    def witness(self) -> list[int]:
        """The full assignment z in build order; raises InputError naming a variable without value."""
        index = self._index()
        z = [0] * len(index)
        for h, i in index.items():
            v = self._values[h]
            if v is None:
                raise InputError(f"variable '{self._labels[h]}' has no value")
            z[i] = v
        return z
