"""Our one-party .ptau writer against the real snarkjs: its `prepare phase2` computes the same Lagrange
sections from our powers, and `groth16 setup` + prove + verify work with our file."""

from __future__ import annotations

import json
import shutil
import struct

import pytest

from pipeline.errors import InputError
from tests.groth16.conftest import CIRCUITS, run

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
POWER = 4


@pytest.fixture(scope="module")
def ours_ptau(tmp_path_factory):
    from pipeline.snarkjs.ptau_file import write_ptau

    path = tmp_path_factory.mktemp("ptau") / f"pot{POWER}_ours.ptau"
    info = write_ptau(path, POWER)
    assert info["bytes"] == path.stat().st_size
    return path


def _sections(path) -> dict[int, bytes]:
    from pipeline.snarkjs.binfile import read_binfile

    f = read_binfile(path, b"ptau", 1)
    return {k: bytes(f.section(k)) for k in f.sections}


def test_header_and_label(ours_ptau):
    from pipeline.snarkjs.ptau_file import ONE_PARTY_PTAU_LABEL, read_ptau_header

    head = read_ptau_header(ours_ptau)
    assert head == {"power": POWER, "ceremony_power": POWER, "prepared": True, "contributions": 1,
                    "names": [ONE_PARTY_PTAU_LABEL]}
    s = _sections(ours_ptau)
    n = 1 << POWER
    assert sorted(s) == [1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]
    assert [len(s[k]) for k in (2, 3, 4, 5, 6)] == [(2 * n - 1) * 96, n * 192, n * 96, n * 96, 192]
    assert [len(s[k]) for k in (12, 13, 14, 15)] == [(4 * n - 1) * 96, (2 * n - 1) * 192, (2 * n - 1) * 96,
                                                     (2 * n - 1) * 96]


def test_points_are_valid_and_consistent(ours_ptau):
    import numpy as np

    from kernels.ec import points as P

    s = _sections(ours_ptau)
    g1 = {k: np.frombuffer(s[k], "<u4").reshape(-1, 2, 12) for k in (2, 4, 5, 12, 14, 15)}
    g2 = {k: np.frombuffer(s[k], "<u4").reshape(-1, 2, 2, 12) for k in (3, 6, 13)}
    for arr in g1.values():
        P.g1_validate(arr)
    for arr in g2.values():
        P.g2_validate(arr)
    assert np.array_equal(g1[2][0], P.g1_generator()) and np.array_equal(g2[3][0], P.g2_generator())
    # The size-1 Lagrange basis is the constant 1: G, G, α·G, β·G.
    assert np.array_equal(g1[12][0], P.g1_generator()) and np.array_equal(g2[13][0], P.g2_generator())
    assert np.array_equal(g1[14][0], g1[4][0]) and np.array_equal(g1[15][0], g1[5][0])
    # Contribution record: τ·G1, τ·G2, α·G1, β·G1, β·G2 as in sections 2–6.
    c = s[7]
    assert struct.unpack_from("<I", c)[0] == 1
    assert c[4:100] == s[2][96:192] and c[100:292] == s[3][192:384]
    assert c[292:388] == s[4][:96] and c[388:484] == s[5][:96] and c[484:676] == s[6]


def test_snarkjs_prepare_phase2_agrees(ours_ptau, npm_tools, tmp_path):
    """snarkjs's own Lagrange sections, computed from our sections 2–5, equal ours byte for byte."""
    s = _sections(ours_ptau)
    raw = tmp_path / "unprepared.ptau"
    with open(raw, "wb") as f:
        f.write(struct.pack("<4sII", b"ptau", 1, 7))
        for k in range(1, 8):
            f.write(struct.pack("<IQ", k, len(s[k])) + s[k])
    prepared = tmp_path / "prepared.ptau"
    run([npm_tools["snarkjs"], "powersoftau", "prepare", "phase2", raw, prepared])
    theirs = _sections(prepared)
    assert sorted(theirs) == sorted(s)
    for k in sorted(s):
        assert theirs[k] == s[k], f"section {k} differs"


def test_groth16_setup_prove_verify(ours_ptau, npm_tools, tmp_path):
    """circom circuit → snarkjs groth16 setup with our ptau → snarkjs and our prover → snarkjs verify."""
    from pipeline.groth16 import prove
    from pipeline.snarkjs import read_wtns, read_zkey
    from pipeline.snarkjs.json_io import proof_to_json, public_to_json, write_json

    s, c = npm_tools["snarkjs"], npm_tools["circom2"]
    shutil.copy(CIRCUITS / "multiplier.circom", tmp_path / "multiplier.circom")
    # circom2 is a WASI program that sees only its working directory: relative paths.
    run([c, "multiplier.circom", "--r1cs", "--wasm", "--prime", "bls12381", "-o", "."], cwd=tmp_path)
    (tmp_path / "input.json").write_text(json.dumps({"a": "3", "b": "5", "c": "7"}))
    wasm, wtns = tmp_path / "multiplier_js" / "multiplier.wasm", tmp_path / "witness.wtns"
    zkey, vk = tmp_path / "multiplier.zkey", tmp_path / "vk.json"
    run([s, "wtns", "calculate", wasm, tmp_path / "input.json", wtns])
    run([s, "groth16", "setup", tmp_path / "multiplier.r1cs", ours_ptau, zkey])
    run([s, "zkey", "export", "verificationkey", zkey, vk])
    run([s, "groth16", "prove", zkey, wtns, tmp_path / "proof.json", tmp_path / "public.json"])
    assert "OK" in run([s, "groth16", "verify", vk, tmp_path / "public.json", tmp_path / "proof.json"]).stdout

    key = read_zkey(zkey)
    proof = prove(key.pk, key.qap, read_wtns(wtns))
    write_json(tmp_path / "ours.json", proof_to_json(proof))
    write_json(tmp_path / "public_ours.json", public_to_json([108, 7]))
    assert "OK" in run([s, "groth16", "verify", vk, tmp_path / "public_ours.json", tmp_path / "ours.json"]).stdout


def test_bad_arguments(tmp_path):
    from pipeline.snarkjs.ptau_file import read_ptau_header, write_ptau

    for power in (0, 29, 2.0):
        with pytest.raises(InputError):
            write_ptau(tmp_path / "x.ptau", power)
    with pytest.raises(InputError):
        write_ptau(tmp_path / "x.ptau", 2, name="x" * 65)
    assert not list(tmp_path.iterdir())
    (tmp_path / "junk.ptau").write_bytes(b"zkey" + bytes(20))
    with pytest.raises(InputError):
        read_ptau_header(tmp_path / "junk.ptau")
