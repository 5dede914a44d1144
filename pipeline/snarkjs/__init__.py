"""snarkjs / circom interoperability for Groth16 over BLS12-381 (curve name "bls12381").

  binfile.py   the iden3 binary container (magic, version, typed sections)
  r1cs_file.py circom .r1cs -> R1CS
  wtns_file.py snarkjs/circom .wtns -> witness (canonical Fr limbs)
  zkey_file.py snarkjs .zkey -> ProvingKey, VerifyingKey and the QAP rows to prove with
  json_io.py   verification_key.json, proof.json, public.json export and import
"""

# Names load on first use (PEP 562): reading JSON needs no kernels, and the CLI reads its files
# before it loads Numba (start-up time).
from pipeline.lazy_exports import lazy_exports

_EXPORTS = {
    "json_io": ("proof_from_json", "proof_to_json", "public_from_json", "public_to_json", "vk_from_json",
                "vk_to_json"),
    "r1cs_file": ("read_r1cs",),
    "wtns_file": ("read_wtns",),
    "zkey_file": ("read_zkey",),
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
