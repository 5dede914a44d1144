"""Proving with fixed-base tables (pipeline.groth16.prover_tables): the same proofs, a file that
names its key, and a damaged or planted table caught before any proof leaves the prover."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ProofError
from pipeline.groth16 import prove
from pipeline.groth16.prover_tables import QUERIES, ProverTables, build_tables, load_tables, tables_fit
from pipeline.groth16.verifier import verify

DIGEST = "ab" * 32


@pytest.fixture(scope="module")
def small_tables(small_keys):
    return build_tables(small_keys[0], DIGEST, c=8)


def test_proofs_with_tables_verify(small_circuit, small_keys, small_tables):
    r1cs, z = small_circuit
    pk, vk = small_keys
    assert tables_fit(pk, small_tables)
    proof = prove(pk, r1cs, z, tables=small_tables)
    assert verify(vk, [3, 82], proof)
    assert not verify(vk, [3, 83], proof)


def test_file_round_trip_and_refusals(small_keys, small_tables, tmp_path):
    path = tmp_path / "proving.tables"
    small_tables.save(path)
    loaded = load_tables(path, DIGEST)
    assert set(loaded.tables) == {name for name, _ in QUERIES}
    for name, table in small_tables.tables.items():
        assert loaded.tables[name].c == table.c and np.array_equal(loaded.tables[name].points, table.points)
    assert isinstance(loaded.tables["h_query"].points, np.memmap)
    with pytest.raises(ProofError, match="other proving-key bytes"):
        load_tables(path, "cd" * 32)
    data = path.read_bytes()
    (tmp_path / "short").write_bytes(data[:len(data) - 100])
    with pytest.raises(ProofError, match="truncated"):
        load_tables(tmp_path / "short", DIGEST)
    (tmp_path / "header").write_bytes(data[:12] + b"x" + data[13:])
    with pytest.raises(ProofError, match="damaged header"):
        load_tables(tmp_path / "header", DIGEST)
    (tmp_path / "other").write_bytes(b"ZKPK" + data[4:])
    with pytest.raises(ProofError, match="not a zkp-ledger fixed-base table"):
        load_tables(tmp_path / "other", DIGEST)


def _with_header(data: bytes, header: bytes) -> bytes:
    """The file `data` with its JSON header replaced (same length, padded with spaces)."""
    import struct
    length = struct.unpack_from("<I", data, 8)[0]
    assert len(header) <= length
    return data[:12] + header.ljust(length) + data[12 + length:]


@pytest.mark.parametrize("change", [
    ('"c": 8', '"c": 0'), ('"c": 8', '"c": -8'), ('"c": 8', '"c": 1e400'), ('"c": 8', '"c": true'),
    ('"n": ', '"n": -'), ('"offset": ', '"offset": 1e400, "x": '), (None, "[" * 5000 + "]" * 5000),
    (None, '["sections"]'), (None, '"x"'),
])
def test_hostile_header_values_are_one_damaged_header_error(small_tables, tmp_path, change):
    """Header numbers a hand-made file could hold (zero, negative, huge or boolean windows, negative
    counts, deep nesting, other JSON types) give the one "damaged header" error, never a Python one."""
    import json
    import struct
    path = tmp_path / "proving.tables"
    small_tables.save(path)
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 8)[0]
    text = json.dumps(json.loads(data[12:12 + length]), sort_keys=True)
    old, new = change
    if old is None:
        text = new
    else:
        assert old in text
        text = text.replace(old, new, 1)
    if len(text) > length:       # deep nesting: too long for the header's room, so lengthen the field
        blob = data[:8] + struct.pack("<I", len(text)) + text.encode() + data[12 + length:]
    else:
        blob = _with_header(data, text.encode())
    path.write_bytes(blob)
    with pytest.raises(ProofError, match="damaged header|truncated"):
        load_tables(path, DIGEST)


def test_planted_table_is_caught_before_the_proof_leaves(small_circuit, small_keys, small_tables):
    # A table of other bases (here B1's in A's place: valid points, the right count) makes A wrong;
    # the prover's own verification refuses the proof instead of returning it.
    r1cs, z = small_circuit
    pk, _ = small_keys
    planted = ProverTables(DIGEST, dict(small_tables.tables, a_query=small_tables.tables["b_g1_query"]))
    with pytest.raises(ProofError, match="tables are damaged"):
        prove(pk, r1cs, z, tables=planted)


def test_tables_of_another_key_shape_are_refused(small_circuit, small_keys, small_tables):
    r1cs, z = small_circuit
    pk, _ = small_keys
    h = small_tables.tables["h_query"]
    short = ProverTables(DIGEST, dict(small_tables.tables, h_query=type(h)(h.group, h.c, h.points[:-1])))
    assert not tables_fit(pk, short)
    with pytest.raises(ProofError, match="do not fit"):
        prove(pk, r1cs, z, tables=short)


def test_small_order_components_in_a_table_are_caught(small_circuit, small_keys, small_tables):
    # The pairing ignores a small-order component, so A + z_j·T would still verify while leaking
    # z_j mod ord(T): the prover checks the proof's points for the subgroup before verifying.
    import random

    from kernels import params
    from kernels.ec import points as P
    from pipeline.groth16.prover_tables import ProverTables
    from kernels.msm.tables import BaseTable
    from tests.kernels.test_ec_points import g1_outside_subgroup

    r1cs, z = small_circuit
    pk, _ = small_keys
    a = small_tables.tables["a_query"]
    outside = P.g1_from_ints([g1_outside_subgroup(random.Random(7))])[0]
    torsion = P.g1_mul(outside, params.R)                # [r]Q: only its small-order part is left
    assert torsion.any()
    points = np.array(a.points)
    for w in range(points.shape[1]):                    # every window: T_w = [2^(c w)] (P + T)
        points[:, w] = [P.g1_add(p, P.g1_mul(torsion, 1 << (a.c * w))) if p.any() else p for p in points[:, w]]
    planted = ProverTables(DIGEST, dict(small_tables.tables, a_query=BaseTable("g1", a.c, points)))
    # The dishonest table's proof does verify: only the subgroup check can catch it.
    from kernels.ff.fields import FR
    from pipeline.groth16.prover import _assemble
    from pipeline.groth16.r1cs_to_qap import h_numerator_odd_coset
    zm = r1cs.check_witness(z)
    zp = np.empty_like(zm)
    FR.from_mont_vec(zp, zm)
    leaky = _assemble(pk, zp, h_numerator_odd_coset(prove.__globals__["qap_of"](r1cs), zm), "cpu", planted)
    assert verify(small_keys[1], [3, 82], leaky)
    with pytest.raises(ProofError, match="tables are damaged"):
        prove(pk, r1cs, z, tables=planted)
