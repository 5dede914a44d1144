"""`zkp-ledger keys tables` end to end: proofs made with the tables verify, and a damaged table file
stops `prove` with one line and leaves the ledger as it was."""

from __future__ import annotations

import json


from pipeline import statistics_proof
from pipeline.cli import main as cli
from pipeline.groth16.prover_tables import TABLE_FILE

SHAPE = "r4-c1-k12-t3"
PROVE = ["--columns", "price", "--scale", "price=2", "--range", "price=0:40", "--range-bits", "12",
         "--chunk-rows", "4", "--width", "3", "--device", "cpu"]


def test_tables_prove_and_a_damaged_table_is_refused(tmp_path, capsys):
    ledger = tmp_path / "l" / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger), "--no-key"]) == 0
    assert cli(["setup", "--ledger", str(ledger), "--shape", SHAPE]) == 0
    capsys.readouterr()
    assert cli(["keys", "tables", SHAPE, "--ledger", str(ledger), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    key_dir = ledger.parent / "keys" / SHAPE
    assert doc["file"] == str(key_dir / TABLE_FILE) and (key_dir / TABLE_FILE).is_file()
    assert set(doc["tables"]) == {"a_query", "b_g1_query", "b_g2_query", "l_query", "h_query"}
    assert doc["bytes"] == sum(t["bytes"] for t in doc["tables"].values()) > 0

    data = tmp_path / "d.csv"
    data.write_text("price,qty\n1.5,2\n2.25,3\n7,4\n0.5,1\n3,3\n")
    statistics_proof._WORKER_KEYS.clear()
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "d"] + PROVE) == 0
    assert cli(["verify", "d@1", "--ledger", str(ledger), "--data", str(data),
                "--vk", str(key_dir / "verifying.key")]) == 0

    # Plant B1's multiples in A's place (valid points, the right sizes): the file still loads, the
    # proof comes out wrong, the prover's own check refuses it.
    path = key_dir / TABLE_FILE
    head = json.loads(path.read_bytes()[12:12 + int.from_bytes(path.read_bytes()[8:12], "little")])
    sections = {s["name"]: s for s in head["sections"]}
    blob = bytearray(path.read_bytes())
    size = sections["b_g1_query"]["offset"] - sections["a_query"]["offset"]
    a, b = sections["a_query"]["offset"], sections["b_g1_query"]["offset"]
    blob[a:a + size] = blob[b:b + size]
    path.write_bytes(bytes(blob))
    before = ledger.read_bytes()
    statistics_proof._WORKER_KEYS.clear()
    capsys.readouterr()
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "d2"] + PROVE) == 1
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "error" in line]
    assert len(err) == 1 and "tables are damaged" in err[0] and "proving.tables" in err[0]
    assert ledger.read_bytes() == before

    # Without the file, proving goes on as before.
    path.unlink()
    statistics_proof._WORKER_KEYS.clear()
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "d2"] + PROVE) == 0
    assert len(ledger.read_bytes()) > len(before)


def test_keys_tables_needs_keys_and_a_sane_window(tmp_path, capsys):
    ledger = tmp_path / "l" / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger), "--no-key"]) == 0
    capsys.readouterr()
    assert cli(["keys", "tables", SHAPE, "--ledger", str(ledger)]) == 1
    assert "no keys for shape" in capsys.readouterr().err
    assert cli(["keys", "tables", SHAPE, "--ledger", str(ledger), "--window", "20"]) == 1
    assert "between 8 and 16" in capsys.readouterr().err
