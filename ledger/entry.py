"""Ledger entries: the schema, canonical bytes, and the line format of the ledger file.

A line of the ledger file is the canonical JSON (sorted keys, no spaces, UTF-8, no NaN) of

    {"checksum": C, "entry": E, "leaf_hash": L}

where E is the entry (it carries its own "index"), the Merkle leaf is `canonical(E)`,
L = hex BLAKE3(0x00 || canonical(E)) and C = hex of the first 16 bytes of
BLAKE3(canonical({"entry": E, "leaf_hash": L})). The entry id is L.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import blake3

from ledger.errors import LedgerCorruptError, RecordError
from ledger.merkle import BLAKE3

FORMAT = 1
KINDS = ("genesis", "notarization", "statistics")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")

# Fields the ledger fills in itself; a record given to `append` must not carry them.
LEDGER_FIELDS = ("format", "index", "prev_root", "version", "time")
# Fields a notarization or statistics record may carry (anything else is rejected, so a typo
# cannot silently vanish into the ledger).
RECORD_FIELDS = {
    "kind", "name", "tag", "parent", "tool", "signer", "data", "schema", "encoding", "rows",
    "statistics", "circuit", "proof_bundle", "note",
}


def canonical_json(obj: Any) -> bytes:
    """The one byte string the ledger hashes and writes for `obj`."""
    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"record is not plain JSON data: {exc}") from None
    return text.encode("utf-8")


def leaf_hash_of(entry: dict) -> bytes:
    return BLAKE3.hash_leaf(canonical_json(entry))


def line_checksum(entry: dict, leaf_hash_hex: str) -> str:
    return blake3.blake3(canonical_json({"entry": entry, "leaf_hash": leaf_hash_hex})).hexdigest()[:32]


def encode_line(entry: dict) -> tuple[bytes, bytes]:
    """(line bytes ending in b"\\n", leaf hash) for `entry`."""
    leaf = leaf_hash_of(entry)
    line = canonical_json({"checksum": line_checksum(entry, leaf.hex()), "entry": entry, "leaf_hash": leaf.hex()})
    return line + b"\n", leaf


def decode_line(raw: bytes, where: str) -> tuple[dict, bytes]:
    """(entry, leaf hash) of one line without its newline; LedgerCorruptError names `where`."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise LedgerCorruptError(f"{where}: not a JSON record ({exc})") from None
    if not isinstance(obj, dict) or set(obj) != {"checksum", "entry", "leaf_hash"}:
        raise LedgerCorruptError(f"{where}: not a ledger record (keys checksum, entry, leaf_hash expected)")
    entry, leaf_hex = obj["entry"], obj["leaf_hash"]
    if not isinstance(entry, dict) or not isinstance(leaf_hex, str):
        raise LedgerCorruptError(f"{where}: malformed record")
    if canonical_json(obj) != raw:
        raise LedgerCorruptError(f"{where}: line is not in canonical form (edited by hand?)")
    if obj["checksum"] != line_checksum(entry, leaf_hex):
        raise LedgerCorruptError(f"{where}: checksum mismatch")
    leaf = leaf_hash_of(entry)
    if leaf.hex() != leaf_hex:
        raise LedgerCorruptError(f"{where}: leaf hash does not match the entry")
    return entry, leaf


def check_name(name: Any, what: str = "dataset name") -> str:
    """A name usable in the ledger and in NAME@VERSION; raises RecordError saying what is wrong."""
    if not isinstance(name, str) or not name:
        raise RecordError(f"{what} must be a non-empty string")
    if len(name) > 256:
        raise RecordError(f"{what} is longer than 256 characters")
    for i, ch in enumerate(name):
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            raise RecordError(f"{what} {name!r} contains control character U+{ord(ch):04X} at position {i}; "
                              "use printable characters only")
    if name != name.strip():
        raise RecordError(f"{what} {name!r} starts or ends with white space")
    if "@" in name:
        raise RecordError(f"{what} {name!r} contains '@', which separates NAME@VERSION")
    return name


@dataclass(frozen=True)
class Entry:
    """One entry of the ledger as it was hashed: `record` is the entry dict E."""

    record: dict = field(repr=False)
    leaf_hash: bytes

    @property
    def index(self) -> int:
        return self.record["index"]

    @property
    def id(self) -> str:
        """The entry id: hex of its BLAKE3 Merkle leaf hash."""
        return self.leaf_hash.hex()

    @property
    def kind(self) -> str:
        return self.record["kind"]

    @property
    def name(self) -> str | None:
        return self.record.get("name")

    @property
    def version(self) -> int | None:
        return self.record.get("version")

    @property
    def leaf(self) -> bytes:
        """The exact bytes whose BLAKE3 leaf hash is in the tree: canonical_json(record)."""
        return canonical_json(self.record)

    def get(self, key: str, default: Any = None) -> Any:
        return self.record.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.record[key]


def check_record(record: dict) -> dict:
    """Validate what a caller gives to `Ledger.append`; returns a copy. Raises RecordError."""
    if not isinstance(record, dict):
        raise RecordError("a record must be a dict")
    record = json.loads(canonical_json(record))  # deep copy, and proof that it is plain JSON
    for key in LEDGER_FIELDS:
        if key in record:
            raise RecordError(f"field {key!r} is set by the ledger, not by the caller")
    unknown = set(record) - RECORD_FIELDS
    if unknown:
        raise RecordError(f"unknown record field(s) {sorted(unknown)}; allowed: {sorted(RECORD_FIELDS)}")
    kind = record.get("kind")
    if kind not in ("notarization", "statistics"):
        raise RecordError(f"record kind must be 'notarization' or 'statistics', not {kind!r}")
    check_name(record.get("name"))
    if record.get("tag") is not None:
        check_name(record["tag"], "tag")
    data = record.get("data")
    if not isinstance(data, dict):
        raise RecordError("record needs 'data': {root, size, ...} (the raw-bytes commitment)")
    if not isinstance(data.get("root"), str) or not HEX64.match(data["root"]):
        raise RecordError("data.root must be 64 lowercase hex digits (a BLAKE3 Merkle root)")
    if not isinstance(data.get("size"), int) or data["size"] < 0:
        raise RecordError("data.size must be a non-negative integer (bytes)")
    rows = record.get("rows")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
        raise RecordError("rows must be a non-negative integer or null")
    bundle = record.get("proof_bundle")
    if bundle is not None and (not isinstance(bundle, str) or not HEX64.match(bundle)):
        raise RecordError("proof_bundle must be the 64-hex-digit hash returned by put_object")
    if kind == "statistics":
        for key in ("statistics", "circuit", "proof_bundle"):
            if record.get(key) is None:
                raise RecordError(f"a statistics record needs {key!r}")
        circuit = record["circuit"]
        if not isinstance(circuit, dict) or "shape" not in circuit or "vk_hash" not in circuit:
            raise RecordError("circuit must be {'shape': {...}, 'vk_hash': ...}")
    return record
