"""`ceremony verify FILE.ptau` (snarkjs's powersoftau_verify.js): every contribution's proof of
knowledge and its link to the previous one, the beacon recomputed, the sections of the last
contribution as consecutive powers of one τ (random linear combinations, one pairing each), the
challenge chain, and the Lagrange sections of a prepared file (random evaluations, two MSMs each).

The random coefficients of the checks come from the OS CSPRNG: a bad file passes with probability
about 2^-128 per check.
"""

from __future__ import annotations

import secrets

import numpy as np

from pipeline.ceremony.blake2b import blake2b
from pipeline.ceremony.keypair import create_ptau_key, get_g2sp, same_ratio
from pipeline.ceremony.transcript import beacon_rng, g1_uncompressed, g2_uncompressed
from pipeline.errors import ProofError
from pipeline.snarkjs.ptau_file import read_ptau


def _generators():
    from kernels.ec.points import g1_generator, g2_generator
    return g1_generator(), g2_generator()


def _random_scalars(m: int) -> np.ndarray:
    """(m, 8) canonical random 128-bit scalars (enough for a random linear combination)."""
    raw = np.frombuffer(secrets.token_bytes(16 * m), "<u4").reshape(m, 4)
    out = np.zeros((m, 8), np.uint32)
    out[:, :4] = raw
    return out


def _msm(points: np.ndarray, scalars: np.ndarray, group: str) -> np.ndarray:
    from kernels.msm.pippenger import msm_g1, msm_g2
    return (msm_g1 if group == "g1" else msm_g2)(np.ascontiguousarray(points), scalars)


