"""Montgomery arithmetic on 32-bit limbs with 64-bit products, generated once per modulus.

The hot routines (mul, add, sub, neg, dbl) are emitted as straight-line Python over scalar
locals: every input limb is read before any output limb is written, so `out` may alias an input,
no scratch memory is needed, and the same source compiles with `numba.njit` for the CPU and with
`numba.cuda.jit(device=True)` for the GPU (where the locals become registers). Every literal is
a `np.uint64` global so that the GPU compiler never mixes signed and unsigned (which gives float64).

Layout: an element is a 1-D `np.uint32` array of `nlimbs` limbs, least significant first, holding
a*R mod m in Montgomery form, R = 2^(32*nlimbs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

LIMB_BITS = 32
LIMB_MASK = (1 << LIMB_BITS) - 1


def int_to_limbs(value: int, nlimbs: int) -> np.ndarray:
    """Little-endian 32-bit limbs of a non-negative int that fits in `nlimbs` limbs."""
    if value < 0 or value >> (LIMB_BITS * nlimbs):
        raise ValueError(f"{value} does not fit in {nlimbs} limbs")
    return np.array([(value >> (LIMB_BITS * i)) & LIMB_MASK for i in range(nlimbs)], dtype=np.uint32)


def limbs_to_int(limbs) -> int:
    """Inverse of `int_to_limbs` for any 1-D sequence of limbs."""
    return sum(int(x) << (LIMB_BITS * i) for i, x in enumerate(limbs))


@dataclass(frozen=True)
class FieldSpec:
    """A prime field for Montgomery arithmetic: its modulus and the constants derived from it."""

    name: str
    modulus: int
    nlimbs: int
    r: int = field(init=False)        # R mod m (Montgomery one)
    r2: int = field(init=False)       # R^2 mod m (to enter Montgomery form)
    n0: int = field(init=False)       # -m^{-1} mod 2^32

    def __post_init__(self):
        m, n = self.modulus, self.nlimbs
        # The no-carry CIOS product below needs the top limb of m below 2^31 - 1.
        assert m >> (LIMB_BITS * (n - 1)) < (1 << (LIMB_BITS - 1)) - 1, "modulus too wide for no-carry CIOS"
        object.__setattr__(self, "r", (1 << (LIMB_BITS * n)) % m)
        object.__setattr__(self, "r2", (1 << (2 * LIMB_BITS * n)) % m)
        object.__setattr__(self, "n0", (-pow(m, -1, 1 << LIMB_BITS)) % (1 << LIMB_BITS))

    def limbs(self, value: int) -> np.ndarray:
        return int_to_limbs(value, self.nlimbs)

    def to_mont_int(self, value: int) -> int:
        return value * self.r % self.modulus

    def from_mont_int(self, value: int) -> int:
        return value * pow(self.r, -1, self.modulus) % self.modulus


def _conditional_subtract(n: int, src: str) -> list[str]:
    """Lines that write `src{i}` minus the modulus to out if that does not borrow, else `src{i}`."""
    lines = ["    br = Z"]
    for i in range(n):
        lines += [f"    x = {src}{i} - Q{i} - br", f"    d{i} = x & M", "    br = x >> S63"]
    lines.append("    if br == Z:")
    lines += [f"        out[{i}] = np.uint32(d{i})" for i in range(n)]
    lines.append("    else:")
    lines += [f"        out[{i}] = np.uint32({src}{i})" for i in range(n)]
    return lines


def field_source(spec: FieldSpec) -> str:
    """Python source of the straight-line routines for one field (see the module docstring)."""
    n = spec.nlimbs
    q = spec.limbs(spec.modulus)
    head = ["import numpy as np", "M = np.uint64(0xFFFFFFFF)", "S = np.uint64(32)", "S63 = np.uint64(63)",
            "Z = np.uint64(0)", "N0 = np.uint64(%d)" % spec.n0]
    head += [f"Q{i} = np.uint64({int(q[i])})" for i in range(n)]
    src = ["\n".join(head)]

    def load(var: str, arr: str) -> list[str]:
        return [f"    {var}{i} = np.uint64({arr}[{i}])" for i in range(n)]

    # Montgomery product, CIOS without the extra carry word (gnark's variant; valid by the
    # assertion in FieldSpec).
    body = ["def mul(out, a, b):"] + load("a", "a") + load("b", "b")
    body += [f"    t{j} = Z" for j in range(n)]
    for i in range(n):
        body += [f"    x = t0 + a0 * b{i}", "    t0 = x & M", "    A = x >> S",
                 "    m = (t0 * N0) & M", "    x = t0 + m * Q0", "    C = x >> S"]
        for j in range(1, n):
            body += [f"    x = t{j} + a{j} * b{i} + A", f"    t{j} = x & M", "    A = x >> S",
                     f"    x = t{j} + m * Q{j} + C", f"    t{j - 1} = x & M", "    C = x >> S"]
        body.append(f"    t{n - 1} = C + A")
    body += _conditional_subtract(n, "t")
    src.append("\n".join(body))

    body = ["def add(out, a, b):"] + load("a", "a") + load("b", "b") + ["    c = Z"]
    for i in range(n):
        body += [f"    x = a{i} + b{i} + c", f"    s{i} = x & M", "    c = x >> S"]
    body += _conditional_subtract(n, "s")
    src.append("\n".join(body))

    body = ["def dbl(out, a):"] + load("a", "a") + ["    c = Z"]
    for i in range(n):
        body += [f"    x = a{i} + a{i} + c", f"    s{i} = x & M", "    c = x >> S"]
    body += _conditional_subtract(n, "s")
    src.append("\n".join(body))

    body = ["def sub(out, a, b):"] + load("a", "a") + load("b", "b") + ["    br = Z"]
    for i in range(n):
        body += [f"    x = a{i} - b{i} - br", f"    d{i} = x & M", "    br = x >> S63"]
    body += ["    if br == Z:"] + [f"        out[{i}] = np.uint32(d{i})" for i in range(n)]
    body += ["    else:", "        c = Z"]
    for i in range(n):
        body += [f"        x = d{i} + Q{i} + c", f"        out[{i}] = np.uint32(x & M)", "        c = x >> S"]
    src.append("\n".join(body))

    body = ["def neg(out, a):"] + load("a", "a")
    body.append("    if " + " | ".join(f"a{i}" for i in range(n)) + " == Z:")
    body += [f"        out[{i}] = np.uint32(0)" for i in range(n)]
    body += ["    else:", "        br = Z"]
    for i in range(n):
        body += [f"        x = Q{i} - a{i} - br", f"        out[{i}] = np.uint32(x & M)", "        br = x >> S63"]
    src.append("\n".join(body))
    return "\n\n\n".join(src) + "\n"


def wide_field_source(spec: FieldSpec, asm: bool = False) -> str:
    """Python source of the CPU routines on 64-bit words (see `kernels.ff.wide`): the same
    functions, signatures and results as `field_source` (elements stay uint32 limb arrays, read
    and written two limbs per word; R = 2^(32*nlimbs) either way), plus a dedicated `sqr`.

    asm=True (x86-64 with BMI2 and ADX, see `kernels.ff.x86_mont`): `mul`, `sqr` and their `_s`
    forms are the assembly Montgomery product (on a Zen 4 core it squares faster than the dedicated
    LLVM square), the rest stays LLVM code."""
    n = spec.nlimbs // 2
    q = [(spec.modulus >> (64 * i)) & (2**64 - 1) for i in range(n)]
    n0 = (-pow(spec.modulus, -1, 1 << 64)) % (1 << 64)
    head = ["import numpy as np", "from kernels.ff.wide import adc, mac, sbb",
            "M = np.uint64(0xFFFFFFFF)", "S = np.uint64(32)", "Z = np.uint64(0)", "N0 = np.uint64(%d)" % n0]
    head += [f"Q{i} = np.uint64({q[i]})" for i in range(n)]
    if asm:
        head += ["from kernels.ff.x86_mont import mont_mul_for", f"MONT = mont_mul_for({spec.modulus})"]
    src = ["\n".join(head)]

    def load(var: str, arr: str) -> list[str]:
        return [f"    {var}{i} = np.uint64({arr}[{2 * i}]) | (np.uint64({arr}[{2 * i + 1}]) << S)" for i in range(n)]

    def store(var: str, indent: str = "    ") -> list[str]:
        lines = []
        for i in range(n):
            lines += [f"{indent}out[{2 * i}] = np.uint32({var}{i} & M)", f"{indent}out[{2 * i + 1}] = np.uint32({var}{i} >> S)"]
        return lines

    def reduce_once(src_var: str) -> list[str]:
        # out = src - q if that does not borrow, else src.
        lines = ["    br = Z"] + [f"    d{i}, br = sbb({src_var}{i}, Q{i}, br)" for i in range(n)]
        return lines + ["    if br == Z:"] + store("d", "        ") + ["    else:"] + store(src_var, "        ")

    # Product: CIOS without the extra carry word (valid as in field_source: top word of q < 2^63 - 1).
    body = ["def mul(out, a, b):"] + load("a", "a") + load("b", "b") + [f"    t{j} = Z" for j in range(n)]
    for i in range(n):
        body += [f"    t0, A = mac(a0, b{i}, t0, Z)", "    m = t0 * N0", "    _, C = mac(m, Q0, t0, Z)"]
        for j in range(1, n):
            body += [f"    t{j}, A = mac(a{j}, b{i}, t{j}, A)", f"    t{j - 1}, C = mac(m, Q{j}, t{j}, C)"]
        body.append(f"    t{n - 1} = C + A")
    src.append("def mul(out, a, b):\n    MONT(out, a, b)" if asm else "\n".join(body + reduce_once("t")))

    # Square: off-diagonal products once, doubled, plus the diagonal; then a Montgomery reduction
    # of the 2n words (a^2 < q^2, so the result is below 2q and one subtraction finishes it).
    body = ["def sqr(out, a):"] + load("a", "a") + [f"    r{k} = Z" for k in range(2 * n)]
    for i in range(n - 1):
        body.append("    c = Z")
        for j in range(i + 1, n):
            body.append(f"    r{i + j}, c = mac(a{i}, a{j}, r{i + j}, c)")
        body.append(f"    r{i + n} = c")
    for k in range(2 * n - 1, 0, -1):
        body.append(f"    r{k} = (r{k} << np.uint64(1)) | (r{k - 1} >> np.uint64(63))")
    body.append("    r0 = r0 << np.uint64(1)")
    body.append("    c = Z")
    for i in range(n):
        body += [f"    r{2 * i}, h = mac(a{i}, a{i}, r{2 * i}, c)", f"    r{2 * i + 1}, c = adc(r{2 * i + 1}, h, Z)"]
    body.append("    top = Z")
    for i in range(n):
        body += [f"    m = r{i} * N0", f"    _, c = mac(m, Q0, r{i}, Z)"]
        for j in range(1, n):
            body.append(f"    r{i + j}, c = mac(m, Q{j}, r{i + j}, c)")
        body.append(f"    r{i + n}, top = adc(r{i + n}, c, top)")
    body += [f"    t{i} = r{i + n}" for i in range(n)]
    src.append("def sqr(out, a):\n    MONT(out, a, a)" if asm else "\n".join(body + reduce_once("t")))

    # The curve formulas call mul(out, a, b, s) and sqr(out, a, s) with Fq2's scratch rows `s`: the
    # same bodies under that signature, so that no wrapper call sits in the MSM's inner loop.
    src.append(src[-2].replace("def mul(out, a, b):", "def mul_s(out, a, b, s):"))
    src.append(src[-2].replace("def sqr(out, a):", "def sqr_s(out, a, s):"))

    body = ["def add(out, a, b):"] + load("a", "a") + load("b", "b") + ["    c = Z"]
    body += [f"    s{i}, c = adc(a{i}, b{i}, c)" for i in range(n)]
    src.append("\n".join(body + reduce_once("s")))

    body = ["def dbl(out, a):"] + load("a", "a") + ["    c = Z"]
    body += [f"    s{i}, c = adc(a{i}, a{i}, c)" for i in range(n)]
    src.append("\n".join(body + reduce_once("s")))

    body = ["def sub(out, a, b):"] + load("a", "a") + load("b", "b") + ["    br = Z"]
    body += [f"    d{i}, br = sbb(a{i}, b{i}, br)" for i in range(n)]
    body += ["    if br == Z:"] + store("d", "        ") + ["    else:", "        c = Z"]
    body += [f"        d{i}, c = adc(d{i}, Q{i}, c)" for i in range(n)]
    src.append("\n".join(body + store("d", "        ")))

    body = ["def neg(out, a):"] + load("a", "a")
    body.append("    if " + " | ".join(f"a{i}" for i in range(n)) + " == Z:")
    body += [f"        out[{i}] = np.uint32(0)" for i in range(2 * n)]
    body += ["    else:", "        br = Z"]
    body += [f"        d{i}, br = sbb(Q{i}, a{i}, br)" for i in range(n)]
    src.append("\n".join(body + store("d", "        ")))
    return "\n\n\n".join(src) + "\n"


def wide_fq2_source(spec: FieldSpec) -> str:
    """Fq2 = Fq[i]/(i^2 + 1) product and square as one straight-line routine each on 64-bit words
    (appended to the wide Fq module): `fq2_mul(out, a, b, s)` (Karatsuba, 3 products) and
    `fq2_sqr(out, a, s)` (2 products) on (2, nlimbs) arrays, same results as `kernels.ff.fq2`'s,
    without its 8 calls of Fq routines per product (the pairing's and G2's inner loops)."""
    n = spec.nlimbs // 2

    def load(var, arr):
        return [f"    {var}{i} = np.uint64({arr}[{2 * i}]) | (np.uint64({arr}[{2 * i + 1}]) << S)" for i in range(n)]

    def store(var, row):
        return [line for i in range(n) for line in (f"    out[{row}, {2 * i}] = np.uint32({var}{i} & M)",
                                                       f"    out[{row}, {2 * i + 1}] = np.uint32({var}{i} >> S)")]

    def select_reduced(z, x):
        # z = x - q if that does not borrow, else x (branch-free select).
        lines = ["    br = Z"] + [f"    w{i}, br = sbb({x}{i}, Q{i}, br)" for i in range(n)]
        return lines + [f"    {z}{i} = w{i} if br == Z else {x}{i}" for i in range(n)]

    def mont_mul(z, x, y):
        lines = [f"    t{j} = Z" for j in range(n)]
        for i in range(n):
            lines += [f"    t0, A = mac({x}0, {y}{i}, t0, Z)", "    m = t0 * N0", "    _, C = mac(m, Q0, t0, Z)"]
            for j in range(1, n):
                lines += [f"    t{j}, A = mac({x}{j}, {y}{i}, t{j}, A)", f"    t{j - 1}, C = mac(m, Q{j}, t{j}, C)"]
            lines.append(f"    t{n - 1} = C + A")
        return lines + select_reduced(z, "t")

    def mod_add(z, x, y):
        return ["    c = Z"] + [f"    t{i}, c = adc({x}{i}, {y}{i}, c)" for i in range(n)] + select_reduced(z, "t")

    def mod_sub(z, x, y):
        lines = ["    br = Z"] + [f"    t{i}, br = sbb({x}{i}, {y}{i}, br)" for i in range(n)]
        lines += ["    mq = Z - br"] + ["    c = Z"]
        return lines + [f"    {z}{i}, c = adc(t{i}, Q{i} & mq, c)" for i in range(n)]

    body = ["def fq2_mul(out, a, b, s):"] + load("x", "a[0]") + load("y", "a[1]") + load("u", "b[0]") + load("v", "b[1]")
    body += mont_mul("p", "x", "u") + mont_mul("r", "y", "v")          # v0 = a0 b0, v1 = a1 b1
    body += mod_add("x", "x", "y") + mod_add("u", "u", "v") + mont_mul("e", "x", "u")   # (a0 + a1)(b0 + b1)
    body += mod_sub("x", "p", "r") + mod_sub("e", "e", "p") + mod_sub("y", "e", "r")
    body += store("x", 0) + store("y", 1)
    src = ["\n".join(body)]
    body = ["def fq2_sqr(out, a, s):"] + load("x", "a[0]") + load("y", "a[1]")
    body += mod_add("u", "x", "y") + mod_sub("v", "x", "y") + mont_mul("e", "x", "y")
    body += mont_mul("p", "u", "v") + mod_add("r", "e", "e") + store("p", 0) + store("r", 1)
    src.append("\n".join(body))
    return "\n\n\n".join(src) + "\n"


def _exponent_bits(e: int) -> np.ndarray:
    """Bits of e, most significant first, for square-and-multiply loops."""
    return np.array([int(b) for b in bin(e)[2:]], dtype=np.uint8)


def _load_generated(spec: FieldSpec, wide: bool = False, asm: bool | None = None) -> dict:
    """Globals of the generated module of `spec`, imported from a real file so Numba can cache it."""
    import importlib.util
    import sys

    from kernels.cache import write_generated_module

    if wide:
        from kernels.ff import x86_mont

        asm = x86_mont.available() if asm is None else asm
        source = wide_field_source(spec, asm=asm)
        if spec.nlimbs == 12 and not asm:     # Fq: also the Fq2 product and square (with the
            # assembly product, Karatsuba over three calls of it is faster: 143 vs 165 ns, Zen 4)
            source += "\n\n" + wide_fq2_source(spec)
        path = write_generated_module(f"montgomery64_{spec.name}", source)
    else:
        path = write_generated_module(f"montgomery_{spec.name}", field_source(spec))
    name = f"kernels._generated_{path.stem}"
    if name not in sys.modules:
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # Numba's cache re-imports a function's module by name
        module_spec.loader.exec_module(module)
    return vars(sys.modules[name])


def compile_field(spec: FieldSpec, jit, wide: bool = False, asm: bool | None = None) -> SimpleNamespace:
    """Compile the routines of one field with `jit` (a decorator such as `numba.njit`).

    wide=True (CPU only) takes mul, sqr, add, sub, dbl, neg from `wide_field_source`: 64-bit words
    with 128-bit products, same layout and results; the default is the 32-bit source that also
    compiles for CUDA. The wide build adds `mul_s(out, a, b, s)` and `sqr_s(out, a, s)`: mul and sqr
    taking (and ignoring) a scratch argument, as the curve formulas call them. `asm` (wide only):
    whether mul is the x86-64 assembly product; None (the default) takes it where the host has it.

    Returns a namespace with `mul, sqr, add, sub, dbl, neg` (out, *inputs: 1-D uint32 arrays,
    out may alias an input), `copy, set_zero, set_one, is_zero, eq, to_mont, from_mont`,
    `pow_bits(out, a, bits, tmp)` (exponent as an MSB-first uint8 bit array), and
    `inv(out, a, tmp)` (Fermat; 0 maps to 0), where `tmp` is scratch of one element.
    """
    n = spec.nlimbs
    namespace = _load_generated(spec, wide, asm)
    mul = jit(namespace["mul"])
    add = jit(namespace["add"])
    sub = jit(namespace["sub"])
    dbl = jit(namespace["dbl"])
    neg = jit(namespace["neg"])
    one_mont = spec.limbs(spec.r)
    r2 = spec.limbs(spec.r2)
    one_plain = spec.limbs(1)
    inv_bits = _exponent_bits(spec.modulus - 2)

    extra = {}
    if wide:
        sqr = jit(namespace["sqr"])
        extra = {"mul_s": jit(namespace["mul_s"]), "sqr_s": jit(namespace["sqr_s"])}
        if "fq2_mul" in namespace:
            extra.update(fq2_mul=jit(namespace["fq2_mul"]), fq2_sqr=jit(namespace["fq2_sqr"]))
    else:
        @jit
        def sqr(out, a):
            mul(out, a, a)

    @jit
    def copy(out, a):
        for i in range(n):
            out[i] = a[i]

    @jit
    def set_zero(out):
        for i in range(n):
            out[i] = np.uint32(0)

    @jit
    def set_one(out):
        for i in range(n):
            out[i] = one_mont[i]

    @jit
    def is_zero(a):
        acc = np.uint32(0)
        for i in range(n):
            acc |= a[i]
        return acc == np.uint32(0)

    @jit
    def eq(a, b):
        acc = np.uint32(0)
        for i in range(n):
            acc |= a[i] ^ b[i]
        return acc == np.uint32(0)

    @jit
    def to_mont(out, a):
        mul(out, a, r2)

    @jit
    def from_mont(out, a):
        mul(out, a, one_plain)

    @jit
    def pow_bits(out, a, bits, tmp):
        # tmp holds the base so that out may alias a.
        copy(tmp, a)
        set_one(out)
        for k in range(bits.shape[0]):
            sqr(out, out)
            if bits[k] != 0:
                mul(out, out, tmp)

    @jit
    def inv(out, a, tmp):
        pow_bits(out, a, inv_bits, tmp)

    return SimpleNamespace(spec=spec, nlimbs=n, mul=mul, sqr=sqr, add=add, sub=sub, dbl=dbl, neg=neg,
                           copy=copy, set_zero=set_zero, set_one=set_one, is_zero=is_zero, eq=eq,
                           to_mont=to_mont, from_mont=from_mont, pow_bits=pow_bits, inv=inv,
                           exponent_bits=_exponent_bits, **extra)
