"""BLS12-381 arithmetic: fields, curves, MSM, NTT, pairing, Poseidon; compiled for CPU and CUDA.

Map (one module per concept, as sppark cuts it):
  params.py            curve constants, derived from the seed x where possible
  ff/montgomery.py     generated straight-line Montgomery routines for one prime field
  ff/x86_mont.py       the CPU product in x86-64 assembly (MULX/ADCX/ADOX) where the host has it
  ff/fields.py         Fq, Fr (+ Fq2) CPU builds (`fq`, `fr`, `fq2`) and array forms (`FQ`, `FR`)
  ff/fq2.py            Fq2 routines (CPU and CUDA from one source)
  ff/towers.py         Fq6, Fq12
  ff/device.py         CUDA builds of the same field routines
  ec/                  G1, G2: Jacobian, XYZZ and affine formulas, compressed encoding, checks
  msm/                 Pippenger multi-scalar multiplication on G1 and G2; on the device against resident tables
  ntt/                 radix-2 NTT over Fr and the coset variants Groth16 needs (CPU and CUDA)
  pairing.py           optimal ate pairing and multi-pairing
  poseidon/            Poseidon permutation over Fr (Grain LFSR constants)

Conventions: an Fq element is a 1-D uint32 array of 12 limbs (Fr: 8) in Montgomery form; an Fq2
element is (2, 12); routines write into `out` (which may alias an input) and take scratch rows
`s` when they need temporaries, so the same source compiles with `njit` and `cuda.jit(device=True)`.
"""
