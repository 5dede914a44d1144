"""The MSM with every bucket stage on the device (recode, accumulate, reduce, combine) equals the
CPU MSM and py_ecc, for G1 and G2 (simulator in CI, GPU under ZKP_GPU_TESTS=1).

Points are known multiples [a_k]G, so py_ecc checks a result by one multiplication by sum s_k a_k.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from py_ecc import optimized_bls12_381 as ref

from kernels import params
from kernels.ec import points as P
from kernels.ff.fields import FQ, FR
from kernels.msm import pippenger
from kernels.msm.pippenger import msm_g1, msm_g2
from tests.kernels.test_ec_points import g1_ints, g2_ints

R = params.R


def _g1_points(secrets):
    return P.g1_from_ints([g1_ints(ref.multiply(ref.G1, a)) for a in secrets])


def _g2_points(secrets):
    return P.g2_from_ints([g2_ints(ref.multiply(ref.G2, a)) for a in secrets])


def _want_g1(secrets, scalars):
    return P.g1_from_ints([g1_ints(ref.multiply(ref.G1, sum(a * s for a, s in zip(secrets, scalars)) % R))])[0]


def _want_g2(secrets, scalars):
    return P.g2_from_ints([g2_ints(ref.multiply(ref.G2, sum(a * s for a, s in zip(secrets, scalars)) % R))])[0]


def _affine(msm, jac):
    out = np.zeros((2,) + jac.shape[1:], np.uint32)
    msm.parts_to_affine(out, jac[None])
    return out


@pytest.mark.parametrize("case", ["random", "all zero", "all one", "repeated"])
def test_device_bucket_msm_g1_equals_cpu_and_py_ecc(cuda_device, case):
    from kernels.msm.cuda_msm import bucket_msm_device

    rng = random.Random(61)
    secrets = [rng.randrange(1, R) for _ in range(6)]
    scalars = {"random": [rng.randrange(1 << 10) for _ in range(6)], "all zero": [0] * 6,
               "all one": [1] * 6, "repeated": [37] * 6}[case]
    pts = _g1_points(secrets)
    c = 4 if case == "random" else 3
    jac = bucket_msm_device("g1", cuda_device.to_device(pts), FR.canonical(scalars), c)
    got = _affine(pippenger._g1_msm, jac)
    assert np.array_equal(got, _want_g1(secrets, scalars))
    assert np.array_equal(got, msm_g1(pts, FR.canonical(scalars)))


@pytest.mark.parametrize("case", ["random", "all one"])
def test_device_bucket_msm_g2_equals_cpu_and_py_ecc(cuda_device, case):
    from kernels.msm.cuda_msm import bucket_msm_device

    rng = random.Random(62)
    secrets = [rng.randrange(1, R) for _ in range(3)]
    scalars = [rng.randrange(2, 1 << 5) for _ in range(3)] if case == "random" else [1, 1, 1]
    pts = _g2_points(secrets)
    jac = bucket_msm_device("g2", cuda_device.to_device(pts), FR.canonical(scalars), 3)
    got = _affine(pippenger._g2_msm, jac)
    assert np.array_equal(got, _want_g2(secrets, scalars))
    assert np.array_equal(got, msm_g2(pts, FR.canonical(scalars)))


@pytest.mark.parametrize("c", [4, 5])
def test_device_reduction_equals_the_host_reduction(cuda_device, c):
    """Random buckets (some empty, some equal, some opposite) reduced and combined on the device and
    on the host (pippenger's reduce_buckets and combine) give the same point."""
    from kernels.msm.cuda_reduce import reduce_and_combine_device

    rng = random.Random(60 + c)
    nwin, nb = 2, 1 << (c - 1)
    base = [g1_ints(ref.multiply(ref.G1, rng.randrange(1, R))) for _ in range(3)]
    pts = P.g1_from_ints([rng.choice(base + [None]) for _ in range(nwin * nb)])
    pts[1] = pts[0]
    pts[2, 0], pts[2, 1] = pts[0, 0], P.g1_neg(pts[0])[1]       # opposite of pts[0]
    buckets = np.zeros((nwin, nb, 4, 12), np.uint32)           # affine as XYZZ: ZZ = ZZZ = 1, or infinity
    one = FQ.from_ints([1])[0]
    for i, p in enumerate(pts):
        w, j = divmod(i, nb)
        if p.any():
            buckets[w, j] = (p[0], p[1], one, one)
        else:
            buckets[w, j, :2] = one                        # XYZZ infinity: (1, 1, 0, 0)
    sums = np.empty((nwin, 1, 4, 12), np.uint32)
    pippenger._g1_msm.reduce_buckets(buckets, sums[:, 0])
    host = np.empty((3, 12), np.uint32)
    pippenger._g1_msm.combine(sums, c, host)
    device = reduce_and_combine_device("g1", cuda_device.to_device(buckets), c).copy_to_host()
    assert np.array_equal(_affine(pippenger._g1_msm, device), _affine(pippenger._g1_msm, host))


def test_msm_g1_cuda_equals_cpu_and_py_ecc(cuda_device):
    from kernels.msm.cuda_msm import msm_g1_cuda

    rng = random.Random(63)
    secrets = [rng.randrange(1, R) for _ in range(9)]
    pts = _g1_points(secrets)
    # 0, 1 and repeated scalars beside short random ones; a window of 4 keeps the simulator quick
    scalars = [0, 1, 1, 9, 9, 9, rng.randrange(1 << 12), rng.randrange(1 << 12), 0]
    got = msm_g1_cuda(pts, FR.canonical(scalars), window=4)
    assert np.array_equal(got, _want_g1(secrets, scalars))
    assert np.array_equal(got, msm_g1(pts, FR.canonical(scalars)))
    assert not msm_g1_cuda(pts, FR.canonical([0] * 9)).any()                 # infinity
    assert np.array_equal(msm_g1_cuda(pts, FR.canonical([1] * 9)), _want_g1(secrets, [1] * 9))


def test_msm_g2_cuda_equals_cpu_and_py_ecc(cuda_device):
    from kernels.msm.cuda_msm import msm_g2_cuda

    rng = random.Random(64)
    secrets = [rng.randrange(1, R) for _ in range(3)]
    pts = _g2_points(secrets)
    scalars = [5, 0, 5]
    got = msm_g2_cuda(pts, FR.canonical(scalars), window=3)
    assert np.array_equal(got, _want_g2(secrets, scalars))
    assert np.array_equal(got, msm_g2(pts, FR.canonical(scalars)))


@pytest.mark.slow
def test_msm_g1_cuda_full_width_scalars(cuda_device):
    from kernels.msm.cuda_msm import msm_g1_cuda

    rng = random.Random(65)
    secrets = [rng.randrange(1, R) for _ in range(8)]
    scalars = [rng.randrange(R) for _ in range(7)] + [R - 1]
    got = msm_g1_cuda(_g1_points(secrets), FR.canonical(scalars))
    assert np.array_equal(got, _want_g1(secrets, scalars))


def test_msm_cuda_rejects_windows_past_16(cuda_device):
    from kernels.msm.cuda_msm import msm_g1_cuda

    with pytest.raises(ValueError, match="1 <= window <= 16"):
        msm_g1_cuda(P.g1_from_ints([params.G1_GENERATOR]), FR.canonical([5]), window=17)
