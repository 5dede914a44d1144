"""A multi-party Groth16 setup ceremony in snarkjs's own file formats, one module per step.

    powersoftau_new       `ceremony new POWER OUT.ptau`            (no contribution yet)
    powersoftau_contribute`ceremony contribute IN.ptau OUT.ptau`   (and the beacon, type 1)
    powersoftau_prepare   `ceremony prepare IN.ptau OUT.ptau`      (Lagrange sections 12–15)
    powersoftau_verify    `ceremony verify FILE.ptau`
    zkey_new              `ceremony circuit SHAPE PTAU OUT.zkey`   (initial phase-2 key, + OUT.r1cs)
    zkey_contribute       `ceremony contribute IN.zkey OUT.zkey`   (and the beacon)
    zkey_verify           `ceremony verify FILE.zkey [--ptau P] [--r1cs R]`
    zkey_import           `keys import ZKEY`

Files are read and written through `pipeline.snarkjs` (ptau_file, zkey_file, r1cs_file); the
transcript (BLAKE2b, ChaCha, hash-to-G2) is in `transcript`/`blake2b`, proofs of knowledge in
`keypair`; all curve arithmetic is the kernels'.
"""
