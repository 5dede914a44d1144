"""MSM with the CUDA bucket kernels equals the CPU MSM (simulator in CI, GPU under ZKP_GPU_TESTS=1)."""

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


def _runs_as_buckets(runs, nwin, nb):
    """bucket -> sorted list of (point, negated) from BucketRuns, checking chunk bounds on the way."""
    out = {}
    for g in range(nwin * nb):
        for c in range(runs.first_chunk[g], runs.first_chunk[g + 1]):
            assert runs.chunk_start[c] < runs.chunk_end[c]
            for e in runs.entries[runs.chunk_start[c]:runs.chunk_end[c]]:
                out.setdefault(g, []).append((int(e) >> 1, bool(e & 1)))
    return {g: sorted(v) for g, v in out.items()}


@pytest.mark.parametrize("chunk", [None, 1, 3])
def test_sort_by_bucket_covers_every_digit_once(chunk):
    from kernels.msm.cuda import sort_by_bucket

    rng = np.random.default_rng()
    nwin, m, nb = 3, 50, 8
    digits = rng.integers(-nb, nb + 1, size=(nwin, m)).astype(np.int32)
    digits[1, :40] = 5                          # one heavy bucket
    runs = sort_by_bucket(digits, nb, chunk)
    want = {}
    for w in range(nwin):
        for k in range(m):
            d = int(digits[w, k])
            if d:
                want.setdefault(w * nb + abs(d) - 1, []).append((k, d < 0))
    assert _runs_as_buckets(runs, nwin, nb) == {g: sorted(v) for g, v in want.items()}
    used = chunk or 32                          # max(MIN_CHUNK, √(largest bucket)) = 32 here
    assert int((runs.chunk_end - runs.chunk_start).max()) <= used
    heavy, crowd = 1 * nb + 4, int((np.abs(digits[1]) == 5).sum())
    assert runs.first_chunk[heavy + 1] - runs.first_chunk[heavy] == -(-crowd // used)


def test_sort_by_bucket_splits_a_dominant_bucket_by_its_square_root():
    from kernels.msm.cuda import MIN_CHUNK, sort_by_bucket

    digits = np.ones((1, 10_000), np.int32)      # every point in bucket 0, as with 0/1 witness values
    runs = sort_by_bucket(digits, 4)
    assert int((runs.chunk_end - runs.chunk_start).max()) == max(MIN_CHUNK, 100)
    assert runs.first_chunk[1] == 100 and runs.first_chunk[-1] == 100
    with pytest.raises(ValueError, match="no bucket"):
        sort_by_bucket(np.array([[9]], np.int32), 4)


def test_cuda_msm_splits_a_crowded_bucket_into_chunks(cuda_device, monkeypatch):
    import kernels.msm.cuda as msm_cuda

    monkeypatch.setattr(msm_cuda, "MIN_CHUNK", 1)      # chunks of √6 = 2 entries for the crowded bucket
    rng = random.Random(43)
    pts = P.g1_from_ints([g1_ints(ref.multiply(ref.G1, rng.randrange(1, R))) for _ in range(9)])
    # window 4: 3 is digit 3; 13 and 29 recode to digit -3 (and a carry): six points in one bucket
    scalars = FR.canonical([3, 3, 13, 3, 29, 3, 13, 5, 2])
    assert np.array_equal(msm_g1(pts, scalars, device="cuda", window=4), msm_g1(pts, scalars))


def test_the_device_sort_equals_the_host_sort(cuda_device):
    """CuPy's sort on a GPU where CuPy imports; in the simulator (or without CuPy) the host sort."""
    import os

    from kernels.msm.cuda import _cupy, sort_by_bucket, sort_by_bucket_on_device

    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        assert _cupy() is None
    digits = np.array([[1, -2, 0, 2, 2], [0, 0, -1, 1, 0]], np.int32)
    got = [a.get() if hasattr(a, "get") else np.asarray(a)            # CuPy arrays come back by .get()
           for a in sort_by_bucket_on_device(cuda_device.to_device(digits), 2)]
    want = sort_by_bucket(digits, 2)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))
    assert _runs_as_buckets(want, 2, 2) == {0: [(0, False)], 1: [(1, True), (3, False), (4, False)],
                                             2: [(2, True), (3, False)]}


def test_bucket_runs_with_no_nonzero_digit_has_no_chunks():
    from kernels.msm.cuda import bucket_runs

    runs = bucket_runs(np, np.zeros((2, 5), np.int32), 4)
    assert runs.entries.size == 0 and runs.chunk_start.size == 0 and list(runs.first_chunk) == [0] * 9
