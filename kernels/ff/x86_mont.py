"""Montgomery product in x86-64 assembly (MULX, ADCX, ADOX) for the CPU build of the field routines.

LLVM lowers the 128-bit products of `kernels.ff.wide` to MULX and one add-with-carry chain, so every
multiply-accumulate costs a MULX, two ADD/ADC pairs and register moves. With the BMI2 and ADX
instructions a CIOS Montgomery product runs two carry chains at once (ADCX on the carry flag for
the low halves, ADOX on the overflow flag for the high halves), one MULX + ADCX + ADOX per word
product, as blst and arkworks' assembly do. `mont_mul_for(modulus)` returns a Numba intrinsic
`mont_mul(out, a, b)` on 1-D uint32 limb arrays (out may alias a or b): the assembly reads a and b,
the conditional subtraction of the modulus is branch-free LLVM code, and the result is stored as
64-bit words (the limb arrays are little-endian, so two uint32 limbs are one uint64 word).

Used only where `available()` (x86-64 with BMI2 and ADX, and ZKP_LEDGER_NO_ASM unset); elsewhere,
and on the GPU, the portable LLVM routines run. Valid for moduli whose top word is below 2^63 - 1
(Fq and Fr of BLS12-381): the running value then fits n + 1 words and the result is below 2q.
The tests check it against Python integers and against the portable routine.
"""

from __future__ import annotations

import os
import platform

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_I128 = ir.IntType(128)
_MASK64 = (1 << 64) - 1


def available() -> bool:
    """True on x86-64 hosts with BMI2 and ADX, unless ZKP_LEDGER_NO_ASM is set to a non-empty value
    or Numba is told to compile for another CPU (NUMBA_CPU_NAME / NUMBA_CPU_FEATURES, as for a cache
    shared by different nodes): such code must run where ADX may be missing, and Numba's cache key
    (the target CPU and features) would not tell an assembly build from a portable one."""
    from numba.core import config

    if os.environ.get("ZKP_LEDGER_NO_ASM") or platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    if config.CPU_NAME or config.CPU_FEATURES:
        return False
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    return bool(features.get("adx")) and bool(features.get("bmi2"))


def cios_assembly(n: int) -> tuple[str, list[int]]:
    """AT&T assembly of an n-word CIOS Montgomery product and the operand numbers of its result words.

    Operands: 0..n the running words t (outputs; t_n is the extra word), n+1 and n+2 scratch
    (outputs), n+3, n+4, n+5 the addresses of a, b and of the constants (q_0..q_(n-1), then
    -1/q mod 2^64). RDX is clobbered (MULX's implicit multiplier), as are the flags.
    """
    t = [f"${{{k}}}" for k in range(n + 1)]
    lo, hi = f"${{{n + 1}}}", f"${{{n + 2}}}"
    a, b, q = (f"${{{n + 3 + k}}}" for k in range(3))
    lines = [f"xorq {w}, {w}" for w in t]
    for i in range(n):
        # t += a * b_i: low halves along the carry flag, high halves along the overflow flag.
        lines += [f"movq {8 * i}({b}), %rdx", f"xorq {lo}, {lo}"]
        for j in range(n):
            lines += [f"mulxq {8 * j}({a}), {lo}, {hi}", f"adcxq {lo}, {t[j]}", f"adoxq {hi}, {t[j + 1]}"]
        # Neither chain carries out of t_n: t < 2q before the row, so t + a b_i + m q < 2q 2^64, which is
        # below 2^(64 (n + 1)) since q's top word is below 2^63; and after the shift t < 2q again.
        lines.append(f"adcq $$0, {t[n]}")
        # t += m q with m = t_0 (-1/q) mod 2^64, which clears t_0; then shift down one word.
        lines += [f"movq {t[0]}, %rdx", f"imulq {8 * n}({q}), %rdx", f"xorq {lo}, {lo}"]
        for j in range(n):
            lines += [f"mulxq {8 * j}({q}), {lo}, {hi}", f"adcxq {lo}, {t[j]}", f"adoxq {hi}, {t[j + 1]}"]
        lines.append(f"adcq $$0, {t[n]}")
        t = t[1:] + t[:1]                          # the cleared word becomes the new (zero) top word
    return "\n\t".join(lines), [int(w.strip("${}")) for w in t[:n]]


