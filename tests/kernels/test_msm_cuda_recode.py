"""Signed digits recoded on the device equal the CPU recoding (simulator in CI)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kernels import params
from kernels.ff.fields import FR
from kernels.msm import pippenger

R = params.R


def _host_digits(scalars, c, nwin):
    digits = np.empty((nwin, scalars.shape[0]), np.int32)
    pippenger._g1_msm.recode(scalars, c, digits)
    return digits


def test_device_recoding_equals_the_host_recoding_for_every_window(cuda_device):
    from kernels.msm.cuda_recode import recode_cuda

    rng = random.Random(51)
    scalars = FR.canonical([0, 1, R - 1, 2, (1 << 255) % R, rng.randrange(R), rng.randrange(R), rng.randrange(1 << 64)])
    for c in range(1, 17):
        nwin = pippenger._windows(255, c)        # every window a 255-bit scalar has, and its carry
        got = recode_cuda(scalars, c, nwin)
        assert np.array_equal(got, _host_digits(scalars, c, nwin)), c
        assert int(np.abs(got).max()) <= 1 << (c - 1)
        for k, value in enumerate(FR.canonical_to_ints(scalars)):    # the digits give the scalars back
            assert sum(int(d) << (w * c) for w, d in enumerate(got[:, k])) == value


def test_device_recoding_of_short_scalars_over_few_windows(cuda_device):
    from kernels.msm.cuda_recode import recode_cuda

    rng = np.random.default_rng()
    scalars = FR.canonical([int(v) for v in rng.integers(0, 1 << 20, 16)])
    for c in (3, 7, 13):
        nwin = pippenger._windows(20, c)
        assert np.array_equal(recode_cuda(scalars, c, nwin), _host_digits(scalars, c, nwin))


def test_device_recoding_rejects_windows_past_16(cuda_device):
    from kernels.msm.cuda_recode import recode_cuda

    with pytest.raises(ValueError, match="1 <= c <= 16"):
        recode_cuda(FR.canonical([5]), 17, 16)
