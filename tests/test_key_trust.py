"""Verifiers trust the verifying keys they pinned, never the key an entry names (issue 9, part 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main as cli

SHAPE = "r4-c1-k8-t3"
PROVE = ["--columns", "v", "--range", "v=0:200", "--range-bits", "8", "--chunk-rows", "4", "--width", "3",
         "--device", "cpu"]


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A data owner's ledger with one entry proved under keys it made itself, and one proved under
    keys an auditor made (setup --out) and handed over."""
    root = tmp_path_factory.mktemp("trust")
    ledger = root / "owner" / "ledger.jsonl"
    data = root / "d.csv"
    data.write_text("v\n" + "".join(f"{x}\n" for x in (3, 14, 15, 92, 65, 35)))
    auditor = root / "auditor-keys"
    assert cli(["init", "--ledger", str(ledger), "--no-key"]) == 0
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "self", *PROVE]) == 0
    assert cli(["setup", "--shape", SHAPE, "--out", str(auditor)]) == 0
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "audited", "--keys", str(auditor), *PROVE]) == 0
    return {"ledger": ledger, "data": data, "own": ledger.parent / "keys", "auditor": auditor,
            "auditor_vk": auditor / SHAPE / "verifying.key", "own_vk": ledger.parent / "keys" / SHAPE / "verifying.key"}


def test_verify_without_a_trust_root_fails_and_says_how_to_pin(world, capsys):
    code, _, err = run(capsys, "verify", "audited@1", "--ledger", world["ledger"])
    assert code == 1 and "no trusted verifying key" in err and "--vk" in err and "--trusted-keys" in err
    assert len(err.strip().splitlines()) == 1


def test_trusting_the_entry_key_warns(world, capsys):
    code, out, _ = run(capsys, "verify", "self@1", "--ledger", world["ledger"], "--trust-entry-key")
    assert code == 0 and "NOT pinned" in out and "WARNING" in out and "proves nothing" in out


def test_pinned_key_by_file_hash_or_snarkjs_json(world, capsys, tmp_path):
    ledger = world["ledger"]
    code, out, _ = run(capsys, "verify", "audited@1", "--ledger", ledger, "--vk", world["auditor_vk"])
    assert code == 0 and "pinned by --vk" in out and "WARNING" not in out
    vk_hash = json.loads(run(capsys, "show", "audited@1", "--ledger", ledger, "--json")[1])["entry"]["circuit"]["vk_hash"]
    assert run(capsys, "verify", "audited@1", "--ledger", ledger, "--vk", vk_hash)[0] == 0
    assert run(capsys, "export", "audited@1", "--ledger", ledger, "--out", tmp_path / "x")[0] == 0
    json_vk = tmp_path / "x" / "verification_key.json"
    code, _, err = run(capsys, "verify", "audited@1", "--ledger", ledger, "--vk", json_vk)
    assert code == 1 and "names no circuit" in err
    code, out, _ = run(capsys, "verify", "audited@1", "--ledger", ledger, "--vk", f"{json_vk}@{SHAPE}")
    assert code == 0 and "pinned by --vk" in out
    code, _, err = run(capsys, "verify", "audited@1", "--ledger", ledger, "--vk", f"{json_vk}@r8-c1-k8-t3")
    assert code == 1 and "not among the keys you trust" in err


def test_a_key_the_verifier_did_not_pin_is_refused(world, capsys):
    # the owner's self-made key: whoever ran that setup could forge, so the auditor's pin refuses it
    code, _, err = run(capsys, "verify", "self@1", "--ledger", world["ledger"], "--vk", world["auditor_vk"])
    assert code == 1 and "is not among the keys you trust" in err
    code, _, err = run(capsys, "verify", "audited@1", "--ledger", world["ledger"], "--vk", world["own_vk"])
    assert code == 1 and "is not among the keys you trust" in err
    code, _, err = run(capsys, "verify", "self@1", "--ledger", world["ledger"], "--vk", "ab" * 32, "--trust-entry-key")
    assert code == 1 and "is not among the keys you trust" in err      # a pin outranks --trust-entry-key


