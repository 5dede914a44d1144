"""G1 and G2: point formulas (Jacobian, XYZZ, affine) for CPU and CUDA, checks and encodings.

  formulas.py   the a = 0 formulas, written once over Fq or Fq2 (`compile_curve`)
  constants.py  endomorphism constants derived from kernels.params
  g1.py, g2.py  the per-curve factories and their CPU builds (`g1`, `g2`)
  batch.py      CPU-only routines that allocate: scalar mul, subgroup checks, batch affine, sums
  glv.py        endomorphism splits: G1 scalars in two 128-bit halves (GLV), G2 in four 64-bit
                base-|x| digits by psi (GLS), for the MSM and the per-point multiplications
  fixed_base.py many scalars times one base point by a windowed table (key generation)
  device.py     CUDA builds (`device_curves()`)
  points.py     the friendly NumPy layer other modules use
  sqrt.py       square roots in Fq and Fq2
  encoding.py   compressed (48/96-byte) and uncompressed point encodings
"""
