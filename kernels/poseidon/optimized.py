"""The equivalent fast form of the Poseidon partial rounds (Poseidon paper, appendix B), in ints.

A partial round x <- M·sbox0(x + c) is rewritten so that it costs 2t - 1 products instead of t²:

* constants: c = c[0]·e_0 + rest; the S-box touches only x_0, so M·rest is a constant that can be
  added at the start of the next round instead. Pushing forward leaves each partial round with the
  scalar c[0] and folds the remainder into the first full round after them.
* matrices: a matrix A = [[a00, row], [col, Â]] equals S·B with B = diag(1, Â) and the sparse
  S = [[a00, row·Â⁻¹], [col, I]]. B leaves x_0 alone, so it commutes with the S-box and the scalar
  constant and moves into the previous round's matrix (A_prev = B·M). Going backwards from the
  last partial round, every partial round keeps a sparse S_i, and the last B lands on the final
  full round before the partial rounds.

The result is exactly the same permutation (tests compare it with the plain reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from kernels.poseidon import linalg
from kernels.poseidon.params import PoseidonParams


@dataclass(frozen=True)
class OptimizedRounds:
    """Constants and matrices of the fast form, as ints."""

    full_constants: list[list[int]]      # R_F rows of t: first half, then second half (first row adjusted)
    partial_constants: list[int]         # R_P scalars, added to x_0
    mds: list[list[int]]                 # the full-round matrix
    mds_before_partial: list[list[int]]  # B_1·M: matrix of the last full round before the partial rounds
    sparse: list[list[int]]              # R_P rows [a00, v_1 .. v_{t-1}, w_1 .. w_{t-1}]


def _sparse_split(a, p: int):
    # A = S·B, B = diag(1, Â), S = [[a00, row·Â⁻¹], [col, I]].
    t = len(a)
    a_hat = [row[1:] for row in a[1:]]
    a_hat_inv = _inverse(a_hat, p)
    v = [sum(a[0][1 + k] * a_hat_inv[k][j] for k in range(t - 1)) % p for j in range(t - 1)]
    w = [a[1 + i][0] for i in range(t - 1)]
    b = [[1] + [0] * (t - 1)] + [[0] + row[:] for row in a_hat]
    return [a[0][0]] + v + w, b


def _inverse(a, p: int):
    n = len(a)
    augmented = [row[:] + [int(i == j) for j in range(n)] for i, row in enumerate(a)]
    rref = linalg.row_reduce(augmented, p)
    if len(rref) < n or any(rref[i][i] != 1 for i in range(n)):
        raise ValueError("matrix is singular")
    return [row[n:] for row in rref]


def optimize(params: PoseidonParams, p: int) -> OptimizedRounds:
    """The fast form of `params` over F_p."""
    half, partial = params.full_rounds // 2, params.partial_rounds
    m = [list(row) for row in params.mds]
    constants = [list(row) for row in params.round_constants]
    # Constants: push everything but x_0's share forward, through M, into the next round.
    scalars = []
    for i in range(half, half + partial):
        rest = [0] + constants[i][1:]
        scalars.append(constants[i][0])
        pushed = linalg.mat_vec(m, rest, p)
        constants[i + 1] = [(c + d) % p for c, d in zip(constants[i + 1], pushed)]
    # Matrices: split backwards, each B moving into the previous round's matrix.
    sparse: list[list[int]] = [[]] * partial
    a = m
    for i in range(partial - 1, -1, -1):
        sparse[i], b = _sparse_split(a, p)
        a = linalg.mat_mul(b, m, p)
    full = constants[:half] + constants[half + partial:]
    return OptimizedRounds(full, scalars, m, a, sparse)
