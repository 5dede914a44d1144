"""The Groth16 prover: H by coset NTTs, A, B, C by the kernels' multi-scalar multiplications.

With z the assignment, r and s fresh from the CSPRNG:
  A = α + Σ z_j·A_j(τ) + r·δ                     (G1)
  B = β + Σ z_j·B_j(τ) + s·δ                     (G2, and its G1 twin B₁ for C)
  C = Σ_private z_j·L_j + Σ p_i·H_i + s·A + r·B₁ − r·s·δ     (G1)
where p is H's numerator on the odd coset (see r1cs_to_qap). This is snarkjs's prover, so the same
code proves with our keys and with snarkjs .zkey files.

With device="cuda" the key's query points stay on the GPU across proofs (pipeline.groth16.device_key),
every MSM runs there against them, and H's transforms run there too; the witness check, the sparse
products A·z, B·z and the few fixed-point terms stay on the CPU.
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


def prove(pk: ProvingKey, circuit: R1CS | QapMatrices, witness, *, device: str = "cpu", tables=None) -> Proof:
    """A proof that `witness` (the full assignment z, z[0] = 1) satisfies `circuit` under `pk`.

    `circuit` is an R1CS (the witness is checked against every constraint first) or the QAP rows
    read from a .zkey (no C there, so only the shape is checked; the snarkjs command verifies the
    result instead). `device` is "cpu" or "cuda" (MSMs against the key kept on the GPU, H's
    transforms there). Raises ProofError for a key of another circuit or a witness that does not
    satisfy the R1CS (naming the constraint), InputError for a malformed witness, DeviceError when
    the key does not fit in the GPU's free memory, KernelError for "cuda" without a GPU.

    `tables` (pipeline.groth16.prover_tables.ProverTables of this key) runs the CPU MSMs from
    fixed-base tables.

    Every proof is checked before it is returned: A, B, C in the order-r subgroups and valid under
    pk's own verifying key, else ProofError (the key or the tables are damaged or planted). A proof
    that does not verify is never handed out, because it can carry the witness: a key maker who
    adds a known point G to one L or A entry gets C + z_j·G, and z_j falls out of the pairing
    with the verifying key (one check, a few ms, against a proof of about a second).
    """
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    qap = qap_of(circuit)
    _check_key(pk, circuit, qap)
    if device == "cuda":            # before any work: a key that does not fit is refused at once
        from pipeline.groth16.device_key import resident_key
        resident_key(pk)
    if isinstance(circuit, R1CS):
        # A·z and B·z of the witness check are the first rows of H's numerator (qap = qap_of(circuit))
        z, rows = circuit.checked_evaluations(witness)
    else:
        z, rows = witness_to_mont(witness, qap.n_vars), None
    z_plain = np.empty_like(z)
    FR.from_mont_vec(z_plain, z)
    h = h_numerator_odd_coset(qap, z, rows, device=device)
    if tables is not None and device == "cpu":
        from pipeline.groth16.prover_tables import tables_fit
        if not tables_fit(pk, tables):
            raise ProofError("the fixed-base tables do not fit this proving key (made for another key?)")
    used = tables if device == "cpu" else None
    proof = _assemble(pk, z_plain, h, device, used)
    _check_proof(pk, z_plain, proof, used is not None, witness_checked=isinstance(circuit, R1CS),
                 on_device=device == "cuda")
    return proof


class ProofFailsCheck(ProofError):
    """The proof just made is not in the subgroups or does not verify under the key's verifying key."""


def _check_proof(pk: ProvingKey, z_plain: np.ndarray, proof: Proof, with_tables: bool,
                 witness_checked: bool = True, on_device: bool = False) -> None:
    # Subgroup first: a key or table point with a small-order component would add z_j times that
    # component to A or C, which the pairing ignores (a verifying proof that leaks z_j mod its order).
    from kernels.ec.points import g1_validate, g2_validate
    from kernels.errors import EncodingError
    from pipeline.groth16.verifier import verify

    try:
        g1_validate(np.stack([proof.a, proof.c]))
        g2_validate(proof.b)
        valid = True
    except EncodingError:
        valid = False
    public = FR.canonical_to_ints(z_plain[1:pk.n_public + 1])
    if not valid or not verify(pk.vk, public, proof):
        if not witness_checked:
            raise ProofFailsCheck("the proof does not verify under the key's verifying key: the witness does not "
                                  "satisfy the key's circuit, or the key is damaged")
        if on_device:
            raise ProofFailsCheck("a proof made on the GPU does not verify under the key's verifying key: the GPU "
                                  "computed a wrong result or the key is damaged; prove with --device cpu to tell "
                                  "which (if that fails too, do not use the key)")
        if with_tables:
            raise ProofFailsCheck("a proof made with this key's fixed-base tables does not verify: the tables are "
                             "damaged; delete proving.tables beside the key or rebuild it with `zkp-ledger keys tables`")
        raise ProofFailsCheck("a proof made with this proving key does not verify under the key's own verifying key: "
                         "the key is damaged or was made to leak the data (its A, L or H points are not what "
                         "they should be); do not use it, and make or import keys again")


def _assemble(pk: ProvingKey, z_plain: np.ndarray, h_plain: np.ndarray, device: str, tables=None) -> Proof:
    """The proof's points; MSMs from fixed-base `tables`, or with device "cuda" on the GPU against
    the key kept there (pipeline.groth16.device_key), else on the CPU."""
    from kernels.ec.points import g1_add, g1_mul, g2_add, g2_mul
    from kernels.msm.pippenger import msm_g1, msm_g2

    resident = None
    if device == "cuda" and tables is None:
        from pipeline.groth16.device_key import resident_key
        resident = resident_key(pk)

    def msm(name, scalars):
        if tables is not None:
            from kernels.msm.tables import msm_with_table
            return msm_with_table(tables.tables[name], scalars)
        if resident is not None:
            return resident.msm(name, scalars)
        return (msm_g2 if name == "b_g2_query" else msm_g1)(getattr(pk, name), scalars)

    r, s = _random_scalar(), _random_scalar()
    vk = pk.vk
    a = msm("a_query", z_plain)
    a = g1_add(g1_add(a, vk.alpha_g1), g1_mul(pk.delta_g1, r))
    b2 = msm("b_g2_query", z_plain)
    b2 = g2_add(g2_add(b2, vk.beta_g2), g2_mul(vk.delta_g2, s))
    b1 = msm("b_g1_query", z_plain)
    b1 = g1_add(g1_add(b1, pk.beta_g1), g1_mul(pk.delta_g1, s))
    c = msm("l_query", z_plain[pk.n_public + 1:])
    c = g1_add(c, msm("h_query", h_plain))
    c = g1_add(c, g1_mul(a, s))
    c = g1_add(c, g1_mul(b1, r))
    c = g1_add(c, g1_mul(pk.delta_g1, (-r * s) % R))
    del r, s
    return Proof(np.asarray(a), np.asarray(b2), np.asarray(c))
