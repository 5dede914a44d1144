"""G2 = E2(Fq2)[r], E2: y^2 = x^3 + 4(1 + i): curve routines for the CPU (`g2`) and the CUDA factory.

`g2` is the CPU build of `compile_g2` (see `kernels.ec.formulas` for layouts and routines);
`kernels.ec.device.device_curves()` holds the CUDA build of the same source.
"""

from __future__ import annotations

from types import SimpleNamespace

from kernels import params
from kernels.ec import constants
from kernels.ec.formulas import compile_curve, fq2_ops
from kernels.ff.fields import FQ, cpu_jit, fq, fq2, fq2_from_ints

B_MONT = fq2_from_ints([params.B2])[0]
PSI_X_MONT = fq2_from_ints([constants.PSI_X])[0]
PSI_Y_MONT = fq2_from_ints([constants.PSI_Y])[0]
ELEMENT_SHAPE = (2, FQ.nlimbs)
X_POWER = 1   # the check is psi(P) == [x] P = -[|x|] P


def compile_g2(fq, fq2, jit) -> SimpleNamespace:
    """G2 routines over the Fq2 build `fq2` with `jit`; adds `aff_endo(out, a, s)`: psi of affine a."""
    ns = compile_curve(fq2_ops(fq2), jit, B_MONT)
    c_mul, c_conj = fq2.mul, fq2.conj
    psi_x, psi_y = PSI_X_MONT, PSI_Y_MONT

    @jit
    def aff_endo(out, a, s):
        c_conj(out[0], a[0])
        c_mul(out[0], out[0], psi_x, s)
        c_conj(out[1], a[1])
        c_mul(out[1], out[1], psi_y, s)

    ns.aff_endo = aff_endo
    return ns


g2 = compile_g2(fq, fq2, cpu_jit)
