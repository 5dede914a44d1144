"""Statement v2 against a dishonest prover: each test makes an entry the way a cheat would (with the
real keys and real proofs, only the witness, the chunk list or the record chosen to lie) and
checks that the circuit, the verifier or `verify --data` stops it.

The dishonest prover here controls everything but the keys' secrets and the hash functions: the
values it proves, n, nulls, masks, the chunk list it publishes and the record it appends.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import numpy as np
import pytest

from kernels.ff.fields import FR

from ledger import Ledger, canonical_json
from pipeline.circuit.statistics import (R, STATEMENT, ChunkAssignment, DatasetBinding, MaskChain, Shape,
                                         chunk_witness, circuit, commitment_of, signed)
from pipeline.encoding import ColumnEncoding
from pipeline.errors import ProofError
from pipeline.groth16.keys import VerifyingKey
from pipeline.groth16.prover import prove
from pipeline.notarize import notarize
from pipeline.statistics_proof import (BUNDLE_FORMAT, ProveRequest, _write_openings, column_statistics, key_store,
                                       prove_statistics)
from pipeline.key_trust import KeyTrust
from pipeline.statistics_verify import load_bundle
from pipeline.statistics_verify import verify_statistics as verify_with_trust

BITS = 16
SHAPE = Shape(2, 1, BITS, 3)          # 2 rows per chunk: a 5-row file has 3 chunks, the last of one row
WIDE = Shape(4, 1, BITS, 3)           # same public inputs, another circuit


def column(values: list[int | None], rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, nulls) arrays of one chunk of `rows` rows (None = null; missing rows are padding)."""
    v = np.zeros((rows, 1), dtype=object)
    nulls = np.zeros((rows, 1), bool)
    for i, x in enumerate(values):
        if x is None:
            nulls[i, 0] = True
        else:
            v[i, 0] = x
    return v, nulls


def write_csv(path: Path, values: list[int | None]) -> Path:
    path.write_text("id,value\n" + "".join(f"{i},{'' if x is None else x}\n" for i, x in enumerate(values)))
    return path


def dishonest_entry(ledger: Ledger, name: str, data: Path, chunks, *, shape: Shape = SHAPE, lo: int = 0,
                    hi: int | None = None, proving_shape: Shape | None = None, publish=None, vk_edit=None,
                    binding: DatasetBinding | None = None, masks: MaskChain | None = None):
    """Append an entry proving `chunks` ([(values list, n)], the prover's choice) as the statistics of
    `data`. The record's figures are recomputed from the published public inputs, so that only the
    statement can object. `publish(chunks) -> chunks` rearranges the proofs before they are
    recorded; `vk_edit(vk) -> vk` changes the key the entry carries; `proving_shape` proves with
    another shape's circuit and key while the record claims `shape`."""
    proving_shape = proving_shape or shape
    hi = lo + (1 << shape.range_bits) - 1 if hi is None else hi
    binding = binding or DatasetBinding(notarize(data).root, name, ledger.next_version(name))
    masks = masks or MaskChain(proving_shape, binding)
    pk, vk = key_store(ledger).keys_for(proving_shape)
    r1cs = circuit(proving_shape)
    published, salts = [], []
    for i, (values, n) in enumerate(chunks):
        v, nulls = column(values, proving_shape.rows)
        z, st, salt = chunk_witness(proving_shape, v, nulls, n, [lo], binding, i, masks.before(i),
                                    masks.after(i, i == len(chunks) - 1))
        published.append({"index": i, "first_row": 1 + i * proving_shape.rows, "rows": n,
                          "public_inputs": [str(x) for x in st.public_inputs()],
                          "proof": base64.b64encode(prove(pk, r1cs, z).to_bytes()).decode()})
        salts.append(str(salt))
    if publish is not None:
        published = publish(published)
    vk = vk_edit(vk) if vk_edit else vk
    enc = ColumnEncoding("value", 0, lo, hi)
    total = [sum(int(c["public_inputs"][k]) for c in published) % R for k in (7, 8, 9)]   # S', Q', N'
    rows = sum(c["rows"] for c in published)
    s, q, n_null = (signed(x) for x in total)
    bundle = {"format": BUNDLE_FORMAT, "statement": STATEMENT, "shape": shape.describe(), "vk_sha256": vk.digest(),
              "binding": {"root": binding.root, "name": binding.name, "version": binding.version},
              "chunks": published}
    bundle_hash = ledger.put_object(canonical_json(bundle))
    _write_openings(ledger, bundle_hash, {"salts": salts, "mask_key": masks.key.hex()})
    record = {"kind": "statistics", "name": name, "tool": "a cheat", "data": notarize(data).data_record(),
              "rows": rows, "encoding": {"columns": [enc.describe()], "range_bits": shape.range_bits,
                                         "chunk_rows": shape.rows, "fixed_point": "value * 10^scale, exact"},
              "statistics": {"value": column_statistics(enc, shape.range_bits, rows - n_null, n_null, s, q)},
              "circuit": {"name": STATEMENT, "shape": shape.describe(), "key_id": shape.key_id(),
                          "vk_hash": vk.digest(), "vk_object": ledger.put_object(vk.to_bytes()), "setup": vk.label,
                          "chunks": len(published), "constraints_per_chunk": r1cs.n_constraints},
              "proof_bundle": bundle_hash}
    return ledger.append(record)


