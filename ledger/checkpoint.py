"""Signed checkpoints: a C2SP tlog-checkpoint body in a C2SP signed note, signed with Ed25519.

    <origin>\\n<tree size>\\n<base64 root>\\n
    \\n
    — <key name> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>\\n

Key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key). Keys are written in the
signed-note text forms: `PRIVATE+KEY+<name>+<id hex>+<base64(0x01 || seed)>` (private) and
`<name>+<id hex>+<base64(0x01 || public key)>` (verifier key, "vkey").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from ledger.errors import CheckpointError, ProofError, UnknownSignerError
from ledger.merkle import BLAKE3, verify_consistency

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash, space


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _check_key_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name):
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class VerifierKey:
    name: str
    id: bytes
    public: Ed25519PublicKey

    @classmethod
    def parse(cls, vkey: str) -> "VerifierKey":
        """From the text form `<name>+<id hex>+<base64(0x01 || key)>`; raises CheckpointError."""
        parts = vkey.strip().split("+", 2)  # base64 may hold "+"
        if len(parts) != 3:
            raise CheckpointError("a verifier key reads NAME+KEYID+BASE64")
        name, hex_id, b64 = parts
        try:
            raw = base64.b64decode(b64, validate=True)
            kid = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise CheckpointError(f"verifier key {vkey.strip()!r} is not valid hex/base64") from None
        if len(raw) != 33 or raw[0] != ALG_ED25519 or len(kid) != 4:
            raise CheckpointError("verifier key is not an Ed25519 signed-note key")
        if key_id(name, raw[1:]) != kid:
            raise CheckpointError(f"verifier key {name}: key id does not match the key")
        return cls(name, kid, Ed25519PublicKey.from_public_bytes(raw[1:]))

    def text(self) -> str:
        raw = bytes([ALG_ED25519]) + self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(raw).decode()}"


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> "SigningKey":
        return cls(_check_key_name(name), Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> "SigningKey":
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("a signing key reads PRIVATE+KEY+NAME+KEYID+BASE64")
        name, hex_id, b64 = parts[2:]
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise CheckpointError("signing key is not valid base64") from None
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError("signing key is not an Ed25519 signed-note key")
        key = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if key.verifier.id.hex() != hex_id:
            raise CheckpointError(f"signing key {name}: key id does not match the key")
        return key

    @property
    def verifier(self) -> VerifierKey:
        pub = self.private.public_key()
        return VerifierKey(self.name, key_id(self.name, pub.public_bytes(Encoding.Raw, PublicFormat.Raw)), pub)

    def text(self) -> str:
        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        raw = bytes([ALG_ED25519]) + seed
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{base64.b64encode(raw).decode()}"

    def save(self, path: str | os.PathLike) -> Path:
        """Write the key (mode 0600) to `path` and its verifier key to `path`.pub; refuse to
        overwrite. Returns the .pub path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CheckpointError(f"key file {path} already exists; choose another path") from None
        with os.fdopen(fd, "w") as f:
            f.write(self.text() + "\n")
            f.flush()
            os.fsync(f.fileno())
        pub = path.with_name(path.name + ".pub")
        pub.write_text(self.verifier.text() + "\n")
        return pub

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SigningKey":
        try:
            return cls.parse(Path(path).read_text())
        except FileNotFoundError:
            raise CheckpointError(f"no signing key at {path}; make one with `zkp-ledger keygen`") from None
        except (PermissionError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"cannot read signing key {path}: {exc}") from None


def load_verifier(text_or_path: str) -> VerifierKey:
    """A verifier key given as its text form or as a file holding it."""
    path = Path(text_or_path)
    if "+" not in text_or_path or path.is_file():
        try:
            text_or_path = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"cannot read verifier key {path}: {exc}") from None
    return VerifierKey.parse(text_or_path)


def save_note(path: str | os.PathLike, note: str) -> Path:
    """Write a signed note durably and atomically: a temporary file beside it, fsync, rename over
    `path`, fsync of the directory. A reader sees the old note or the new one, never half of one."""
    from ledger.store import fsync_dir  # store does not import this module; keep the dependency one-way

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(note)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return path


