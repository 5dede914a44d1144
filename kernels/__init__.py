"""BLS12-381 arithmetic: fields, curves, MSM, NTT, pairing, Poseidon; compiled for CPU and CUDA."""
