"""The CUDA builds of Fq, Fr and Fq2 agree with the CPU builds (simulator in CI, GPU under ZKP_GPU_TESTS=1)."""

from __future__ import annotations

import random

import numpy as np

from kernels import params
from kernels.ff.fields import FQ, FR, fq2_from_ints, fq2_to_ints
from tests.kernels import field_kernels


def test_device_fq_and_fr_match_integers(cuda_device):
    rng = random.Random()
    for field, kernel in ((FQ, field_kernels.fq_mix_kernel), (FR, field_kernels.fr_mix_kernel)):
        m = field.modulus
        xs = [0, 1, m - 1] + [rng.randrange(m) for _ in range(5)]
        ys = [m - 1, 0, m - 1] + [rng.randrange(m) for _ in range(5)]
        a, b = field.from_ints(xs), field.from_ints(ys)
        out = np.zeros((len(xs), 4, field.nlimbs), np.uint32)
        kernel[1, len(xs)](out, a, b)
        got = [field.to_ints(out[:, k]) for k in range(4)]
        assert got[0] == [x * y % m for x, y in zip(xs, ys)]
        assert got[1] == [(x - y) % m for x, y in zip(xs, ys)]
        assert got[2] == [(-x + 2 * y) % m for x, y in zip(xs, ys)]
        assert got[3] == [pow(x, -1, m) if x else 0 for x in xs]


def test_device_fq2_matches_integers(cuda_device):
    p = params.P
    rng = random.Random()
    a = [(rng.randrange(p), rng.randrange(p)) for _ in range(4)]
    b = [(rng.randrange(p), rng.randrange(p)) for _ in range(4)]
    out = np.zeros((4, 3, 2, 12), np.uint32)
    field_kernels.fq2_mix_kernel[1, 4](out, fq2_from_ints(a), fq2_from_ints(b))

    def mul(x, y):
        return ((x[0] * y[0] - x[1] * y[1]) % p, (x[0] * y[1] + x[1] * y[0]) % p)

    assert fq2_to_ints(out[:, 0]) == [mul(x, y) for x, y in zip(a, b)]
    assert fq2_to_ints(out[:, 1]) == [mul(x, x) for x in a]
    assert fq2_to_ints(out[:, 2]) == [(1, 0)] * 4  # a * a^-1