_INTRINSICS: dict[int, object] = {}


def mont_mul_for(modulus: int):
    """The intrinsic mont_mul(out, a, b) = a b / 2^(64 n) mod `modulus` (n words), inputs below the modulus."""
    if modulus in _INTRINSICS:
        return _INTRINSICS[modulus]
    n = -(-modulus.bit_length() // 64)
    if modulus >> (64 * n - 64) >= (1 << 63) - 1 or modulus % 2 == 0:
        raise ValueError("mont_mul_for needs an odd modulus whose top word is below 2^63 - 1")
    q = [(modulus >> (64 * i)) & _MASK64 for i in range(n)]
    n0 = (-pow(modulus, -1, 1 << 64)) % (1 << 64)
    assembly, result = cios_assembly(n)
    constraints = ",".join(["=&r"] * (n + 3) + ["r"] * 3 + ["~{rdx}", "~{memory}", "~{dirflag}", "~{fpsr}", "~{flags}"])
    const_name = f"zkp_mont_constants_{modulus:x}"      # the whole modulus: one table per modulus

    @intrinsic
    def mont_mul(typingctx, out, a, b):
        # The assembly reads and writes 8n contiguous bytes from each data pointer: only C-contiguous
        # 1-D uint32 arrays (a strided view would be read wrong and written past), out writable.
        for arg in (out, a, b):
            if not (isinstance(arg, types.Array) and arg.dtype == types.uint32 and arg.ndim == 1
                    and arg.layout == "C"):
                return None
        if not out.mutable:
            return None
        sig = types.void(out, a, b)

        def codegen(context, builder, signature, args):
            arrays = [context.make_array(ty)(context, builder, value) for ty, value in zip(signature.args, args)]
            word_ptr = ir.PointerType(_I64)
            module = builder.module
            table = module.globals.get(const_name)
            if table is not None and [int(c.constant) for c in table.initializer.constant] != q + [n0]:
                raise AssertionError(f"{const_name} holds other constants")
            if table is None:
                table = ir.GlobalVariable(module, ir.ArrayType(_I64, n + 1), const_name)
                table.global_constant = True
                table.linkage = "internal"
                table.initializer = ir.Constant(ir.ArrayType(_I64, n + 1), q + [n0])
            pointers = [builder.bitcast(arrays[1].data, word_ptr), builder.bitcast(arrays[2].data, word_ptr),
                        builder.bitcast(table, word_ptr)]
            ret = ir.LiteralStructType([_I64] * (n + 3))
            asm = ir.InlineAsm(ir.FunctionType(ret, [p.type for p in pointers]), assembly, constraints,
                               side_effect=False)
            t = builder.call(asm, pointers)
            words = [builder.extract_value(t, k) for k in result]
            # out = t - q when that does not borrow (t < 2q), else t: branch-free.
            borrow = ir.Constant(_I128, 0)
            reduced = []
            for j in range(n):
                d = builder.sub(builder.sub(builder.zext(words[j], _I128), ir.Constant(_I128, q[j])), borrow)
                reduced.append(builder.trunc(d, _I64))
                borrow = builder.lshr(d, ir.Constant(_I128, 127))
            keep = builder.icmp_unsigned("!=", borrow, ir.Constant(_I128, 0))
            out_words = builder.bitcast(arrays[0].data, word_ptr)
            for j in range(n):
                store = builder.store(builder.select(keep, words[j], reduced[j]),
                                      builder.gep(out_words, [ir.Constant(_I32, j)]))
                store.align = 4
            return context.get_dummy_value()

        return sig, codegen

    _INTRINSICS[modulus] = mont_mul
    return mont_mul


def _enable_inline_assembly() -> None:
    import llvmlite.binding as llvm

    llvm.initialize_native_asmparser()     # Numba initialises the target and printer, not the parser


_enable_inline_assembly()
