"""RFC 9162 Merkle proofs: the RFC 6962 vectors (every mutation rejected), and random trees
against the RFC's recursive definitions."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import ProofError
from ledger.merkle import (BLAKE3, SHA256, MerkleFrontier, MerkleTree, largest_power_of_two_below,
                           verify_consistency, verify_inclusion)


def b64(x):
    return base64.b64decode(x) if x is not None else None


def vector_files(shared_testdata, kind):
    files = sorted((shared_testdata / "rfc6962" / kind).rglob("*.json"))
    assert len(files) > 20, f"expected the {kind} vectors under {shared_testdata}"
    return files


def test_inclusion_vectors(shared_testdata):
    happy = 0
    for f in vector_files(shared_testdata, "inclusion"):
        v = json.loads(f.read_text())
        proof = [b64(p) for p in (v["proof"] or [])]
        args = (SHA256, v["leafIdx"], v["treeSize"], b64(v["leafHash"]), proof, b64(v["root"]))
        if v["wantErr"]:
            with pytest.raises(ProofError):
                verify_inclusion(*args)
        else:
            verify_inclusion(*args)
            happy += 1
    assert happy >= 5


def test_consistency_vectors(shared_testdata):
    happy = 0
    for f in vector_files(shared_testdata, "consistency"):
        v = json.loads(f.read_text())
        proof = [b64(p) for p in (v["proof"] or [])]
        args = (SHA256, v["size1"], v["size2"], proof, b64(v["root1"]), b64(v["root2"]))
        if v["wantErr"]:
            with pytest.raises(ProofError):
                verify_consistency(*args)
        else:
            verify_consistency(*args)
            happy += 1
    assert happy >= 5


# The classic 8-leaf tree of the vectors: our builder must produce the vectors' proofs and roots.
LEAVES = [bytes.fromhex(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f"]]


def test_builder_reproduces_vectors(shared_testdata):
    tree = MerkleTree(SHA256)
    for leaf in LEAVES:
        tree.append(SHA256.hash_leaf(leaf))
    checked = 0
    for f in vector_files(shared_testdata, "inclusion"):
        v = json.loads(f.read_text())
        if v["wantErr"] or v["treeSize"] > 8 or f.parent.name == "single-entry":
            continue
        assert tree.root(v["treeSize"]) == b64(v["root"])
        assert tree.leaf_hash(v["leafIdx"]) == b64(v["leafHash"])
        assert tree.inclusion_proof(v["leafIdx"], v["treeSize"]) == [b64(p) for p in v["proof"] or []]
        checked += 1
    for f in vector_files(shared_testdata, "consistency"):
        v = json.loads(f.read_text())
        if v["wantErr"] or f.parent.name == "additional":
            continue
        assert tree.root(v["size1"]) == b64(v["root1"]) and tree.root(v["size2"]) == b64(v["root2"])
        assert tree.consistency_proof(v["size1"], v["size2"]) == [b64(p) for p in v["proof"] or []]
        checked += 1
    assert checked >= 8


# --- the slow reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 as written -------------------------

def mth(h, d):
    if len(d) == 0:
        return h.empty_root()
    if len(d) == 1:
        return h.hash_leaf(d[0])
    k = largest_power_of_two_below(len(d))
    return h.hash_children(mth(h, d[:k]), mth(h, d[k:]))


def path(h, m, d):
    if len(d) == 1:
        return []
    k = largest_power_of_two_below(len(d))
    if m < k:
        return path(h, m, d[:k]) + [mth(h, d[k:])]
    return path(h, m - k, d[k:]) + [mth(h, d[:k])]


def subproof(h, m, d, b):
    if m == len(d):
        return [] if b else [mth(h, d)]
    k = largest_power_of_two_below(len(d))
    if m <= k:
        return subproof(h, m, d[:k], b) + [mth(h, d[k:])]
    return subproof(h, m - k, d[k:], False) + [mth(h, d[:k])]


def grown(h, leaves):
    tree, frontier = MerkleTree(h), MerkleFrontier(h)
    for leaf in leaves:
        tree.append(h.hash_leaf(leaf))
        frontier.append(h.hash_leaf(leaf))
    return tree, frontier


leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


@settings(max_examples=60, deadline=None)
@given(leaf_lists, st.data(), st.sampled_from([SHA256, BLAKE3]))
def test_random_trees_against_reference(leaves, data, h):
    tree, frontier = grown(h, leaves)
    n = len(leaves)
    assert tree.root() == frontier.root() == mth(h, leaves)
    size = data.draw(st.integers(1, n))
    assert tree.root(size) == mth(h, leaves[:size])
    m = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(m, size)
    assert proof == path(h, m, leaves[:size])
    verify_inclusion(h, m, size, h.hash_leaf(leaves[m]), proof, tree.root(size))
    old = data.draw(st.integers(1, size))
    cproof = tree.consistency_proof(old, size)
    assert cproof == (subproof(h, old, leaves[:size], True) if old < size else [])
    verify_consistency(h, old, size, cproof, tree.root(old), tree.root(size))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70, unique=True), st.data())
def test_random_mutations_rejected(leaves, data):
    h = BLAKE3
    tree, _ = grown(h, leaves)
    n = len(leaves)
    m = data.draw(st.integers(0, n - 1))
    proof = tree.inclusion_proof(m, n)
    leaf, root = h.hash_leaf(leaves[m]), tree.root()
    mutants = [(m, n, leaf + b"", proof, bytes(32))]  # wrong root
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        flipped = bytearray(proof[i]); flipped[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        mutants += [(m, n, leaf, proof[:i] + [bytes(flipped)] + proof[i + 1:], root),
                    (m, n, leaf, proof[:-1], root), (m, n, leaf, proof + [proof[0]], root)]
    mutants += [(n, n, leaf, proof, root), (m ^ 1, n, leaf, proof, root), (m, n + (1 << len(proof)), leaf, proof, root)]
    for mi, ni, lh, p, r in mutants:
        if (mi, ni, lh, p, r) == (m, n, leaf, proof, root):
            continue
        # a mutated index can still be correct when the proof does not depend on that bit
        if mi != m and 0 <= mi < n and tree.inclusion_proof(mi, n) == p and tree.leaf_hash(mi) == lh:
            continue
        with pytest.raises(ProofError):
            verify_inclusion(h, mi, ni, lh, p, r)
    if n > 1:
        old = data.draw(st.integers(1, n - 1))
        cproof = tree.consistency_proof(old, n)
        with pytest.raises(ProofError):
            verify_consistency(h, old, n, cproof, tree.root(old), bytes(32))
        with pytest.raises(ProofError):
            verify_consistency(h, old, n, cproof[:-1], tree.root(old), tree.root())
        wrong_old = bytearray(tree.root(old)); wrong_old[0] ^= 0x80
        with pytest.raises(ProofError):
            verify_consistency(h, old, n, cproof, bytes(wrong_old), tree.root())
