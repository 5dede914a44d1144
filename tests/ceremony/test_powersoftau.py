"""Phase 1 in snarkjs's .ptau format, against real snarkjs: our contributions, one by
`snarkjs powersoftau contribute`, our beacon and prepare; `snarkjs powersoftau verify` and ours
accept the result, and damaged files are one-line errors."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from pipeline.ceremony.powersoftau_contribute import beacon_ptau, contribute_ptau
from pipeline.ceremony.powersoftau_new import new_ptau
from pipeline.ceremony.powersoftau_prepare import prepare_ptau
from pipeline.ceremony.powersoftau_verify import verify_ptau
from pipeline.cli import main as cli
from pipeline.errors import InputError, ProofError
from pipeline.snarkjs.ptau_file import read_ptau, write_ptau_sections
from tests.conftest import run

POWER = 6
BEACON = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory, npm_tools):
    d = tmp_path_factory.mktemp("ptau")
    new_ptau(POWER, d / "0.ptau")
    contribute_ptau(d / "0.ptau", d / "1.ptau", "alice", entropy="alice's keyboard")
    contribute_ptau(d / "1.ptau", d / "2.ptau", "bob")
    run([npm_tools["snarkjs"], "powersoftau", "contribute", d / "2.ptau", d / "3.ptau", "--name=carol (snarkjs)",
         "-e=carol's entropy"])
    beacon_ptau(d / "3.ptau", d / "4.ptau", "beacon", BEACON, 10)
    prepare_ptau(d / "4.ptau", d / "final.ptau")
    return d


def test_snarkjs_and_we_accept_the_mixed_ceremony(ceremony, npm_tools):
    proc = run([npm_tools["snarkjs"], "powersoftau", "verify", ceremony / "final.ptau"])
    assert "Powers of Tau Ok!" in proc.stdout + proc.stderr
    doc = verify_ptau(ceremony / "final.ptau")
    assert doc["names"] == ["alice", "bob", "carol (snarkjs)", "beacon"]
    assert doc["beacon"] and doc["prepared"] and doc["power"] == POWER


def test_contribution_changes_every_point_and_hash(ceremony):
    a, b = read_ptau(ceremony / "1.ptau"), read_ptau(ceremony / "2.ptau")
    assert not np.array_equal(a.sections[2][1], b.sections[2][1])
    assert a.contributions[0].next_challenge != b.contributions[1].next_challenge
    assert b.contributions[1].key.lem() != a.contributions[0].key.lem()


def test_wrong_proof_of_knowledge_is_rejected(ceremony, tmp_path, npm_tools):
    from kernels.ec.points import g2_mul

    ptau = read_ptau(ceremony / "2.ptau")
    bad = ptau.contributions[-1]
    bad.key.g2_spx["alpha"] = g2_mul(bad.key.g2_spx["alpha"], 2)
    write_ptau_sections(tmp_path / "bad.ptau", ptau.power, ptau.sections, ptau.contributions)
    with pytest.raises(ProofError, match="contribution 2 .bob.: the proof of knowledge of alpha is wrong"):
        verify_ptau(tmp_path / "bad.ptau")
    proc = subprocess.run([str(npm_tools["snarkjs"]), "powersoftau", "verify", str(tmp_path / "bad.ptau")],
                          capture_output=True, text=True)
    assert "Powers of Tau Ok!" not in proc.stdout + proc.stderr


def test_swapped_powers_are_rejected(ceremony, tmp_path):
    ptau = read_ptau(ceremony / "2.ptau")
    sections = dict(ptau.sections)
    tau = np.array(sections[2])
    tau[[5, 6]] = tau[[6, 5]]
    sections[2] = tau
    write_ptau_sections(tmp_path / "swapped.ptau", ptau.power, sections, ptau.contributions)
    with pytest.raises(ProofError, match="tauG1 is not the powers"):
        verify_ptau(tmp_path / "swapped.ptau")


def test_damaged_lagrange_section_is_rejected(ceremony, tmp_path):
    ptau = read_ptau(ceremony / "final.ptau")
    sections = dict(ptau.sections)
    lag = np.array(sections[14])
    lag[[20, 21]] = lag[[21, 20]]
    sections[14] = lag
    write_ptau_sections(tmp_path / "lag.ptau", ptau.power, sections, ptau.contributions)
    with pytest.raises(ProofError, match="section 14"):
        verify_ptau(tmp_path / "lag.ptau")


def test_bad_files_are_one_line_errors(ceremony, tmp_path, npm_tools, capsys):
    data = (ceremony / "2.ptau").read_bytes()
    (tmp_path / "short.ptau").write_bytes(data[:len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        verify_ptau(tmp_path / "short.ptau")
    run([npm_tools["snarkjs"], "powersoftau", "new", "bn128", "3", tmp_path / "bn.ptau"])
    with pytest.raises(InputError, match="another curve"):
        verify_ptau(tmp_path / "bn.ptau")
    with pytest.raises(ProofError, match="no contribution"):
        verify_ptau(ceremony / "0.ptau")
    for path, words in ((tmp_path / "short.ptau", "truncated"), (tmp_path / "bn.ptau", "another curve")):
        assert cli(["ceremony", "verify", str(path)]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err
    with pytest.raises(InputError, match="iterations"):
        beacon_ptau(ceremony / "2.ptau", tmp_path / "x.ptau", "b", BEACON, 5)
    with pytest.raises(InputError, match="hexadecimal"):
        beacon_ptau(ceremony / "2.ptau", tmp_path / "x.ptau", "b", "xyz", 10)


def test_cli_new_contribute_verify(tmp_path, capsys):
    assert cli(["ceremony", "new", "3", str(tmp_path / "a.ptau")]) == 0
    assert cli(["ceremony", "contribute", str(tmp_path / "a.ptau"), str(tmp_path / "b.ptau"), "--name", "cli"]) == 0
    assert "publish your contribution hash" in capsys.readouterr().out
    assert cli(["ceremony", "verify", "--json", str(tmp_path / "b.ptau")]) == 0
    assert '"contributions": 1' in capsys.readouterr().out
    shutil.copy(tmp_path / "b.ptau", tmp_path / "c.bin")
    assert cli(["ceremony", "verify", str(tmp_path / "c.bin")]) == 0
