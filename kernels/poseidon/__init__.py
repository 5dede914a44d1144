"""Poseidon over Fr (x^5): Grain LFSR parameters, the permutation (CPU and CUDA), the sponge.

    poseidon_params(t) -> PoseidonParams       (R_F, R_P, constants, MDS, MDS check, describe())
    poseidon_permutation(state, t) -> ints     native; poseidon_permutation_ints: Python-int reference
    permute_inplace / permute_batch_inplace    on (t, 8) / (m, t, 8) Montgomery arrays
    poseidon_hash(inputs, t, domain_tag) -> int, PoseidonSponge, sponge_domain_tag(label, length, t)
    poseidon_hash_batch(inputs (m, L, 8), t, tag) -> (m, 8); poseidon_hash_many(rows, t, tag) -> ints

t = 3 and t = 5 are the reference instances (R_F = 8, R_P = 57 / 60, published vectors); wider
widths take R_P from the security bounds (`rounds.py`). `kernels.poseidon.device` is the CUDA build.
"""

from kernels.poseidon.optimized import OptimizedRounds, optimize
from kernels.poseidon.grain import GrainLFSR, MdsCheck, mds_security_check
from kernels.poseidon.params import PoseidonParams, generate_params, poseidon_params
from kernels.poseidon.permutation import (NativeRounds, compile_permutation, native_rounds, permute_batch_inplace,
                                          permute_inplace, poseidon_permutation, poseidon_permutation_ints)
from kernels.poseidon.rounds import round_numbers, security_bound_rounds
from kernels.poseidon.sponge import (PoseidonSponge, poseidon_hash, poseidon_hash_batch, poseidon_hash_many,
                                     sponge_domain_tag)

__all__ = ["OptimizedRounds", "optimize", "GrainLFSR", "MdsCheck", "mds_security_check", "PoseidonParams", "generate_params", "poseidon_params",
           "NativeRounds", "compile_permutation", "native_rounds", "permute_batch_inplace", "permute_inplace",
           "poseidon_permutation", "poseidon_permutation_ints", "round_numbers", "security_bound_rounds",
           "PoseidonSponge", "poseidon_hash", "poseidon_hash_batch", "poseidon_hash_many", "sponge_domain_tag"]
