"""Short-Weierstrass (a = 0) point formulas, written once over an abstract field, for G1 and G2.

`compile_curve(F, jit, b)` turns a field namespace `F` (Fq or Fq2, see `fq_ops`/`fq2_ops`) into
the curve routines; the same source compiles with `numba.njit` for the CPU and with
`cuda.jit(device=True)` for the GPU, so nothing here allocates: every routine takes `t`, a
(T_ROWS, *element) array of field temporaries, and `s`, a (S_ROWS, 12) array of Fq rows that the
field product needs (Fq2 Karatsuba). Coordinates (element = (12,) for G1, (2, 12) for G2):

  affine    (2, *element)  x, y; the point at infinity is x = y = 0 (on neither curve, b != 0)
  Jacobian  (3, *element)  x = X/Z^2, y = Y/Z^3; infinity is Z = 0
  XYZZ      (4, *element)  x = X/ZZ, y = Y/ZZZ with ZZ^3 = ZZZ^2; infinity is ZZ = 0 (bucket form)

Formulas are the EFD's a = 0 ones: dbl-2009-l, add-2007-bl, madd-2007-bl (Jacobian);
add-2008-s, madd-2008-s, dbl-2008-s-1, mdbl-2008-s-1 (XYZZ); every exceptional case
(infinity, P = Q, P = -Q) is handled. Outputs may alias inputs unless a docstring says otherwise.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

T_ROWS = 10   # curve temporaries (field elements) every routine may use
S_ROWS = 4    # Fq rows of field scratch (Fq2 mul needs 4)


def fq_ops(fq, jit) -> SimpleNamespace:
    """Fq as a curve field: the Fq routines plus `mul/sqr/inv` taking the shared scratch `s`."""
    f_mul, f_sqr, f_inv = fq.mul, fq.sqr, fq.inv

    @jit
    def mul(out, a, b, s):
        f_mul(out, a, b)

    @jit
    def sqr(out, a, s):
        f_sqr(out, a)

    if hasattr(fq, "mul_s"):   # the CPU build: the same routines with that signature, no wrapper call
        mul, sqr = fq.mul_s, fq.sqr_s

    @jit
    def inv(out, a, s):
        f_inv(out, a, s[0])

    return SimpleNamespace(mul=mul, sqr=sqr, inv=inv, add=fq.add, sub=fq.sub, dbl=fq.dbl, neg=fq.neg,
                           copy=fq.copy, set_zero=fq.set_zero, set_one=fq.set_one,
                           is_zero=fq.is_zero, eq=fq.eq)


def fq2_ops(fq2) -> SimpleNamespace:
    """Fq2 as a curve field (its routines already take scratch rows)."""
    return SimpleNamespace(mul=fq2.mul, sqr=fq2.sqr, inv=fq2.inv, add=fq2.add, sub=fq2.sub, dbl=fq2.dbl,
                           neg=fq2.neg, copy=fq2.copy, set_zero=fq2.set_zero, set_one=fq2.set_one,
                           is_zero=fq2.is_zero, eq=fq2.eq)


def compile_curve(F, jit, b_mont: np.ndarray) -> SimpleNamespace:
    """Curve routines over field `F` for y^2 = x^3 + b (`b_mont`: b in Montgomery form).

    Returns a namespace of jitted routines (see the module docstring for layouts):
    `aff_is_inf(a)`, `aff_neg(out, a)`, `aff_on_curve(a, t, s) -> bool` (infinity counts as on it),
    `aff_to_jac(out, a)`, `jac_set_inf(out)`, `jac_is_inf(p)`, `jac_neg(out, p)`, `jac_copy`,
    `jac_dbl(out, p, t, s)`, `jac_add(out, p, q, t, s)`, `jac_madd(out, p, a, t, s)`,
    `jac_eq(p, q, t, s) -> bool`, `jac_to_aff(out, p, t, s)`, `jac_mul_bits(out, p, bits, t, s)`
    (out must not alias p; bits MSB-first uint8), `xyzz_set_inf(out)`, `xyzz_copy(out, p)`,
    `xyzz_madd(acc, a, t, s)` (acc += a in place), `xyzz_add(acc, q, t, s)` (acc += q in place),
    `xyzz_dbl(out, p, t, s)`, `xyzz_mdbl(out, a, t, s)` (2a of affine a), `xyzz_to_jac(out, p, s)`
    (out must not alias p).
    """
    mul, sqr, inv = F.mul, F.sqr, F.inv
    add, sub, dbl, neg = F.add, F.sub, F.dbl, F.neg
    copy, set_zero, set_one, is_zero, eq = F.copy, F.set_zero, F.set_one, F.is_zero, F.eq
    b = b_mont

    # --- affine -------------------------------------------------------------------------
    @jit
    def aff_is_inf(a):
        return is_zero(a[0]) and is_zero(a[1])

    @jit
    def aff_neg(out, a):
        copy(out[0], a[0])
        neg(out[1], a[1])

    @jit
    def aff_on_curve(a, t, s):
        if aff_is_inf(a):
            return True
        sqr(t[0], a[0], s)
        mul(t[0], t[0], a[0], s)
        add(t[0], t[0], b)
        sqr(t[1], a[1], s)
        return eq(t[0], t[1])

    # --- Jacobian -----------------------------------------------------------------------
    @jit
    def jac_set_inf(out):
        set_one(out[0])
        set_one(out[1])
        set_zero(out[2])

    @jit
    def jac_is_inf(p):
        return is_zero(p[2])

    @jit
    def jac_copy(out, p):
        copy(out[0], p[0])
        copy(out[1], p[1])
        copy(out[2], p[2])

    @jit
    def jac_neg(out, p):
        copy(out[0], p[0])
        neg(out[1], p[1])
        copy(out[2], p[2])

    @jit
    def aff_to_jac(out, a):
        if aff_is_inf(a):
            jac_set_inf(out)
        else:
            copy(out[0], a[0])
            copy(out[1], a[1])
            set_one(out[2])

    @jit
    def jac_dbl(out, p, t, s):
        # dbl-2009-l; Y = 0 or Z = 0 give Z3 = 0 (infinity) by themselves.
        sqr(t[0], p[0], s)              # A = X^2
        sqr(t[1], p[1], s)              # B = Y^2
        sqr(t[2], t[1], s)              # C = B^2
        add(t[3], p[0], t[1])
        sqr(t[3], t[3], s)
        sub(t[3], t[3], t[0])
        sub(t[3], t[3], t[2])
        dbl(t[3], t[3])                 # D = 2((X + B)^2 - A - C)
        dbl(t[4], t[0])
        add(t[4], t[4], t[0])           # E = 3A
        sqr(t[5], t[4], s)              # F = E^2
        mul(t[6], p[1], p[2], s)
        dbl(out[2], t[6])               # Z3 = 2YZ
        dbl(t[0], t[3])
        sub(out[0], t[5], t[0])         # X3 = F - 2D
        sub(t[1], t[3], out[0])
        mul(t[1], t[4], t[1], s)
        dbl(t[2], t[2])
        dbl(t[2], t[2])
        dbl(t[2], t[2])
        sub(out[1], t[1], t[2])         # Y3 = E(D - X3) - 8C

    @jit
    def jac_add(out, p, q, t, s):
        # add-2007-bl
        if is_zero(p[2]):
            jac_copy(out, q)
            return
        if is_zero(q[2]):
            jac_copy(out, p)
            return
        sqr(t[0], p[2], s)              # Z1Z1
        sqr(t[1], q[2], s)              # Z2Z2
        mul(t[2], p[0], t[1], s)        # U1
        mul(t[3], q[0], t[0], s)        # U2
        mul(t[4], p[1], q[2], s)
        mul(t[4], t[4], t[1], s)        # S1
        mul(t[5], q[1], p[2], s)
        mul(t[5], t[5], t[0], s)        # S2
        sub(t[3], t[3], t[2])           # H
        sub(t[5], t[5], t[4])
        if is_zero(t[3]):
            if is_zero(t[5]):
                jac_dbl(out, p, t, s)
            else:
                jac_set_inf(out)
            return
        dbl(t[5], t[5])                 # r
        dbl(t[6], t[3])
        sqr(t[6], t[6], s)              # I = (2H)^2
        mul(t[7], t[3], t[6], s)        # J = H I
        mul(t[6], t[2], t[6], s)        # V = U1 I
        add(t[8], p[2], q[2])
        sqr(t[8], t[8], s)
        sub(t[8], t[8], t[0])
        sub(t[8], t[8], t[1])
        mul(t[8], t[8], t[3], s)        # Z3 = ((Z1 + Z2)^2 - Z1Z1 - Z2Z2) H
        sqr(t[0], t[5], s)
        sub(t[0], t[0], t[7])
        dbl(t[1], t[6])
        sub(t[0], t[0], t[1])           # X3 = r^2 - J - 2V
        sub(t[1], t[6], t[0])
        mul(t[1], t[5], t[1], s)
        mul(t[2], t[4], t[7], s)
        dbl(t[2], t[2])
        sub(out[1], t[1], t[2])         # Y3 = r(V - X3) - 2 S1 J
        copy(out[0], t[0])
        copy(out[2], t[8])

    @jit
    def jac_madd(out, p, a, t, s):
        # madd-2007-bl: Jacobian p plus affine a.
        if aff_is_inf(a):
            jac_copy(out, p)
            return
        if is_zero(p[2]):
            aff_to_jac(out, a)
            return
        sqr(t[0], p[2], s)              # Z1Z1
        mul(t[1], a[0], t[0], s)        # U2
        mul(t[2], a[1], p[2], s)
        mul(t[2], t[2], t[0], s)        # S2
        sub(t[1], t[1], p[0])           # H
        sub(t[2], t[2], p[1])
        if is_zero(t[1]):
            if is_zero(t[2]):
                jac_dbl(out, p, t, s)
            else:
                jac_set_inf(out)
            return
        sqr(t[3], t[1], s)              # HH
        dbl(t[4], t[3])
        dbl(t[4], t[4])                 # I = 4 HH
        mul(t[5], t[1], t[4], s)        # J = H I
        dbl(t[2], t[2])                 # r
        mul(t[4], p[0], t[4], s)        # V = X1 I
        add(t[6], p[2], t[1])
        sqr(t[6], t[6], s)
        sub(t[6], t[6], t[0])
        sub(t[6], t[6], t[3])           # Z3 = (Z1 + H)^2 - Z1Z1 - HH
        sqr(t[0], t[2], s)
        sub(t[0], t[0], t[5])
        dbl(t[3], t[4])
        sub(t[0], t[0], t[3])           # X3 = r^2 - J - 2V
        sub(t[3], t[4], t[0])
        mul(t[3], t[2], t[3], s)
        mul(t[7], p[1], t[5], s)
        dbl(t[7], t[7])
        sub(out[1], t[3], t[7])         # Y3 = r(V - X3) - 2 Y1 J
        copy(out[0], t[0])
        copy(out[2], t[6])

    @jit
    def jac_eq(p, q, t, s):
        p_inf = is_zero(p[2])
        q_inf = is_zero(q[2])
        if p_inf or q_inf:
            return p_inf and q_inf
        sqr(t[0], p[2], s)
        sqr(t[1], q[2], s)
        mul(t[2], p[0], t[1], s)
        mul(t[3], q[0], t[0], s)
        if not eq(t[2], t[3]):
            return False
        mul(t[0], t[0], p[2], s)
        mul(t[1], t[1], q[2], s)
        mul(t[2], p[1], t[1], s)
        mul(t[3], q[1], t[0], s)
        return eq(t[2], t[3])

    @jit
    def jac_to_aff(out, p, t, s):
        if is_zero(p[2]):
            set_zero(out[0])
            set_zero(out[1])
            return
        inv(t[0], p[2], s)
        sqr(t[1], t[0], s)
        mul(t[0], t[0], t[1], s)
        mul(out[0], p[0], t[1], s)
        mul(out[1], p[1], t[0], s)

    @jit
    def jac_mul_bits(out, p, bits, t, s):
        jac_set_inf(out)
        for k in range(bits.shape[0]):
            jac_dbl(out, out, t, s)
            if bits[k] != 0:
                jac_add(out, out, p, t, s)

    # --- XYZZ (buckets) -----------------------------------------------------------------
    @jit
    def xyzz_set_inf(out):
        set_one(out[0])
        set_one(out[1])
        set_zero(out[2])
        set_zero(out[3])

    @jit
    def xyzz_copy(out, p):
        copy(out[0], p[0])
        copy(out[1], p[1])
        copy(out[2], p[2])
        copy(out[3], p[3])

    @jit
    def xyzz_dbl(out, p, t, s):
        # dbl-2008-s-1; Y = 0 or ZZ = 0 give ZZ3 = 0 (infinity) by themselves.
        dbl(t[0], p[1])                 # U = 2Y
        sqr(t[1], t[0], s)              # V = U^2
        mul(t[2], t[0], t[1], s)        # W = U V
        mul(t[3], p[0], t[1], s)        # S = X V
        sqr(t[4], p[0], s)
        dbl(t[5], t[4])
        add(t[4], t[4], t[5])           # M = 3 X^2
        mul(out[2], t[1], p[2], s)      # ZZ3 = V ZZ
        mul(t[6], t[2], p[1], s)        # W Y (before Y is overwritten)
        mul(out[3], t[2], p[3], s)      # ZZZ3 = W ZZZ
        sqr(t[5], t[4], s)
        dbl(t[0], t[3])
        sub(out[0], t[5], t[0])         # X3 = M^2 - 2S
        sub(t[3], t[3], out[0])
        mul(t[3], t[4], t[3], s)
        sub(out[1], t[3], t[6])         # Y3 = M(S - X3) - W Y

    @jit
    def xyzz_mdbl(out, a, t, s):
        # mdbl-2008-s-1: 2a for affine a, into XYZZ out.
        dbl(t[0], a[1])                 # U = 2y
        sqr(t[1], t[0], s)              # V
        mul(t[2], t[0], t[1], s)        # W
        mul(t[3], a[0], t[1], s)        # S = x V
        sqr(t[4], a[0], s)
        dbl(t[5], t[4])
        add(t[4], t[4], t[5])           # M = 3 x^2
        mul(t[6], t[2], a[1], s)        # W y
        copy(out[2], t[1])
        copy(out[3], t[2])
        sqr(t[5], t[4], s)
        dbl(t[0], t[3])
        sub(out[0], t[5], t[0])
        sub(t[3], t[3], out[0])
        mul(t[3], t[4], t[3], s)
        sub(out[1], t[3], t[6])

    @jit
    def xyzz_madd(acc, a, t, s):
        # madd-2008-s: acc += a (affine), 8 products and 2 squares in the general case.
        if aff_is_inf(a):
            return
        if is_zero(acc[2]):
            copy(acc[0], a[0])
            copy(acc[1], a[1])
            set_one(acc[2])
            set_one(acc[3])
            return
        mul(t[0], a[0], acc[2], s)      # U2
        mul(t[1], a[1], acc[3], s)      # S2
        sub(t[0], t[0], acc[0])         # P
        sub(t[1], t[1], acc[1])         # R
        if is_zero(t[0]):
            if is_zero(t[1]):
                xyzz_mdbl(acc, a, t, s)
            else:
                set_zero(acc[2])
                set_zero(acc[3])
            return
        sqr(t[2], t[0], s)              # PP
        mul(t[3], t[0], t[2], s)        # PPP
        mul(t[4], acc[0], t[2], s)      # Q = X1 PP
        sqr(t[5], t[1], s)
        sub(t[5], t[5], t[3])
        dbl(t[6], t[4])
        sub(t[5], t[5], t[6])           # X3 = R^2 - PPP - 2Q
        sub(t[6], t[4], t[5])
        mul(t[6], t[1], t[6], s)
        mul(t[7], acc[1], t[3], s)
        sub(acc[1], t[6], t[7])         # Y3 = R(Q - X3) - Y1 PPP
        copy(acc[0], t[5])
        mul(acc[2], acc[2], t[2], s)    # ZZ3 = ZZ1 PP
        mul(acc[3], acc[3], t[3], s)    # ZZZ3 = ZZZ1 PPP

    @jit
    def xyzz_add(acc, q, t, s):
        # add-2008-s: acc += q (both XYZZ).
        if is_zero(q[2]):
            return
        if is_zero(acc[2]):
            xyzz_copy(acc, q)
            return
        mul(t[0], acc[0], q[2], s)      # U1
        mul(t[1], q[0], acc[2], s)      # U2
        mul(t[2], acc[1], q[3], s)      # S1
        mul(t[3], q[1], acc[3], s)      # S2
        sub(t[1], t[1], t[0])           # P
        sub(t[3], t[3], t[2])           # R
        if is_zero(t[1]):
            if is_zero(t[3]):
                xyzz_dbl(acc, acc, t, s)
            else:
                set_zero(acc[2])
                set_zero(acc[3])
            return
        sqr(t[4], t[1], s)              # PP
        mul(t[5], t[1], t[4], s)        # PPP
        mul(t[6], t[0], t[4], s)        # Q = U1 PP
        sqr(t[7], t[3], s)
        sub(t[7], t[7], t[5])
        dbl(t[8], t[6])
        sub(t[7], t[7], t[8])           # X3
        sub(t[8], t[6], t[7])
        mul(t[8], t[3], t[8], s)
        mul(t[9], t[2], t[5], s)
        sub(acc[1], t[8], t[9])         # Y3 = R(Q - X3) - S1 PPP
        copy(acc[0], t[7])
        mul(acc[2], acc[2], q[2], s)
        mul(acc[2], acc[2], t[4], s)    # ZZ3 = ZZ1 ZZ2 PP
        mul(acc[3], acc[3], q[3], s)
        mul(acc[3], acc[3], t[5], s)    # ZZZ3 = ZZZ1 ZZZ2 PPP

    @jit
    def xyzz_to_jac(out, p, s):
        # (X ZZ, Y ZZZ, ZZ) is Jacobian for the same point because ZZ^3 = ZZZ^2.
        mul(out[0], p[0], p[2], s)
        mul(out[1], p[1], p[3], s)
        copy(out[2], p[2])

    return SimpleNamespace(
        aff_is_inf=aff_is_inf, aff_neg=aff_neg, aff_on_curve=aff_on_curve, aff_to_jac=aff_to_jac,
        jac_set_inf=jac_set_inf, jac_is_inf=jac_is_inf, jac_copy=jac_copy, jac_neg=jac_neg,
        jac_dbl=jac_dbl, jac_add=jac_add, jac_madd=jac_madd, jac_eq=jac_eq, jac_to_aff=jac_to_aff,
        jac_mul_bits=jac_mul_bits, xyzz_set_inf=xyzz_set_inf, xyzz_copy=xyzz_copy, xyzz_dbl=xyzz_dbl,
        xyzz_mdbl=xyzz_mdbl,
        xyzz_madd=xyzz_madd, xyzz_add=xyzz_add, xyzz_to_jac=xyzz_to_jac,
    )
