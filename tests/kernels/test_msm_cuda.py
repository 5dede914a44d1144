"""MSM with the CUDA bucket kernel equals the CPU MSM (simulator in CI, GPU under ZKP_GPU_TESTS=1)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from py_ecc import optimized_bls12_381 as ref

from kernels import params
from kernels.ec import points as P
from kernels.ff.fields import FR
from kernels.msm.pippenger import msm_g1, msm_g2
from tests.kernels.test_ec_points import g1_ints, g2_ints

R = params.R


def test_cuda_msm_g1_matches_cpu(cuda_device):
    rng = random.Random(41)
    pts = P.g1_from_ints([g1_ints(ref.multiply(ref.G1, rng.randrange(1, R))) for _ in range(8)] + [None])
    # short scalars keep the simulator quick; one full-width scalar and r - 1 exercise the top windows
    scalars = FR.canonical([rng.randrange(1 << 12) for _ in range(5)] + [0, 1, R - 1, rng.randrange(R)])
    want = msm_g1(pts, scalars)
    assert np.array_equal(msm_g1(pts, scalars, device="cuda", window=6), want)
    small = FR.canonical([rng.randrange(2, 1 << 10) for _ in range(9)])
    assert np.array_equal(msm_g1(pts, small, device="cuda"), msm_g1(pts, small))


def test_cuda_msm_g2_matches_cpu(cuda_device):
    rng = random.Random(42)
    pts = P.g2_from_ints([g2_ints(ref.multiply(ref.G2, rng.randrange(1, R))) for _ in range(3)])
    scalars = FR.canonical([rng.randrange(2, 1 << 8) for _ in range(3)])
    assert np.array_equal(msm_g2(pts, scalars, device="cuda", window=4), msm_g2(pts, scalars))


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    from numba import cuda

    from kernels.errors import KernelError

    monkeypatch.setattr(cuda, "is_available", lambda: False)
    pts = P.g1_from_ints([params.G1_GENERATOR])
    with pytest.raises(KernelError, match="needs an NVIDIA GPU"):
        msm_g1(pts, FR.canonical([5]), device="cuda")
