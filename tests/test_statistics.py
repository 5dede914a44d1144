"""Statistics proofs end to end: circuit, gadget vs native Poseidon, prove/verify, tampering, bad input."""

from __future__ import annotations

import base64
import json
import random
import secrets
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kernels.poseidon import poseidon_hash, poseidon_params
from kernels.ff.fields import FR
from ledger import Ledger
from pipeline.circuit import poseidon as gadget
from pipeline.circuit.statistics import (ChunkStatement, DatasetBinding, MaskChain, Shape, chunk_witness, circuit,
                                         domain_tag, mask_tag, signed)
from pipeline.cli import main as cli
from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import Proof
from pipeline.groth16.r1cs import LinearCombination, R1CSBuilder
from pipeline.groth16.verifier import verify
from pipeline.statistics_proof import ProveRequest, prove_statistics
from pipeline.key_trust import KeyTrust
from pipeline.statistics_verify import load_bundle, verify_statistics as verify_with_trust


def verify_statistics(ledger, entry, data=None):
    """Verify under the keys of the ledger's own key store, pinned as their maker would."""
    return verify_with_trust(ledger, entry, data, trust=KeyTrust.from_options(trusted_keys=str(ledger.dir / "keys")))

TINY = dict(chunk_rows=4, range_bits=12, width=3)
from kernels.params import R  # noqa: E402


