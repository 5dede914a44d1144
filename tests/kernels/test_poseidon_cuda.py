"""The CUDA Poseidon permutation agrees with the CPU: simulator in CI, GPU under ZKP_GPU_TESTS=1."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kernels.ff.fields import FR
from kernels.poseidon import permute_batch_inplace, poseidon_permutation_ints


@pytest.fixture(scope="module")
def poseidon_cuda():
    from kernels.poseidon import device
    return device


def test_device_permutation_matches_cpu(cuda_device, poseidon_cuda):
    rng = random.Random(4)
    t = 3
    ints = [[0, 1, 2], [rng.randrange(FR.modulus) for _ in range(t)]]
    states = FR.from_ints([v for row in ints for v in row]).reshape(2, t, 8)
    got = poseidon_cuda.permute_batch_device(states, t)
    assert [FR.to_ints(got[k]) for k in range(2)] == [poseidon_permutation_ints(row, t) for row in ints]


@pytest.mark.gpu
@pytest.mark.parametrize("t", [3, 5, 9, 12])
def test_device_permutation_matches_cpu_in_bulk(cuda_device, poseidon_cuda, t):
    rng = np.random.default_rng(t)
    m = 4096
    states = FR.from_ints([int(v) for v in rng.integers(0, 2**63, m * t)]).reshape(m, t, 8)
    expected = permute_batch_inplace(states.copy(), t)
    assert (poseidon_cuda.permute_batch_device(states, t) == expected).all()
