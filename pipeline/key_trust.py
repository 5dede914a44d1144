"""Which Groth16 verifying keys a verifier trusts: the keys it pinned, never the one an entry names.

Whoever made a key knows its setup secrets and can prove anything under it, so a proof means only
as much as the verifier's reason to trust the key. A verifier pins keys by
  --vk FILE      a zkp-ledger verifying key (`verifying.key`) or a snarkjs verification_key.json;
  --vk SHA256    the hex SHA-256 of a zkp-ledger verifying key (the `vk_hash` an entry records,
                 printed by `setup` and `keys import`), or of a key's points (`points_digest`);
  --trusted-keys DIR   every verifying key under DIR (`verifying.key`, `*.vk`, snarkjs `*.json`).
Keys match by their points (α, β, γ, δ, IC), so the same ceremony key pins alike from either file.
`--trust-entry-key` accepts the entry's own key instead, with a warning that the result proves
nothing against whoever made that key.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import VerifyingKey

HEX64 = re.compile(r"^[0-9a-f]{64}$")
ENTRY_KEY_WARNING = ("verified against the entry's own verifying key (--trust-entry-key): this proves nothing "
                     "against whoever made that key; pin a key you trust with --vk or --trusted-keys")
HOW_TO_PIN = ("pin the verifying key you trust with --vk FILE|SHA256 (repeatable) or --trusted-keys DIR "
              "(e.g. the keys/ folder of the setup you ran or the ceremony you took part in); "
              "--trust-entry-key accepts the entry's own key, which proves nothing against whoever made it")


def points_digest(vk: VerifyingKey) -> str:
    """Hex SHA-256 of the key's points in their compressed encoding (header and label left out)."""
    from kernels.ec import encoding

    data = (encoding.g1_compress(vk.alpha_g1) + encoding.g2_compress(vk.beta_g2) + encoding.g2_compress(vk.gamma_g2)
            + encoding.g2_compress(vk.delta_g2) + encoding.g1_compress_many(vk.ic))
    return hashlib.sha256(data).hexdigest()


def read_verifying_key(path: Path) -> VerifyingKey:
    """A verifying key file of either format; InputError/ProofError when it is neither or malformed."""
    data = Path(path).read_bytes()
    if data[:4] == b"ZKVK":
        return VerifyingKey.from_bytes(data, what=f"verifying key {path}")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: neither a zkp-ledger verifying key nor a snarkjs verification_key.json") from None
    from pipeline.snarkjs.json_io import vk_from_json

    return vk_from_json(doc, what=str(path))


def _is_snarkjs_vk(path: Path) -> bool:
    """A .json file in a trusted folder counts when it is a snarkjs verification key (other metadata is not)."""
    if path.suffix != ".json":
        return False
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("protocol") == "groth16" and "vk_alpha_1" in doc


@dataclass
class KeyTrust:
    """The verifying keys a verifier trusts (by points digest and by zkp-ledger key hash)."""

    digests: set[str] = field(default_factory=set)      # points digests and full-encoding hashes
    sources: dict[str, str] = field(default_factory=dict)   # digest -> where it was pinned
    trust_entry_key: bool = False

    @classmethod
    def from_options(cls, vk: list[str] | None = None, trusted_keys: list[str] | str | None = None,
                     trust_entry_key: bool = False) -> KeyTrust:
        """Trust built from `--vk` values, `--trusted-keys` folders and `--trust-entry-key`.

        Raises InputError for a --vk that is neither a readable key file nor 64 hex digits, and for a
        --trusted-keys folder that does not exist or holds no verifying key.
        """
        trust = cls(trust_entry_key=trust_entry_key)
        for item in vk or []:
            path = Path(item)
            if path.is_file():
                trust.add(read_verifying_key(path), f"--vk {item}")
            elif HEX64.match(item.lower()):
                trust.digests.add(item.lower())
                trust.sources[item.lower()] = f"--vk {item.lower()[:16]}"
            else:
                raise InputError(f"--vk {item}: not a verifying key file nor a 64-hex-digit SHA-256")
        for trusted in [trusted_keys] if isinstance(trusted_keys, str) else trusted_keys or []:
            folder = Path(trusted)
            if not folder.is_dir():
                raise InputError(f"--trusted-keys {trusted}: not a folder")
            found = [p for p in sorted(folder.rglob("*")) if p.is_file()
                     and (p.name == "verifying.key" or p.suffix == ".vk" or _is_snarkjs_vk(p))]
            for path in found:
                trust.add(read_verifying_key(path), f"--trusted-keys {path}")
            if not found:
                raise InputError(f"--trusted-keys {trusted}: no verifying key (verifying.key, *.vk, *.json) in it")
        return trust

    def add(self, vk: VerifyingKey, source: str) -> None:
        for digest in (points_digest(vk), vk.digest()):
            self.digests.add(digest)
            self.sources.setdefault(digest, source)

    @property
    def pinned(self) -> bool:
        return bool(self.digests)

    def check(self, vk: VerifyingKey, where: str) -> tuple[str, list[str]]:
        """(how the key is trusted, warnings); raises ProofError for a key the verifier did not pin, and
        InputError when no trust root was given at all."""
        for digest in (points_digest(vk), vk.digest()):
            if digest in self.digests:
                return f"pinned by {self.sources[digest]}", []
        if self.pinned:
            pinned_from = ", ".join(sorted(set(self.sources.values())))
            raise ProofError(f"{where}: its verifying key {vk.digest()[:16]} is not among the keys you trust "
                             f"({pinned_from}); whoever made that key could have forged these proofs")
        if self.trust_entry_key:
            return "the entry's own key (NOT pinned)", [ENTRY_KEY_WARNING]
        raise InputError(f"{where}: no trusted verifying key; {HOW_TO_PIN}")
