"""Multi-scalar multiplication on G1 and G2.

  pippenger.py  msm_g1, msm_g2: the bucket method on the CPU (prange) with a CUDA bucket stage
  cuda.py       the CUDA bucket-accumulation kernel (numba.cuda, simulator-tested)
"""