def verify_statistics(ledger, entry, data=None):
    """The verifier pins the keys in the ledger's key store (made by a setup the cheat did not control:
    these tests attack the statement, not the key)."""
    return verify_with_trust(ledger, entry, data, trust=KeyTrust.from_options(trusted_keys=str(ledger.dir / "keys")))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Ledger:
    return Ledger.create(tmp_path_factory.mktemp("cheat") / "ledger.jsonl")


@pytest.fixture(scope="module")
def five_rows(ledger) -> tuple[Path, list[int]]:
    values = [secrets.randbelow(1 << BITS) for _ in range(5)]
    return write_csv(ledger.dir / "five.csv", values), values


def name() -> str:
    return f"d{secrets.token_hex(4)}"


# --- the honest baseline: the harness makes entries that verify -------------------------------------

def test_honest_entry_made_by_the_harness_verifies(ledger, five_rows):
    data, values = five_rows
    entry = dishonest_entry(ledger, name(), data, [(values[0:2], 2), (values[2:4], 2), (values[4:], 1)])
    check = verify_statistics(ledger, entry, data)
    assert check.data_checked and check.rows == 5
    assert entry.record["statistics"]["value"]["scaled"]["sum"] == sum(values)


# --- 1. rows are bound ----------------------------------------------------------------------------------

def test_phantom_rows_are_caught(ledger, tmp_path):
    data = write_csv(tmp_path / "two.csv", [3, 5])
    # v1's attack: the same cells proved with n = 4, two phantom rows at lo (mean 2 instead of 4)
    entry = dishonest_entry(ledger, name(), data, [([3, 5, 0, 0], 4)], shape=WIDE)
    assert entry.record["statistics"]["value"]["mean"] == "2"
    verify_statistics(ledger, entry)           # a valid statement about some 4-row table ...
    with pytest.raises(ProofError, match="chunk 0 has 2 rows, entry .* proved 4"):
        verify_statistics(ledger, entry, data)  # ... which is not this file


