"""The prover checks the key it is handed: the pairing relations a key alone allows, no point at
infinity, every point in its subgroup; the key store refuses a tampered key before any proof."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.errors import ProofError
from pipeline.groth16.keys import check_key_relations, check_proving_key, load_proving_key
from tests.groth16.conftest import small_builder


@pytest.fixture(scope="module")
def keys():
    from pipeline.groth16 import setup
    return setup(small_builder().build())


def _with(pk, **changes):
    vk_changes = {k: changes.pop(k) for k in list(changes) if k in ("delta_g2", "beta_g2", "alpha_g1")}
    vk = dataclasses.replace(pk.vk, **vk_changes)
    return dataclasses.replace(pk, vk=vk, **changes)


def test_well_formed_key_passes(keys):
    check_proving_key(keys[0])


@pytest.mark.parametrize("field", ["beta_g1", "delta_g1", "delta_g2", "beta_g2", "b_g1", "b_g2"])
def test_mismatched_g1_g2_pair_is_refused(keys, field):
    from kernels.ec.points import g1_mul, g2_mul

    pk = keys[0]
    j = int(np.flatnonzero(np.asarray(pk.b_g1_query).any(axis=(1, 2)))[0])    # a wire that has B terms
    if field == "b_g1":
        q = np.array(pk.b_g1_query)
        q[j] = g1_mul(q[j], 3)
        bad = _with(pk, b_g1_query=q)
    elif field == "b_g2":
        q = np.array(pk.b_g2_query)
        q[j] = g2_mul(q[j], 3)
        bad = _with(pk, b_g2_query=q)
    else:
        point = getattr(pk, field, None)
        point = getattr(pk.vk, field) if point is None else point
        bad = _with(pk, **{field: (g2_mul if field.endswith("g2") else g1_mul)(point, 2)})
    with pytest.raises(ProofError, match="differ between G1 and G2"):
        check_key_relations(bad)


@pytest.mark.parametrize("field", ["delta_g1", "alpha_g1"])
def test_point_at_infinity_is_refused(keys, field):
    pk = keys[0]
    bad = _with(pk, **{field: np.zeros((2, 12), np.uint32)})
    with pytest.raises(ProofError, match="point at infinity"):
        check_key_relations(bad)


def test_point_outside_subgroup_is_refused(keys):
    from pipeline.ceremony.transcript import _decode_candidate

    pk = keys[0]
    for x in range(1, 100):     # a curve point outside the order-r subgroup (cofactor not cleared)
        raw = bytearray(x.to_bytes(48, "big"))
        raw[0] |= 0x80
        pt = _decode_candidate(bytes(raw), False)
        if pt is not None:
            break
    q = np.array(pk.a_query)
    q[1] = pt
    with pytest.raises(ProofError, match="subgroup"):
        check_proving_key(_with(pk, a_query=q))


def test_key_store_checks_a_tampered_key_before_proving(tmp_path):
    from kernels.ec.points import g2_mul
    from pipeline.circuit.statistics import Shape
    from pipeline.keystore import KeyStore

    shape = Shape.parse("r4-c1-k8-t5")
    store = KeyStore(tmp_path, log=lambda _t: None)
    store.make_keys(shape)
    store.load_keys(shape)
    path = store.shape_dir(shape) / "proving.key"
    pk = load_proving_key(path, mmap=False)
    q = np.array(pk.b_g2_query)
    j = int(np.flatnonzero(q.any(axis=(1, 2, 3)))[0])
    q[j] = g2_mul(q[j], 2)
    _with(pk, b_g2_query=q).save(path)
    with pytest.raises(ProofError, match="differ between G1 and G2"):
        store.load_keys(shape)
