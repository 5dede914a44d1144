"""`keys import ZKEY --shape SHAPE --ptau PTAU`: install a ceremony's key for a statistics shape.

The .zkey is verified in full first: the powers of tau's own transcript (`powersoftau_verify`), the
.zkey's transcript and δ chain, and the key rebuilt from that ptau and the shape's circuit
(`zkey_verify`). A key with no contribution after the initial one is refused (its δ = 1 is public,
so whoever knew τ could forge proofs) unless `allow_single_party`. The proving key is stored in the
key store (`pipeline.keystore`) with the circuit's digest and a label naming the contributors.
"""

from __future__ import annotations

from pipeline.errors import InputError, ProofError


def import_zkey(zkey_path, shape_text: str, ptau_path, store, allow_single_party: bool = False,
                replace: bool = False, log=None) -> dict:
    """Verify and install; returns {"shape", "contributions", "names", "vk_sha256", "folder"}.

    Raises InputError for unreadable inputs or a missing ptau, ProofError for a key that fails a check
    or has no contribution (without allow_single_party).
    """
    from pipeline.ceremony.powersoftau_verify import verify_ptau
    from pipeline.ceremony.zkey_verify import verify_zkey
    from pipeline.circuit.statistics import Shape, circuit
    from pipeline.snarkjs.zkey_file import read_zkey

    if ptau_path is None:
        raise InputError("keys import needs --ptau: the key is checked against the powers of tau it was made from")
    from pipeline.snarkjs.zkey_file import read_zkey_ceremony

    shape = Shape.parse(shape_text)
    if not read_zkey_ceremony(zkey_path).contributions and not allow_single_party:
        raise ProofError(f"{zkey_path}: no contribution after the initial key (δ = 1 is public); add one with "
                         "`zkp-ledger ceremony contribute` or pass --allow-single-party for tests")
    r1cs = circuit(shape)
    say = log or (lambda _m: None)
    say(f"verifying {ptau_path}")
    phase1 = verify_ptau(ptau_path, log)
    say(f"verifying {zkey_path} against {ptau_path} and the {shape.key_id()} circuit")
    phase2 = verify_zkey(zkey_path, ptau_path, r1cs, log)
    zkey = read_zkey(zkey_path, validate=False)
    pk = zkey.pk
    names = ", ".join(n or "unnamed" for n in phase2["names"]) or "none"
    label = (f"snarkjs ceremony: phase 1 {phase1['contributions']} contributions"
             f"{' + beacon' if phase1['beacon'] else ''}; phase 2 {phase2['contributions']} ({names})"
             f"{' + beacon' if phase2['beacon'] else ''}")
    pk.vk.circuit_digest = r1cs.digest()
    pk.vk.label = label[:1000]
    vk = pk.vk
    info = {"shape": shape.describe(), "r1cs_digest": r1cs.digest().hex(), "constraints": r1cs.n_constraints,
            "vk_sha256": vk.digest(), "setup": vk.label,
            "ceremony": {"zkey": str(zkey_path), "ptau": str(ptau_path), "cs_hash": phase2["cs_hash"],
                         "phase1_next_challenge": phase1["next_challenge"], "phase2_contributors": phase2["names"],
                         "phase1_contributors": phase1["names"]}}
    store.install_keys(shape, pk, vk, info, replace=replace)
    return {"shape": shape.key_id(), "contributions": phase2["contributions"], "names": phase2["names"],
            "vk_sha256": vk.digest(), "folder": str(store.shape_dir(shape)), "label": vk.label}