def test_commitment_binds_n_and_padding():
    shape = WIDE
    binding = DatasetBinding("ab" * 32, "x", 1)
    chain = MaskChain(shape, binding)
    salt = secrets.randbelow(R)
    v, nulls = column([3, 5], 4)
    honest = commitment_of(shape, salt, 2, np.array([[3], [5], [0], [0]]), nulls)
    assert commitment_of(shape, salt, 4, np.array([[3], [5], [0], [0]]), nulls) != honest
    assert commitment_of(shape, salt, 0, np.zeros((4, 1), np.int64), nulls) != honest
    # in the circuit: a padding row can be neither counted nor carry a committed offset
    z, st, _ = chunk_witness(shape, v, nulls, 2, [0], binding, 0, chain.before(0), chain.after(0, True), salt)
    r1cs = circuit(shape)
    r1cs.check_witness(z)
    per_cell = shape.range_bits + 3
    first_cell = 1 + shape.n_public + 1 + 2 * (1 + shape.mask_length)       # one, public, salt, masks
    row3 = first_cell + 3 * (1 + per_cell)                                   # row 3: a, then the cell
    for offset, what in ((1 + shape.range_bits, "counted flag"), (2 + shape.range_bits, "counted offset")):
        bad = FR.canonical_to_ints(z)
        bad[row3 + offset] = 1
        with pytest.raises(ProofError, match="does not satisfy"):
            r1cs.check_witness(bad)


def test_dropped_rows_and_dropped_chunk_are_caught(ledger, tmp_path):
    data = write_csv(tmp_path / "four.csv", [3, 5, 7, 9])
    for cells, n in (([3, 5], 2), ([], 0)):
        entry = dishonest_entry(ledger, name(), data, [(cells, n)], shape=WIDE)
        verify_statistics(ledger, entry)
        with pytest.raises(ProofError, match=f"chunk 0 has 4 rows, entry .* proved {n}"):
            verify_statistics(ledger, entry, data)


# --- 2. no value can pose as a null ---------------------------------------------------------------------

def test_value_above_the_range_posing_as_a_null_is_caught(ledger, tmp_path):
    top = (1 << BITS) - 1
    data = write_csv(tmp_path / "over.csv", [3, top + 1])      # the second value is above the proven range
    entry = dishonest_entry(ledger, name(), data, [([3, None], 2)])
    verify_statistics(ledger, entry)
    with pytest.raises(ProofError, match="outside the declared range"):
        verify_statistics(ledger, entry, data)
    # and the declared bounds cannot be widened past what the circuit proves
    wide = dishonest_entry(ledger, name(), data, [([3, None], 2)], hi=top + 1)
    with pytest.raises(ProofError, match="cannot prove exactly"):
        verify_statistics(ledger, wide)


def test_a_null_commits_to_a_zero_offset(ledger, tmp_path):
    data = write_csv(tmp_path / "null.csv", [3, None])
    honest = dishonest_entry(ledger, name(), data, [([3, None], 2)])
    verify_statistics(ledger, honest, data)
    # a commitment that hides an offset under a null has no satisfying witness: the circuit packs
    # w = e·d, which is 0 for a null whatever its bits say
    from pipeline.circuit.statistics import assignment

    shape = SHAPE
    binding = DatasetBinding("ab" * 32, "x", 1)
    chain = MaskChain(shape, binding)
    v, nulls = column([3, None], 2)
    chunk = ChunkAssignment.from_values(shape, v, nulls, 2, [0], 1, binding, 0, chain.before(0), chain.after(0, True))
    chunk.offsets[1, 0] = 77                      # the cheat's hidden value under the null
    z = assignment(shape, chunk, chunk.statement(shape))
    with pytest.raises(ProofError, match="does not satisfy"):
        circuit(shape).check_witness(z)


# --- 3. chunks are bound to their place and their entry -------------------------------------------------

@pytest.mark.parametrize("attack,message", [
    (lambda c: [c[0], c[2]], "position 1 is the proof of chunk 2"),
    (lambda c: c[:2], "mask chain does not end"),
    (lambda c: c[1:], "position 0 is the proof of chunk 1"),
    (lambda c: [c[0], c[0], c[1], c[2]], "position 1 is the proof of chunk 0"),
    (lambda c: [c[0], c[2], c[1]], "position 1 is the proof of chunk 2"),
])
def test_dropped_repeated_or_reordered_chunks_are_caught_without_the_data(ledger, five_rows, attack, message):
    data, values = five_rows
    entry = dishonest_entry(ledger, name(), data, [(values[0:2], 2), (values[2:4], 2), (values[4:], 1)],
                            publish=attack)
    with pytest.raises(ProofError, match=message):
        verify_statistics(ledger, entry)


