"""A statistics key from a ceremony, end to end: phase 1 with contributions from us and snarkjs and
our beacon, `ceremony circuit` for a tiny shape, phase-2 contributions from both tools, `keys import`
(which verifies everything and refuses the initial key), and statistics proved with the imported key
that `snarkjs groth16 verify` accepts."""

from __future__ import annotations

import pytest

from pipeline.ceremony.powersoftau_contribute import beacon_ptau, contribute_ptau
from pipeline.ceremony.powersoftau_new import new_ptau
from pipeline.ceremony.zkey_contribute import contribute_zkey
from pipeline.ceremony.zkey_import import import_zkey
from pipeline.ceremony.zkey_new import circuit_zkey
from pipeline.cli import main as cli
from pipeline.errors import ProofError
from tests.conftest import REPO_ROOT, run

SHAPE = "r4-c1-k8-t5"          # rows=4, columns=1, bits=8, width 5: ~1k constraints, domain 2^10
CACHE = REPO_ROOT / ".cache" / "ceremony-tests"


def _power() -> int:
    from pipeline.circuit.statistics import Shape, circuit
    from pipeline.groth16.r1cs_to_qap import qap_matrices
    return qap_matrices(circuit(Shape.parse(SHAPE))).domain_size.bit_length() - 1


@pytest.fixture(scope="module")
def phase1(npm_tools):
    """A prepared ptau from a real mixed ceremony, cached under .cache/ (phase 1 is circuit-independent)."""
    power = _power()
    final = CACHE / f"pot{power}_mixed_final.ptau"
    if not final.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        p = [CACHE / f"pot{power}_{k}.ptau" for k in range(4)]
        new_ptau(power, p[0])
        contribute_ptau(p[0], p[1], "us")
        run([npm_tools["snarkjs"], "powersoftau", "contribute", p[1], p[2], "--name=snarkjs user", "-e=entropy"])
        beacon_ptau(p[2], p[3], "beacon", "ab" * 32, 10)
        # snarkjs's prepare here (ours is tested in test_powersoftau and gives identical bytes)
        run([npm_tools["snarkjs"], "powersoftau", "prepare", "phase2", p[3], final], timeout=900)
    return final


def test_ceremony_key_proves_statistics_snarkjs_accepts(phase1, npm_tools, tmp_path, capsys):
    from ledger import Ledger
    from pipeline.keystore import KeyStore
    from pipeline.statistics_proof import ProveRequest, prove_statistics
    from pipeline.statistics_verify import export_snarkjs

    s = npm_tools["snarkjs"]
    circuit_zkey(SHAPE, phase1, tmp_path / "c0.zkey")
    store = tmp_path / "keys"
    with pytest.raises(ProofError, match="no contribution after the initial key"):
        import_zkey(tmp_path / "c0.zkey", SHAPE, phase1, KeyStore(store))
    contribute_zkey(tmp_path / "c0.zkey", tmp_path / "c1.zkey", "auditor")
    run([s, "zkey", "contribute", tmp_path / "c1.zkey", tmp_path / "c2.zkey", "--name=partner", "-e=partner"])
    # (`snarkjs zkey verify` on a mixed transcript is in test_zkey; `keys import` runs ours in full)
    assert cli(["keys", "import", str(tmp_path / "c2.zkey"), "--shape", SHAPE, "--ptau", str(phase1),
                "--keys", str(store)]) == 0
    assert "auditor, partner" in capsys.readouterr().out

    data = tmp_path / "data.csv"
    data.write_text("v\n" + "\n".join(str(v) for v in (3, 250, 17, 0, 99, 42, 7, 128, 1, 64)) + "\n")
    ledger = Ledger.create(tmp_path / "ledger" / "ledger.jsonl")
    entry = prove_statistics(ledger, ProveRequest(dataset=data, name="d", columns=["v"], ranges="v=0:255",
                                                  range_bits=8, chunk_rows=4, width=5, keys=store,
                                                  log=lambda _t: None))
    assert entry.record["statistics"]["v"]["sum"] in ("611", 611)
    written = export_snarkjs(ledger, entry, tmp_path / "export")
    vk = tmp_path / "export" / "verification_key.json"
    chunks = (len(written) - 1) // 2
    assert chunks == 3
    for k in range(chunks):
        proc = run([s, "groth16", "verify", vk, tmp_path / "export" / f"public_{k}.json",
                    tmp_path / "export" / f"proof_{k}.json"])
        assert "OK" in proc.stdout


def test_import_installs_the_bytes_it_verified_not_a_file_swapped_in_afterwards(phase1, tmp_path, monkeypatch):
    """The dishonest coordinator renames the initial key (δ = 1, public) over the contributed .zkey
    once verification is done. The key installed must be the verified one."""
    import os
    import shutil

    import numpy as np

    from kernels.ec.points import g2_generator
    from pipeline.ceremony import zkey_verify
    from pipeline.circuit.statistics import Shape
    from pipeline.keystore import KeyStore

    circuit_zkey(SHAPE, phase1, tmp_path / "c0.zkey")
    contribute_zkey(tmp_path / "c0.zkey", tmp_path / "c1.zkey", "alice")
    shutil.copy(tmp_path / "c0.zkey", tmp_path / ".evil")
    real = zkey_verify.verify_zkey

    def verify_then_swap(path, *args, **kwargs):
        out = real(path, *args, **kwargs)
        os.replace(tmp_path / ".evil", tmp_path / "c1.zkey")
        return out

    monkeypatch.setattr(zkey_verify, "verify_zkey", verify_then_swap)
    store = KeyStore(tmp_path / "keys", log=lambda _t: None)
    doc = import_zkey(tmp_path / "c1.zkey", SHAPE, phase1, store)
    assert not (tmp_path / ".evil").exists()             # the swap happened
    _, vk = store.load_keys(Shape.parse(SHAPE))
    assert not np.array_equal(np.asarray(vk.delta_g2), g2_generator())    # δ is alice's, not 1
    assert "alice" in doc["label"]
    assert not any(p.name.startswith(".import-") for p in (tmp_path / "keys").iterdir())
