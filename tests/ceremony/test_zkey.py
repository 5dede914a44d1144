"""Phase 2 in snarkjs's .zkey format on a small circuit, against real snarkjs: our initial key is
byte-identical to `snarkjs zkey new`, a key with contributions from both tools and our beacon passes
`snarkjs zkey verify` and ours, and bad keys are one-line errors."""

from __future__ import annotations

import subprocess

import pytest

from pipeline.ceremony.powersoftau_contribute import contribute_ptau
from pipeline.ceremony.powersoftau_new import new_ptau
from pipeline.ceremony.powersoftau_prepare import prepare_ptau
from pipeline.ceremony.zkey_contribute import beacon_zkey, contribute_zkey
from pipeline.ceremony.zkey_new import NEW_ZKEY_ORDER, new_zkey
from pipeline.ceremony.zkey_verify import verify_zkey
from pipeline.cli import main as cli
from pipeline.errors import InputError, ProofError
from pipeline.snarkjs.ptau_file import read_ptau
from pipeline.snarkjs.r1cs_file import read_r1cs, write_r1cs
from pipeline.snarkjs.zkey_file import read_zkey_ceremony, write_zkey_file
from tests.conftest import run
from tests.groth16.conftest import small_builder

BEACON = "f00dfeed" * 8


def other_circuit():
    from pipeline.groth16 import R1CSBuilder

    b = R1CSBuilder()
    x = b.public_input("x", 2)
    y = b.mul(x, x, "x²")
    b.assert_equal(b.mul(y, x, "x³"), b.public_input("out", 8), "out")
    return b.build()


@pytest.fixture(scope="module")
def phase2(tmp_path_factory, npm_tools):
    d = tmp_path_factory.mktemp("zkey")
    new_ptau(4, d / "p0.ptau")
    contribute_ptau(d / "p0.ptau", d / "p1.ptau", "phase one")
    prepare_ptau(d / "p1.ptau", d / "p.ptau")
    r1cs = small_builder().build()
    write_r1cs(d / "c.r1cs", r1cs)
    write_zkey_file(d / "c0.zkey", new_zkey(r1cs, read_ptau(d / "p.ptau")), NEW_ZKEY_ORDER)
    contribute_zkey(d / "c0.zkey", d / "c1.zkey", "alice")
    run([npm_tools["snarkjs"], "zkey", "contribute", d / "c1.zkey", d / "c2.zkey", "--name=bob (snarkjs)", "-e=bob"])
    contribute_zkey(d / "c2.zkey", d / "c3.zkey", "carol", entropy="more")
    beacon_zkey(d / "c3.zkey", d / "c4.zkey", "beacon", BEACON, 10)
    return d, r1cs


def test_initial_key_is_what_snarkjs_makes(phase2, npm_tools):
    d, _ = phase2
    run([npm_tools["snarkjs"], "zkey", "new", d / "c.r1cs", d / "p.ptau", d / "s0.zkey"])
    assert (d / "c0.zkey").read_bytes() == (d / "s0.zkey").read_bytes()
    assert read_r1cs(d / "c.r1cs").digest() == phase2[1].digest()


def test_snarkjs_and_we_accept_the_mixed_transcript(phase2, npm_tools):
    d, r1cs = phase2
    proc = run([npm_tools["snarkjs"], "zkey", "verify", d / "c.r1cs", d / "p.ptau", d / "c4.zkey"])
    assert "ZKey Ok!" in proc.stdout + proc.stderr
    doc = verify_zkey(d / "c4.zkey", d / "p.ptau", r1cs)
    assert doc["names"] == ["alice", "bob (snarkjs)", "carol", "beacon"] and doc["beacon"] and doc["against_circuit"]
    assert verify_zkey(d / "c4.zkey", d / "p.ptau", d / "c.r1cs")["against_circuit"]


def test_key_for_another_circuit_is_rejected(phase2, tmp_path):
    d, _ = phase2
    with pytest.raises(ProofError, match="another circuit"):
        verify_zkey(d / "c4.zkey", d / "p.ptau", other_circuit())


def test_wrong_proof_of_knowledge_is_rejected(phase2, tmp_path, npm_tools):
    from kernels.ec.points import g2_mul

    d, r1cs = phase2
    z = read_zkey_ceremony(d / "c4.zkey")
    z.contributions[1].g2_spx = g2_mul(z.contributions[1].g2_spx, 5)
    write_zkey_file(tmp_path / "bad.zkey", z)
    with pytest.raises(ProofError, match=r"contribution 2 \(bob \(snarkjs\)\): the proof of knowledge of δ is wrong"):
        verify_zkey(tmp_path / "bad.zkey")
    proc = subprocess.run([str(npm_tools["snarkjs"]), "zkey", "verify", str(d / "c.r1cs"), str(d / "p.ptau"),
                           str(tmp_path / "bad.zkey")], capture_output=True, text=True)
    assert "ZKey Ok!" not in proc.stdout + proc.stderr


def test_l_section_not_divided_by_delta_is_rejected(phase2, tmp_path):
    d, r1cs = phase2
    z = read_zkey_ceremony(d / "c4.zkey")
    z.raw[8] = read_zkey_ceremony(d / "c3.zkey").raw[8]
    write_zkey_file(tmp_path / "stale.zkey", z)
    with pytest.raises(ProofError, match="section 8"):
        verify_zkey(tmp_path / "stale.zkey", d / "p.ptau", r1cs)


def test_bad_zkey_files_are_one_line_errors(phase2, tmp_path, capsys):
    from kernels import params

    d, _ = phase2
    data = (d / "c4.zkey").read_bytes()
    (tmp_path / "short.zkey").write_bytes(data[:len(data) - 100])
    bn128_q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
    (tmp_path / "bn.zkey").write_bytes(data.replace(params.P.to_bytes(48, "little"),
                                                    bn128_q.to_bytes(48, "little"), 1))
    for name, error, words in (("short.zkey", InputError, "truncated"), ("bn.zkey", InputError, "another curve")):
        with pytest.raises(error, match=words):
            verify_zkey(tmp_path / name)
        assert cli(["ceremony", "verify", str(tmp_path / name)]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err
    with pytest.raises(InputError, match="both --ptau and --r1cs"):
        verify_zkey(d / "c4.zkey", d / "p.ptau")


def test_cli_contribute_detects_zkey_and_warns_on_initial_key(phase2, tmp_path, capsys):
    d, _ = phase2
    assert cli(["ceremony", "verify", str(d / "c0.zkey")]) == 0
    assert "no contribution" in capsys.readouterr().out
    assert cli(["ceremony", "contribute", str(d / "c4.zkey"), str(tmp_path / "c5.zkey"), "--name", "dave"]) == 0
    assert cli(["ceremony", "verify", "--json", str(tmp_path / "c5.zkey"), "--ptau", str(d / "p.ptau"),
                "--r1cs", str(d / "c.r1cs")]) == 0
    assert '"against_circuit": true' in capsys.readouterr().out