def test_audit_proofs_needs_a_trust_root(world, capsys):
    code, out, err = run(capsys, "audit", "--proofs", "--ledger", world["ledger"])
    assert code == 1 and "no trusted verifying key" in out + err
    code, out, err = run(capsys, "audit", "--proofs", "--ledger", world["ledger"], "--trusted-keys", world["auditor"])
    assert code == 1 and "is not among the keys you trust" in out + err            # the self-proved entry
    code, out, err = run(capsys, "audit", "--proofs", "--ledger", world["ledger"], "--trusted-keys", world["auditor"],
                         "--trusted-keys", world["own"])
    assert code == 0, out
    assert "lies inside the ledger folder" in out + err          # the owner's own keys: said plainly


def test_bad_trust_options_are_one_line_errors(world, capsys, tmp_path):
    for option, message in ((["--vk", "nonsense"], "not a verifying key file nor a 64-hex-digit"),
                            (["--trusted-keys", tmp_path / "none"], "not a folder"),
                            (["--trusted-keys", tmp_path], "no zkp-ledger verifying key")):
        code, _, err = run(capsys, "verify", "audited@1", "--ledger", world["ledger"], *option)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_prove_with_a_key_folder_never_makes_keys(world, capsys, tmp_path):
    empty = tmp_path / "keys"
    empty.mkdir()
    code, _, err = run(capsys, "prove", world["data"], "--ledger", world["ledger"], "--name", "x", "--keys", empty, *PROVE)
    assert code == 1 and f"no keys for shape {SHAPE}" in err
    assert not any(empty.iterdir())


def test_a_swapped_verifying_key_beside_the_proving_key_is_refused(world, capsys, tmp_path):
    """Someone replaces keys/<shape>/verifying.key by another key of the same shape (here the
    auditor's): proofs made with the proving key would be recorded against a key they do not verify
    under. `prove` stops with one line and the ledger is unchanged."""
    import shutil

    from pipeline import statistics_proof

    keys = tmp_path / "keys"
    shutil.copytree(world["own"], keys)
    shutil.copy(world["auditor_vk"], keys / SHAPE / "verifying.key")
    before = world["ledger"].read_bytes()
    statistics_proof._WORKER_KEYS.clear()
    code, _, err = run(capsys, "prove", world["data"], "--ledger", world["ledger"], "--name", "x", "--keys", keys, *PROVE)
    assert code == 1 and "is not the verifying key inside" in err and len(err.strip().splitlines()) == 1, err
    assert world["ledger"].read_bytes() == before


def test_a_key_planted_to_leak_a_cell_never_gets_a_proof_into_the_ledger(world, capsys, tmp_path):
    """The dishonest key maker (`setup --out`, handed to the data owner) adds the generator G to the
    L entry of one private cell. Every point stays in the subgroup and the key's checkable relations
    hold (L is not checkable without the ceremony), but a proof made with it is C + z_j·G: from a
    recorded proof and the verifying key, z_j falls out of the pairing. `prove` must refuse to hand
    out or record such a proof."""
    import shutil

    import numpy as np

    from kernels.ec.points import g1_add, g1_generator
    from pipeline import statistics_proof
    from kernels.ff.fields import FR
    from pipeline.circuit.statistics import DatasetBinding, MaskChain, Shape, chunk_witness
    from pipeline.groth16.keys import load_proving_key

    keys = tmp_path / "keys"
    shutil.copytree(world["auditor"], keys)
    pk_path = keys / SHAPE / "proving.key"
    pk = load_proving_key(pk_path, mmap=False)
    shape = Shape.parse(SHAPE)
    binding = DatasetBinding("00" * 32, "x", 1)
    chain = MaskChain(shape, binding)
    z, _, _ = chunk_witness(shape, np.array([[123], [7], [9], [11]], np.int64), np.zeros((4, 1), bool), 4, [0],
                            binding, 0, chain.before(0), chain.before(1))
    z = FR.canonical_to_ints(z)
    j = next(i for i in range(pk.n_public + 1, len(z)) if z[i] == 123 and z[i + 1] == 123 * 123)
    l_query = np.array(pk.l_query)
    l_query[j - pk.n_public - 1] = g1_add(l_query[j - pk.n_public - 1], g1_generator())
    pk.l_query = l_query
    pk.save(pk_path)

    before = world["ledger"].read_bytes()
    statistics_proof._WORKER_KEYS.clear()
    code, _, err = run(capsys, "prove", world["data"], "--ledger", world["ledger"], "--name", "x", "--keys", keys, *PROVE)
    errors = [line for line in err.strip().splitlines() if "error" in line]
    assert code == 1 and len(errors) == 1 and "a proof of random data made with it does not verify" in errors[0], err
    assert "proving 6 chunks of random data" in err
    assert world["ledger"].read_bytes() == before


