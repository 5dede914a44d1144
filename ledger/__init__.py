"""The append-only ledger file, its Merkle tree, proofs, checkpoints and audit.

Files (beside the ledger file, e.g. ./zkp-ledger/ledger.jsonl):
    ledger.jsonl     one canonical JSON line per entry (see ledger/entry.py for the line format)
    objects/<hex>    content-addressed blobs (proof bundles), named by their BLAKE3 hash
    checkpoints/     signed checkpoints (C2SP signed notes), one `*.note` file each
    keys/            the ledger's Ed25519 verifier key (`*.pub`) and, unless `init --key-dir` put it
                     elsewhere, its signing key (`*.key`, mode 0600); keys found here are reported,
                     never trusted: an auditor names the keys it trusts (see ledger/trust.py)

API for the pipeline (nothing else of ours is imported here):

    from ledger import Ledger
    ledger = Ledger.create(path, origin=None, signer=None, tool=None)  # new ledger (genesis entry 0)
    ledger = Ledger.open(path)                  # check every line; cut a torn final line
    digest = ledger.put_object(data: bytes) -> str      # objects/<blake3 hex>, fsynced
    data = ledger.get_object(digest) -> bytes           # checked against its hash
    entry = ledger.append(record: dict) -> Entry        # durable on return, under the writer lock
    entries = ledger.append_many(records) -> list[Entry]  # one lock, one fsync
    ledger.entries(start=0, stop=None) -> Iterator[Entry]; ledger.entry(index) -> Entry
    ledger.resolve(ref) -> Entry     # index, entry id (or unique prefix), NAME@VERSION, NAME@latest, NAME
    ledger.history(name) -> list[Entry]; ledger.next_version(name) -> int; ledger.names()
    ledger.size; ledger.root(size=None) -> bytes; ledger.origin
    ledger.inclusion_proof(index, size=None) -> list[bytes]
    ledger.consistency_proof(old, new=None) -> list[bytes]
    ledger.refresh()                 # pick up entries other processes appended

A record given to `append` holds (the ledger adds format, index, version, prev_root, time):

    kind          "notarization" | "statistics"
    name          dataset name (printable, no '@'); versions per name count 1, 2, ...
    tag           optional label
    parent        optional reference to an earlier entry (stored as its entry id); when the key
                  is absent the parent is the latest version of the same name, if any
    tool          e.g. "zkp-ledger 0.1.0";  signer: verifier key text of the ledger's key, or None
    data          {"root": hex BLAKE3 Merkle root of the raw bytes, "size": bytes, "chunk_size",
                   "format", "files": [...], ...}
    schema        [{"name", "type"}, ...] or None;  encoding: dict or None;  rows: int or None
    statistics    per-column public statistics (statistics entries)
    circuit       {"shape": {...}, "vk_hash": ...} (statistics entries)
    proof_bundle  hash returned by put_object (statistics entries; must already be stored)
    note          free text

An `Entry` has .index, .id (hex leaf hash), .kind, .name, .version, .record (the dict as hashed),
.leaf (its exact canonical bytes) and .leaf_hash (BLAKE3(0x00 || leaf)).

Merkle proofs: ledger.merkle (verify_inclusion, verify_consistency, MerkleTree, MerkleFrontier,
SHA256, BLAKE3). Checkpoints: ledger.checkpoint (SigningKey, VerifierKey, sign_checkpoint,
open_checkpoint, verify_checkpoint_against). Trust roots: ledger.trust (folder_verifiers,
check_head, coverage, verify_entry_in_checkpoint). Audit: ledger.audit (audit, write_report).
Errors: ledger.errors (all subclasses of LedgerError).
"""

from ledger.entry import Entry, canonical_json
from ledger.errors import LedgerError
from ledger.store import Ledger

__all__ = ["Entry", "Ledger", "LedgerError", "canonical_json"]
