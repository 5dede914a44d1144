"""Radix-2 NTT over Fr and the coset variants Groth16 needs (CPU; CUDA stage kernels in `device`).

    ntt(values, inverse=False) -> new array        ntt_inplace(values, inverse=False) -> values
    intt(values) -> new array                      coset_ntt(values, shift) / coset_intt(values, shift)
    domain_root(n) -> int (primitive n-th root of unity, generator 7 as arkworks)

Values are (n, 8) uint32 arrays of Montgomery Fr elements, n a power of two (ValueError otherwise).
`kernels.ntt.device` (imported on demand) holds the CUDA build: `ntt_device`, `coset_ntt_device`, their
in-place forms on device arrays, and row-wise products, differences and conversion out of Montgomery form.
"""

from kernels.ntt.domain import (DEFAULT_GENERATOR, SNARKJS_GENERATOR, TWO_ADIC_ROOT, TWO_ADICITY, domain_root,
                                two_adic_root)
from kernels.ntt.radix2 import (coset_intt, coset_intt_inplace, coset_ntt, coset_ntt_inplace, intt, ntt,
                                ntt_inplace, twiddles)

__all__ = ["ntt", "ntt_inplace", "intt", "coset_ntt", "coset_intt", "coset_ntt_inplace", "coset_intt_inplace",
           "domain_root", "two_adic_root", "twiddles", "TWO_ADICITY", "TWO_ADIC_ROOT", "DEFAULT_GENERATOR",
           "SNARKJS_GENERATOR"]
