"""G1 = E1(Fq)[r], E1: y^2 = x^3 + 4: curve routines for the CPU (`g1`) and the factory for CUDA.

`g1` is the CPU build of `compile_g1` (see `kernels.ec.formulas` for layouts and routines);
`kernels.ec.device.device_curves()` holds the CUDA build of the same source.
"""

from __future__ import annotations

from types import SimpleNamespace

from kernels import params
from kernels.ec import constants
from kernels.ec.formulas import compile_curve, fq_ops
from kernels.ff.fields import FQ, cpu_jit, fq

B_MONT = FQ.element(params.B1)
BETA_MONT = FQ.element(constants.BETA)
ELEMENT_SHAPE = (FQ.nlimbs,)
X_POWER = 2   # the check is sigma(P) == [-x^2] P = -[|x|]([|x|] P)


def compile_g1(fq, jit) -> SimpleNamespace:
    """G1 routines over the Fq build `fq` with `jit`; adds `aff_endo(out, a, s)`: sigma(x, y) = (BETA x, y)."""
    ns = compile_curve(fq_ops(fq, jit), jit, B_MONT)
    f_mul, f_copy = fq.mul, fq.copy
    beta = BETA_MONT

    @jit
    def aff_endo(out, a, s):
        f_mul(out[0], a[0], beta)
        f_copy(out[1], a[1])

    ns.aff_endo = aff_endo
    return ns


g1 = compile_g1(fq, cpu_jit)
