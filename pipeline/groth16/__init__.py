"""Groth16 over BLS12-381, file by file after the protocol's steps (as arkworks cuts it).

  r1cs.py          R1CS (sparse A, B, C; public inputs first), builder, witness check
  r1cs_to_qap.py   the QAP domain and H's numerator on the odd coset (snarkjs's convention)
  setup.py         one-party key generation (toxic waste from `secrets`, erased after use)
  prover.py        prove(pk, circuit, witness) -> Proof
  device_key.py    a proving key kept on the GPU for device="cuda" (uploaded once per process, memory checked)
  verifier.py      verify, batch_verify (random linear combination, one final exponentiation)
  keys.py          ProvingKey (memory-mappable file), VerifyingKey, Proof (192 bytes)

Arithmetic comes from `kernels` only.
"""

# Names load on first use (PEP 562): `keys` alone needs no kernels, and the CLI reads key files
# before it loads Numba (start-up time).
import sys
import types

from pipeline.lazy_exports import lazy_exports

_EXPORTS = {
    "keys": ("Proof", "ProvingKey", "VerifyingKey", "load_proving_key", "load_verifying_key"),
    "prover": ("prove",),
    "r1cs": ("R1CS", "LinearCombination", "R1CSBuilder", "SparseMatrix"),
    "r1cs_to_qap": ("QapMatrices", "qap_matrices"),
    "setup": ("setup",),
    "verifier": ("batch_verify", "prepare_inputs", "verify"),
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)


class _Package(types.ModuleType):
    def __setattr__(self, name, value):
        # Importing the submodule `setup` binds it on the package; the package's `setup` is the function.
        if name == "setup" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
