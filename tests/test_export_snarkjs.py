"""`export ENTRY --format snarkjs --circuit DIR --data DATASET`: the entry's circuit, proving key and
witnesses in snarkjs's files, read back by our readers and accepted by snarkjs itself."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ledger import Ledger
from pipeline.circuit.statistics import Shape, circuit
from pipeline.cli import main as cli
from pipeline.errors import ProofError
from pipeline.keystore import KeyStore
from pipeline.statistics_verify import export_snarkjs, load_bundle
from tests.conftest import run

SHAPE = "r4-c2-k8-t3"
VALUES = [(12, 3), (0, 200), (255, ""), (7, 9), (99, 1), (31, 64)]     # 6 rows: chunks of 4 and 2, one null


def write_csv(path: Path, rows) -> Path:
    path.write_text("amount,qty\n" + "".join(f"{a},{q}\n" for a, q in rows))
    return path


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    """A ledger with one statistics entry over two columns, proved with keys from `setup --out`."""
    folder = tmp_path_factory.mktemp("export")
    ledger_path = folder / "ledger" / "ledger.jsonl"
    data = write_csv(folder / "sales.csv", VALUES)
    keys = folder / "keys"
    assert cli(["init", "--ledger", str(ledger_path), "--no-key"]) == 0
    assert cli(["setup", "--shape", SHAPE, "--out", str(keys)]) == 0
    assert cli(["prove", str(data), "--ledger", str(ledger_path), "--name", "sales", "--columns", "amount,qty",
                "--range", "amount=0:255,qty=0:255", "--range-bits", "8", "--chunk-rows", "4", "--width", "3",
                "--keys", str(keys)]) == 0
    ledger = Ledger.open(ledger_path)
    entry = ledger.resolve("sales@latest")
    out = folder / "circuit"
    assert cli(["export", "sales@latest", "--ledger", str(ledger_path), "--circuit", str(out), "--data", str(data),
                "--keys", str(keys)]) == 0
    return ledger, entry, data, keys, out


def test_files_read_back_as_the_entry_circuit_key_and_witnesses(proved):
    from pipeline.groth16.keys import Proof
    from pipeline.groth16.prover import prove
    from pipeline.groth16.verifier import verify
    from pipeline.snarkjs import read_r1cs, read_wtns, read_zkey

    ledger, entry, _, keys, out = proved
    shape = Shape.parse(SHAPE)
    r1cs = circuit(shape)
    assert sorted(p.name for p in out.iterdir()) == ["chunk_0.wtns", "chunk_1.wtns", "circuit.r1cs", "circuit.zkey",
                                                     "verification_key.json"]
    back = read_r1cs(out / "circuit.r1cs")
    assert (back.n_vars, back.n_public, back.n_constraints) == (r1cs.n_vars, r1cs.n_public, r1cs.n_constraints)
    pk, vk = KeyStore(keys).load_keys(shape)
    zkey = read_zkey(out / "circuit.zkey")                    # every point checked on reading
    for name in ("a_query", "b_g1_query", "b_g2_query", "l_query", "h_query"):
        assert np.array_equal(getattr(zkey.pk, name), getattr(pk, name)), name
    for name in ("alpha_g1", "beta_g2", "gamma_g2", "delta_g2", "ic"):
        assert np.array_equal(getattr(zkey.vk, name), getattr(vk, name)), name
    bundle, _, _ = load_bundle(ledger, entry)
    for k, chunk in enumerate(bundle["chunks"]):
        z = read_wtns(out / f"chunk_{k}.wtns")
        assert (out / f"chunk_{k}.wtns").stat().st_mode & 0o077 == 0      # the witness holds the data
        ints = [int.from_bytes(row.tobytes(), "little") for row in z]
        assert ints[0] == 1 and [str(v) for v in ints[1:r1cs.n_public + 1]] == chunk["public_inputs"]
        r1cs.check_witness(ints)
        # our prover with the exported key and witness: a proof the entry's verifying key accepts
        proof = prove(zkey.pk, zkey.qap, z)
        assert verify(vk, ints[1:r1cs.n_public + 1], Proof.from_bytes(proof.to_bytes()))


def test_snarkjs_checks_the_witness_proves_and_verifies(proved, npm_tools, tmp_path):
    ledger, entry, _, _, out = proved
    snarkjs = npm_tools["snarkjs"]
    bundle, _, _ = load_bundle(ledger, entry)
    for k, chunk in enumerate(bundle["chunks"]):
        run([snarkjs, "wtns", "check", out / "circuit.r1cs", out / f"chunk_{k}.wtns"])
        proof, public = tmp_path / f"proof_{k}.json", tmp_path / f"public_{k}.json"
        run([snarkjs, "groth16", "prove", out / "circuit.zkey", out / f"chunk_{k}.wtns", proof, public])
        assert json.loads(public.read_text()) == chunk["public_inputs"]
        assert "OK" in run([snarkjs, "groth16", "verify", out / "verification_key.json", public, proof]).stdout
    # snarkjs's own reading of the key's verifying part is the entry's key
    run([snarkjs, "zkey", "export", "verificationkey", out / "circuit.zkey", tmp_path / "vk.json"])
    mine, theirs = (json.loads(p.read_text()) for p in (out / "verification_key.json", tmp_path / "vk.json"))
    for field in ("nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"):
        assert mine[field] == theirs[field], field
    # a witness with one changed value fails snarkjs's check
    bad = bytearray((out / "chunk_0.wtns").read_bytes())
    bad[-32 * 50] ^= 1
    (tmp_path / "bad.wtns").write_bytes(bytes(bad))
    proc = subprocess.run([str(snarkjs), "wtns", "check", str(out / "circuit.r1cs"), str(tmp_path / "bad.wtns")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 or "WITNESS IS NOT CORRECT" in proc.stdout + proc.stderr


def test_other_data_or_other_keys_are_refused(proved, tmp_path):
    ledger, entry, data, keys, _ = proved
    changed = [list(r) for r in VALUES]
    changed[5][0] = 30
    other = write_csv(tmp_path / "other.csv", changed)
    with pytest.raises(ProofError, match="chunk 1"):
        export_snarkjs(ledger, entry, None, circuit_dir=tmp_path / "c1", data=other, keys=keys)
    with pytest.raises(ProofError, match="chunk 1"):
        export_snarkjs(ledger, entry, None, circuit_dir=tmp_path / "c2", keys=keys,
                       data=write_csv(tmp_path / "longer.csv", VALUES + [(1, 1)] * 3))
    with pytest.raises(ProofError, match="fewer rows"):
        export_snarkjs(ledger, entry, None, circuit_dir=tmp_path / "c2", keys=keys,
                       data=write_csv(tmp_path / "shorter.csv", VALUES[:4]))
    other_keys = tmp_path / "other-keys"
    assert cli(["setup", "--shape", SHAPE, "--out", str(other_keys)]) == 0
    with pytest.raises(ProofError, match="not the key this entry was proved with"):
        export_snarkjs(ledger, entry, None, circuit_dir=tmp_path / "c3", data=data, keys=other_keys)
    with pytest.raises(ProofError, match="no proving key"):
        export_snarkjs(ledger, entry, None, circuit_dir=tmp_path / "c4", data=data, keys=tmp_path / "empty")


def test_export_options(proved, tmp_path, capsys):
    ledger, _, data, keys, _ = proved
    base = ["export", "sales@latest", "--ledger", str(ledger.path)]
    assert cli(base) == 1 and "--out DIR" in capsys.readouterr().err
    assert cli(base + ["--out", str(tmp_path / "j"), "--data", str(data)]) == 1
    assert "go with --circuit" in capsys.readouterr().err
    # without --data: the circuit and key only, and the output says how to get the witnesses
    assert cli(base + ["--circuit", str(tmp_path / "c"), "--keys", str(keys), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(Path(p).name for p in doc["files"]) == ["circuit.r1cs", "circuit.zkey", "verification_key.json"]
