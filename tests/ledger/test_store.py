"""The ledger file: appends, reads, references, objects, damage detection, crash and concurrency."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from ledger import Ledger
from ledger.audit import audit
from ledger.checkpoint import SigningKey, sign_checkpoint
from ledger.errors import (EntryNotFoundError, LedgerCorruptError, LedgerExistsError, LedgerLockError,
                           LedgerNotFoundError, ObjectStoreError, RecordError)
from ledger.merkle import BLAKE3, verify_consistency, verify_inclusion

ROOT = "ab" * 32


def rec(name="ds", **extra):
    return {"kind": "notarization", "name": name, "data": {"root": ROOT, "size": 10}, **extra}


@pytest.fixture
def ledger(tmp_path):
    with Ledger.create(tmp_path / "l" / "ledger.jsonl", origin="test/log") as led:
        yield led


def test_create_append_reopen(ledger):
    e1 = ledger.append(rec("a"))
    e2 = ledger.append(rec("a", tag="second"))
    e3 = ledger.append(rec("b"))
    assert (e1.index, e1.version, e2.version, e3.version) == (1, 1, 2, 1)
    assert e2["parent"] == e1.id and e3["parent"] is None
    again = Ledger.open(ledger.path)
    assert again.size == 4 and again.root() == ledger.root() and again.origin == "test/log"
    assert [e.id for e in again.entries()] == [e.id for e in ledger.entries()]
    assert again.next_version("a") == 3 and again.names() == ["a", "b"]


def test_create_refuses_existing_and_open_missing(tmp_path, ledger):
    with pytest.raises(LedgerExistsError):
        Ledger.create(ledger.path)
    with pytest.raises(LedgerNotFoundError):
        Ledger.open(tmp_path / "nope.jsonl")


def test_resolve(ledger):
    a1, a2, b1 = ledger.append(rec("a")), ledger.append(rec("a")), ledger.append(rec("b"))
    assert ledger.resolve("a@1").id == a1.id
    assert ledger.resolve("a@latest").id == a2.id
    assert ledger.resolve("a").id == a2.id
    assert ledger.resolve("3").id == b1.id and ledger.resolve(3).id == b1.id and ledger.resolve("-1").id == b1.id
    assert ledger.resolve(a1.id).id == a1.id and ledger.resolve(a1.id[:12]).id == a1.id
    for bad in ("a@3", "zz@1", "99", "ffffffffffffffffff"):
        with pytest.raises(EntryNotFoundError):
            ledger.resolve(bad)


@pytest.mark.parametrize("bad", [
    {"kind": "notarization", "name": "x\x07y", "data": {"root": ROOT, "size": 1}},
    {"kind": "notarization", "name": "x\u202ey", "data": {"root": ROOT, "size": 1}},
    {"kind": "notarization", "name": "", "data": {"root": ROOT, "size": 1}},
    {"kind": "notarization", "name": "a@b", "data": {"root": ROOT, "size": 1}},
    {"kind": "notarization", "name": "x", "data": {"root": "xyz", "size": 1}},
    {"kind": "other", "name": "x", "data": {"root": ROOT, "size": 1}},
    {"kind": "notarization", "name": "x", "data": {"root": ROOT, "size": 1}, "index": 5},
    {"kind": "notarization", "name": "x", "data": {"root": ROOT, "size": 1}, "version": 5},
    {"kind": "notarization", "name": "x", "data": {"root": ROOT, "size": 1}, "typo": 1},
    {"kind": "notarization", "name": "x", "data": {"root": ROOT, "size": float("nan")}},
    {"kind": "statistics", "name": "x", "data": {"root": ROOT, "size": 1}},
    {"kind": "notarization", "name": "x", "data": {"root": ROOT, "size": 1}, "parent": "nope@1"},
    {"kind": "notarization", "name": "x", "data": {"root": ROOT, "size": 1}, "proof_bundle": "cd" * 32},
])
def test_bad_records_rejected_and_ledger_unchanged(ledger, bad):
    before = ledger.path.read_bytes()
    with pytest.raises(RecordError):
        ledger.append(bad)
    assert ledger.path.read_bytes() == before
    ledger.append(rec())  # the in-memory state is still right
    assert Ledger.open(ledger.path).size == 2


def test_statistics_entry_with_object(ledger):
    bundle = os.urandom(5000)
    digest = ledger.put_object(bundle)
    assert ledger.put_object(bundle) == digest and ledger.get_object(digest) == bundle
    n = ledger.append(rec("d"))
    e = ledger.append({"kind": "statistics", "name": "d", "parent": n.id, "data": {"root": ROOT, "size": 10},
                       "schema": [{"name": "x", "type": "int64"}], "encoding": {"x": {"scale": 2}}, "rows": 3,
                       "statistics": {"x": {"count": 3, "sum": 6}},
                       "circuit": {"shape": {"rows": 1024, "columns": 1}, "vk_hash": "00" * 32},
                       "proof_bundle": digest})
    assert e.version == 2 and e["proof_bundle"] == digest
    assert audit(ledger.path).ok
    (ledger.objects_dir / digest).write_bytes(bundle[:-1] + bytes([bundle[-1] ^ 1]))
    with pytest.raises(ObjectStoreError):
        ledger.get_object(digest)
    report = audit(ledger.path)
    assert not report.ok and "does not match its hash" in report.problems()[0]


def test_proofs_verify(ledger):
    ledger.append_many([rec(f"n{i % 3}") for i in range(40)])
    n = ledger.size
    for i in range(n):
        verify_inclusion(BLAKE3, i, n, ledger.tree.leaf_hash(i), ledger.inclusion_proof(i), ledger.root())
    for m in range(1, n + 1):
        verify_consistency(BLAKE3, m, n, ledger.consistency_proof(m), ledger.root(m), ledger.root())


def test_show_leaf_rebuilds_hash(ledger):
    e = ledger.append(rec())
    assert BLAKE3.hash_leaf(e.leaf) == e.leaf_hash
    line = ledger.path.read_bytes().splitlines()[1]
    assert json.loads(line)["entry"] == e.record


# --- damage ------------------------------------------------------------------------------------


def filled(ledger, n=12):
    ledger.append_many([rec(f"n{i % 2}") for i in range(n)])
    return ledger.path.read_bytes()


def test_byte_flips_anywhere_detected(ledger):
    data = filled(ledger)
    rng = random.Random(7)
    positions = sorted(rng.sample(range(len(data)), 60)) + [len(data) - 1, 0]
    for pos in positions:
        for bit in (0, 5):
            damaged = bytearray(data)
            damaged[pos] ^= 1 << bit
            ledger.path.write_bytes(bytes(damaged))
            report = audit(ledger.path)
            assert not report.ok, f"flip at byte {pos} bit {bit} not detected"
    ledger.path.write_bytes(data)
    assert audit(ledger.path).ok


def test_truncation_detected(tmp_path, ledger):
    data = filled(ledger)
    key = SigningKey.generate("test/log")
    ledger.checkpoints_dir.mkdir()
    (ledger.checkpoints_dir / "cp.note").write_text(sign_checkpoint(key, ledger.origin, ledger.size, ledger.root()))
    cuts = sorted(set(random.Random(3).sample(range(len(data)), 40)) |
                  {i + 1 for i, b in enumerate(data) if b == 0x0A and i + 1 < len(data)})
    for cut in cuts:
        ledger.path.write_bytes(data[:cut])
        report = audit(ledger.path, verifiers=[key.verifier])
        assert not report.ok, f"truncation at byte {cut} not detected"
    ledger.path.write_bytes(data)
    assert audit(ledger.path, verifiers=[key.verifier]).ok


def test_rewritten_history_caught_by_checkpoint(ledger):
    filled(ledger, 6)
    key = SigningKey.generate("test/log")
    note = sign_checkpoint(key, ledger.origin, ledger.size, ledger.root())
    # Rewrite entry 3 and everything after it consistently (a deliberate forgery).
    forged = Ledger.create(ledger.path.parent / "forged.jsonl", origin="test/log")
    lines = ledger.path.read_bytes().splitlines(keepends=True)
    forged.path.write_bytes(lines[0])
    forged = Ledger.open(forged.path)
    for e in list(ledger.entries())[1:]:
        r = {k: v for k, v in e.record.items() if k not in ("format", "index", "version", "prev_root", "time", "parent")}
        if e.index == 3:
            r["tag"] = "forged"
        forged.append(r)
    assert audit(forged.path).ok  # self-consistent ...
    forged.checkpoints_dir.mkdir(exist_ok=True)
    (forged.checkpoints_dir / "old.note").write_text(note)
    report = audit(forged.path, verifiers=[key.verifier])
    assert not report.ok and "rewritten" in report.problems()[0]  # ... but not with the old checkpoint


def test_torn_tail_cut_on_open_once(ledger):
    filled(ledger, 3)
    good = ledger.path.read_bytes()
    line = ledger.path.read_bytes().splitlines(keepends=True)[-1]
    for cut in (1, 13, len(line) // 2, len(line) - 1):
        ledger.path.write_bytes(good + line[:cut])
        assert not audit(ledger.path).ok  # the audit reports it, never cuts
        opened = Ledger.open(ledger.path)
        assert opened.torn_tail == cut and opened.torn_tail_cut and opened.size == 4
        assert ledger.path.read_bytes() == good
        assert Ledger.open(ledger.path).torn_tail == 0  # reported once
    ledger.path.write_bytes(good + b"garbage")
    with pytest.raises(LedgerCorruptError):
        Ledger.open(ledger.path)
    ledger.path.write_bytes(good[:-1] + b"x")  # a complete record + junk is damage, not a torn append
    with pytest.raises(LedgerCorruptError):
        Ledger.open(ledger.path)


def test_append_after_torn_tail(ledger):
    filled(ledger, 2)
    with open(ledger.path, "ab") as f:
        f.write(b'{"checksum":"12')
    ledger.append(rec())  # the writer cuts the torn tail under its lock
    assert audit(ledger.path).ok and Ledger.open(ledger.path).size == 4


def test_lock_timeout(tmp_path, ledger):
    import fcntl
    fd = os.open(ledger.path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        slow = Ledger.open(ledger.path, lock_timeout=0.3)
        t = time.monotonic()
        with pytest.raises(LedgerLockError, match="locked by another writer"):
            slow.append(rec())
        assert time.monotonic() - t >= 0.3
    finally:
        os.close(fd)
    slow.append(rec())


# --- crash and concurrency (real processes) ------------------------------------------------------

WORKER = textwrap.dedent("""
    import sys
    from ledger import Ledger
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ledger = Ledger.open(path)
    for i in range(count):
        e = ledger.append({"kind": "notarization", "name": name, "tag": f"t{i}",
                           "data": {"root": "ab" * 32, "size": i}, "note": "x" * (i * 37 % 3000)})
        print(e.index, e.id, flush=True)
