"""Ledger trust roots, end to end through `zkp-ledger`: each attack on the ledger file must fail an
auditor who names the owner's key (--vkey) and keeps checkpoints (--checkpoint); the honest
ledger passes the same checks.

Roles: the owner runs `init --key-dir` (the signing key lives outside the ledger folder), appends
and signs checkpoints; the auditor holds only the owner's verifier key and the checkpoints it
kept; the attacker can write anything inside the ledger folder.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ledger import Ledger
from ledger.checkpoint import SigningKey, sign_checkpoint
from pipeline.cli import main

ORIGIN = "test.example/log"


@pytest.fixture
def world(tmp_path, capsys):
    """An owner's ledger of 5 entries with a checkpoint at size 5, and the auditor's kept copy."""
    ledger = tmp_path / "shared" / "ledger.jsonl"
    owner_keys = tmp_path / "owner-keys"
    auditor = tmp_path / "auditor"
    auditor.mkdir()

    def run(*argv, ok=True):
        code = main([argv[0], "--ledger", str(ledger), *argv[1:]])
        out, err = capsys.readouterr()
        if ok is not None:
            assert (code == 0) == ok, (argv, code, out, err)
        if not ok:
            assert len(err.strip().splitlines()) == 1, err  # one line, whatever failed
        return code, out, err

    run("init", "--origin", ORIGIN, "--key-dir", str(owner_keys))
    data = tmp_path / "d.csv"
    data.write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(20)))
    for i in range(4):
        run("notarize", str(data), "--name", f"d{i % 2}")
    run.key = owner_keys / "test.example_log.key"
    run.vkey = str(owner_keys / "test.example_log.key.pub")  # what the owner hands the auditor
    run("checkpoint", "--key", str(run.key), "--out", str(auditor / "kept-5.note"))
    run.ledger, run.tmp, run.data, run.kept = ledger, tmp_path, data, auditor / "kept-5.note"
    return run


def audit_json(world, *argv, ok):
    code, out, err = world("audit", *argv, "--json", ok=ok)
    return json.loads(out), err


def records(path: Path) -> list[dict]:
    with Ledger.open(path) as led:
        return [e.record for e in led.entries()]


def rewrite(path: Path, *, change_at: int, signer: SigningKey | None = None) -> None:
    """The attacker's forgery: the same origin, entry `change_at` altered, every later entry (and
    every chained hash) recomputed, so the file is self-consistent. With `signer`, the genesis
    entry names the attacker's key too."""
    old = records(path)
    tmp = path.with_name("forged.jsonl")
    genesis_line = path.read_bytes().splitlines(keepends=True)[0]
    if signer is None:
        tmp.write_bytes(genesis_line)
        forged = Ledger.open(tmp)
    else:
        forged = Ledger.create(tmp, origin=old[0]["origin"], signer=signer.verifier.text())
    with forged:
        for i, r in enumerate(old[1:], start=1):
            r = {k: v for k, v in r.items() if k not in ("format", "index", "version", "prev_root", "time", "parent")}
            if i == change_at:
                r["tag"] = "forged"
            forged.append(r)
    os.replace(tmp, path)


def attacker_signs(world, key: SigningKey) -> Path:
    """The attacker drops its verifier key into keys/ and signs today's tree head with it."""
    keys = world.ledger.parent / "keys"
    (keys / "signer.key.pub").write_text(key.verifier.text() + "\n")
    with Ledger.open(world.ledger) as led:
        note = sign_checkpoint(key, led.origin, led.size, led.root())
        out = led.checkpoints_dir / f"{led.size:012d}-{key.verifier.id.hex()}.note"
    out.write_text(note)
    return out


def delete_checkpoints(world) -> None:
    for f in (world.ledger.parent / "checkpoints").glob("*.note"):
        f.unlink()


# --- honest cases ---------------------------------------------------------------------------------


def test_honest_ledger_passes_every_trust_check(world):
    report, _ = audit_json(world, "--vkey", world.vkey, ok=True)
    assert report["trust"]["complete"] and report["trust"]["covered"] == 5
    assert report["trust"]["folder_keys"] == [{"where": "genesis entry", "key": Path(world.vkey).read_text().strip(),
                                              "trusted": True}]
    assert all(c["trusted"] and c["ok"] for c in report["checkpoints"])
    page = world.tmp / "audit.html"
    report, _ = audit_json(world, "--vkey", world.vkey, "--checkpoint", str(world.kept), "--report", str(page), ok=True)
    assert "A checkpoint signed by a trusted key covers all 5 entries" in page.read_text()
    kept = [c for c in report["checkpoints"] if c["source"] == "kept"]
    assert kept[0]["ok"] and "all 5 entries below it prove into its root" in kept[0]["detail"]
    for ref in ("0", "d0@1", "d1@2"):
        doc = json.loads(world("verify", ref, "--checkpoint", str(world.kept), "--vkey", world.vkey, "--json")[1])
        assert doc["ok"] and any("kept checkpoint" in c for c in doc["checks"])


