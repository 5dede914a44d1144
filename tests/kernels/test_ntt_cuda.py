"""The CUDA NTT (stage kernels) agrees with the CPU NTT: simulator in CI, GPU under ZKP_GPU_TESTS=1."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kernels.ff.fields import FR
from kernels.ntt import coset_ntt, domain_root, intt, ntt

R = FR.modulus


@pytest.fixture(scope="module")
def ntt_cuda():
    from kernels.ntt import device
    return device


@pytest.mark.parametrize("n", [8, 16])
def test_device_ntt_matches_cpu(cuda_device, ntt_cuda, n):
    rng = random.Random(n)
    x = FR.from_ints([0, 1, R - 1] + [rng.randrange(R) for _ in range(n - 3)])
    assert (ntt_cuda.ntt_device(x) == ntt(x)).all()
    assert (ntt_cuda.ntt_device(x, inverse=True) == intt(x)).all()
    shift = domain_root(2 * n)
    assert (ntt_cuda.coset_ntt_device(x, shift) == coset_ntt(x, shift)).all()


@pytest.mark.gpu
def test_device_ntt_matches_cpu_at_2_16(cuda_device, ntt_cuda):
    n = 1 << 16
    rng = np.random.default_rng()
    x = FR.from_ints([int(v) for v in rng.integers(0, 2**63, n)])
    assert (ntt_cuda.ntt_device(x) == ntt(x)).all()
    assert (ntt_cuda.coset_ntt_device(x, domain_root(2 * n)) == coset_ntt(x, domain_root(2 * n))).all()


def test_device_row_operations_match_the_cpu(cuda_device, ntt_cuda):
    """Row-wise product, difference and conversion out of Montgomery form on device arrays, and the
    in-place coset transform, as the CPU computes them (what the device H is made of)."""
    rng = random.Random(5)
    n = 8
    x = FR.from_ints([0, 1, R - 1] + [rng.randrange(R) for _ in range(n - 3)])
    y = FR.from_ints([rng.randrange(R) for _ in range(n - 1)] + [0])
    d_x, d_y = cuda_device.to_device(x), cuda_device.to_device(y)
    want = np.empty_like(x)
    FR.mul_vec(want, x, y)
    assert (ntt_cuda.mul_rows_device(d_x, d_y).copy_to_host() == want).all()
    FR.sub_vec(want, want, y)
    assert (ntt_cuda.sub_rows_device(d_x, d_y).copy_to_host() == want).all()
    FR.from_mont_vec(want, want)
    assert (ntt_cuda.from_mont_device(d_x).copy_to_host() == want).all()
    shift = domain_root(2 * n)
    d_x = cuda_device.to_device(x)
    assert (ntt_cuda.coset_ntt_device_inplace(d_x, shift).copy_to_host() == coset_ntt(x, shift)).all()
    with pytest.raises(ValueError, match="non-zero"):
        ntt_cuda.coset_ntt_device_inplace(d_x, R)