# --- signed notes --------------------------------------------------------------------------


def sign_note(text: str, keys: list[SigningKey]) -> str:
    if not text.endswith("\n") or "\n\n" in text:
        raise CheckpointError("note text must end in a newline and hold no blank line")
    sigs = ""
    for key in keys:
        sig = key.private.sign(text.encode())
        sigs += f"{SIG_PREFIX}{key.name} {base64.b64encode(key.verifier.id + sig).decode()}\n"
    return text + "\n" + sigs


def open_note(note: str, verifiers: list[VerifierKey]) -> tuple[str, list[str]]:
    """(text, names of the keys whose signatures verify). Raises CheckpointError if the note is
    malformed or any signature by a known key is bad, UnknownSignerError if no known key signed it."""
    text, sep, sig_block = note.partition("\n\n")
    if not sep or not sig_block.endswith("\n"):
        raise CheckpointError("malformed signed note (no blank line before signatures, or no final newline)")
    text += "\n"
    known = {(v.name, v.id): v for v in verifiers}
    good: list[str] = []
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise CheckpointError(f"malformed signature line {line!r}")
        name, _, b64 = line[len(SIG_PREFIX):].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise CheckpointError(f"signature by {name} is not base64") from None
        if len(raw) < 5:
            raise CheckpointError(f"signature by {name} is too short")
        v = known.get((name, raw[:4]))
        if v is None:
            continue  # a cosigner we do not know: allowed by the spec, ignored
        try:
            v.public.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError(f"signature by {name} ({raw[:4].hex()}) does not verify") from None
        good.append(name)
    if not good:
        names = ", ".join(v.name for v in verifiers) or "none given"
        raise UnknownSignerError(f"note is not signed by any known key (known: {names})")
    return text, good


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    signers: tuple[str, ...] = ()

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def sign_checkpoint(key: SigningKey, origin: str, size: int, root: bytes) -> str:
    """The signed-note text of a checkpoint of the tree of `size` entries with `root`."""
    return sign_note(Checkpoint(origin, size, root).body(), [key])


def open_checkpoint(note: str, verifiers: list[VerifierKey]) -> Checkpoint:
    """Parse a signed checkpoint and check its signature; raises CheckpointError."""
    text, signers = open_note(note, verifiers)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint body needs origin, size and root lines")
    origin, size, root_b64 = lines[:3]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise CheckpointError(f"checkpoint size {size!r} is not a decimal number")
    try:
        root = base64.b64decode(root_b64, validate=True)
    except binascii.Error:
        raise CheckpointError("checkpoint root is not base64") from None
    if len(root) != BLAKE3.digest_size:
        raise CheckpointError(f"checkpoint root is {len(root)} bytes, not {BLAKE3.digest_size}")
    return Checkpoint(origin, int(size), root, tuple(signers))


def verify_checkpoint_against(ledger, checkpoint: Checkpoint) -> list[bytes]:
    """Check that today's `ledger` extends the checkpointed tree: same origin, size not beyond
    the ledger, and an RFC 9162 consistency proof from the checkpoint's root to today's root.
    Returns that proof; raises CheckpointError when history was rewritten or cut."""
    if checkpoint.origin != ledger.origin:
        raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, this ledger is {ledger.origin!r}")
    if checkpoint.size > ledger.size:
        raise CheckpointError(f"checkpoint covers {checkpoint.size} entries but the ledger holds only "
                              f"{ledger.size}: entries were removed")
    if checkpoint.size == 0:
        if checkpoint.root != BLAKE3.empty_root():
            raise CheckpointError("checkpoint of the empty tree has a wrong root")
        return []
    proof = ledger.consistency_proof(checkpoint.size, ledger.size)
    try:
        verify_consistency(BLAKE3, checkpoint.size, ledger.size, proof, checkpoint.root, ledger.root())
    except ProofError as exc:
        raise CheckpointError(f"ledger is not consistent with the checkpoint at size {checkpoint.size} "
                              f"({exc}): history was rewritten") from None
    return proof
