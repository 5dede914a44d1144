"""Multi-scalar multiplication on G1 and G2.

  pippenger.py    msm_g1, msm_g2: the bucket method on the CPU (prange); device="cuda" hands it to cuda_msm
  tables.py       fixed-base tables of a proving key's points (CPU)
  cuda.py         device bucket accumulation: the sort of (bucket, point) entries, chunk and combine kernels
  cuda_recode.py  signed-digit recoding kernel
  cuda_reduce.py  bucket reduction and window combination kernels
  cuda_msm.py     the device MSM driver (bucket_msm_device), msm_g1_cuda/msm_g2_cuda, pinned scalar uploads
  resident.py     point tables kept in device memory (a proving key's), MSMs against them; free device memory
"""
