"""Why verifiers pin keys (issue 9): whoever knows a key's setup secrets proves anything under it.

The forger runs the setup with secrets it knows (τ, α, β, γ, δ), then makes a proof of a false
statistics statement without any witness, by the Groth16 simulator: A = a·G1, B = b·G2,
C = δ⁻¹·((a·b − α·β)·G1 − γ·Σ xᵢ·ICᵢ). The proof verifies under the forger's key; a verifier that
pinned another key (a ceremony's, an auditor's) refuses the forger's key before any pairing.
"""

from __future__ import annotations

import importlib
import secrets

import pytest

from kernels.ec.points import g1_add, g1_generator, g1_infinity, g1_mul, g2_generator, g2_mul
from kernels.ff.fields import FR
from kernels.params import R
from pipeline.circuit.statistics import Shape, circuit
from pipeline.errors import ProofError
from pipeline.groth16.keys import Proof
from pipeline.groth16.verifier import verify
from pipeline.key_trust import KeyTrust

SHAPE = Shape(4, 1, 8, 3)
groth16_setup = importlib.import_module("pipeline.groth16.setup")


def forge(vk, secrets_: dict, public_inputs: list[int]) -> Proof:
    """The simulator's proof of `public_inputs`, from the setup secrets alone (no witness)."""
    a, b = secrets.randbelow(R - 1) + 1, secrets.randbelow(R - 1) + 1
    p = g1_infinity()
    for x, ic in zip([1, *public_inputs], vk.ic):
        p = g1_add(p, g1_mul(ic, x))
    g1 = g1_generator()
    numerator = g1_add(g1_mul(g1, (a * b - secrets_["alpha"] * secrets_["beta"]) % R), g1_mul(p, R - secrets_["gamma"]))
    return Proof(g1_mul(g1, a), g2_mul(g2_generator(), b), g1_mul(numerator, pow(secrets_["delta"], -1, R)))


@pytest.fixture(scope="module")
def keys():
    r1cs = circuit(SHAPE)
    known = {name: secrets.randbelow(R - 2) + 2 for name in ("tau", "alpha", "beta", "gamma", "delta")}
    draws = iter(known.values())
    patch = pytest.MonkeyPatch()
    patch.setattr(groth16_setup, "_nonzero_secret", lambda: FR.element(next(draws)))
    try:
        _, forger_vk = groth16_setup.setup(r1cs)
    finally:
        patch.undo()
    _, honest_vk = groth16_setup.setup(r1cs)            # secrets from the OS CSPRNG, erased
    return r1cs, known, forger_vk, honest_vk


def test_known_setup_secrets_forge_any_statement(keys):
    r1cs, known, forger_vk, honest_vk = keys
    false_statement = [secrets.randbelow(R) for _ in range(r1cs.n_public)]     # any totals at all
    proof = forge(forger_vk, known, false_statement)
    assert verify(forger_vk, false_statement, proof)                 # the forgery is real ...
    assert not verify(honest_vk, false_statement, proof)             # ... and worthless under another key
    other = list(false_statement)
    other[0] = (other[0] + 1) % R
    assert not verify(forger_vk, other, proof)                       # one proof, one statement


def test_a_pinned_verifier_refuses_the_forgers_key(keys):
    _, _, forger_vk, honest_vk = keys
    trust = KeyTrust()
    trust.add(honest_vk, "the ceremony's key")
    assert trust.check(honest_vk, "entry 1")[0]
    with pytest.raises(ProofError, match="not among the keys you trust"):
        trust.check(forger_vk, "entry 1")
