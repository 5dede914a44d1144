"""Groth16 verification: one proof by a 4-pairing product, many by a random linear combination.

One proof: e(A, B) = e(α, β)·e(L, γ)·e(C, δ) with L = IC_0 + Σ x_i·IC_i, checked as
e(A, B)·e(−L, γ)·e(−C, δ)·e(−α, β) = 1 (four Miller loops, one final exponentiation).

A batch of k proofs under one key, with random 128-bit ρ_k from the CSPRNG:
  Π e(ρ_k·A_k, B_k) · e(−Σρ_k·L_k, γ) · e(−Σρ_k·C_k, δ) = e(α, β)^{Σρ_k}
i.e. k + 2 Miller loops, one final exponentiation, and e(α, β) computed once per key. A forged
proof passes only with probability about 2^−128.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np

from kernels import params
from kernels.ff.fields import FR
from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import Proof, VerifyingKey

R = params.R
RHO_BITS = 128


def check_public_inputs(vk: VerifyingKey, public_inputs: Sequence[int]) -> list[int]:
    """The public inputs as ints; raises ProofError when their number does not fit the key and
    InputError for a value outside [0, r)."""
    values = [int(x) for x in public_inputs]
    if len(values) != vk.n_public:
        raise ProofError(f"the verifying key expects {vk.n_public} public inputs, got {len(values)} "
                         "(key for another circuit?)")
    for i, x in enumerate(values):
        if not 0 <= x < R:
            raise InputError(f"public input {i} is not a field element (must be in [0, r), got {x})")
    return values


def _input_point(vk: VerifyingKey, scalars: list[int], ic0_scale: int = 1) -> np.ndarray:
    """ic0_scale·IC_0 + Σ scalars_i·IC_{i+1} by one MSM."""
    from kernels.msm.pippenger import msm_g1
    return msm_g1(np.ascontiguousarray(vk.ic), FR.canonical([ic0_scale] + scalars))


def prepare_inputs(vk: VerifyingKey, public_inputs: Sequence[int]) -> np.ndarray:
    """L = IC_0 + Σ x_i·IC_i (affine G1); raises as `check_public_inputs`."""
    return _input_point(vk, check_public_inputs(vk, public_inputs))


def verify(vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof) -> bool:
    """True when the proof is valid for these public inputs under vk, False otherwise.

    Raises ProofError when the number of inputs does not fit the key, InputError for an input ≥ r.
    """
    from kernels.ec.points import g1_neg
    from kernels.pairing import pairing_check

    lhs = prepare_inputs(vk, public_inputs)
    ps = np.stack([proof.a, g1_neg(lhs), g1_neg(proof.c), g1_neg(vk.alpha_g1)])
    qs = np.stack([proof.b, vk.gamma_g2, vk.delta_g2, vk.beta_g2])
    return bool(pairing_check(ps, qs))


def _alpha_beta(vk: VerifyingKey) -> np.ndarray:
    cached = vk.__dict__.get("_alpha_beta")
    if cached is None:
        from kernels.pairing import pairing
        cached = vk.__dict__["_alpha_beta"] = pairing(vk.alpha_g1, vk.beta_g2)
    return cached


def batch_verify(vk: VerifyingKey, batch: Sequence[tuple[Sequence[int], Proof]]) -> bool:
    """True when every (public inputs, proof) pair of the batch is valid under vk (up to 2^−128).

    An empty batch is valid. Raises as `check_public_inputs` for any item.
    """
    from kernels.ec.points import g1_mul, g1_neg
    from kernels.ff.towers import fq12, new_scratch
    from kernels.msm.pippenger import msm_g1
    from kernels.pairing import final_exponentiation, fq12_eq, miller_loop

    items = [(check_public_inputs(vk, x), proof) for x, proof in batch]
    if not items:
        return True
    rho = [secrets.randbits(RHO_BITS) | 1 for _ in items]
    # Σρ_k·L_k = (Σρ_k)·IC_0 + Σ_i (Σ_k ρ_k·x_{k,i})·IC_i: one MSM over the key's IC.
    combined = [sum(r * x[i] for r, (x, _) in zip(rho, items)) % R for i in range(vk.n_public)]
    rho_sum = sum(rho) % R
    lhs = _input_point(vk, combined, rho_sum)
    cs = msm_g1(np.stack([p.c for _, p in items]), FR.canonical(rho))
    ps = [g1_mul(p.a, r) for r, (_, p) in zip(rho, items)] + [g1_neg(lhs), g1_neg(cs)]
    qs = [p.b for _, p in items] + [vk.gamma_g2, vk.delta_g2]
    got = final_exponentiation(miller_loop(np.stack(ps), np.stack(qs)))
    want = np.empty_like(got)
    bits = np.array([int(b) for b in bin(rho_sum)[2:]], np.uint8)
    fq12.cyclotomic_pow_bits(want, _alpha_beta(vk), bits, new_scratch())
    return bool(fq12_eq(got, want))
