"""Curve constants derived from `kernels.params` with Python ints (done once, at import, in ~ms).

BETA      a primitive cube root of unity in Fq such that sigma(x, y) = (BETA x, y) acts on G1 as
          [-x^2] (Scott, eprint 2021/1130 section 6; proof in 2022/352): the G1 subgroup check.
PSI_X/Y   the untwist-Frobenius-twist endomorphism psi(x, y) = (conj(x) PSI_X, conj(y) PSI_Y) on E2,
          which acts on G2 as [x] (eprint 2021/1130 section 4): the G2 subgroup check.
"""

from __future__ import annotations

from kernels import params

P = params.P


# --- Fq2 over ints: (c0, c1) = c0 + c1 i, i^2 = -1 --------------------------------------------
def fq2_mul(a, b):
    return ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def fq2_inv(a):
    d = pow(a[0] * a[0] + a[1] * a[1], -1, P)
    return (a[0] * d % P, -a[1] * d % P)


def fq2_pow(a, e: int):
    acc = (1, 0)
    for bit in bin(e)[2:]:
        acc = fq2_mul(acc, acc)
        if bit == "1":
            acc = fq2_mul(acc, a)
    return acc


# --- G1 affine over ints (None is infinity): only for deriving constants ---------------------
def _g1_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = 3 * x1 * x1 * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return (x3, (lam * (x1 - x3) - y1) % P)


def _g1_mul(pt, k: int):
    acc = None
    for bit in bin(k)[2:]:
        acc = _g1_add(acc, acc)
        if bit == "1":
            acc = _g1_add(acc, pt)
    return acc


def _derive_beta() -> int:
    x2g = _g1_mul(params.G1_GENERATOR, params.X * params.X)
    target = (x2g[0], (-x2g[1]) % P)                 # [-x^2] G
    gx, gy = params.G1_GENERATOR
    for g in range(2, 100):
        w = pow(g, (P - 1) // 3, P)
        if w == 1:
            continue
        for beta in (w, w * w % P):
            if (beta * gx % P, gy) == target:
                return beta
    raise AssertionError("no cube root of unity acts as [-x^2] on G1")


BETA = _derive_beta()
_XI = (1, 1)                                           # the sextic non-residue 1 + i
PSI_X = fq2_inv(fq2_pow(_XI, (P - 1) // 3))
PSI_Y = fq2_inv(fq2_pow(_XI, (P - 1) // 2))

# |x| as MSB-first bits for [|x|]P; x < 0, so [x]P = -[|x|]P.
ABS_X = -params.X
assert params.X < 0


def bits_msb_first(k: int) -> list[int]:
    """Bits of a non-negative int, most significant first (empty for 0)."""
    return [int(c) for c in bin(k)[2:]] if k else []