@pytest.mark.parametrize("t", [3, 5])
def test_poseidon_gadget_matches_native_sponge(t):
    rng = random.Random(secrets.randbits(64))
    inputs = [rng.randrange(R) for _ in range(2 * t - 1)]
    cs = R1CSBuilder()
    lcs = [cs.private_input(f"x{i}", v) for i, v in enumerate(inputs)]
    tag = 12345
    state = [LinearCombination.of(tag)] + [LinearCombination() for _ in range(t - 1)]
    params = poseidon_params(t)
    for start in range(0, len(lcs), t - 1):
        for pos, item in enumerate(lcs[start:start + t - 1]):
            state[1 + pos] = state[1 + pos] + item
        state = gadget.permutation(cs, state, params)
    assert cs.value(state[1]) == poseidon_hash(inputs, t, tag)
    r1cs = cs.build()
    r1cs.check_witness(cs.witness())
    permutations = -(-len(inputs) // (t - 1))
    assert r1cs.n_constraints == permutations * 3 * (t * params.full_rounds + params.partial_rounds)


def test_shape_parse_and_cost():
    assert Shape.parse("rows=8,columns=2,bits=16,width=5") == Shape(8, 2, 16, 5)
    assert Shape.parse("r8-c2-k16-t5") == Shape(8, 2, 16, 5)
    with pytest.raises(InputError):
        Shape.parse("rows=8")
    with pytest.raises(InputError):
        Shape(8, 1, 63)
    shape = Shape(8, 2, 16, 3)
    r1cs = circuit(shape)
    assert r1cs.n_public == shape.n_public == 16
    # k + 3 per cell; 2 per row (1 for the first) and Σa = n; per column 2 products and 3 masked
    # sums; the sponges' S-boxes (commitment of salt, n, cells; two masks of 3m + 1) and their outputs.
    p = poseidon_params(3)
    permutation = 3 * (3 * p.full_rounds + p.partial_rounds)
    blocks = -(-(2 + shape.packed_elements) // 2) + 2 * -(-(1 + 3 * 2) // 2)
    assert r1cs.n_constraints == 8 * 2 * (16 + 3) + (2 * 8 - 1) + 1 + 2 * 5 + blocks * permutation + 3


BINDING = DatasetBinding("c0" * 32, "unit", 1)


def chunk_of(shape, values, nulls, active_rows, lo, index=0, last=True, chain=None, salt=None):
    chain = chain or MaskChain(shape, BINDING)
    return chunk_witness(shape, values, nulls, active_rows, lo, BINDING, index, chain.before(index),
                         chain.after(index, last), salt)


def test_chunk_statement_and_witness_rejects_tampering():
    shape = Shape(4, 2, 8, 3)
    values = np.array([[1, -5], [200, 3], [0, 7], [0, 0]])
    nulls = np.array([[False, False], [False, True], [True, False], [False, False]])
    chain = MaskChain(shape, BINDING)
    z, st, salt = chunk_of(shape, values, nulls, 3, [0, -10], chain=chain)
    # a single chunk opens and closes with zero masks: its masked sums are the true ones
    assert st.active_rows == 3 and st.index == 0 and st.binding == BINDING.elements()
    assert [signed(x) for x in st.masked_sums + st.masked_squares + st.masked_nulls] == [201, 2, 40001, 74, 1, 1]
    r1cs = circuit(shape)
    r1cs.check_witness(z)
    bound = [0, 1, *range(6, shape.n_public)]        # binding and index are bound by the QAP's input rows
    for index in bound:                              # every other public input is bound by a constraint
        bad = FR.canonical_to_ints(z)
        bad[1 + index] = (bad[1 + index] + 1) % R
        with pytest.raises(ProofError, match="does not satisfy"):
            r1cs.check_witness(bad)
    # the same cells under the same salt give the same commitment; another salt another one
    assert chunk_of(shape, values, nulls, 3, [0, -10], chain=chain, salt=salt)[1].commitment == st.commitment
    assert chunk_of(shape, values, nulls, 3, [0, -10], chain=chain)[1].commitment != st.commitment
    with pytest.raises(InputError, match="outside the proven range"):
        chunk_of(shape, np.array([[256, 0], [0, 0], [0, 0], [0, 0]]), np.zeros((4, 2), bool), 1, [0, -10])


def test_masks_telescope_to_the_totals_and_hide_each_chunk():
    shape = Shape(2, 1, 8, 3)
    chain = MaskChain(shape, BINDING)
    data = [np.array([[5], [9]]), np.array([[200], [1]]), np.array([[7], [0]])]
    statements = [chunk_of(shape, v, np.zeros((2, 1), bool), 2, [0], index=i, last=i == 2, chain=chain)[1]
                  for i, v in enumerate(data)]
    assert sum(st.masked_sums[0] for st in statements) % R == 222
    assert sum(st.masked_squares[0] for st in statements) % R == 25 + 81 + 40000 + 1 + 49
    assert all(a.mask_out == b.mask_in for a, b in zip(statements, statements[1:]))
    assert all(st.masked_sums[0] > 2**64 for st in statements)     # uniform field elements, not the sums


def test_domain_tags_separate_shapes_and_uses():
    shapes = [Shape(4, 1, 8, 3), Shape(4, 1, 9, 3), Shape(8, 1, 8, 3), Shape(4, 2, 8, 3), Shape(4, 1, 8, 5)]
    tags = {domain_tag(s) for s in shapes} | {mask_tag(s) for s in shapes}
    assert len(tags) == 2 * len(shapes)


def test_binding_elements_name_the_entry():
    elements = BINDING.elements()
    assert (elements[0] << 128) + elements[1] == int("c0" * 32, 16) and elements[2] < 2**248
    others = [DatasetBinding("c1" + "c0" * 31, "unit", 1), DatasetBinding("c0" * 32, "unit2", 1),
              DatasetBinding("c0" * 32, "unit", 2)]
    assert all(o.elements() != elements for o in others)
    shape = Shape(4, 1, 8, 3)
    assert BINDING.edge_mask(shape, end=False) != BINDING.edge_mask(shape, end=True)
    with pytest.raises(InputError):
        DatasetBinding("C0" * 32, "unit", 1)


# --- end to end through the ledger ------------------------------------------------------------

def write_dataset(folder: Path, fmt: str) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(secrets.randbits(64))
    n = 11
    price = np.round(rng.uniform(0, 40, n), 2)
    qty = rng.integers(-5, 20, n).astype(float)
    qty[[2, 7]] = np.nan
    frame = pd.DataFrame({"id": np.arange(n), "price": price, "qty": qty, "note": ["x"] * n})
    path = folder / f"data.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path, frame


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats")
    ledger = Ledger.create(folder / "ledger.jsonl")
    out = {}
    for fmt in ("csv", "parquet"):
        path, frame = write_dataset(folder, fmt)
        request = ProveRequest(dataset=path, name=f"shop-{fmt}", columns=["price", "qty"], scale="price=2",
                               ranges="price=0:40,qty=-5:20", blocksize=200, log=lambda text: None, **TINY)
        out[fmt] = (prove_statistics(ledger, request), path, frame)
    return ledger, out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_statistics_match_pandas_and_verify(proved, fmt):
    ledger, out = proved
    entry, path, frame = out[fmt]
    stats = entry.record["statistics"]
    for col, scale in (("price", 2), ("qty", 0)):
        series = frame[col].dropna()
        s = stats[col]
        assert s["count"] == len(series) and s["nulls"] == frame[col].isna().sum()
        exact = [Decimal(str(v)) for v in series]
        assert Decimal(s["sum"]) == sum(exact)
        assert Decimal(s["sum_squares"]) == sum(v * v for v in exact)
        assert float(s["mean"]) == pytest.approx(series.mean())
        assert float(s["variance"]) == pytest.approx(series.var(ddof=0))
        assert s["scaled"]["sum"] == int(sum(exact) * 10**scale)
    assert entry.record["rows"] == len(frame) and entry.record["circuit"]["chunks"] == 3
    check = verify_statistics(ledger, entry, path)
    assert check.data_checked and check.key_trust.startswith("pinned by --trusted-keys") and check.chunks == 3


def test_changed_value_fails_data_check(proved, tmp_path):
    ledger, out = proved
    entry, path, frame = out["csv"]
    changed = frame.copy()
    changed.loc[5, "price"] = round(changed.loc[5, "price"] + 0.01, 2)
    other = tmp_path / "data.csv"
    changed.to_csv(other, index=False)
    with pytest.raises(ProofError, match="do not match the commitment of chunk 1"):
        verify_statistics(ledger, entry, other)


def test_changed_statistic_swapped_proof_and_other_key_fail(proved, tmp_path):
    ledger, out = proved
    entry, _, _ = out["csv"]
    bundle, vk, shape = load_bundle(ledger, entry)
    chunks = bundle["chunks"]
    inputs = [[int(v) for v in c["public_inputs"]] for c in chunks]
    proofs = [Proof.from_bytes(base64.b64decode(c["proof"])) for c in chunks]
    assert all(verify(vk, x, p) for x, p in zip(inputs, proofs))
    for k in range(len(inputs[0])):          # any public statistic changed
        changed = list(inputs[0])
        changed[k] = (changed[k] + 1) % R
        assert not verify(vk, changed, proofs[0])
    assert not verify(vk, inputs[0], proofs[1])           # swapped chunk proofs
    # a proof of another shape's circuit (same number of public inputs) under this key
    other_shape = Shape(shape.rows * 2, shape.columns, shape.range_bits, shape.width)
    other = Ledger.create(tmp_path / "other.jsonl")
    path, _ = write_dataset(tmp_path, "csv")
    request = ProveRequest(dataset=path, name="other", columns=["price", "qty"], scale="price=2",
                           ranges="price=0:40,qty=-5:20", chunk_rows=other_shape.rows, range_bits=shape.range_bits,
                           width=shape.width, log=lambda text: None)
    other_entry = prove_statistics(other, request)
    other_bundle, other_vk, _ = load_bundle(other, other_entry)
    other_proof = Proof.from_bytes(base64.b64decode(other_bundle["chunks"][0]["proof"]))
    other_inputs = [int(v) for v in other_bundle["chunks"][0]["public_inputs"]]
    assert verify(other_vk, other_inputs, other_proof)
    assert not verify(vk, other_inputs, other_proof)


def test_tampered_bundle_is_rejected(proved, tmp_path):
    ledger, out = proved
    entry, _, _ = out["csv"]
    digest = entry.record["proof_bundle"]
    obj = next(p for p in (ledger.dir / "objects").rglob("*") if p.is_file() and digest in p.name)
    original = obj.read_bytes()
    try:
        bundle = json.loads(original)
        bundle["chunks"][0]["public_inputs"][2] = str(int(bundle["chunks"][0]["public_inputs"][2]) + 1)
        obj.chmod(0o644)
        obj.write_bytes(json.dumps(bundle).encode())
        with pytest.raises(Exception):
            verify_statistics(ledger, entry)
    finally:
        obj.write_bytes(original)
    assert verify_statistics(ledger, entry).chunks == 3


BAD_VALUES = [
    ("1.005", "has more than 2 decimals"),
    ("-inf", "not a finite number"),
    ("inf", "not a finite number"),
    ("ten", "is not a number"),
    ("41", "outside the declared range"),
]


@pytest.mark.parametrize("bad,message", BAD_VALUES)
def test_bad_values_name_file_row_column_and_leave_ledger_unchanged(tmp_path, capsys, bad, message):
    ledger_path = tmp_path / "l" / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger_path), "--no-key"]) == 0
    data = tmp_path / "d.csv"
    data.write_text(f"price,qty\n1.5,2\n2.25,3\n{bad},4\n")
    before = ledger_path.read_bytes()
    capsys.readouterr()
    code = cli(["prove", str(data), "--ledger", str(ledger_path), "--name", "d", "--columns", "price",
                "--scale", "price=2", "--range", "price=0:40", "--range-bits", "12", "--chunk-rows", "4",
                "--width", "3", "--device", "cpu"])
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "error" in line]
    assert code == 1
    assert len(err) == 1 and str(data) in err[0] and "row 3" in err[0] and "'price'" in err[0]
    assert message in err[0]
    assert ledger_path.read_bytes() == before


