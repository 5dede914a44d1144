"""Fixtures of the Groth16 tests: a small circuit with its keys (made once per session), and the
real snarkjs/circom2 npm packages with a tiny powers-of-tau ceremony cached under .cache/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run  # noqa: F401  (npm_tools comes from tests/conftest.py)

CIRCUITS = Path(__file__).parent / "circuits"
CEREMONY = REPO_ROOT / ".cache" / "groth16-tests"
PTAU_POWER = 8           # 2^8 constraints: enough for the test circuits, seconds to make


def small_builder(x: int = 3, a: int = 5, offset: int = 7):
    """out = a²·x + offset with x, out public: 3 constraints, 6 variables."""
    from pipeline.groth16 import R1CSBuilder

    b = R1CSBuilder()
    xv = b.public_input("x", x)
    av = b.private_input("a", a)
    sq = b.mul(av, av, "a squared")
    prod = b.mul(sq, xv, "a² times x")
    out = b.public_input("out", a * a * x + offset)
    b.assert_equal(prod + offset, out, "out = a²x + offset")
    return b


@pytest.fixture(scope="session")
def small_circuit():
    b = small_builder()
    return b.build(), b.witness()


@pytest.fixture(scope="session")
def small_keys(small_circuit):
    from pipeline.groth16 import setup
    return setup(small_circuit[0])


@pytest.fixture(scope="session")
def small_proof(small_circuit, small_keys):
    from pipeline.groth16 import prove
    r1cs, z = small_circuit
    return prove(small_keys[0], r1cs, z)


@pytest.fixture(scope="session")
def ptau(npm_tools) -> Path:
    """A prepared bls12-381 powers-of-tau file of power PTAU_POWER (one contribution), cached."""
    final = CEREMONY / f"pot{PTAU_POWER}_final.ptau"
    if not final.exists():
        CEREMONY.mkdir(parents=True, exist_ok=True)
        s = npm_tools["snarkjs"]
        p0, p1 = CEREMONY / "pot_0.ptau", CEREMONY / "pot_1.ptau"
        run([s, "powersoftau", "new", "bls12-381", PTAU_POWER, p0])
        run([s, "powersoftau", "contribute", p0, p1, "--name=tests", "-e=zkp-ledger test entropy"])
        tmp = final.with_suffix(".tmp")
        run([s, "powersoftau", "prepare", "phase2", p1, tmp])
        tmp.rename(final)
    return final


@pytest.fixture(scope="session")
def multiplier(npm_tools, ptau) -> dict[str, Path]:
    """circom2-compiled multiplier.circom, its witness for a=3, b=5, c=7, its zkey and vk, and a
    snarkjs proof: paths under .cache/groth16-tests/multiplier."""
    out = CEREMONY / "multiplier"
    files = {"r1cs": out / "multiplier.r1cs", "wasm": out / "multiplier_js" / "multiplier.wasm",
             "wtns": out / "witness.wtns", "zkey": out / "multiplier.zkey", "vk": out / "verification_key.json",
             "proof": out / "proof.json", "public": out / "public.json", "input": out / "input.json"}
    source = CIRCUITS / "multiplier.circom"
    stamp = out / "source.circom"
    if not stamp.exists() or stamp.read_text() != source.read_text() or not all(p.exists() for p in files.values()):
        out.mkdir(parents=True, exist_ok=True)
        s, c = npm_tools["snarkjs"], npm_tools["circom2"]
        run([c, source, "--r1cs", "--wasm", "--prime", "bls12381", "-o", out])
        files["input"].write_text(json.dumps({"a": "3", "b": "5", "c": "7"}))
        run([s, "wtns", "calculate", files["wasm"], files["input"], files["wtns"]])
        run([s, "groth16", "setup", files["r1cs"], ptau, files["zkey"]])
        run([s, "zkey", "export", "verificationkey", files["zkey"], files["vk"]])
        run([s, "groth16", "prove", files["zkey"], files["wtns"], files["proof"], files["public"]])
        stamp.write_text(source.read_text())
    return files
