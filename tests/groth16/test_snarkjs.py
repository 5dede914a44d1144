"""Interoperability with the real snarkjs and circom2 (npm): files, JSON, proofs both ways, CLI."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from pipeline.errors import InputError, ProofError
from tests.groth16.conftest import run

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def snarkjs_verifies(npm_tools, vk_path, public_path, proof_path) -> bool:
    proc = subprocess.run([str(npm_tools["snarkjs"]), "groth16", "verify", str(vk_path), str(public_path),
                           str(proof_path)], capture_output=True, text=True, timeout=120)
    return proc.returncode == 0 and "OK" in proc.stdout


def _dense(m, n_rows):
    from kernels.ff.fields import FR
    out = {}
    for i in range(n_rows):
        lo, hi = int(m.row_ptr[i]), int(m.row_ptr[i + 1]) if i + 1 < m.row_ptr.shape[0] else int(m.row_ptr[-1])
        for col, c in zip(m.cols[lo:hi], FR.to_ints(m.coeffs[lo:hi]) if hi > lo else []):
            out[(i, int(col))] = c
    return out


# --- readers -----------------------------------------------------------------------------------

def test_r1cs_and_wtns_files(multiplier):
    from pipeline.snarkjs import read_r1cs, read_wtns

    r1cs = read_r1cs(multiplier["r1cs"])
    w = read_wtns(multiplier["wtns"])
    assert (r1cs.n_vars, r1cs.n_public, r1cs.n_constraints) == (6, 2, 2)   # y and c public
    r1cs.check_witness(w)
    assert r1cs.public_inputs(w) == [3 * 5 * 7 + 3, 7] == [int(x) for x in json.loads(multiplier["public"].read_text())]
    bad = w.copy()
    bad[1, 0] += 1
    with pytest.raises(ProofError, match="constraint 1"):
        r1cs.check_witness(bad)


def test_zkey_matches_r1cs_and_exported_vk(multiplier):
    from pipeline.groth16.r1cs_to_qap import qap_matrices
    from pipeline.snarkjs import read_r1cs, read_zkey, vk_to_json

    zkey = read_zkey(multiplier["zkey"])
    ours = qap_matrices(read_r1cs(multiplier["r1cs"]))
    assert (zkey.qap.n_vars, zkey.qap.n_public, zkey.qap.domain_size) == (ours.n_vars, ours.n_public, ours.domain_size)
    n = ours.domain_size
    # The zkey's coefficient section must equal our QAP rows, public-input rows included.
    assert _dense(zkey.qap.a, n) == _dense(ours.a, ours.a.n_rows)
    assert _dense(zkey.qap.b, n) == _dense(ours.b, ours.b.n_rows)
    exported = json.loads(multiplier["vk"].read_text())
    mine = vk_to_json(zkey.vk)
    for key in ("nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"):
        assert mine[key] == exported[key], key


def test_truncated_and_foreign_files_are_rejected(multiplier, tmp_path):
    from pipeline.snarkjs import read_r1cs, read_wtns, read_zkey

    data = multiplier["zkey"].read_bytes()
    cut = tmp_path / "cut.zkey"
    cut.write_bytes(data[:len(data) - 100])
    with pytest.raises(InputError, match="truncated"):
        read_zkey(cut)
    with pytest.raises(InputError, match="not a zkey file"):
        read_zkey(multiplier["wtns"])
    with pytest.raises(InputError, match="not a wtns file"):
        read_wtns(multiplier["r1cs"])
    cut.write_bytes(multiplier["r1cs"].read_bytes()[:60])
    with pytest.raises(InputError):
        read_r1cs(cut)


def test_zkey_with_a_bad_point_is_rejected(multiplier, tmp_path):
    from pipeline.snarkjs import read_zkey
    from pipeline.snarkjs.binfile import read_binfile

    f = read_binfile(multiplier["zkey"], b"zkey", 1)
    off, _ = f.sections[5]                         # the A points
    data = bytearray(multiplier["zkey"].read_bytes())
    data[off + 100] ^= 1                           # inside the y coordinate of A[1]
    bad = tmp_path / "bad.zkey"
    bad.write_bytes(bytes(data))
    with pytest.raises(ProofError, match="a_query"):
        read_zkey(bad)


# --- proofs both ways --------------------------------------------------------------------------

def test_we_verify_snarkjs_proofs(multiplier):
    from kernels.ec.points import g1_add, g1_generator
    from pipeline.groth16 import Proof, verify
    from pipeline.snarkjs import proof_from_json, public_from_json, vk_from_json

    vk = vk_from_json(multiplier["vk"])
    public = public_from_json(multiplier["public"])
    proof = proof_from_json(multiplier["proof"])
    assert verify(vk, public, proof)
    assert not verify(vk, [public[0] + 1, public[1]], proof)
    assert not verify(vk, public, Proof(g1_add(proof.a, g1_generator()), proof.b, proof.c))


def test_snarkjs_verifies_our_proof_from_its_zkey(multiplier, npm_tools, tmp_path):
    from pipeline.groth16 import prove
    from pipeline.snarkjs import read_wtns, read_zkey
    from pipeline.snarkjs.json_io import proof_to_json, public_to_json, write_json

    zkey = read_zkey(multiplier["zkey"])
    w = read_wtns(multiplier["wtns"])
    proof = prove(zkey.pk, zkey.qap, w)
    write_json(tmp_path / "proof.json", proof_to_json(proof))
    write_json(tmp_path / "public.json", public_to_json([108, 7]))
    assert snarkjs_verifies(npm_tools, multiplier["vk"], tmp_path / "public.json", tmp_path / "proof.json")
    write_json(tmp_path / "public.json", public_to_json([109, 7]))
    assert not snarkjs_verifies(npm_tools, multiplier["vk"], tmp_path / "public.json", tmp_path / "proof.json")


def test_snarkjs_verifies_our_setup_and_proof(small_circuit, small_keys, small_proof, npm_tools, tmp_path):
    from pipeline.snarkjs.json_io import proof_to_json, public_to_json, vk_to_json, write_json

    r1cs, z = small_circuit
    write_json(tmp_path / "vk.json", vk_to_json(small_keys[1]))
    write_json(tmp_path / "proof.json", proof_to_json(small_proof))
    write_json(tmp_path / "public.json", public_to_json(r1cs.public_inputs(z)))
    assert snarkjs_verifies(npm_tools, tmp_path / "vk.json", tmp_path / "public.json", tmp_path / "proof.json")


def test_json_round_trip(small_keys, small_proof):
    from pipeline.snarkjs.json_io import proof_from_json, proof_to_json, vk_from_json, vk_to_json

    vk = vk_from_json(json.loads(json.dumps(vk_to_json(small_keys[1]))))
    assert np.array_equal(vk.ic, small_keys[1].ic) and np.array_equal(vk.delta_g2, small_keys[1].delta_g2)
    proof = proof_from_json(json.loads(json.dumps(proof_to_json(small_proof))))
    assert proof.to_bytes() == small_proof.to_bytes()


def test_json_rejects_bad_documents(multiplier):
    from pipeline.snarkjs.json_io import proof_from_json, public_from_json, vk_from_json

    doc = json.loads(multiplier["proof"].read_text())
    doc["pi_a"][1] = str(int(doc["pi_a"][1]) + 1)        # off the curve
    with pytest.raises(ProofError, match="pi_a"):
        proof_from_json(doc)
    with pytest.raises(InputError, match="curve"):
        vk_from_json({**json.loads(multiplier["vk"].read_text()), "curve": "bn128"})
    with pytest.raises(InputError, match=r"\[0, r\)"):
        public_from_json([str(2**255)])


# --- the CLI drop-in ---------------------------------------------------------------------------

def test_cli_prove_then_both_verifiers(multiplier, npm_tools, tmp_path, capsys):
    from pipeline.cli import main

    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    assert main(["snarkjs", "prove", str(multiplier["zkey"]), str(multiplier["wtns"]), str(proof), str(public),
                 "--device", "cpu"]) == 0
    assert json.loads(public.read_text()) == ["108", "7"]
    assert snarkjs_verifies(npm_tools, multiplier["vk"], public, proof)
    assert main(["snarkjs", "verify", str(multiplier["vk"]), str(public), str(proof)]) == 0
    assert "OK!" in capsys.readouterr().out
    public.write_text(json.dumps(["109", "7"]))
    assert main(["snarkjs", "verify", str(multiplier["vk"]), str(public), str(proof)]) == 1
    # snarkjs's own proof through our verifier, and a proof file cut short.
    assert main(["snarkjs", "verify", str(multiplier["vk"]), str(multiplier["public"]), str(multiplier["proof"])]) == 0
    proof.write_text(proof.read_text()[:200])
    assert main(["snarkjs", "verify", str(multiplier["vk"]), str(multiplier["public"]), str(proof)]) == 1


def test_cli_prove_refuses_a_bad_witness(multiplier, tmp_path, capsys):
    from pipeline.cli import main
    from pipeline.snarkjs.binfile import read_binfile

    f = read_binfile(multiplier["wtns"], b"wtns", 2)
    off, _ = f.sections[2]
    data = bytearray(multiplier["wtns"].read_bytes())
    data[off + 32 * 4] ^= 1                        # a private wire
    bad = tmp_path / "bad.wtns"
    bad.write_bytes(bytes(data))
    proof = tmp_path / "proof.json"
    assert main(["snarkjs", "prove", str(multiplier["zkey"]), str(bad), str(proof), str(tmp_path / "p.json"),
                 "--device", "cpu"]) == 1
    assert "does not satisfy" in capsys.readouterr().err
    assert not proof.exists()


def test_snarkjs_cli_matches_ours_on_exit_codes(multiplier, npm_tools):
    """Reference behaviour we mirror: snarkjs itself exits 0 on a valid proof."""
    run([npm_tools["snarkjs"], "groth16", "verify", multiplier["vk"], multiplier["public"], multiplier["proof"]])