def _eq(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def _consecutive(points: np.ndarray, group: str) -> tuple[np.ndarray, np.ndarray]:
    """(Σ r_i·P_i, Σ r_i·P_(i+1)): same ratio as (G, τG) iff the points are consecutive powers."""
    r = _random_scalars(points.shape[0] - 1)
    return _msm(points[:-1], r, group), _msm(points[1:], r, group)


def verify_contribution(cur, prev: dict, index: int, where: str) -> None:
    """Check contribution `cur` against the previous state `prev` (points and next challenge)."""
    who = f"{where}: contribution {index} ({cur.name or 'unnamed'})"
    challenge = prev["next_challenge"]
    if cur.type == 1:
        _, expected = create_ptau_key(challenge, beacon_rng(cur.beacon_hash, cur.iterations_exp))
        if expected.lem() != cur.key.lem():
            raise ProofError(f"{who}: the beacon key does not follow from its beacon hash and iterations")
    key = cur.key
    g2sp = {name: get_g2sp(k, challenge, key.g1_s[name], key.g1_sx[name]) for k, name in enumerate(key.NAMES)}
    for name in key.NAMES:
        if not same_ratio(key.g1_s[name], key.g1_sx[name], g2sp[name], key.g2_spx[name]):
            raise ProofError(f"{who}: the proof of knowledge of {name} is wrong")
    checks = [(prev["tau_g1"], cur.tau_g1, g2sp["tau"], key.g2_spx["tau"], "tauG1"),
              (key.g1_s["tau"], key.g1_sx["tau"], prev["tau_g2"], cur.tau_g2, "tauG2"),
              (prev["alpha_g1"], cur.alpha_g1, g2sp["alpha"], key.g2_spx["alpha"], "alphaG1"),
              (prev["beta_g1"], cur.beta_g1, g2sp["beta"], key.g2_spx["beta"], "betaG1"),
              (key.g1_s["beta"], key.g1_sx["beta"], prev["beta_g2"], cur.beta_g2, "betaG2")]
    for a, b, c, d, what in checks:
        if not same_ratio(a, b, c, d):
            raise ProofError(f"{who}: {what} is not the previous one times the proven secret")


def verify_ptau(path, log=None) -> dict:
    """Verify a .ptau; returns {"power", "contributions", "names", "prepared", ...}.

    Raises ProofError with one line naming the first failed check, InputError for an unreadable file.
    """
    from pipeline.ceremony.powersoftau_new import first_challenge_hash

    say = log or (lambda _m: None)
    ptau = read_ptau(path)
    if not ptau.contributions:
        raise ProofError(f"{path}: no contribution yet (a fresh accumulator proves nothing)")
    g1, g2 = _generators()
    prev = {"tau_g1": g1, "tau_g2": g2, "alpha_g1": g1, "beta_g1": g1, "beta_g2": g2,
            "next_challenge": first_challenge_hash(ptau.ceremony_power)}
    for i, cur in enumerate(ptau.contributions):
        say(f"contribution {i + 1}: {cur.name}")
        verify_contribution(cur, prev, i + 1, str(path))
        prev = {"tau_g1": cur.tau_g1, "tau_g2": cur.tau_g2, "alpha_g1": cur.alpha_g1, "beta_g1": cur.beta_g1,
                "beta_g2": cur.beta_g2, "next_challenge": cur.next_challenge}
    last = ptau.contributions[-1]
    s = ptau.sections
    say("sections: consecutive powers")
    for kind in (2, 3, 4, 5, 6):
        from kernels.ec.points import g1_validate, g2_validate
        try:
            (g2_validate if kind in (3, 6) else g1_validate)(np.ascontiguousarray(s[kind]))
        except Exception as exc:
            raise ProofError(f"{path}: section {kind}: {exc}") from None
    r1, r2 = _consecutive(s[2], "g1")
    if not (same_ratio(r1, r2, g2, last.tau_g2) and _eq(s[2][0], g1) and _eq(s[2][1], last.tau_g1)):
        raise ProofError(f"{path}: tauG1 is not the powers of the last contribution's τ")
    r1, r2 = _consecutive(s[3], "g2")
    if not (same_ratio(g1, last.tau_g1, r1, r2) and _eq(s[3][0], g2) and _eq(s[3][1], last.tau_g2)):
        raise ProofError(f"{path}: tauG2 is not the powers of the last contribution's τ")
    for kind, first, what in ((4, last.alpha_g1, "alphaTauG1"), (5, last.beta_g1, "betaTauG1")):
        r1, r2 = _consecutive(s[kind], "g1")
        if not (same_ratio(r1, r2, g2, last.tau_g2) and _eq(s[kind][0], first)):
            raise ProofError(f"{path}: {what} is not α/β times the powers of τ")
    if not _eq(s[6][0], last.beta_g2):
        raise ProofError(f"{path}: betaG2 differs from the last contribution's")
    if ptau.power == ptau.ceremony_power:
        expected = blake2b(last.response_hash(), *(g2_uncompressed(s[k]) if k in (3, 6) else g1_uncompressed(s[k])
                                                   for k in (2, 3, 4, 5, 6)))
        if expected != last.next_challenge:
            raise ProofError(f"{path}: the sections do not hash to the last contribution's next challenge")
    if ptau.prepared:
        say("phase-2 sections: Lagrange bases")
        verify_lagrange(ptau)
    return {"file": str(path), "power": ptau.power, "contributions": len(ptau.contributions),
            "names": [c.name for c in ptau.contributions],
            "beacon": any(c.type == 1 for c in ptau.contributions), "prepared": ptau.prepared,
            "next_challenge": last.next_challenge.hex()}


def verify_lagrange(ptau) -> None:
    """Sections 12–15 are the Lagrange bases of sections 2–5 on every domain (snarkjs's layout)."""
    from kernels.ec.points import g1_infinity
    from kernels.ff.fields import FR
    from kernels.ntt import SNARKJS_GENERATOR, domain_root, intt

    from kernels.ec.points import g1_validate, g2_validate

    s, power = ptau.sections, ptau.power
    for lag_kind, tau_kind, group, top in ((12, 2, "g1", power + 1), (13, 3, "g2", power), (14, 4, "g1", power),
                                           (15, 5, "g1", power)):
        # Subgroup first: a small-order component could vanish from the random evaluation below
        # (with probability 1/3 for order 3), and phase-2 keys are built from these points.
        try:
            (g2_validate if group == "g2" else g1_validate)(np.ascontiguousarray(s[lag_kind]))
        except Exception as exc:
            raise ProofError(f"{ptau.path}: section {lag_kind}: {exc}") from None
        offset = 0
        for p in range(top + 1):
            n = 1 << p
            lag = s[lag_kind][offset:offset + n]
            offset += n
            powers = s[tau_kind][:n]
            if powers.shape[0] < n:          # the top domain: the last power is taken as zero
                powers = np.concatenate([powers, g1_infinity()[None]])
            r = _random_scalars(n)
            mont = np.empty_like(r)
            FR.to_mont_vec(mont, r)
            coeffs = intt(mont, omega=domain_root(n, SNARKJS_GENERATOR))
            plain = np.empty_like(coeffs)
            FR.from_mont_vec(plain, coeffs)
            if not _eq(_msm(lag, r, group), _msm(powers, plain, group)):
                raise ProofError(f"{ptau.path}: section {lag_kind} (domain 2^{p}) is not the Lagrange basis of "
                                 f"section {tau_kind}; run `ceremony prepare` again")
