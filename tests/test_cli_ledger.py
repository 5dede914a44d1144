"""The ledger commands of `zkp-ledger`, end to end, including every bad-input case."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.merkle import BLAKE3, verify_consistency, verify_inclusion
from pipeline.cli import main


@pytest.fixture
def cli(tmp_path, capsys):
    ledger = tmp_path / "zl" / "ledger.jsonl"

    def run(*argv, ok=True):
        code = main([argv[0], "--ledger", str(ledger), *argv[1:]])
        out, err = capsys.readouterr()
        if ok is not None:
            assert (code == 0) == ok, (code, out, err)
        return code, out, err

    run.ledger = ledger
    run.tmp = tmp_path
    run("init", "--origin", "test.example/log")
    return run


def jrun(cli, *argv):
    return json.loads(cli(*argv, "--json")[1])


def write_csv(path: Path, rows=20):
    path.write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(rows)))
    return path


def test_notarize_list_history_show(cli):
    data = write_csv(cli.tmp / "d.csv")
    doc = jrun(cli, "notarize", str(data), "--name", "sales", "--tag", "raw")
    assert doc["version"] == 1 and doc["rows"] == 20 and doc["format"] == "csv"
    jrun(cli, "notarize", str(data), "--name", "sales")
    listing = jrun(cli, "list")
    assert [e["kind"] for e in listing["entries"]] == ["genesis", "notarization", "notarization"]
    assert [e["version"] for e in jrun(cli, "history", "sales")["versions"]] == [1, 2]
    shown = jrun(cli, "show", "sales@2")
    leaf = base64.b64decode(shown["leaf"])
    assert BLAKE3.hash_leaf(leaf) == base64.b64decode(shown["leafHash"])
    assert json.loads(leaf) == shown["entry"] and shown["entry"]["parent"] == listing["entries"][1]["id"]
    assert "sales@1" in cli("list")[1] or "sales@1" in cli("list")[1].replace(" ", "")


def test_inclusion_and_consistency_json_verify(cli):
    data = write_csv(cli.tmp / "d.csv")
    for i in range(6):
        cli("notarize", str(data), "--name", f"n{i % 2}")
    for ref in ("1", "n0@2", "-1"):
        p = jrun(cli, "inclusion", ref)
        verify_inclusion(BLAKE3, p["leafIdx"], p["treeSize"], base64.b64decode(p["leafHash"]),
                         [base64.b64decode(x) for x in p["proof"]], base64.b64decode(p["root"]))
    p = jrun(cli, "inclusion", "2", "--size", "4")
    assert p["treeSize"] == 4
    for old in range(1, 8):
        c = jrun(cli, "consistency", str(old))
        verify_consistency(BLAKE3, c["size1"], c["size2"], [base64.b64decode(x) for x in c["proof"]],
                           base64.b64decode(c["root1"]), base64.b64decode(c["root2"]))
    assert cli("consistency", "5", "3", ok=False)[0] == 1


def test_verify_data(cli):
    data = write_csv(cli.tmp / "d.csv")
    cli("notarize", str(data), "--name", "d")
    assert jrun(cli, "verify", "d@1", "--data", str(data))["ok"]
    data.write_text(data.read_text().replace("9,81", "9,82"))
    code, out, err = cli("verify", "d@1", "--data", str(data), ok=False)
    assert code == 1 and "does not match" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("verify", "d@1", "--data", str(cli.tmp), ok=False)
    assert "is a directory" in err


def test_verify_statistics_entry_with_bad_bundle_fails(cli):
    from ledger import Ledger

    led = Ledger.open(cli.ledger)
    digest = led.put_object(b"proofs")
    led.append({"kind": "statistics", "name": "s", "data": {"root": "ab" * 32, "size": 1},
                "statistics": {}, "circuit": {"shape": {}, "vk_hash": "00"}, "proof_bundle": digest})
    code, _, err = cli("verify", "s@1", ok=False)
    assert code == 1 and "unknown statement None" in err
    code, _, err = cli("audit", "--proofs", ok=False)
    assert code == 1 and "unknown statement" in err
    assert cli("audit")[0] == 0  # structure, objects and tree still audit


def test_checkpoint_and_audit_reports(cli):
    data = write_csv(cli.tmp / "d.csv")
    cli("notarize", str(data), "--name", "d")
    doc = jrun(cli, "checkpoint")
    old = Path(doc["file"])
    cli("notarize", str(data), "--name", "d")
    cli("notarize", str(cli.tmp), "--name", "dir", "--bytes-only")
    assert "needs --vkey" in cli("checkpoint", "--verify", str(old), ok=False)[2]  # folder keys are not trusted
    v = jrun(cli, "checkpoint", "--verify", str(old), "--vkey", str(cli.ledger.parent / "keys/signer.key.pub"))
    assert v["ok"] and v["size1"] == 2 and v["size2"] == 4
    html_out, json_out = cli.tmp / "r.html", cli.tmp / "r.json"
    assert cli("audit", "--report", str(html_out))[0] == 0
    assert cli("audit", "--report", str(json_out))[0] == 0
    page = html_out.read_text()
    assert "<!DOCTYPE html>" in page and "d@2" in page and 'href="#e1"' in page  # lineage link to d@1
    report = json.loads(json_out.read_text())
    assert report["ok"] and len(report["entries"]) == 4 and report["checkpoints"][0]["ok"]
    # Damage one byte in the middle: audit fails with one line.
    raw = bytearray(cli.ledger.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    cli.ledger.write_bytes(bytes(raw))
    code, _, err = cli("audit", "--report", str(json_out), ok=False)
    assert code == 1 and len(err.strip().splitlines()) == 1 and not json.loads(json_out.read_text())["ok"]


def bad_input_cases(tmp: Path):
    ragged = tmp / "ragged.csv"
    ragged.write_bytes(b"a,b\n1,2\n3,4,5\n")
    latin = tmp / "latin.csv"
    latin.write_bytes(b"a,b\n1,caf\xe9\n")
    empty = tmp / "empty.csv"
    empty.write_bytes(b"")
    good = write_csv(tmp / "good.csv")
    return [
        (["notarize", str(tmp / "missing.csv"), "--name", "x"], "no such file"),
        (["notarize", str(empty), "--name", "x"], "empty"),
        (["notarize", str(ragged), "--name", "x"], "ragged.csv: line 3 has 3 fields"),
        (["notarize", str(latin), "--name", "x"], "latin.csv: line 2, column 'b': invalid UTF-8"),
        (["notarize", str(good), "--name", "bad\x1bname"], "control character"),
        (["notarize", str(good), "--name", "x", "--tag", "t\nt"], "control character"),
        (["notarize", str(good), "--name", "x", "--parent", "nope@3"], "nope"),
        (["verify", "x@1", "--data", str(good)], "no dataset named"),
        (["show", "42"], "no entry 42"),
        (["audit", "--report", str(tmp)], "directory"),
        (["audit", "--report", str(tmp / "r.txt")], ".html or .json"),
    ]


def test_bad_input_one_line_nonzero_unchanged(cli):
    before = cli.ledger.read_bytes()
    for argv, expect in bad_input_cases(cli.tmp):
        code, out, err = cli(*argv, ok=False)
        lines = err.strip().splitlines()
        assert code != 0 and len(lines) == 1 and expect in lines[0], (argv, err)
        assert lines[0].startswith(f"zkp-ledger {argv[0]}: error:")
        assert cli.ledger.read_bytes() == before, argv


def test_unreadable_dataset(cli, monkeypatch):
    import pipeline.notarize as nz

    good = write_csv(cli.tmp / "good.csv")

    def deny(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(nz, "open", deny, raising=False)
    before = cli.ledger.read_bytes()
    code, _, err = cli("notarize", str(good), "--name", "x", ok=False)
    assert "permission denied" in err and cli.ledger.read_bytes() == before


def test_missing_ledger_and_console_script(tmp_path):
    exe = Path(sys.executable).parent / "zkp-ledger"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
    r = subprocess.run(cmd + ["list", "--ledger", str(tmp_path / "none.jsonl")], capture_output=True, text=True)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "zkp-ledger init" in r.stderr
    r = subprocess.run(cmd + ["init", "--ledger", str(tmp_path / "l.jsonl")], capture_output=True, text=True)
    assert r.returncode == 0
    r = subprocess.run(cmd + ["init", "--ledger", str(tmp_path / "l.jsonl")], capture_output=True, text=True)
    assert r.returncode == 1 and "already exists" in r.stderr
