"""Which Groth16 verifying keys a verifier trusts: the keys it pinned, never the one an entry names.

Whoever made a key knows its setup secrets and can prove anything under it, so a proof means only
as much as the verifier's reason to trust the key. A pin fixes the key's points AND the circuit
they were made for (a key's points alone say nothing of its circuit: a cheat could relabel a
pinned key for another shape). A verifier pins keys by
  --vk FILE            a zkp-ledger verifying key (`verifying.key`: points and circuit digest);
  --vk FILE.json@SHAPE a snarkjs verification_key.json and the statistics shape it was made for
                       (e.g. `@r1024-c4-k32-t9`; the JSON names no circuit);
  --vk SHA256          the hex SHA-256 of a zkp-ledger verifying key (the `vk_hash` an entry
                       records, printed by `setup` and `keys import`);
  --trusted-keys DIR   every zkp-ledger verifying key under DIR (`verifying.key`, `*.vk`).
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
HOW_TO_PIN = ("pin the verifying key you trust with --vk FILE|FILE.json@SHAPE|SHA256 (repeatable) or --trusted-keys DIR "
              "(e.g. the keys/ folder of the setup you ran or the ceremony you took part in); "
              "--trust-entry-key accepts the entry's own key, which proves nothing against whoever made it")


def points_digest(vk: VerifyingKey) -> str:
    """Hex SHA-256 of the key's points in their compressed encoding (header and label left out)."""
    from kernels.ec import encoding

    data = (encoding.g1_compress(vk.alpha_g1) + encoding.g2_compress(vk.beta_g2) + encoding.g2_compress(vk.gamma_g2)
            + encoding.g2_compress(vk.delta_g2) + encoding.g1_compress_many(vk.ic))
    return hashlib.sha256(data).hexdigest()


def read_pin(item: str) -> VerifyingKey:
    """The key a `--vk FILE` or `--vk FILE.json@SHAPE` names, with its circuit digest; InputError when
    the file is neither format, or a snarkjs JSON comes without its shape."""
    path, _, shape_text = item.rpartition("@") if "@" in item and not Path(item).is_file() else (item, "", "")
    data = Path(path).read_bytes()
    if data[:4] == b"ZKVK":
        if shape_text:
            raise InputError(f"--vk {item}: a zkp-ledger verifying key names its circuit itself; drop @{shape_text}")
        return VerifyingKey.from_bytes(data, what=f"verifying key {path}")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"--vk {path}: neither a zkp-ledger verifying key nor a snarkjs verification_key.json") from None
    if not shape_text:
        raise InputError(f"--vk {path}: a snarkjs verification_key.json names no circuit; give the shape it was made "
                         f"for, e.g. --vk {path}@r1024-c4-k32-t9")
    from pipeline.circuit.statistics import Shape, circuit
    from pipeline.snarkjs.json_io import vk_from_json

    vk = vk_from_json(doc, what=str(path))
    vk.circuit_digest = circuit(Shape.parse(shape_text)).digest()
    return vk


@dataclass
class KeyTrust:
    """The verifying keys a verifier trusts: full key hashes, and (points, circuit digest) pairs."""

    hashes: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    sources: dict = field(default_factory=dict)          # pin -> where it was given
    trust_entry_key: bool = False
    allow_v1: bool = False                               # accept entries of the weak statement v1
    warnings: list[str] = field(default_factory=list)   # about the pins themselves (say them once)

    @classmethod
    def from_options(cls, vk: list[str] | None = None, trusted_keys: list[str] | str | None = None,
                     trust_entry_key: bool = False, ledger_dir: Path | None = None,
                     allow_v1: bool = False) -> KeyTrust:
        """Trust built from `--vk` values, `--trusted-keys` folders and `--trust-entry-key`.

        Raises InputError for a --vk that is neither a readable key file nor 64 hex digits, and for a
        --trusted-keys folder that does not exist or holds no verifying key. A pin inside `ledger_dir`
        (the ledger being checked) adds a warning: keys kept there are the prover's own.
        """
        trust = cls(trust_entry_key=trust_entry_key, allow_v1=allow_v1)
        inside = []
        for item in vk or []:
            if HEX64.match(item.lower()) and not Path(item).exists():
                trust.hashes.add(item.lower())
                trust.sources[item.lower()] = f"--vk {item.lower()[:16]}"
                continue
            file = Path(item.rpartition("@")[0] if "@" in item and not Path(item).is_file() else item)
            if not file.is_file():
                raise InputError(f"--vk {item}: not a verifying key file nor a 64-hex-digit SHA-256")
            trust.add(read_pin(item), f"--vk {item}")
            inside.append(file)
        for trusted in [trusted_keys] if isinstance(trusted_keys, str) else trusted_keys or []:
            folder = Path(trusted)
            if not folder.is_dir():
                raise InputError(f"--trusted-keys {trusted}: not a folder")
            found = [p for p in sorted(folder.rglob("*")) if p.is_file() and (p.name == "verifying.key" or p.suffix == ".vk")]
            for path in found:
                trust.add(read_pin(str(path)), f"--trusted-keys {path}")
            if not found:
                raise InputError(f"--trusted-keys {trusted}: no zkp-ledger verifying key (verifying.key, *.vk) in it")
            inside.append(folder)
        if ledger_dir is not None:
            root = Path(ledger_dir).resolve()
            for path in inside:
                if root == path.resolve() or root in path.resolve().parents:
                    trust.warnings.append(f"the pinned key {path} lies inside the ledger folder: keys there are the "
                                          "prover's own unless you made them yourself")
        return trust

    def add(self, vk: VerifyingKey, source: str) -> None:
        pair = (points_digest(vk), vk.circuit_digest.hex())
        self.pairs.add(pair)
        self.hashes.add(vk.digest())
        self.sources.setdefault(pair, source)
        self.sources.setdefault(vk.digest(), source)

    @property
    def pinned(self) -> bool:
        return bool(self.hashes or self.pairs)

    def check(self, vk: VerifyingKey, where: str) -> tuple[str, list[str]]:
        """(how the key is trusted, warnings); raises ProofError for a key the verifier did not pin, and
        InputError when no trust root was given at all."""
        for pin in (vk.digest(), (points_digest(vk), vk.circuit_digest.hex())):
            if pin in self.hashes or pin in self.pairs:
                return f"pinned by {self.sources[pin]}", []
        if self.pinned:
            pinned_from = ", ".join(sorted(set(self.sources.values())))
            raise ProofError(f"{where}: its verifying key {vk.digest()[:16]} is not among the keys you trust "
                             f"({pinned_from}); whoever made that key could have forged these proofs")
        if self.trust_entry_key:
            return "the entry's own key (NOT pinned)", [ENTRY_KEY_WARNING]
        raise InputError(f"{where}: no trusted verifying key; {HOW_TO_PIN}")
