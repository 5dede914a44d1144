"""`zkp-ledger keys tables` end to end: proofs made with the tables verify, and a damaged table file
stops `prove` with one line and leaves the ledger as it was."""

from __future__ import annotations

import json

import numpy as np

from pipeline import statistics_proof
from pipeline.checked_files import file_digest, mark_checked
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

    path = key_dir / TABLE_FILE
    head = json.loads(path.read_bytes()[12:12 + int.from_bytes(path.read_bytes()[8:12], "little")])
    sections = {s["name"]: s for s in head["sections"]}
    honest = path.read_bytes()
    before = ledger.read_bytes()

    def prove_fails(name, expected):
        statistics_proof._WORKER_KEYS.clear()
        capsys.readouterr()
        assert cli(["prove", str(data), "--ledger", str(ledger), "--name", name] + PROVE) == 1
        err = [line for line in capsys.readouterr().err.strip().splitlines() if "error" in line]
        assert len(err) == 1 and expected in err[0] and "proving.tables" in err[0], err
        assert ledger.read_bytes() == before

    # The witness oracle: whoever can write the key folder adds a subgroup point Q to one entry
    # [2^(c w)] P_j. The proof then verifies exactly when z_j's digit in window w is 0, so the
    # success of `prove` would tell them that digit. The file is refused before any proof.
    from kernels.ec import points as P
    from kernels.ec.points import G1_SHAPE
    entry = 96                                                  # one affine G1 point of uint32 limbs
    a = sections["a_query"]["offset"]
    planted = bytearray(honest)
    point = np.frombuffer(honest[a + 3 * entry:a + 4 * entry], "<u4").reshape(G1_SHAPE)
    planted[a + 3 * entry:a + 4 * entry] = np.ascontiguousarray(
        P.g1_add(point, P.g1_generator()), "<u4").tobytes()
    path.write_bytes(bytes(planted))
    prove_fails("d2", "were not built by `zkp-ledger keys tables`")

    # Rebuilding records the new file; an honest copy of the recorded bytes loads again.
    path.write_bytes(honest)
    statistics_proof._WORKER_KEYS.clear()
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "d1b"] + PROVE) == 0
    before = ledger.read_bytes()

    # A table damaged after it was recorded (here: B1's multiples in A's place, valid points, the
    # right sizes) still never yields a proof: the prover's own check refuses it.
    blob = bytearray(honest)
    size = sections["b_g1_query"]["offset"] - sections["a_query"]["offset"]
    b = sections["b_g1_query"]["offset"]
    blob[a:a + size] = blob[b:b + size]
    path.write_bytes(bytes(blob))
    mark_checked(file_digest(path), "tables")
    prove_fails("d2", "tables are damaged")

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


def test_tables_are_hashed_and_mapped_from_one_open_file(tmp_path, capsys, monkeypatch):
    """Whoever can rename files in the key folder swaps a planted table in right after the load
    hashed the honest one; the tables mapped must still be the honest bytes. A table file that
    others can write is refused with one line."""
    import os

    from kernels.ec import points as P
    from pipeline import keystore as keystore_module
    from pipeline.circuit.statistics import Shape

    ledger = tmp_path / "l" / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger), "--no-key"]) == 0
    assert cli(["setup", "--ledger", str(ledger), "--shape", SHAPE]) == 0
    assert cli(["keys", "tables", SHAPE, "--ledger", str(ledger)]) == 0
    store = keystore_module.KeyStore(ledger.parent / "keys", log=lambda _t: None)
    shape = Shape.parse(SHAPE)
    pk, _ = store.load_keys(shape)
    path = store.tables_path(shape)
    honest = path.read_bytes()
    head = json.loads(honest[12:12 + int.from_bytes(honest[8:12], "little")])
    a = {s["name"]: s for s in head["sections"]}["a_query"]["offset"]
    planted = bytearray(honest)
    point = np.frombuffer(honest[a:a + 96], "<u4").reshape(2, 12)
    planted[a:a + 96] = np.ascontiguousarray(P.g1_add(point, P.g1_generator()), "<u4").tobytes()
    real = keystore_module.was_checked

    def check_then_swap(digest, kind="points"):
        answer = real(digest, kind)
        if kind == "tables":
            (path.parent / "planted").write_bytes(bytes(planted))
            os.replace(path.parent / "planted", path)
        return answer

    monkeypatch.setattr(keystore_module, "was_checked", check_then_swap)
    tables = store.load_tables(shape, pk)
    assert path.read_bytes() == bytes(planted)                        # the swap happened
    assert np.array_equal(tables.tables["a_query"].points[0, 0], point)   # the mapped table is the honest one
    monkeypatch.setattr(keystore_module, "was_checked", real)

    path.write_bytes(honest)
    os.chmod(path, 0o666)
    data = tmp_path / "d.csv"
    data.write_text("price,qty\n1.5,2\n2.25,3\n7,4\n0.5,1\n")
    statistics_proof._WORKER_KEYS.clear()
    capsys.readouterr()
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "d"] + PROVE) == 1
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "error" in line]
    assert len(err) == 1 and "writable by its group or by others" in err[0], err