def test_missing_column_and_option_errors(tmp_path, capsys):
    ledger_path = tmp_path / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger_path), "--no-key"]) == 0
    data = tmp_path / "d.csv"
    data.write_text("price,qty\n1,2\n")
    for extra, message in ((["--columns", "cost"], "no column 'cost'"),
                           (["--columns", "price", "--scale", "qty=2"], "not among --columns"),
                           (["--columns", "price", "--range", "price=5:1"], "above high bound"),
                           (["--columns", "price", "--range", "price=0:1e30"], "more than --range-bits")):
        capsys.readouterr()
        code = cli(["prove", str(data), "--ledger", str(ledger_path), "--name", "d", "--range-bits", "12", *extra])
        err = capsys.readouterr().err
        assert code == 1 and message in err, err


def test_signed_public_inputs():
    assert signed(R - 5) == -5 and signed(7) == 7
    st = ChunkStatement(1, 2, [3, 4, 5], 6, [-3], [R - 10], [50], [0], 8, 9)
    assert ChunkStatement.from_public_inputs(st.public_inputs(), 1) == st


def test_export_snarkjs_is_accepted_by_snarkjs(proved, tmp_path, npm_tools):
    from pipeline.statistics_verify import export_snarkjs
    from tests.conftest import run

    ledger, out = proved
    entry, _, _ = out["parquet"]
    written = export_snarkjs(ledger, entry, tmp_path / "export")
    assert len(written) == 1 + 2 * 3
    vk = tmp_path / "export" / "verification_key.json"
    for k in range(3):
        proc = run([npm_tools["snarkjs"], "groth16", "verify", vk, tmp_path / "export" / f"public_{k}.json",
                    tmp_path / "export" / f"proof_{k}.json"])
        assert "OK" in proc.stdout
    # a changed public statistic is refused by snarkjs too
    public = json.loads((tmp_path / "export" / "public_0.json").read_text())
    public[2] = str(int(public[2]) + 1)
    (tmp_path / "export" / "bad.json").write_text(json.dumps(public))
    import subprocess
    proc = subprocess.run([str(npm_tools["snarkjs"]), "groth16", "verify", str(vk), str(tmp_path / "export" / "bad.json"),
                           str(tmp_path / "export" / "proof_0.json")], capture_output=True, text=True)
    assert proc.returncode != 0 and "OK" not in proc.stdout


