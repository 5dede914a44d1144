"""snarkjs / circom interoperability for Groth16 over BLS12-381 (curve name "bls12381").

  binfile.py   the iden3 binary container (magic, version, typed sections)
  r1cs_file.py circom .r1cs -> R1CS
  wtns_file.py snarkjs/circom .wtns -> witness (canonical Fr limbs)
  zkey_file.py snarkjs .zkey -> ProvingKey, VerifyingKey and the QAP rows to prove with
  json_io.py   verification_key.json, proof.json, public.json export and import
"""

from pipeline.snarkjs.json_io import (proof_from_json, proof_to_json, public_from_json,  # noqa: F401
                                      public_to_json, vk_from_json, vk_to_json)
from pipeline.snarkjs.r1cs_file import read_r1cs  # noqa: F401
from pipeline.snarkjs.wtns_file import read_wtns  # noqa: F401
from pipeline.snarkjs.zkey_file import read_zkey  # noqa: F401
