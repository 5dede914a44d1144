"""Point tables kept on the device (kernels.msm.resident): MSMs against any rows of a resident table
equal the CPU MSM, the sort's entries name table rows, and staging through pinned memory works
(simulator in CI, GPU under ZKP_GPU_TESTS=1)."""

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
from tests.kernels.test_msm_cuda import _runs_as_buckets

R = params.R


def test_sort_entries_name_the_given_rows():
    from kernels.msm.cuda import sort_by_bucket

    digits = np.array([[1, -2, 0, 2], [0, 0, -1, 1]], np.int32)
    rows = np.array([7, 3, 11, 0])
    plain = _runs_as_buckets(sort_by_bucket(digits, 2), 2, 2)
    mapped = _runs_as_buckets(sort_by_bucket(digits, 2, rows=rows), 2, 2)
    assert mapped == {g: sorted((int(rows[k]), neg) for k, neg in v) for g, v in plain.items()}
    with pytest.raises(ValueError, match="4 digit columns but 3 point rows"):
        sort_by_bucket(digits, 2, rows=rows[:3])
    with pytest.raises(ValueError, match="30 bits"):
        sort_by_bucket(digits, 2, rows=np.array([0, 1, 2, 1 << 30]))


def test_resident_g1_table_serves_many_msms(cuda_device):
    from kernels.msm.resident import ResidentPoints

    rng = random.Random(71)
    pts = P.g1_from_ints([g1_ints(ref.multiply(ref.G1, rng.randrange(1, R))) for _ in range(9)] + [None])
    table = ResidentPoints("g1", pts)
    assert table.rows == 10 and table.nbytes == pts.nbytes and list(table.finite) == [True] * 9 + [False]
    cases = [
        [0, 1, 1, 9, 9, 9, rng.randrange(1 << 12), rng.randrange(1 << 12), 0, 5],   # 0, 1, repeated; infinity row
        [1] * 10,                                                                   # all ones: one bucket
        [0] * 10,                                                                   # infinity
        [rng.randrange(2, 1 << 6) for _ in range(8)] + [1 << 40, 3],               # a short and a long class
    ]
    for values in cases:
        scalars = FR.canonical(values)
        assert np.array_equal(table.msm(scalars, window=4 if max(values) < 1 << 12 else None), msm_g1(pts, scalars))
    with pytest.raises(ValueError, match="10 points but scalars of shape"):
        table.msm(FR.canonical([1, 2]))
    with pytest.raises(ValueError, match="1 <= window <= 16"):
        table.msm(FR.canonical([1] * 10), window=17)


def test_resident_g2_table_and_a_shared_upload(cuda_device):
    from kernels.msm.cuda_msm import ScalarUpload
    from kernels.msm.resident import ResidentPoints

    rng = random.Random(72)
    pts = P.g2_from_ints([g2_ints(ref.multiply(ref.G2, rng.randrange(1, R))) for _ in range(3)])
    upload = ScalarUpload()
    g2 = ResidentPoints("g2", pts, upload)
    empty = ResidentPoints("g1", np.zeros((0, 2, 12), np.uint32), upload)
    scalars = FR.canonical([5, 1, 5])
    assert np.array_equal(g2.msm(scalars, window=3), msm_g2(pts, scalars))
    assert not empty.msm(np.zeros((0, 8), np.uint32)).any()
    assert g2.upload is empty.upload
    with pytest.raises(ValueError, match="group must be"):
        ResidentPoints("g3", pts)
    with pytest.raises(ValueError, match="g1 points must have shape"):
        ResidentPoints("g1", pts)


def test_scalar_upload_reuses_its_pinned_buffer(cuda_device):
    from kernels.msm.cuda_msm import ScalarUpload

    upload = ScalarUpload()
    a = FR.canonical([3, 4, 5])
    assert np.array_equal(upload.to_device(a).copy_to_host(), a)
    buffer = upload._buffer
    b = FR.canonical([R - 1, 7])
    assert np.array_equal(upload.to_device(b).copy_to_host(), b)
    assert upload._buffer is buffer                     # grown only when a copy needs more rows


def test_device_memory_info_in_the_simulator_is_unknown(cuda_device):
    import os

    from kernels.msm.resident import device_memory_info

    info = device_memory_info()
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        assert info is None
    else:
        free, total = info
        assert 0 < free <= total
