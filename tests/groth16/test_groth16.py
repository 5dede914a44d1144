"""Groth16 round trips on builder circuits: setup, prove, verify, batch verify, keys and proofs on disk,
and every rejection the issue lists."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import params
from pipeline.errors import InputError, ProofError
from tests.groth16.conftest import small_builder

R = params.R


def _g1():
    from kernels.ec.points import g1_generator
    return g1_generator()


def test_round_trip(small_circuit, small_keys, small_proof):
    from pipeline.groth16 import verify
    r1cs, z = small_circuit
    assert verify(small_keys[1], r1cs.public_inputs(z), small_proof)
    assert small_keys[1].label.startswith("one-party setup")


def test_proofs_are_randomised(small_circuit, small_keys, small_proof):
    from pipeline.groth16 import prove, verify
    r1cs, z = small_circuit
    other = prove(small_keys[0], r1cs, z)
    assert other.to_bytes() != small_proof.to_bytes()
    assert verify(small_keys[1], [3, 82], other)


def test_tampered_proofs_are_rejected(small_keys, small_proof):
    from kernels.ec.points import g1_add, g2_add, g2_generator
    from pipeline.groth16 import Proof, verify
    vk, p = small_keys[1], small_proof
    assert not verify(vk, [3, 82], Proof(g1_add(p.a, _g1()), p.b, p.c))
    assert not verify(vk, [3, 82], Proof(p.a, g2_add(p.b, g2_generator()), p.c))
    assert not verify(vk, [3, 82], Proof(p.a, p.b, g1_add(p.c, _g1())))
    assert not verify(vk, [3, 83], p)
    assert not verify(vk, [4, 82], p)


def test_proof_under_another_key_is_rejected(small_circuit, small_proof):
    from pipeline.groth16 import setup, verify
    _, other_vk = setup(small_circuit[0])
    assert not verify(other_vk, [3, 82], small_proof)


def test_public_input_checks(small_keys, small_proof):
    from pipeline.groth16 import verify
    with pytest.raises(InputError, match=r"public input 1 .*\[0, r\)"):
        verify(small_keys[1], [3, 82 + R], small_proof)
    with pytest.raises(ProofError, match="expects 2 public inputs, got 1"):
        verify(small_keys[1], [3], small_proof)


def test_prove_refuses_bad_witness_and_other_circuits(small_circuit, small_keys):
    from pipeline.groth16 import prove
    r1cs, z = small_circuit
    bad = list(z)
    bad[5] += 1
    with pytest.raises(ProofError, match=r"constraint 1 \(a² times x\)"):
        prove(small_keys[0], r1cs, bad)
    other = small_builder(offset=8).build()
    with pytest.raises(ProofError, match="another circuit"):
        prove(small_keys[0], other, small_builder(offset=8).witness())


def test_batch_verify(small_circuit, small_keys, small_proof):
    from pipeline.groth16 import Proof, batch_verify, prove
    from kernels.ec.points import g1_add
    r1cs, _ = small_circuit
    b2 = small_builder(x=11, a=2, offset=7)
    p2 = prove(small_keys[0], r1cs, b2.witness())
    good = [([3, 82], small_proof), ([11, 51], p2), ([3, 82], small_proof)]
    assert batch_verify(small_keys[1], good)
    assert batch_verify(small_keys[1], [])
    assert not batch_verify(small_keys[1], good[:2] + [([3, 83], small_proof)])
    assert not batch_verify(small_keys[1], [good[0], ([11, 51], Proof(p2.a, p2.b, g1_add(p2.c, _g1())))])
    # Swapping two proofs between their statements must fail too.
    assert not batch_verify(small_keys[1], [([3, 82], p2), ([11, 51], small_proof)])


def test_proof_bytes(small_proof):
    from pipeline.groth16 import Proof
    data = small_proof.to_bytes()
    assert len(data) == 192
    back = Proof.from_bytes(data)
    assert back.to_bytes() == data
    with pytest.raises(ProofError, match="192 bytes"):
        Proof.from_bytes(data[:-1])
    with pytest.raises(ProofError, match="proof"):
        Proof.from_bytes(bytes([data[0]]) + bytes([data[1] ^ 0x55]) + data[2:])   # x no longer on the curve


def test_verifying_key_bytes(small_keys, tmp_path):
    from pipeline.groth16 import load_verifying_key
    vk = small_keys[1]
    path = tmp_path / "vk.bin"
    vk.save(path)
    back = load_verifying_key(path)
    assert back.to_bytes() == vk.to_bytes() and back.circuit_digest == vk.circuit_digest
    path.write_bytes(vk.to_bytes()[:-10])
    with pytest.raises(ProofError, match="truncated"):
        load_verifying_key(path)


def test_proving_key_file(small_circuit, small_keys, tmp_path):
    from pipeline.groth16 import load_proving_key, prove, verify
    pk = small_keys[0]
    path = tmp_path / "pk.bin"
    pk.save(path)
    loaded = load_proving_key(path)
    assert isinstance(loaded.a_query, np.memmap)
    for (name, _, want), (_, _, got) in zip(pk._sections(), loaded._sections()):
        assert np.array_equal(np.asarray(want), np.asarray(got)), name
    r1cs, z = small_circuit
    assert verify(small_keys[1], [3, 82], prove(loaded, r1cs, z))

    data = path.read_bytes()
    path.write_bytes(data[:-200])
    with pytest.raises(ProofError, match="truncated"):
        load_proving_key(path)
    path.write_bytes(data[:30])
    with pytest.raises(ProofError, match="truncated"):
        load_proving_key(path)
    path.write_bytes(b"XXXX" + data[4:])
    with pytest.raises(ProofError, match="not a zkp-ledger proving key"):
        load_proving_key(path)


def test_proving_key_with_a_bad_point_is_rejected(small_keys, tmp_path):
    """One coordinate changed: off the curve (a Montgomery y changed), caught at load, naming the section."""
    from pipeline.groth16 import load_proving_key
    from pipeline.groth16.keys import _PK_HEAD
    import struct
    pk = small_keys[0]
    path = tmp_path / "pk.bin"
    pk.save(path)
    data = bytearray(path.read_bytes())
    label_len = struct.unpack_from("<I", data, _PK_HEAD.size - 4)[0]
    table = _PK_HEAD.size + label_len
    off, _ = struct.unpack_from("<QQ", data, table + 16 * 11)       # h_query
    data[off + 4 * 12 + 3] ^= 0x10                                     # y of H[0]
    path.write_bytes(bytes(data))
    with pytest.raises(ProofError, match="h_query"):
        load_proving_key(path)


def test_larger_random_circuit_round_trip():
    """A few dozen constraints with several public inputs, linear and product constraints mixed."""
    import random

    from pipeline.groth16 import R1CSBuilder, batch_verify, prove, setup, verify

    rng = random.Random(1)
    b = R1CSBuilder()
    pubs = [b.public_input(f"p{i}", rng.randrange(R)) for i in range(4)]
    acc = pubs[0]
    for i in range(40):
        w = b.private_input(f"w{i}", rng.randrange(R))
        acc = b.mul(acc + 3 * w, pubs[i % 4] - w + 1, f"step {i}")
    out = b.public_input("out", b.value(acc))
    b.assert_equal(acc, out, "out")
    r1cs, z = b.build(), b.witness()
    pk, vk = setup(r1cs)
    proof = prove(pk, r1cs, z)
    public = r1cs.public_inputs(z)
    assert verify(vk, public, proof)
    assert batch_verify(vk, [(public, proof), (public, prove(pk, r1cs, z))])
    assert not verify(vk, public[:-1] + [public[-1] ^ 1], proof)
