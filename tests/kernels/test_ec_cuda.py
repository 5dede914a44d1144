"""The CUDA builds of the G1/G2 formulas agree with the CPU builds (simulator in CI, GPU under ZKP_GPU_TESTS=1)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from numba import cuda
from py_ecc import optimized_bls12_381 as ref

from kernels import params
from kernels.ec import points as P
from kernels.ec.device import device_curves
from kernels.ec.formulas import S_ROWS, T_ROWS
from kernels.ec.g1 import g1
from kernels.ec.g2 import g2
from tests.kernels.test_ec_points import g1_ints, g2_ints

_KERNELS = {}


def _chain_kernel(group):
    """Kernel: out[i] = [xyzz(a + b + b + a(dbl)) -> jac, jac(2a + b) + jac(b), jac_to_aff]."""
    if group in _KERNELS:
        return _KERNELS[group]
    curve = getattr(device_curves(), group)
    madd, xadd, to_jac, set_inf = curve.xyzz_madd, curve.xyzz_add, curve.xyzz_to_jac, curve.xyzz_set_inf
    aff_to_jac, jdbl, jmadd, jadd = curve.aff_to_jac, curve.jac_dbl, curve.jac_madd, curve.jac_add
    to_aff = curve.jac_to_aff
    e = (12,) if group == "g1" else (2, 12)
    xyzz_shape, jac_shape, tmp_shape = (4,) + e, (3,) + e, (T_ROWS,) + e

    @cuda.jit
    def chain(a, b, out_jac, out_aff):
        i = cuda.grid(1)
        if i < a.shape[0]:
            acc = cuda.local.array(xyzz_shape, np.uint32)
            acc2 = cuda.local.array(xyzz_shape, np.uint32)
            j = cuda.local.array(jac_shape, np.uint32)
            j2 = cuda.local.array(jac_shape, np.uint32)
            t = cuda.local.array(tmp_shape, np.uint32)
            s = cuda.local.array((S_ROWS, 12), np.uint32)
            set_inf(acc)
            madd(acc, a[i], t, s)          # infinity + a
            madd(acc, b[i], t, s)          # general
            set_inf(acc2)
            madd(acc2, a[i], t, s)
            madd(acc2, a[i], t, s)         # doubling branch
            xadd(acc, acc2, t, s)          # general XYZZ + XYZZ
            to_jac(out_jac[i, 0], acc, s)
            aff_to_jac(j, a[i])
            jdbl(j, j, t, s)
            jmadd(j, j, b[i], t, s)
            aff_to_jac(j2, b[i])
            jadd(out_jac[i, 1], j, j2, t, s)
            to_aff(out_aff[i], out_jac[i, 1], t, s)

    _KERNELS[group] = chain
    return chain


@pytest.mark.parametrize("group", ["g1", "g2"])
def test_device_formulas_match_cpu_and_py_ecc(cuda_device, group):
    rng = random.Random(31)
    n = 3
    ka = [rng.randrange(1, params.R) for _ in range(n)]
    kb = [rng.randrange(1, params.R) for _ in range(n)]
    if group == "g1":
        a = P.g1_from_ints([g1_ints(ref.multiply(ref.G1, k)) for k in ka])
        b = P.g1_from_ints([g1_ints(ref.multiply(ref.G1, k)) for k in kb])
        to_ints, gen, e = P.g1_to_ints, ref.G1, (12,)
    else:
        a = P.g2_from_ints([g2_ints(ref.multiply(ref.G2, k)) for k in ka])
        b = P.g2_from_ints([g2_ints(ref.multiply(ref.G2, k)) for k in kb])
        to_ints, gen, e = P.g2_to_ints, ref.G2, (2, 12)
    b[1] = a[1]          # a + a through the mixed formulas' doubling branch
    kb[1] = ka[1]
    out_jac = np.zeros((n, 2, 3) + e, np.uint32)
    out_aff = np.zeros((n, 2) + e, np.uint32)
    _chain_kernel(group)[1, n](a, b, out_jac, out_aff)
    affine = (P.g1_batch_to_affine if group == "g1" else P.g2_batch_to_affine)(out_jac.reshape((2 * n, 3) + e))
    conv = g1_ints if group == "g1" else g2_ints
    for i in range(n):
        assert to_ints(affine[2 * i]) == [conv(ref.multiply(gen, (3 * ka[i] + kb[i]) % params.R))]
        assert to_ints(affine[2 * i + 1]) == [conv(ref.multiply(gen, (2 * ka[i] + 2 * kb[i]) % params.R))]
        assert to_ints(out_aff[i]) == to_ints(affine[2 * i + 1])
    # and the CPU build gives the same limbs for the same chain
    curve = g1 if group == "g1" else g2
    t, s = np.empty((T_ROWS,) + e, np.uint32), np.empty((S_ROWS, 12), np.uint32)
    acc = np.zeros((4,) + e, np.uint32)
    curve.xyzz_madd(acc, a[0], t, s)
    curve.xyzz_madd(acc, b[0], t, s)
    acc2 = np.zeros((4,) + e, np.uint32)
    curve.xyzz_madd(acc2, a[0], t, s)
    curve.xyzz_madd(acc2, a[0], t, s)
    curve.xyzz_add(acc, acc2, t, s)
    jac = np.empty((3,) + e, np.uint32)
    curve.xyzz_to_jac(jac, acc, s)
    assert np.array_equal(jac, out_jac[0, 0])
