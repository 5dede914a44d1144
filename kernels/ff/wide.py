"""64-bit limb primitives for the CPU build of the field routines: 128-bit products through LLVM.

Numba has no 128-bit integer type, but LLVM has; these intrinsics compute with i128 and return
(low, high) 64-bit halves, which LLVM lowers to one `mul` (or `mulx`) and add-with-carry chains.
With them a 381-bit Montgomery product is 6 x 6 64-bit multiplies instead of 12 x 12 32-bit ones
(what arkworks does with u128). CPU only: the CUDA build keeps the 32-bit limbs of
`kernels.ff.montgomery.field_source`, and the tests check the two against each other.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_I64 = ir.IntType(64)
_I128 = ir.IntType(128)
_PAIR = types.UniTuple(types.uint64, 2)


def _halves(context, builder, signature, t):
    lo = builder.trunc(t, _I64)
    hi = builder.trunc(builder.lshr(t, ir.Constant(_I128, 64)), _I64)
    return context.make_tuple(builder, signature.return_type, (lo, hi))


@intrinsic
def mac(typingctx, a, b, c, d):
    """(low, high) of a*b + c + d for uint64 inputs; at most 2^128 - 1, so it never overflows."""
    sig = _PAIR(types.uint64, types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        a, b, c, d = (builder.zext(x, _I128) for x in args)
        return _halves(context, builder, signature, builder.add(builder.add(builder.mul(a, b), c), d))

    return sig, codegen


@intrinsic
def adc(typingctx, a, b, carry):
    """(a + b + carry mod 2^64, carry out) for uint64 a, b and carry in {0, 1}."""
    sig = _PAIR(types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        a, b, c = (builder.zext(x, _I128) for x in args)
        return _halves(context, builder, signature, builder.add(builder.add(a, b), c))

    return sig, codegen


@intrinsic
def sbb(typingctx, a, b, borrow):
    """(a - b - borrow mod 2^64, borrow out in {0, 1}) for uint64 a, b and borrow in {0, 1}."""
    sig = _PAIR(types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        a, b, c = (builder.zext(x, _I128) for x in args)
        t = builder.sub(builder.sub(a, b), c)
        lo = builder.trunc(t, _I64)
        out = builder.trunc(builder.lshr(t, ir.Constant(_I128, 127)), _I64)
        return context.make_tuple(builder, signature.return_type, (lo, out))

    return sig, codegen