def test_renumbered_chunks_break_the_mask_chain(ledger, five_rows):
    """A cheat that drops chunk 1 and re-proves chunk 2 as chunk 1, keeping the masks it had."""
    data, values = five_rows
    nm = name()
    binding = DatasetBinding(notarize(data).root, nm, ledger.next_version(nm))
    masks = MaskChain(SHAPE, binding)
    pk, _ = key_store(ledger).keys_for(SHAPE)
    v, nulls = column(values[4:], SHAPE.rows)
    z, st, _ = chunk_witness(SHAPE, v, nulls, 1, [0], binding, 1, masks.before(2), masks.after(2, True))
    renumbered = {"index": 1, "first_row": 3, "rows": 1, "public_inputs": [str(x) for x in st.public_inputs()],
                  "proof": base64.b64encode(prove(pk, circuit(SHAPE), z).to_bytes()).decode()}
    entry = dishonest_entry(ledger, nm, data, [(values[0:2], 2), (values[2:4], 2), (values[4:], 1)],
                            binding=binding, masks=masks, publish=lambda c: [c[0], renumbered])
    with pytest.raises(ProofError, match="chunk 1 does not continue the mask chain"):
        verify_statistics(ledger, entry)


def test_chunk_from_another_entry_is_caught(ledger, five_rows, tmp_path):
    data, values = five_rows
    other_data = write_csv(tmp_path / "other.csv", [1, 2, 3, 4, 5])
    stolen = {}

    def steal(chunks):
        stolen["chunk"] = chunks[1]
        return chunks
    dishonest_entry(ledger, name(), other_data, [([1, 2], 2), ([3, 4], 2), ([5], 1)], publish=steal)
    entry = dishonest_entry(ledger, name(), data, [(values[0:2], 2), (values[2:4], 2), (values[4:], 1)],
                            publish=lambda c: [c[0], stolen["chunk"], c[2]])
    with pytest.raises(ProofError, match="chunk 1 was proved for another dataset entry"):
        verify_statistics(ledger, entry)
    # the next version of the same dataset cannot reuse its predecessor's proofs either
    reused = {}
    first = dishonest_entry(ledger, "versioned", data, [(values[0:2], 2), (values[2:4], 2), (values[4:], 1)],
                            publish=lambda c: reused.setdefault("chunks", c))
    verify_statistics(ledger, first)
    second = dishonest_entry(ledger, "versioned", data, [(values[0:2], 2), (values[2:4], 2), (values[4:], 1)],
                             publish=lambda c: reused["chunks"])
    with pytest.raises(ProofError, match="chunk 0 was proved for another dataset entry"):
        verify_statistics(ledger, second)


# --- 4. the verifier trusts nothing the entry says --------------------------------------------------------

def test_lo_of_2_to_the_200_is_refused(ledger, tmp_path):
    lo = 1 << 200
    data = write_csv(tmp_path / "huge.csv", [lo + 1, lo + 2])
    entry = dishonest_entry(ledger, name(), data, [([lo + 1, lo + 2], 2)], lo=lo)
    with pytest.raises(ProofError, match=r"cannot prove exactly \(need \|lo\|, \|hi\| < 2\^63"):
        verify_statistics(ledger, entry)


def test_verifying_key_with_gamma_at_infinity_is_refused(ledger, five_rows):
    data, values = five_rows

    def gamma_infinity(vk: VerifyingKey) -> VerifyingKey:
        return VerifyingKey(vk.alpha_g1, vk.beta_g2, np.zeros_like(vk.gamma_g2), vk.delta_g2, vk.ic,
                            vk.circuit_digest, vk.label)
    entry = dishonest_entry(ledger, name(), data, [(values[0:2], 2), (values[2:4], 2), (values[4:], 1)],
                            vk_edit=gamma_infinity)
    with pytest.raises(ProofError, match="not among the keys you trust"):      # a pin fixes every point
        verify_statistics(ledger, entry)
    # a verifier who accepts the entry's own key still refuses this one
    with pytest.raises(ProofError, match="gamma is the point at infinity"):
        verify_with_trust(ledger, entry, trust=KeyTrust(trust_entry_key=True))


