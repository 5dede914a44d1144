"""CUDA test kernels over the device field builds (`cuda` is module-level for the simulator)."""

import numpy as np
from numba import cuda

from kernels.ff.device import device_fields

_d = device_fields()
_fq_mul, _fq_sub, _fq_neg, _fq_dbl, _fq_add, _fq_inv = (_d.fq.mul, _d.fq.sub, _d.fq.neg, _d.fq.dbl,
                                                        _d.fq.add, _d.fq.inv)
_fr_mul, _fr_sub, _fr_neg, _fr_dbl, _fr_add, _fr_inv = (_d.fr.mul, _d.fr.sub, _d.fr.neg, _d.fr.dbl,
                                                        _d.fr.add, _d.fr.inv)
_fq2_mul, _fq2_sqr, _fq2_inv = _d.fq2.mul, _d.fq2.sqr, _d.fq2.inv


@cuda.jit
def fq_mix_kernel(out, a, b):
    i = cuda.grid(1)
    if i < a.shape[0]:
        tmp = cuda.local.array(12, np.uint32)
        _fq_mul(out[i, 0], a[i], b[i])
        _fq_sub(out[i, 1], a[i], b[i])
        _fq_dbl(tmp, b[i])
        _fq_neg(out[i, 2], a[i])
        _fq_add(out[i, 2], out[i, 2], tmp)
        _fq_inv(out[i, 3], a[i], tmp)


@cuda.jit
def fr_mix_kernel(out, a, b):
    i = cuda.grid(1)
    if i < a.shape[0]:
        tmp = cuda.local.array(8, np.uint32)
        _fr_mul(out[i, 0], a[i], b[i])
        _fr_sub(out[i, 1], a[i], b[i])
        _fr_dbl(tmp, b[i])
        _fr_neg(out[i, 2], a[i])
        _fr_add(out[i, 2], out[i, 2], tmp)
        _fr_inv(out[i, 3], a[i], tmp)


@cuda.jit
def fq2_mix_kernel(out, a, b):
    i = cuda.grid(1)
    if i < a.shape[0]:
        s = cuda.local.array((4, 12), np.uint32)
        _fq2_mul(out[i, 0], a[i], b[i], s)
        _fq2_sqr(out[i, 1], a[i], s)
        _fq2_inv(out[i, 2], a[i], s)
        _fq2_mul(out[i, 2], out[i, 2], a[i], s)