def test_entries_after_the_newest_trusted_checkpoint(world):
    world("notarize", str(world.data), "--name", "late")
    _, err = audit_json(world, "--vkey", world.vkey, ok=False)
    assert "entry 5 was appended after the newest trusted checkpoint" in err
    report, _ = audit_json(world, "--vkey", world.vkey, "--checkpoint", str(world.kept), "--allow-uncovered-tail",
                           ok=True)
    assert report["trust"]["covered"] == 5 and not report["trust"]["complete"]
    # The kept checkpoint still vouches for old entries, never for the new one.
    world("verify", "d0@1", "--checkpoint", str(world.kept), "--vkey", world.vkey)
    _, _, err = world("verify", "late@1", "--checkpoint", str(world.kept), "--vkey", world.vkey, ok=False)
    assert "appended after this checkpoint" in err and str(world.kept) in err
    world("checkpoint", "--key", str(world.key))
    audit_json(world, "--vkey", world.vkey, "--checkpoint", str(world.kept), ok=True)


def test_no_trust_roots_is_said_plainly(world):
    report, _ = audit_json(world, ok=True)
    assert not report["trust"]["complete"]
    assert any(c["check"] == "trust roots" and "self-consistent" in c["detail"] for c in report["checks"])
    for argv, expect in [(["audit", "--checkpoint", str(world.kept)], "needs --vkey"),
                         (["verify", "1", "--checkpoint", str(world.kept)], "needs --vkey"),
                         (["verify", "1", "--vkey", world.vkey], "give it with --checkpoint"),
                         (["audit", "--vkey", world.vkey, "--checkpoint", str(world.tmp / "none.note")],
                          "cannot read checkpoint")]:
        assert expect in world(*argv, ok=False)[2], argv


# --- attacks: each must fail ----------------------------------------------------------------------


def test_rewrite_signed_by_a_key_dropped_into_the_ledger_folder(world):
    mallory = SigningKey.generate(ORIGIN)  # same name as the owner's key; another key id
    rewrite(world.ledger, change_at=2, signer=mallory)
    delete_checkpoints(world)
    forged_cp = attacker_signs(world, mallory)
    report, _ = audit_json(world, ok=True)  # self-consistent: a plain audit cannot tell
    assert [c["trusted"] for c in report["checkpoints"]] == [False] and report["checkpoints"][0]["ok"]
    report, err = audit_json(world, "--vkey", world.vkey, ok=False)
    assert "no checkpoint signed by a trusted key" in err
    assert [c["trusted"] for c in report["checkpoints"]] == [False]
    assert "reported, not trusted" in report["checkpoints"][0]["detail"]
    assert {k["trusted"] for k in report["trust"]["folder_keys"]} == {False}
    # Only the attacker's own key would pass it: the check above failed for the right reason.
    mallory_pub = world.tmp / "mallory.pub"
    mallory_pub.write_text(mallory.verifier.text())
    audit_json(world, "--vkey", str(mallory_pub), ok=True)
    # The same forged checkpoint as the auditor's "kept" one is refused too.
    _, _, err = world("audit", "--vkey", world.vkey, "--checkpoint", str(forged_cp), ok=False)
    assert "not signed by any known key" in err


def test_rewrite_beside_the_owners_checkpoints_is_caught_by_them(world):
    rewrite(world.ledger, change_at=3)
    attacker_signs(world, SigningKey.generate("mallory"))
    _, err = audit_json(world, "--vkey", world.vkey, ok=False)
    assert "history was rewritten" in err


def test_rewrite_with_every_checkpoint_deleted(world):
    rewrite(world.ledger, change_at=1)
    delete_checkpoints(world)
    audit_json(world, ok=True)  # self-consistent ...
    _, err = audit_json(world, "--vkey", world.vkey, ok=False)  # ... but nothing the owner signed covers it
    assert "no checkpoint signed by a trusted key" in err


def test_rewrite_after_the_auditor_kept_a_checkpoint(world):
    rewrite(world.ledger, change_at=4)
    delete_checkpoints(world)
    # Even the owner's key, used from a machine without its last checkpoint, re-signs the forgery:
    owner = SigningKey.load(world.key)
    with Ledger.open(world.ledger) as led:
        (led.checkpoints_dir / "resigned.note").write_text(sign_checkpoint(owner, led.origin, led.size, led.root()))
    audit_json(world, "--vkey", world.vkey, ok=True)
    _, err = audit_json(world, "--vkey", world.vkey, "--checkpoint", str(world.kept), ok=False)
    assert "kept-5.note" in err and "history was rewritten" in err
    for ref in ("1", "d1@2"):  # an untouched entry and the rewritten one
        _, _, err = world("verify", ref, "--checkpoint", str(world.kept), "--vkey", world.vkey, ok=False)
        assert "kept-5.note" in err and "rewritten" in err