def test_device_choice():
    from pipeline.device import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == "cpu"          # no real GPU under the test settings
    with pytest.raises(InputError, match="no CUDA GPU is usable"):
        resolve_device("cuda")
    with pytest.raises(InputError):
        resolve_device("tpu")


def test_direct_assignment_equals_the_builders_witness():
    from pipeline.circuit.statistics import ChunkAssignment, _synthesize, assignment

    shape = Shape(5, 2, 10, 5)
    values = np.array([[3, -7], [1000, 0], [0, 12], [5, 5], [0, 0]])
    nulls = np.array([[False, False], [False, True], [True, False], [False, False], [False, False]])
    chain = MaskChain(shape, BINDING)
    chunk = ChunkAssignment.from_values(shape, values, nulls, 4, [0, -10], secrets.randbelow(R), BINDING, 1,
                                        chain.before(1), chain.after(1, last=False))
    cs = R1CSBuilder()
    _synthesize(cs, shape, chunk)
    z = assignment(shape, chunk, chunk.statement(shape))
    assert z.dtype == np.uint32 and z.shape == (len(cs.witness()), 8)
    assert FR.canonical_to_ints(z) == cs.witness()


@pytest.mark.parametrize("width", [3, 5, 9])
def test_compiled_sponge_trace_equals_the_int_trace(width):
    from kernels.poseidon import poseidon_params
    from pipeline.circuit.poseidon import sponge_trace, sponge_trace_ints

    params = poseidon_params(width)
    for n in (0, 1, width - 1, width, 3 * (width - 1) + 2):
        inputs = [secrets.randbelow(R) for _ in range(n)] + ([R - 1, 0, 1] if n >= 3 else [])
        tag = secrets.randbelow(R)
        want, got = [], []
        assert sponge_trace(inputs, params, tag, got) == sponge_trace_ints(inputs, params, tag, want)
        assert got == want


