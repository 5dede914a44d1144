"""Groth16 key generation by one party: toxic waste from the OS CSPRNG, erased after use.

For the QAP of r1cs_to_qap (snarkjs's domain and odd-coset convention) and secrets τ, α, β, γ, δ:
  A_j = u_j(τ)·G1, B_j = v_j(τ)·G1 and ·G2, where u_j(τ) = Σ_i A_ij·L_i(τ) over the domain's
  Lagrange basis; IC_j = (β·u_j + α·v_j + w_j)(τ)/γ·G1 for the public variables, L_j the same
  over δ for the private ones; H_i = L^{2n}_{2i+1}(τ)/δ·G1 (the 2n-point basis at the odd points).

The keys are labelled as coming from a one-party setup: whoever ran it could forge proofs had the
waste not been erased. Erasure is best effort: the secrets live in NumPy arrays that are zeroed in
a `finally`, and the few Python ints that must exist (scalar multiplication takes ints) are dropped
as soon as they are used; CPython gives no way to overwrite an int in place.
"""

from __future__ import annotations

import secrets

import numpy as np

from kernels import params
from kernels.cache import cached_njit
from kernels.ff.fields import FR, fr
from pipeline.errors import InputError
from pipeline.groth16.keys import ONE_PARTY_LABEL, ProvingKey, VerifyingKey
from pipeline.groth16.r1cs import R1CS
from pipeline.groth16.r1cs_to_qap import domain_roots, qap_matrices

R = params.R
_fr_mul = fr.mul


@cached_njit(nogil=True)
def _geometric(out, first, ratio):
    """out[i] = first·ratio^i (Montgomery Fr)."""
    out[0] = first
    for i in range(1, out.shape[0]):
        _fr_mul(out[i], out[i - 1], ratio)


def _scaled(values: np.ndarray, scalar: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    FR.mul_vec(out, values, np.ascontiguousarray(np.broadcast_to(scalar, values.shape)))
    return out


def _lagrange_at(tau: np.ndarray, size: int, omega: int) -> np.ndarray:
    """(size, 8) Montgomery L_i(τ) = ω^i·(τ^size − 1) / (size·(τ − ω^i)) on the domain ⟨ω⟩."""
    powers = np.empty((size, 8), np.uint32)
    _geometric(powers, FR.element(1), FR.element(omega))
    diff = np.empty_like(powers)
    FR.sub_vec(diff, np.ascontiguousarray(np.broadcast_to(tau, powers.shape)), powers)
    FR.inv_batch(diff, diff)
    FR.mul_vec(diff, diff, powers)
    tau_n = tau.copy()
    for _ in range(size.bit_length() - 1):      # size is a power of two
        _fr_mul(tau_n, tau_n, tau_n)
    factor = FR.element(pow(size, -1, R))
    fr.sub(tau_n, tau_n, FR.element(1))
    _fr_mul(factor, factor, tau_n)
    out = _scaled(diff, factor)
    for arr in (powers, diff, tau_n, factor):
        arr.fill(0)
    return out


def _fixed_base(base: np.ndarray, scalars: np.ndarray, g2: bool) -> np.ndarray:
    """Points [k_i]·base for the Montgomery scalars k_i, by the kernels' windowed fixed-base tables."""
    from kernels.ec.fixed_base import g1_fixed_base_mul, g2_fixed_base_mul

    if not scalars.shape[0]:
        return np.zeros((0,) + base.shape, np.uint32)
    plain = np.empty_like(scalars)
    FR.from_mont_vec(plain, scalars)
    out = (g2_fixed_base_mul if g2 else g1_fixed_base_mul)(base, plain)
    plain.fill(0)     # the scalars are functions of the toxic waste
    return out


def _nonzero_secret() -> np.ndarray:
    return FR.element(secrets.randbelow(R - 1) + 1)


def setup(r1cs: R1CS) -> tuple[ProvingKey, VerifyingKey]:
    """Fresh (proving key, verifying key) for `r1cs`, labelled as a one-party setup.

    Raises InputError for a system without C (one read from a .zkey) or too large for Fr's domains.
    """
    from kernels.ec.points import g1_generator, g2_generator

    if r1cs.c is None:
        raise InputError("setup needs the full R1CS (A, B and C); a .zkey's constraint system has no C")
    qap = qap_matrices(r1cs)
    n, n_pub = qap.domain_size, r1cs.n_public
    omega, omega_2n = domain_roots(n)
    g1, g2 = g1_generator(), g2_generator()
    secrets_arr = np.stack([_nonzero_secret() for _ in range(5)])   # τ, α, β, γ, δ
    scratch: list[np.ndarray] = []
    try:
        tau, alpha, beta, gamma, delta = secrets_arr
        # τ on a domain point would divide by zero in the Lagrange basis: redraw (probability ~2^-222).
        while _on_domain(tau, 2 * n):
            tau[:] = _nonzero_secret()
        lag = _lagrange_at(tau, n, omega)
        u = qap.a.transpose_matvec(lag, r1cs.n_vars)
        v = qap.b.transpose_matvec(lag, r1cs.n_vars)
        w = r1cs.c.transpose_matvec(lag, r1cs.n_vars)
        k = _scaled(u, beta)
        FR.add_vec(k, k, _scaled(v, alpha))
        FR.add_vec(k, k, w)
        inv_gamma, inv_delta, tmp = np.empty(8, np.uint32), np.empty(8, np.uint32), np.empty(8, np.uint32)
        fr.inv(inv_gamma, gamma, tmp)
        fr.inv(inv_delta, delta, tmp)
        ic_scalars = _scaled(k[:n_pub + 1], inv_gamma)
        l_scalars = _scaled(k[n_pub + 1:], inv_delta)
        h_scalars = _scaled(np.ascontiguousarray(_lagrange_at(tau, 2 * n, omega_2n)[1::2]), inv_delta)
        scratch += [lag, u, v, w, k, inv_gamma, inv_delta, tmp, ic_scalars, l_scalars, h_scalars]

        one_each = np.stack([alpha, beta, delta])
        alpha_g1, beta_g1, delta_g1 = _fixed_base(g1, one_each, False)
        beta_g2, gamma_g2, delta_g2 = _fixed_base(g2, np.stack([beta, gamma, delta]), True)
        vk = VerifyingKey(alpha_g1, beta_g2, gamma_g2, delta_g2, _fixed_base(g1, ic_scalars, False),
                          r1cs.digest(), ONE_PARTY_LABEL)
        pk = ProvingKey(vk, beta_g1, delta_g1,
                        a_query=_fixed_base(g1, u, False),
                        b_g1_query=_fixed_base(g1, v, False),
                        b_g2_query=_fixed_base(g2, v, True),
                        l_query=_fixed_base(g1, l_scalars, False),
                        h_query=_fixed_base(g1, h_scalars, False),
                        domain_size=n)
        scratch.append(one_each)
    finally:
        secrets_arr.fill(0)
        for arr in scratch:
            arr.fill(0)
    return pk, vk


def _on_domain(tau: np.ndarray, size: int) -> bool:
    """τ^size = 1: τ lies on the 2n-point domain (and so on the n-point one)."""
    t = tau.copy()
    for _ in range(size.bit_length() - 1):
        _fr_mul(t, t, t)
    hit = FR.value(t) == 1
    t.fill(0)
    return hit
