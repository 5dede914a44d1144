"""Trust roots of a ledger: which checkpoints an auditor trusts, and how much of the tree they cover.

Anyone who can write the ledger folder can rewrite the ledger file, put a key of their own in
keys/ (or in the genesis entry) and sign a fresh checkpoint with it. So a checkpoint counts only
when a key the auditor names signed it; keys found in the folder are reported, never trusted.

A trusted checkpoint covers entries 0..size-1 of today's tree when its origin is the ledger's,
its size is not beyond the ledger's, and an RFC 9162 consistency proof from its root to today's
root verifies. The tree is covered when the newest trusted checkpoint has today's size. A
checkpoint kept by the auditor (outside the ledger folder) also defeats deletion: a ledger cut
back to an older trusted checkpoint, with the newer checkpoints deleted, fails against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ledger.checkpoint import (Checkpoint, VerifierKey, load_verifier, open_checkpoint,
                               verify_checkpoint_against)
from ledger.entry import Entry
from ledger.errors import CheckpointError, LedgerError, UnknownSignerError
from ledger.merkle import BLAKE3, verify_inclusion
from ledger.store import Ledger

FOLDER = "ledger folder"  # a checkpoint found in <ledger dir>/checkpoints/
KEPT = "kept"             # a checkpoint the auditor kept and named on the command line


def folder_verifiers(ledger: Ledger) -> list[tuple[str, VerifierKey]]:
    """The verifier keys the ledger folder itself names, with where each was found: the genesis
    entry's signer and keys/*.pub. For reporting only: whoever writes the folder chooses them."""
    found: dict[str, tuple[str, VerifierKey]] = {}
    signer = ledger.genesis.record.get("signer")
    if signer:
        try:
            v = load_verifier(signer)
            found[v.text()] = ("genesis entry", v)
        except LedgerError:
            pass
    keys = ledger.dir / "keys"
    if keys.is_dir():
        for pub in sorted(keys.glob("*.pub")):
            try:
                v = load_verifier(str(pub))
            except LedgerError:
                continue
            found.setdefault(v.text(), (f"keys/{pub.name}", v))
    return list(found.values())


@dataclass
class HeadCheck:
    """One checkpoint as the audit saw it."""

    source: str               # FOLDER or KEPT
    file: str
    ok: bool = False          # signature, origin, size and consistency all check
    trusted: bool = False     # signed by a key the auditor named
    size: int | None = None
    root: bytes | None = None
    signers: list[str] = field(default_factory=list)
    detail: str = ""

    def to_dict(self) -> dict:
        return {"source": self.source, "file": self.file, "ok": self.ok, "trusted": self.trusted,
                "size": self.size, "root": self.root.hex() if self.root else None,
                "signers": self.signers, "detail": self.detail}


def _prove_prefix_into(ledger: Ledger, cp: Checkpoint) -> None:
    """Every entry below the checkpoint's size proves into the checkpoint's own root."""
    for i in range(cp.size):
        verify_inclusion(BLAKE3, i, cp.size, ledger.tree.leaf_hash(i), ledger.inclusion_proof(i, cp.size), cp.root)


def check_head(ledger: Ledger, note: str, *, trusted: Sequence[VerifierKey], folder: Sequence[VerifierKey],
               source: str, file: str) -> HeadCheck:
    """Check one signed checkpoint against today's ledger. A signature by a trusted key makes it
    trusted; otherwise a key found in the folder may vouch for its form (reported as untrusted).
    Never raises for what it finds: a bad signature, another origin, a size beyond the ledger or
    a failed consistency proof make `ok` false with the reason in `detail`."""
    head = HeadCheck(source, file)
    try:
        try:
            cp = open_checkpoint(note, list(trusted))
            head.trusted = True
        except UnknownSignerError:
            if source == KEPT:  # a kept checkpoint is a trust root only through a trusted key
                raise
            try:
                cp = open_checkpoint(note, list(folder))
            except UnknownSignerError:
                raise CheckpointError("signed by no trusted key and by no key found in the ledger folder") from None
        head.size, head.root, head.signers = cp.size, cp.root, list(cp.signers)
        proof = verify_checkpoint_against(ledger, cp)
        if head.trusted and source == KEPT:
            _prove_prefix_into(ledger, cp)
        what = f"signed by {', '.join(cp.signers)}"
        what += "" if head.trusted else " with a key found in the ledger folder: reported, not trusted"
        head.detail = f"{what}; size {cp.size}, consistent with today's tree ({len(proof)}-hash consistency proof)"
        if head.trusted and source == KEPT:
            head.detail += f"; all {cp.size} entries below it prove into its root"
        head.ok = True
    except LedgerError as exc:
        head.detail = str(exc)
    return head


@dataclass
class Coverage:
    """What the trusted checkpoints say about today's tree."""

    size: int                      # today's tree size
    covered: int = 0               # entries 0..covered-1 are covered by a trusted checkpoint
    newest: HeadCheck | None = None

    @property
    def complete(self) -> bool:
        return self.newest is not None and self.covered == self.size


def coverage(size: int, heads: Sequence[HeadCheck]) -> Coverage:
    """The newest trusted, consistent checkpoint and how many entries it covers."""
    good = [h for h in heads if h.ok and h.trusted]
    if not good:
        return Coverage(size)
    newest = max(good, key=lambda h: (h.size, h.source == KEPT))
    return Coverage(size, newest.size, newest)


def verify_entry_in_checkpoint(ledger: Ledger, entry: Entry, note: str, trusted: Sequence[VerifierKey],
                               *, file: str) -> Checkpoint:
    """Check `entry` against a checkpoint the verifier kept: signed by a trusted key, today's
    ledger consistent with it, and the entry's inclusion proved against the kept root (not a root
    recomputed from the file). Returns the checkpoint; raises CheckpointError naming `file`."""
    if not trusted:
        raise CheckpointError(f"{file}: a kept checkpoint needs the key you trust to have signed it (--vkey KEY)")
    try:
        cp = open_checkpoint(note, list(trusted))
        verify_checkpoint_against(ledger, cp)
        if entry.index >= cp.size:
            raise CheckpointError(f"entry {entry.index} was appended after this checkpoint (tree size {cp.size}), "
                                  "so it attests nothing about it; get a newer checkpoint from the ledger's owner")
        verify_inclusion(BLAKE3, entry.index, cp.size, entry.leaf_hash, ledger.inclusion_proof(entry.index, cp.size),
                         cp.root)
    except LedgerError as exc:
        raise CheckpointError(f"checkpoint {file}: {exc}") from None
    return cp
