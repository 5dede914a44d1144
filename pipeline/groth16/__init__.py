"""Groth16 over BLS12-381, file by file after the protocol's steps (as arkworks cuts it).

  r1cs.py          R1CS (sparse A, B, C; public inputs first), builder, witness check
  r1cs_to_qap.py   the QAP domain and H's numerator on the odd coset (snarkjs's convention)
  setup.py         one-party key generation (toxic waste from `secrets`, erased after use)
  prover.py        prove(pk, circuit, witness) -> Proof
  verifier.py      verify, batch_verify (random linear combination, one final exponentiation)
  keys.py          ProvingKey (memory-mappable file), VerifyingKey, Proof (192 bytes)

Arithmetic comes from `kernels` only.
"""

from pipeline.groth16.keys import (Proof, ProvingKey, VerifyingKey, load_proving_key,  # noqa: F401
                                   load_verifying_key)
from pipeline.groth16.prover import prove  # noqa: F401
from pipeline.groth16.r1cs import R1CS, LinearCombination, R1CSBuilder, SparseMatrix  # noqa: F401
from pipeline.groth16.r1cs_to_qap import QapMatrices, qap_matrices  # noqa: F401
from pipeline.groth16.setup import setup  # noqa: F401
from pipeline.groth16.verifier import batch_verify, prepare_inputs, verify  # noqa: F401