def test_ledger_cut_back_to_an_older_checkpoint(world):
    world("checkpoint", "--key", str(world.key))  # size 5 in the folder as well
    world("notarize", str(world.data), "--name", "late")
    world("notarize", str(world.data), "--name", "late")
    world("checkpoint", "--key", str(world.key), "--out", str(world.kept))  # the auditor now keeps size 7
    lines = world.ledger.read_bytes().splitlines(keepends=True)
    world.ledger.write_bytes(b"".join(lines[:5]))
    for f in (world.ledger.parent / "checkpoints").glob("000000000007-*.note"):
        f.unlink()
    # The folder alone cannot show the cut: what is left is covered by the owner's size-5 checkpoint.
    audit_json(world, "--vkey", world.vkey, ok=True)
    _, err = audit_json(world, "--vkey", world.vkey, "--checkpoint", str(world.kept), ok=False)
    assert "covers 7 entries but the ledger holds only 5" in err
    _, _, err = world("verify", "d0@1", "--checkpoint", str(world.kept), "--vkey", world.vkey, ok=False)
    assert "entries were removed" in err


@pytest.mark.parametrize("where", ["ledger", "kept", "folder checkpoint"])
def test_flipped_byte(world, where):
    cp_dir = world.ledger.parent / "checkpoints"
    target = {"ledger": world.ledger, "kept": world.kept, "folder checkpoint": next(cp_dir.glob("*.note"))}[where]
    raw = bytearray(target.read_bytes())
    pos = len(raw) // 2 if where == "ledger" else raw.index(b"\n") + 1  # the tree size line of a note
    raw[pos] ^= 0x01
    target.write_bytes(bytes(raw))
    argv = ["--vkey", world.vkey, "--checkpoint", str(world.kept)]
    audit_json(world, *argv, ok=False)
    if where != "folder checkpoint":
        world("verify", "d0@1", "--checkpoint", str(world.kept), "--vkey", world.vkey, ok=False)


# --- the signing key lives outside the ledger folder --------------------------------------------


def test_init_key_dir_keeps_the_key_out_of_the_ledger_folder(world):
    folder = world.ledger.parent
    assert world.key.is_file() and stat.S_IMODE(world.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(world.key.parent.stat().st_mode) == 0o700
    assert not list(folder.rglob("*.key")) and (folder / "keys" / "signer.key.pub").is_file()
    _, _, err = world("checkpoint", ok=False)  # no key in the folder to sign with
    assert "pass --key PATH" in err
    other = world.tmp / "other" / "ledger.jsonl"
    code = main(["init", "--ledger", str(other), "--key-dir", str(other.parent / "keys")])  # inside: refused
    assert code == 1 and not other.exists()
    code = main(["init", "--ledger", str(other), "--origin", ORIGIN, "--key-dir", str(world.key.parent)])
    assert code == 1 and not other.exists()  # never overwrites a key
    loose = world.tmp / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    assert main(["init", "--ledger", str(other), "--key-dir", str(loose)]) == 1 and not other.exists()
    assert main(["init", "--ledger", str(other), "--origin", "other/log", "--key-dir", str(world.key.parent)]) == 0
    assert (world.key.parent / "other_log.key").is_file()


@pytest.mark.parametrize("cover_tracks", [False, True])
def test_checkpoint_refuses_to_sign_a_history_its_own_checkpoints_contradict(world, cover_tracks):
    signer_copy = world.key.with_name(world.key.name + ".test.example_log.last.note")
    assert signer_copy.read_text() == world.kept.read_text()  # beside the key, out of the attacker's reach
    rewrite(world.ledger, change_at=2)
    if cover_tracks:
        delete_checkpoints(world)
    before = sorted(p.name for p in (world.ledger.parent / "checkpoints").iterdir())
    _, _, err = world("checkpoint", "--key", str(world.key), ok=False)
    assert "refusing to sign" in err and "rewritten" in err
    assert (signer_copy.name in err) == cover_tracks
    assert sorted(p.name for p in (world.ledger.parent / "checkpoints").iterdir()) == before
    signer_copy.unlink()  # without its own copy, only the folder's checkpoints can stop the signer
    world("checkpoint", "--key", str(world.key), ok=cover_tracks)
