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


def group_ifft(points: np.ndarray, group: str) -> np.ndarray:
    """The N points (1/N)·Σ_j ω_N^(−ij)·points[j] (N = len(points), a power of two, snarkjs's ω).

    A radix-2 DFT with the kernels' twiddle table (forward ω), then the inverse as
    out[i] = DFT[(N − i) mod N]/N; twiddle multiplications batched per stage.
    """
    from kernels.ff.fields import FR, fr
    from kernels.ntt import SNARKJS_GENERATOR, domain_root, twiddles

    n = points.shape[0]
    if n == 1:
        return np.array(points, np.uint32)
    tw_mont = twiddles(n, domain_root(n, SNARKJS_GENERATOR))
    tw = np.empty_like(tw_mont)
    FR.from_mont_vec(tw, np.ascontiguousarray(tw_mont))
    a = np.ascontiguousarray(points[_bit_reverse(n)], np.uint32)
    half = 1
    while half < n:
        starts = np.arange(0, n, 2 * half)
        lo = (starts[:, None] + np.arange(half)[None, :]).reshape(-1)
        hi = lo + half
        j = np.tile(np.arange(half), starts.size)
        t = a[hi].copy()
        nontrivial = j != 0
        if nontrivial.any():
            t[nontrivial] = multiply_points(a[hi][nontrivial], tw[half + j[nontrivial]].copy(), group)
        u = a[lo].copy()
        a[lo] = add_points(u, t, group)
        a[hi] = add_points(u, t, group, negate_b=True)
        half *= 2
    inv_n, tmp = np.empty(8, np.uint32), np.empty(8, np.uint32)
    fr.inv(inv_n, FR.element(n), tmp)
    plain = np.empty((1, 8), np.uint32)
    FR.from_mont_vec(plain, inv_n[None])
    a = a[(n - np.arange(n)) % n]
    return multiply_points(a, np.repeat(plain, n, axis=0), group)


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
