"""Signed checkpoints: C2SP signed-note format, key ids, signatures, consistency with the ledger."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger import Ledger
from ledger.checkpoint import (SigningKey, VerifierKey, open_checkpoint, sign_checkpoint,
                               verify_checkpoint_against)
from ledger.errors import CheckpointError


@pytest.mark.parametrize("attempt", range(8))  # several keys: base64 with '+' in it included
def test_key_id_is_c2sp(attempt):
    key = SigningKey.generate("example.com/log")
    v = key.verifier
    name, hex_id, b64 = v.text().split("+", 2)
    raw = base64.b64decode(b64)
    assert raw[0] == 1 and len(raw) == 33
    assert bytes.fromhex(hex_id) == hashlib.sha256(b"example.com/log\n\x01" + raw[1:]).digest()[:4] == v.id
    assert VerifierKey.parse(v.text()).id == v.id
    assert SigningKey.parse(key.text()).verifier.text() == v.text()


def test_note_layout_and_signature():
    key = SigningKey.generate("example.com/log")
    note = sign_checkpoint(key, "example.com/log", 7, b"\x01" * 32)
    body, sig = note.split("\n\n")
    assert body == "example.com/log\n7\n" + base64.b64encode(b"\x01" * 32).decode()
    assert sig.startswith("\u2014 example.com/log ") and sig.endswith("\n")
    raw = base64.b64decode(sig.split(" ")[2])
    assert raw[:4] == key.verifier.id and len(raw) == 68
    cp = open_checkpoint(note, [key.verifier])
    assert (cp.origin, cp.size, cp.root, cp.signers) == ("example.com/log", 7, b"\x01" * 32, ("example.com/log",))


@pytest.mark.parametrize("mutate", [
    lambda n: n.replace("\n7\n", "\n8\n"),
    lambda n: n.replace("example.com/log\n", "example.com/lag\n", 1),
    lambda n: n[:-10] + ("A" if n[-10] != "A" else "B") + n[-9:],
    lambda n: n.replace("\n\n", "\n"),
    lambda n: n.rstrip("\n"),
])
def test_tampered_notes_rejected(mutate):
    key = SigningKey.generate("example.com/log")
    note = sign_checkpoint(key, "example.com/log", 7, b"\x01" * 32)
    with pytest.raises(CheckpointError):
        open_checkpoint(mutate(note), [key.verifier])


def test_unknown_key_rejected():
    key, other = SigningKey.generate("example.com/log"), SigningKey.generate("example.com/log")
    with pytest.raises(CheckpointError, match="not signed by any known key"):
        open_checkpoint(sign_checkpoint(key, "o", 1, bytes(32)), [other.verifier])


def test_old_checkpoint_against_grown_ledger(tmp_path):
    ledger = Ledger.create(tmp_path / "ledger.jsonl", origin="example.com/log")
    key = SigningKey.generate("example.com/log")
    rec = {"kind": "notarization", "name": "d", "data": {"root": "ab" * 32, "size": 1}}
    notes = []
    for _ in range(9):
        notes.append(sign_checkpoint(key, ledger.origin, ledger.size, ledger.root()))
        ledger.append(rec)
    for note in notes:
        verify_checkpoint_against(ledger, open_checkpoint(note, [key.verifier]))
    lie = sign_checkpoint(key, ledger.origin, 5, bytes(32))
    with pytest.raises(CheckpointError, match="rewritten"):
        verify_checkpoint_against(ledger, open_checkpoint(lie, [key.verifier]))
    future = sign_checkpoint(key, ledger.origin, ledger.size + 1, bytes(32))
    with pytest.raises(CheckpointError, match="removed"):
        verify_checkpoint_against(ledger, open_checkpoint(future, [key.verifier]))
