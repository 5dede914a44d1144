"""`ceremony prepare IN.ptau OUT.ptau` (snarkjs's powersoftau_preparephase2.js): add the Lagrange
sections 12–15 (L_i(τ) on every domain 2^p, of τ·G1, τ·G2, α·τ·G1, β·τ·G1) that phase 2 reads.

L_i(τ)·G = (1/N)·Σ_j ω^(−ij)·τ^j·G: an inverse FFT whose "values" are points, so each butterfly's
twiddle is a scalar multiplication (the kernels' double-and-add, batched per stage) and each sum a
point addition. The top G1 domain, 2^(power+1), has one power fewer than it needs; as in snarkjs
the missing τ^(N−1) is taken as zero.
"""

from __future__ import annotations

import numpy as np

from pipeline.ceremony.apply_key import add_points, multiply_points
from pipeline.errors import InputError
from pipeline.snarkjs.ptau_file import read_ptau, write_ptau_sections


def _bit_reverse(n: int) -> np.ndarray:
    bits = n.bit_length() - 1
    idx = np.arange(n)
    rev = np.zeros(n, np.int64)
    for b in range(bits):
        rev |= ((idx >> b) & 1) << (bits - 1 - b)
    return rev


def _scalars(values: list[int]) -> np.ndarray:
    from kernels.ff.fields import FR
    return FR.canonical(values)


def group_ifft(points: np.ndarray, group: str) -> np.ndarray:
    """The N points (1/N)·Σ_j ω_N^(−ij)·points[j] (N = len(points), a power of two, snarkjs's ω)."""
    from kernels import params
    from kernels.ntt import SNARKJS_GENERATOR, domain_root

    n = points.shape[0]
    if n == 1:
        return np.array(points, np.uint32)
    r = params.R
    inv_root = pow(domain_root(n, SNARKJS_GENERATOR), -1, r)
    a = np.ascontiguousarray(points[_bit_reverse(n)], np.uint32)
    m = 2
    while m <= n:
        half = m // 2
        w_m = pow(inv_root, n // m, r)
        tw = [pow(w_m, j, r) for j in range(half)]
        starts = np.arange(0, n, m)
        lo = (starts[:, None] + np.arange(half)[None, :]).reshape(-1)
        hi = lo + half
        t = a[hi].copy()
        nontrivial = np.tile(np.arange(half) != 0, starts.size)
        if nontrivial.any():
            scal = np.tile(_scalars(tw), (starts.size, 1))[nontrivial]
            t[nontrivial] = multiply_points(a[hi][nontrivial], scal, group)
        u = a[lo].copy()
        a[lo] = add_points(u, t, group)
        a[hi] = add_points(u, t, group, negate_b=True)
        m *= 2
    inv_n = _scalars([pow(n, -1, r)] * n)
    return multiply_points(a, inv_n, group)


def prepare_ptau(in_path, out_path, log=None) -> dict:
    """Write `in_path` with its Lagrange sections to `out_path`; returns {"power", "points"}.

    Raises InputError for a file without contributions or unreadable.
    """
    from kernels.ec.points import g1_infinity

    say = log or (lambda _m: None)
    ptau = read_ptau(in_path)
    if not ptau.contributions:
        raise InputError(f"{in_path}: no contribution yet; contribute (and close with a beacon) before preparing")
    s = dict(ptau.sections)
    power = ptau.power
    out = {}
    for lag_kind, tau_kind, group, top in ((12, 2, "g1", power + 1), (13, 3, "g2", power), (14, 4, "g1", power),
                                           (15, 5, "g1", power)):
        parts = []
        for p in range(top + 1):
            n = 1 << p
            pts = s[tau_kind][:n]
            if pts.shape[0] < n:
                pts = np.concatenate([pts, g1_infinity()[None]])
            say(f"section {lag_kind}: domain 2^{p}")
            parts.append(group_ifft(pts, group))
        out[lag_kind] = np.concatenate(parts)
    s.update(out)
    write_ptau_sections(out_path, power, s, ptau.contributions, ptau.ceremony_power)
    return {"file": str(out_path), "power": power, "points": int(sum(v.shape[0] for v in out.values()))}
