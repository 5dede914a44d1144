"""The Groth16 prover: H by coset NTTs, A, B, C by the kernels' multi-scalar multiplications.

With z the assignment, r and s fresh from the CSPRNG:
  A = α + Σ z_j·A_j(τ) + r·δ                     (G1)
  B = β + Σ z_j·B_j(τ) + s·δ                     (G2, and its G1 twin B₁ for C)
  C = Σ_private z_j·L_j + Σ p_i·H_i + s·A + r·B₁ − r·s·δ     (G1)
where p is H's numerator on the odd coset (see r1cs_to_qap). This is snarkjs's prover, so the same
code proves with our keys and with snarkjs .zkey files.
"""

from __future__ import annotations

import secrets

import numpy as np

from kernels import params
from kernels.ff.fields import FR
from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import ProvingKey, Proof
from pipeline.groth16.r1cs import R1CS, witness_to_mont
from pipeline.groth16.r1cs_to_qap import QapMatrices, h_numerator_odd_coset, qap_matrices

R = params.R
DEVICES = ("cpu", "cuda")


def qap_of(circuit: R1CS | QapMatrices) -> QapMatrices:
    """The QAP rows of a circuit, computed once per R1CS object."""
    if isinstance(circuit, QapMatrices):
        return circuit
    qap = circuit.__dict__.get("_qap")
    if qap is None:
        qap = circuit.__dict__["_qap"] = qap_matrices(circuit)
    return qap


def _check_key(pk: ProvingKey, circuit, qap: QapMatrices) -> None:
    if isinstance(circuit, R1CS) and pk.circuit_digest != circuit.digest():
        raise ProofError("the proving key belongs to another circuit (circuit digest differs)")
    if (pk.n_vars, pk.n_public, pk.domain_size) != (qap.n_vars, qap.n_public, qap.domain_size):
        raise ProofError(f"the proving key belongs to another circuit: key has {pk.n_vars} variables, "
                         f"{pk.n_public} public, domain {pk.domain_size}; circuit has {qap.n_vars}, "
                         f"{qap.n_public}, {qap.domain_size}")


def _random_scalar() -> int:
    return secrets.randbelow(R - 1) + 1


def prove(pk: ProvingKey, circuit: R1CS | QapMatrices, witness, *, device: str = "cpu") -> Proof:
    """A proof that `witness` (the full assignment z, z[0] = 1) satisfies `circuit` under `pk`.

    `circuit` is an R1CS (the witness is checked against every constraint first) or the QAP rows
    read from a .zkey (no C there, so only the shape is checked; the snarkjs command verifies the
    result instead). `device` is "cpu" or "cuda" for the MSMs. Raises ProofError for a key of
    another circuit or a witness that does not satisfy the R1CS (naming the constraint), and
    InputError for a malformed witness.
    """
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    qap = qap_of(circuit)
    _check_key(pk, circuit, qap)
    z = circuit.check_witness(witness) if isinstance(circuit, R1CS) else witness_to_mont(witness, qap.n_vars)
    z_plain = np.empty_like(z)
    FR.from_mont_vec(z_plain, z)
    h = h_numerator_odd_coset(qap, z)
    return _assemble(pk, z_plain, h, device)


def _assemble(pk: ProvingKey, z_plain: np.ndarray, h_plain: np.ndarray, device: str) -> Proof:
    from kernels.ec.points import g1_add, g1_mul, g2_add, g2_mul
    from kernels.msm.pippenger import msm_g1, msm_g2

    r, s = _random_scalar(), _random_scalar()
    vk = pk.vk
    a = msm_g1(pk.a_query, z_plain, device=device)
    a = g1_add(g1_add(a, vk.alpha_g1), g1_mul(pk.delta_g1, r))
    b2 = msm_g2(pk.b_g2_query, z_plain, device=device)
    b2 = g2_add(g2_add(b2, vk.beta_g2), g2_mul(vk.delta_g2, s))
    b1 = msm_g1(pk.b_g1_query, z_plain, device=device)
    b1 = g1_add(g1_add(b1, pk.beta_g1), g1_mul(pk.delta_g1, s))
    c = msm_g1(pk.l_query, z_plain[pk.n_public + 1:], device=device)
    c = g1_add(c, msm_g1(pk.h_query, h_plain, device=device))
    c = g1_add(c, g1_mul(a, s))
    c = g1_add(c, g1_mul(b1, r))
    c = g1_add(c, g1_mul(pk.delta_g1, (-r * s) % R))
    del r, s
    return Proof(np.asarray(a), np.asarray(b2), np.asarray(c))
