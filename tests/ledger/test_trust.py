"""ledger.trust: which checkpoints are trusted, what they cover, and entries against a kept head."""

from __future__ import annotations

import pytest

from ledger import Ledger
from ledger.audit import audit
from ledger.checkpoint import SigningKey, sign_checkpoint
from ledger.errors import CheckpointError
from ledger.trust import FOLDER, KEPT, check_head, coverage, folder_verifiers, verify_entry_in_checkpoint

REC = {"kind": "notarization", "name": "d", "data": {"root": "ab" * 32, "size": 1}}


@pytest.fixture
def owner():
    return SigningKey.generate("test/log")


@pytest.fixture
def ledger(tmp_path, owner):
    led = Ledger.create(tmp_path / "l" / "ledger.jsonl", origin="test/log", signer=owner.verifier.text())
    for _ in range(6):
        led.append(REC)
    yield led
    led.close()


def note(key, led, size=None):
    size = led.size if size is None else size
    return sign_checkpoint(key, led.origin, size, led.root(size))


def test_folder_keys_are_reported_with_where_they_were_found(ledger, owner):
    keys = ledger.dir / "keys"
    keys.mkdir()
    other = SigningKey.generate("other")
    (keys / "other.pub").write_text(other.verifier.text() + "\n")
    (keys / "junk.pub").write_text("not a key\n")
    found = {where: v.text() for where, v in folder_verifiers(ledger)}
    assert found == {"genesis entry": owner.verifier.text(), "keys/other.pub": other.verifier.text()}


def test_a_key_with_the_trusted_name_but_another_id_is_not_trusted(ledger, owner):
    mallory = SigningKey.generate(owner.name)
    head = check_head(ledger, note(mallory, ledger), trusted=[owner.verifier], folder=[mallory.verifier],
                      source=FOLDER, file="x.note")
    assert head.ok and not head.trusted and "not trusted" in head.detail
    assert not coverage(ledger.size, [head]).complete
    head = check_head(ledger, note(owner, ledger), trusted=[owner.verifier], folder=[], source=FOLDER, file="y")
    assert head.ok and head.trusted and coverage(ledger.size, [head]).complete


def test_a_kept_checkpoint_never_falls_back_to_folder_keys(ledger, owner):
    mallory = SigningKey.generate("m")
    head = check_head(ledger, note(mallory, ledger), trusted=[owner.verifier], folder=[mallory.verifier],
                      source=KEPT, file="kept.note")
    assert not head.ok and not head.trusted and "not signed by any known key" in head.detail


def test_bad_signature_by_a_trusted_key_fails(ledger, owner):
    text = note(owner, ledger)
    body, sig = text.split("\n\n")
    forged = body.replace("\n7\n", "\n6\n") + "\n\n" + sig  # the trusted key's id, a signature over other text
    head = check_head(ledger, forged, trusted=[owner.verifier], folder=[], source=FOLDER, file="f")
    assert not head.ok and "does not verify" in head.detail


def test_coverage_is_the_newest_trusted_consistent_head(ledger, owner):
    heads = [check_head(ledger, note(owner, ledger, n), trusted=[owner.verifier], folder=[], source=FOLDER, file=str(n))
             for n in (2, 5, 3)]
    cov = coverage(ledger.size, heads)
    assert (cov.covered, cov.newest.file, cov.complete) == (5, "5", False)
    lie = check_head(ledger, sign_checkpoint(owner, ledger.origin, 7, bytes(32)), trusted=[owner.verifier],
                     folder=[], source=FOLDER, file="lie")
    assert not lie.ok and "rewritten" in lie.detail
    assert coverage(ledger.size, heads + [lie]).covered == 5  # a contradicted head covers nothing
    assert coverage(ledger.size, []).newest is None


def test_kept_head_proves_every_entry_below_it_into_its_own_root(ledger, owner, monkeypatch):
    kept = note(owner, ledger, 5)
    head = check_head(ledger, kept, trusted=[owner.verifier], folder=[], source=KEPT, file="kept")
    assert head.ok and "all 5 entries below it prove into its root" in head.detail
    real = ledger.inclusion_proof

    def wrong_for_entry_3(index, size=None):
        proof = real(index, size)
        return [bytes(32)] + proof[1:] if index == 3 else proof

    monkeypatch.setattr(ledger, "inclusion_proof", wrong_for_entry_3)
    head = check_head(ledger, kept, trusted=[owner.verifier], folder=[], source=KEPT, file="kept")
    assert not head.ok and "different root" in head.detail


def test_verify_entry_in_a_kept_checkpoint(ledger, owner):
    kept = note(owner, ledger, 4)
    assert verify_entry_in_checkpoint(ledger, ledger.entry(3), kept, [owner.verifier], file="k.note").size == 4
    with pytest.raises(CheckpointError, match="k.note: entry 5 was appended after this checkpoint"):
        verify_entry_in_checkpoint(ledger, ledger.entry(5), kept, [owner.verifier], file="k.note")
    with pytest.raises(CheckpointError, match="--vkey"):
        verify_entry_in_checkpoint(ledger, ledger.entry(1), kept, [], file="k.note")
    with pytest.raises(CheckpointError, match="not signed by any known key"):
        verify_entry_in_checkpoint(ledger, ledger.entry(1), kept, [SigningKey.generate("x").verifier], file="k")


def test_audit_api_trust_rules(ledger, owner, tmp_path):
    assert audit(ledger.path).ok and not audit(ledger.path).trusted  # no trust roots: self-consistency only
    report = audit(ledger.path, verifiers=[owner.verifier])
    assert not report.ok and "no checkpoint signed by a trusted key" in report.problems()[0]
    kept = tmp_path / "kept.note"
    kept.write_text(note(owner, ledger, 4))
    report = audit(ledger.path, verifiers=[owner.verifier], kept=[kept])
    assert not report.ok and "entries 4..6" in report.problems()[0]
    report = audit(ledger.path, verifiers=[owner.verifier], kept=[kept], allow_uncovered_tail=True)
    assert report.ok and not report.trusted and report.trust["covered"] == 4
    kept.write_text(note(owner, ledger))
    report = audit(ledger.path, verifiers=[owner.verifier], kept=[kept])
    assert report.ok and report.trusted