def test_key_of_another_shape_is_refused(ledger, tmp_path):
    data = write_csv(tmp_path / "shape.csv", [3, 5, 7])
    assert WIDE.n_public == SHAPE.n_public
    # proved with the 4-row circuit and its key, recorded as the 2-row shape: the proof verifies
    # under the key it carries, but that key belongs to another circuit
    entry = dishonest_entry(ledger, name(), data, [([3, 5, 7], 3)], proving_shape=WIDE)
    with pytest.raises(ProofError, match="made for another circuit"):
        verify_statistics(ledger, entry)


# --- 5. only the totals are public ------------------------------------------------------------------------

def test_no_public_input_reveals_the_last_row(ledger, tmp_path):
    lo = -7
    values = [secrets.randbelow(1 << 12) + (1 << 12) for _ in range(5)]     # the last chunk holds one row
    data = write_csv(tmp_path / "zk.csv", values)
    entry = prove_statistics(ledger, ProveRequest(dataset=data, name=name(), columns=["value"],
                                                  ranges=f"value={lo}:9000", range_bits=BITS,
                                                  chunk_rows=SHAPE.rows, width=SHAPE.width, log=lambda t: None))
    bundle, _, _ = load_bundle(ledger, entry)
    assert len(bundle["chunks"]) == 3 and bundle["chunks"][-1]["rows"] == 1
    last = values[-1]
    secrets_of_the_row = {last % R, (last - lo) % R, last * last % R, (last - lo) ** 2 % R}
    for chunk in bundle["chunks"]:
        assert not secrets_of_the_row & {int(x) for x in chunk["public_inputs"]}
    assert entry.record["statistics"]["value"]["scaled"]["sum"] == sum(values)
    verify_statistics(ledger, entry, data)


def test_a_dishonest_worker_cannot_prove_other_cells_than_it_was_sent(tmp_path):
    """A Dask worker gets a chunk's binding, index and masks, so it can prove a chunk of cells of its
    own making under them: a valid proof of a false statement about this dataset. The coordinator
    must check every answer's statement against the chunk it sent, and record nothing otherwise.
    Also refused: an answer for a chunk that was never sent, and the same chunk twice."""
    import dataclasses

    from pipeline.statistics_proof import prove_chunk, prove_statistics

    data = tmp_path / "d.csv"
    data.write_text("v\n3\n14\n15\n92\n5\n")
    ledger_path = tmp_path / "ledger.jsonl"
    Ledger.create(ledger_path)
    request = ProveRequest(dataset=data, name="x", columns=["v"], ranges="v=0:200", range_bits=8, chunk_rows=4,
                           width=3, log=lambda _t: None)

    def other_cells(jobs):
        for job in jobs:
            yield prove_chunk(dataclasses.replace(job, values=np.full_like(job.values, 200)))

    def moved(jobs):
        for job in jobs:
            answer = prove_chunk(job)
            yield dataclasses.replace(answer, index=answer.index + 7)

    def twice(jobs):
        for job in jobs:
            answer = prove_chunk(job)
            yield answer
            yield answer

    before = ledger_path.read_bytes()
    for runner in (other_cells, moved, twice):
        with pytest.raises(ProofError, match="is not about the chunk it was sent"):
            prove_statistics(Ledger.open(ledger_path), request, run=runner)
        assert ledger_path.read_bytes() == before
    entry = prove_statistics(Ledger.open(ledger_path), request)
    assert entry.record["statistics"]["v"]["sum"] in ("129", 129)