""")


def run_worker(path, name, count):
    return subprocess.Popen([sys.executable, "-c", WORKER, str(path), name, str(count)],
                            stdout=subprocess.PIPE, text=True, cwd=os.getcwd())


def test_sigkill_during_appends(ledger):
    rng = random.Random(11)
    returned: list[tuple[int, str]] = []
    for _ in range(6):
        proc = run_worker(ledger.path, "crash", 100000)
        time.sleep(rng.uniform(0.3, 0.8))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        # Only complete lines: the kill may cut the report of the last append mid-line.
        returned += [(int(i), h) for i, h in (line.split() for line in out.split("\n")[:-1] if line.strip())]
        opened = Ledger.open(ledger.path)
        ids = [e.id for e in opened.entries()]
        for index, h in returned:  # every append that returned is there, at its index
            assert ids[index] == h
        # at most one more: the append in flight when the kill came
        assert opened.size - 1 - len(returned) in (0, 1)
        if opened.size - 1 > len(returned):
            returned.append((opened.size - 1, ids[-1]))
        report = audit(ledger.path)
        assert report.ok, report.problems()
    assert len(returned) > 6


def test_concurrent_appenders(ledger):
    procs = [run_worker(ledger.path, f"w{k}", 40) for k in range(4)]
    outs = [p.communicate()[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    opened = Ledger.open(ledger.path)
    assert opened.size == 1 + 4 * 40
    seen = {}
    for k, out in enumerate(outs):
        got = [line.split() for line in out.splitlines()]
        assert len(got) == 40
        for i, h in got:
            seen[int(i)] = h
    assert sorted(seen) == list(range(1, opened.size))
    for e in opened.entries(1):
        assert seen[e.index] == e.id
        assert e.version == int(e["tag"][1:]) + 1  # per-name versions in each writer's order
    assert audit(ledger.path).ok
