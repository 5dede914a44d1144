"""From an R1CS to the QAP: the evaluation domain, the A/B matrices over it, and H's evaluations.

The convention is snarkjs's, so that one prover serves our keys and snarkjs .zkey files alike:
- the domain has n = 2^k ≥ n_constraints + n_public + 1 points; after the constraints come one row
  per public variable s (0..n_public) with A = z_s, B = 0, C = 0, which makes the IC polynomials
  linearly independent (Groth16's soundness needs it);
- C·z on the domain is taken as (A·z)∘(B·z) (true for a satisfying witness; the .zkey stores no C);
- H enters the proof through its numerator p = (A·z)(B·z) − C·z evaluated on the odd coset
  ω_{2n}·⟨ω_n⟩, where Z = x^n − 1 is the constant −2; the key's H points are the Lagrange basis of
  the 2n-point domain at the odd points, divided by δ, so Σ p(ω_{2n}^{2i+1})·H_i = p(τ)/δ·G1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels.ff.fields import FR
from kernels.ntt import SNARKJS_GENERATOR, coset_ntt_inplace, domain_root, ntt_inplace
from pipeline.errors import InputError
from pipeline.groth16.r1cs import R1CS, SparseMatrix

MAX_LOG_DOMAIN = 31   # Fr has 2^32-th roots of unity; the odd coset needs ω_{2n}


def domain_size_for(n_constraints: int, n_public: int) -> int:
    """Smallest power of two holding the constraints and the n_public + 1 input rows."""
    rows = n_constraints + n_public + 1
    size = 1 << max(1, (rows - 1).bit_length())
    if size > 1 << MAX_LOG_DOMAIN:
        raise InputError(f"circuit too large: {rows} QAP rows exceed 2^{MAX_LOG_DOMAIN}")
    return size


@dataclass
class QapMatrices:
    """A and B over the QAP domain rows (constraints, then the public-input rows): all the prover needs."""

    n_vars: int
    n_public: int
    domain_size: int
    a: SparseMatrix
    b: SparseMatrix

    def __post_init__(self):
        if self.domain_size & (self.domain_size - 1) or not 2 <= self.domain_size <= 1 << MAX_LOG_DOMAIN:
            raise InputError(f"QAP domain size {self.domain_size} is not a power of two in [2, 2^{MAX_LOG_DOMAIN}]")
        if max(self.a.n_rows, self.b.n_rows) > self.domain_size:
            raise InputError(f"QAP has more rows than its domain ({self.domain_size})")


def _append_rows(m: SparseMatrix, rows: list[list[tuple[int, int]]]) -> SparseMatrix:
    extra = SparseMatrix.from_rows(rows)
    return SparseMatrix(np.concatenate([m.row_ptr, extra.row_ptr[1:] + m.row_ptr[-1]]),
                        np.concatenate([m.cols, extra.cols]),
                        np.concatenate([m.coeffs, extra.coeffs]))


def qap_matrices(r1cs: R1CS) -> QapMatrices:
    """The QAP rows of an R1CS: its A and B plus one A row z_s per public variable s."""
    n = domain_size_for(r1cs.n_constraints, r1cs.n_public)
    a = _append_rows(r1cs.a, [[(s, 1)] for s in range(r1cs.n_public + 1)])
    b = _append_rows(r1cs.b, [[] for _ in range(r1cs.n_public + 1)])
    return QapMatrices(r1cs.n_vars, r1cs.n_public, n, a, b)


def _on_domain(m: SparseMatrix, z_mont: np.ndarray, n: int, leading: np.ndarray | None = None) -> np.ndarray:
    """m·z padded with zeros to the domain; `leading`: the values of m's first rows, already known."""
    out = np.zeros((n, 8), np.uint32)
    done = 0 if leading is None else leading.shape[0]
    if done:
        out[:done] = leading
    out[done:m.n_rows] = m.matvec(z_mont, done)
    return out


def domain_roots(n: int) -> tuple[int, int]:
    """(ω_n, ω_{2n}) of snarkjs's domains (roots from the smallest non-residue, 5), ω_{2n}² = ω_n.

    The .zkey's Lagrange-basis points are built on these exact points, so ours are too.
    """
    return domain_root(n, SNARKJS_GENERATOR), domain_root(2 * n, SNARKJS_GENERATOR)


def h_numerator_odd_coset(qap: QapMatrices, z_mont: np.ndarray, r1cs_rows=None, device: str = "cpu") -> np.ndarray:
    """(n, 8) canonical Fr limbs of p = (A·z)(B·z) − C·z at ω_{2n}·ω_n^i, i = 0..n−1: the H MSM's scalars.

    z_mont is the Montgomery assignment (n_vars, 8). `r1cs_rows`: (A·z, B·z) over the constraint
    rows of the R1CS these QAP rows were made from (`R1CS.checked_evaluations`), which are the QAP's
    first rows (`qap_matrices`); only the public-input rows are then computed here. `device`
    "cuda" runs the transforms and the products on the GPU (same result; the sparse products A·z,
    B·z stay on the CPU); KernelError there without a GPU.
    """
    n = qap.domain_size
    omega, shift = domain_roots(n)
    lead_a, lead_b = (None, None) if r1cs_rows is None else r1cs_rows
    if lead_a is not None and (lead_a.shape[0] > qap.a.n_rows or lead_b.shape[0] > qap.b.n_rows):
        raise ValueError("the R1CS evaluations have more rows than the QAP")
    a = _on_domain(qap.a, z_mont, n, lead_a)
    b = _on_domain(qap.b, z_mont, n, lead_b)
    if device == "cuda":
        return _odd_coset_numerator_on_device(a, b, omega, shift)
    c = np.empty_like(a)
    FR.mul_vec(c, a, b)
    for values in (a, b, c):   # evaluations on ⟨ω⟩ → coefficients → evaluations on ω_{2n}·⟨ω⟩
        ntt_inplace(values, inverse=True, omega=omega)
        coset_ntt_inplace(values, shift, omega=omega)
    FR.mul_vec(a, a, b)
    FR.sub_vec(a, a, c)
    FR.from_mont_vec(b, a)
    return b


def _odd_coset_numerator_on_device(a: np.ndarray, b: np.ndarray, omega: int, shift: int) -> np.ndarray:
    """The steps of `h_numerator_odd_coset` after A·z and B·z, on the GPU: a and b (n, 8) Montgomery
    evaluations on ⟨ω⟩ go up, the canonical limbs of p on the odd coset come back."""
    from numba import cuda

    from kernels.msm.cuda_recode import require_gpu
    from kernels.ntt import device as ntt_device

    require_gpu()
    d_a, d_b = cuda.to_device(a), cuda.to_device(b)
    d_c = cuda.device_array_like(d_a)
    d_c.copy_to_device(d_a)
    ntt_device.mul_rows_device(d_c, d_b)
    for d_values in (d_a, d_b, d_c):   # evaluations on ⟨ω⟩ → coefficients → evaluations on ω_{2n}·⟨ω⟩
        ntt_device.ntt_device_inplace(d_values, inverse=True, omega=omega)
        ntt_device.coset_ntt_device_inplace(d_values, shift, omega=omega)
    ntt_device.mul_rows_device(d_a, d_b)
    ntt_device.sub_rows_device(d_a, d_c)
    return ntt_device.from_mont_device(d_a).copy_to_host()
