"""`keys import ZKEY --shape SHAPE --ptau PTAU`: install a ceremony's key for a statistics shape.

The .zkey is verified in full first: the powers of tau's own transcript (`powersoftau_verify`), the
.zkey's transcript and δ chain, and the key rebuilt from that ptau and the shape's circuit
(`zkey_verify`). A key with no contribution after the initial one is refused (its δ = 1 is public,
so whoever knew τ could forge proofs) unless `allow_single_party`. The proving key is stored in the
key store (`pipeline.keystore`) with the circuit's digest and a label naming the contributors.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pipeline.errors import InputError, ProofError


def import_zkey(zkey_path, shape_text: str, ptau_path, store, allow_single_party: bool = False,
                replace: bool = False, log=None) -> dict:
    """Verify and install; returns {"shape", "contributions", "names", "vk_sha256", "folder"}.

    Raises InputError for unreadable inputs or a missing ptau, ProofError for a key that fails a check
    or has no contribution (without allow_single_party).
    """
    from pipeline.circuit.statistics import Shape

    if ptau_path is None:
        raise InputError("keys import needs --ptau: the key is checked against the powers of tau it was made from")
    shape = Shape.parse(shape_text)
    # Verify and install the very same bytes: every reader below opens its file again, so whoever can
    # still write or rename the coordinator's files could swap in another key (or ptau) between the
    # checks and the install. Private copies, each read from one open file, close that window.
    store.check_folder()
    with tempfile.TemporaryDirectory(prefix=".import-", dir=store.folder) as private:
        copies = {Path(private) / "zkey": Path(zkey_path), Path(private) / "ptau": Path(ptau_path)}
        try:
            return _import_private(Path(zkey_path), shape, Path(ptau_path), Path(private), store,
                                   allow_single_party, replace, log)
        except (InputError, ProofError) as exc:      # name the user's files, not the copies
            text = str(exc)
            for copy, original in copies.items():
                text = text.replace(str(copy), str(original))
            raise type(exc)(text) from None


def _copy_private(path: Path, folder: Path, what: str) -> Path:
    target = folder / what
    try:
        with open(path, "rb") as src, open(target, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    return target


def _import_private(zkey_path, shape, ptau_path, private, store, allow_single_party, replace, log) -> dict:
    from pipeline.ceremony.powersoftau_verify import verify_ptau
    from pipeline.ceremony.zkey_verify import verify_zkey
    from pipeline.circuit.statistics import circuit
    from pipeline.snarkjs.zkey_file import read_zkey, read_zkey_ceremony

    original_zkey, original_ptau = zkey_path, ptau_path
    zkey_path = _copy_private(original_zkey, private, "zkey")
    ptau_path = _copy_private(original_ptau, private, "ptau")
    if not read_zkey_ceremony(zkey_path).contributions and not allow_single_party:
        raise ProofError(f"{original_zkey}: no contribution after the initial key (δ = 1 is public); add one with "
                         "`zkp-ledger ceremony contribute` or pass --allow-single-party for tests")
    r1cs = circuit(shape)
    say = log or (lambda _m: None)
    say(f"verifying {original_ptau} (a private copy)")
    phase1 = verify_ptau(ptau_path, log)
    say(f"verifying {original_zkey} against {original_ptau} and the {shape.key_id()} circuit")
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
            "ceremony": {"zkey": str(original_zkey), "ptau": str(original_ptau), "cs_hash": phase2["cs_hash"],
                         "phase1_next_challenge": phase1["next_challenge"], "phase2_contributors": phase2["names"],
                         "phase1_contributors": phase1["names"]}}
    store.install_keys(shape, pk, vk, info, replace=replace)
    return {"shape": shape.key_id(), "contributions": phase2["contributions"], "names": phase2["names"],
            "vk_sha256": vk.digest(), "folder": str(store.shape_dir(shape)), "label": vk.label}