def test_show_json_has_statistics(proved, capsys):
    ledger, out = proved
    entry, _, frame = out["csv"]
    capsys.readouterr()
    assert cli(["show", "shop-csv@1", "--ledger", str(ledger.path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    price = doc["statistics"]["price"]
    assert set(price) >= {"count", "nulls", "sum", "sum_squares", "mean", "variance", "min_bound", "max_bound"}
    assert price["scaled"]["sum"] == entry.record["statistics"]["price"]["scaled"]["sum"]
    assert price["count"] == frame["price"].notna().sum()


def test_prove_refuses_folders_without_parts_and_missing_files(tmp_path, capsys):
    ledger_path = tmp_path / "l" / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger_path), "--no-key"]) == 0
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "_SUCCESS").write_text("")
    before = ledger_path.read_bytes()
    for target, message in ((tmp_path / "dir", "no CSV or Parquet part files"), (tmp_path / "nope.csv", "No such file")):
        capsys.readouterr()
        assert cli(["prove", str(target), "--ledger", str(ledger_path), "--name", "d", "--columns", "a"]) == 1
        assert message in capsys.readouterr().err
    assert ledger_path.read_bytes() == before


def test_v1_entries_still_verify_with_a_warning(tmp_path):
    """A ledger made by the v1 prover (tests/data/ledger-v1): its proofs and data still check, and the
    result names v1's weaknesses."""
    import shutil

    from pipeline.statistics_v1 import WEAKNESSES

    folder = tmp_path / "v1"
    shutil.copytree(Path(__file__).parent / "data" / "ledger-v1", folder)
    ledger = Ledger.open(folder / "ledger.jsonl")
    entry = ledger.resolve("legacy@1")
    trust = KeyTrust.from_options([entry.record["circuit"]["vk_hash"]], allow_v1=True)
    with pytest.raises(ProofError, match="statistics v1 entry: statement v1 is weak.*--allow-v1"):
        verify_with_trust(ledger, entry, trust=KeyTrust.from_options([entry.record["circuit"]["vk_hash"]]))
    check = verify_with_trust(ledger, entry, folder / "data.csv", trust=trust)
    assert check.statement == "zkp-ledger statistics v1" and check.data_checked and check.rows == 5
    assert check.warnings == [WEAKNESSES] and "WARNING: statement v1 is weak" in check.summary()
    changed = tmp_path / "changed.csv"
    changed.write_text((folder / "data.csv").read_text().replace("4.10", "4.11"))
    with pytest.raises(ProofError, match="do not match the commitment of chunk 1"):
        verify_with_trust(ledger, entry, changed, trust=trust)


def test_assignment_limbs_of_cells_and_their_squares():
    # w and y = w·d go straight to limbs (no Python ints): against integers at the edges of k <= 62
    from pipeline.circuit.statistics import _limbs_of_product, _limbs_of_small

    rng = np.random.default_rng()
    top = (1 << 62) - 1
    a = np.concatenate([np.array([0, 1, top, top, 1 << 32, (1 << 32) - 1, 1 << 61], np.int64),
                        rng.integers(0, top, 200, dtype=np.int64)])
    b = np.concatenate([np.array([top, 1, top, 1, (1 << 32) - 1, (1 << 32) - 1, 3], np.int64),
                        rng.integers(0, top, 200, dtype=np.int64)])
    assert FR.canonical_to_ints(_limbs_of_product(a, b)) == [int(x) * int(y) for x, y in zip(a, b)]
    assert FR.canonical_to_ints(_limbs_of_small(a)) == [int(x) for x in a]