def test_a_long_lived_worker_follows_a_re_setup_of_the_keys(capsys, tmp_path):
    """A worker process keeps its loaded key between jobs; after `setup --force` replaced the keys,
    its proofs must be made with (and verify under) the key the coordinator now records."""
    from pipeline import statistics_proof

    ledger = tmp_path / "ledger.jsonl"
    data = tmp_path / "d.csv"
    data.write_text("v\n3\n14\n15\n92\n")
    assert cli(["init", "--ledger", str(ledger), "--no-key"]) == 0
    statistics_proof._WORKER_KEYS.clear()
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "a", *PROVE]) == 0
    assert cli(["setup", "--shape", SHAPE, "--ledger", str(ledger), "--force"]) == 0
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "b", *PROVE]) == 0    # worker cache kept
    vk = tmp_path / "keys" / SHAPE / "verifying.key"
    code, _, err = run(capsys, "verify", "b@1", "--ledger", ledger, "--vk", vk, "--data", data)
    assert code == 0, err


def test_a_key_planted_as_an_equality_oracle_is_refused_before_real_data(world, capsys, tmp_path):
    """The dishonest key maker plants A_j += G and A_0 -= v·G: a proof then verifies exactly when
    cell z_j = v, so whether `prove` succeeds on the owner's data would answer "is this cell v?".
    The first use of a key made elsewhere proves random data with it and refuses it."""
    import shutil

    import numpy as np

    from kernels.ec.points import g1_add, g1_generator, g1_mul, g1_neg
    from pipeline import statistics_proof
    from kernels.ff.fields import FR
    from pipeline.circuit.statistics import DatasetBinding, MaskChain, Shape, chunk_witness
    from pipeline.groth16.keys import load_proving_key

    keys = tmp_path / "keys"
    shutil.copytree(world["auditor"], keys)
    pk_path = keys / SHAPE / "proving.key"
    pk = load_proving_key(pk_path, mmap=False)
    shape = Shape.parse(SHAPE)
    binding = DatasetBinding("00" * 32, "x", 1)
    chain = MaskChain(shape, binding)
    z, _, _ = chunk_witness(shape, np.array([[123], [7], [9], [11]], np.int64), np.zeros((4, 1), bool), 4, [0],
                            binding, 0, chain.before(0), chain.before(1))
    z = FR.canonical_to_ints(z)
    j = next(i for i in range(pk.n_public + 1, len(z)) if z[i] == 123 and z[i + 1] == 123 * 123)
    guess = 3 - 0         # the owner's first cell (offset from lo = 0)
    a = np.array(pk.a_query)
    a[j] = g1_add(a[j], g1_generator())
    a[0] = g1_add(a[0], g1_neg(g1_mul(g1_generator(), guess)))
    pk.a_query = a
    pk.save(pk_path)

    before = world["ledger"].read_bytes()
    statistics_proof._WORKER_KEYS.clear()
    code, _, err = run(capsys, "prove", world["data"], "--ledger", world["ledger"], "--name", "x", "--keys", keys, *PROVE)
    errors = [line for line in err.strip().splitlines() if "error" in line]
    assert code == 1 and len(errors) == 1 and "a proof of random data made with it does not verify" in errors[0], err
    assert world["ledger"].read_bytes() == before
