"""snarkjs JSON for Groth16 on BLS12-381: verification_key.json, proof.json, public.json.

Coordinates are decimal strings of affine points with a trailing projective one: G1 [x, y, "1"],
G2 [[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]; the point at infinity is G1 ["0", "1", "0"] and
G2 [["0", "0"], ["1", "0"], ["0", "0"]] (snarkjs's toObject of zero). Points read back are checked
on the curve and in the subgroup.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from kernels import params
from pipeline.errors import InputError, ProofError
from pipeline.groth16.keys import Proof, VerifyingKey, _validate

CURVE = "bls12381"
JSON_LABEL = "imported from snarkjs verification_key.json"


def _points():
    from kernels.ec import points
    return points


def g1_to_json(p: np.ndarray) -> list[str]:
    pt = _points().g1_to_ints(np.asarray(p).reshape(1, 2, 12))[0]
    return ["0", "1", "0"] if pt is None else [str(pt[0]), str(pt[1]), "1"]


def g2_to_json(p: np.ndarray) -> list[list[str]]:
    pt = _points().g2_to_ints(np.asarray(p).reshape(1, 2, 2, 12))[0]
    if pt is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = pt
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def _int(s, what: str) -> int:
    if isinstance(s, bool) or not isinstance(s, (str, int)):
        raise InputError(f"{what}: expected a decimal string, got {type(s).__name__}")
    try:
        value = int(s, 10) if isinstance(s, str) else s
    except ValueError:
        raise InputError(f"{what}: not a decimal number: {s!r}") from None
    if not 0 <= value < params.P:
        raise InputError(f"{what}: coordinate out of range")
    return value


def _seq(obj, n: int, what: str) -> list:
    if not isinstance(obj, list) or len(obj) != n:
        raise InputError(f"{what}: expected a list of {n}")
    return obj


def g1_from_json(obj, what: str) -> np.ndarray:
    """Affine point of [x, y, z] with z = 1 (or z = 0 for infinity); raises InputError/ProofError."""
    x, y, z = (_int(c, what) for c in _seq(obj, 3, what))
    if z == 0:
        pt = _points().g1_from_ints([None])[0]
    elif z == 1:
        pt = _points().g1_from_ints([(x, y)])[0]
    else:
        raise InputError(f"{what}: only affine points (z = 1) are supported")
    _validate("g1", pt[None], what)
    return pt


def g2_from_json(obj, what: str) -> np.ndarray:
    x, y, z = ([_int(c, what) for c in _seq(e, 2, what)] for e in _seq(obj, 3, what))
    if z == [0, 0]:
        pt = _points().g2_from_ints([None])[0]
    elif z == [1, 0]:
        pt = _points().g2_from_ints([(tuple(x), tuple(y))])[0]
    else:
        raise InputError(f"{what}: only affine points (z = [1, 0]) are supported")
    _validate("g2", pt[None], what)
    return pt


def _load(source, what: str):
    """A JSON document from a path or an already-parsed object."""
    if isinstance(source, (str, Path)):
        try:
            return json.loads(Path(source).read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return source


def _check_header(doc, what: str) -> None:
    if not isinstance(doc, dict):
        raise InputError(f"{what}: expected a JSON object")
    if doc.get("protocol") != "groth16":
        raise InputError(f"{what}: protocol is {doc.get('protocol')!r}, expected 'groth16'")
    if doc.get("curve") != CURVE:
        raise InputError(f"{what}: curve is {doc.get('curve')!r}, expected '{CURVE}'")


# --- verifying key -----------------------------------------------------------------------------

def vk_to_json(vk: VerifyingKey) -> dict:
    """snarkjs verification_key.json content (without vk_alphabeta_12, which snarkjs does not need)."""
    return {"protocol": "groth16", "curve": CURVE, "nPublic": vk.n_public,
            "vk_alpha_1": g1_to_json(vk.alpha_g1), "vk_beta_2": g2_to_json(vk.beta_g2),
            "vk_gamma_2": g2_to_json(vk.gamma_g2), "vk_delta_2": g2_to_json(vk.delta_g2),
            "IC": [g1_to_json(p) for p in vk.ic]}


def vk_from_json(source, what: str = "verification key") -> VerifyingKey:
    """VerifyingKey of a snarkjs verification_key.json (path or parsed object).

    Its circuit digest is a hash of the key's points (the JSON names no circuit). Raises InputError
    for a malformed document, ProofError for a point off the curve or outside the subgroup.
    """
    doc = _load(source, what)
    _check_header(doc, what)
    ic_list = doc.get("IC")
    if not isinstance(ic_list, list) or not ic_list:
        raise InputError(f"{what}: IC must be a non-empty list")
    if doc.get("nPublic", len(ic_list) - 1) != len(ic_list) - 1:
        raise InputError(f"{what}: nPublic = {doc.get('nPublic')} but IC has {len(ic_list)} points")
    alpha = g1_from_json(doc.get("vk_alpha_1"), f"{what} vk_alpha_1")
    beta, gamma, delta = (g2_from_json(doc.get(k), f"{what} {k}") for k in ("vk_beta_2", "vk_gamma_2", "vk_delta_2"))
    ic = np.stack([g1_from_json(p, f"{what} IC[{i}]") for i, p in enumerate(ic_list)])
    digest = hashlib.sha256(json.dumps(vk_to_json(VerifyingKey(alpha, beta, gamma, delta, ic, b"", "")),
                                       sort_keys=True).encode()).digest()
    return VerifyingKey(alpha, beta, gamma, delta, ic, digest, JSON_LABEL)


# --- proof and public inputs -------------------------------------------------------------------

def proof_to_json(proof: Proof) -> dict:
    """snarkjs proof.json content."""
    return {"pi_a": g1_to_json(proof.a), "pi_b": g2_to_json(proof.b), "pi_c": g1_to_json(proof.c),
            "protocol": "groth16", "curve": CURVE}


def proof_from_json(source, what: str = "proof") -> Proof:
    """Proof of a snarkjs proof.json; raises InputError when malformed, ProofError for an invalid point."""
    doc = _load(source, what)
    _check_header(doc, what)
    try:
        return Proof(g1_from_json(doc.get("pi_a"), f"{what} pi_a"), g2_from_json(doc.get("pi_b"), f"{what} pi_b"),
                     g1_from_json(doc.get("pi_c"), f"{what} pi_c"))
    except InputError as exc:
        raise ProofError(str(exc)) from None


def public_to_json(values) -> list[str]:
    """snarkjs public.json content: decimal strings."""
    return [str(int(v)) for v in values]


def public_from_json(source, what: str = "public inputs") -> list[int]:
    """Ints of a snarkjs public.json; raises InputError when malformed or a value is not in [0, r)."""
    doc = _load(source, what)
    if not isinstance(doc, list):
        raise InputError(f"{what}: expected a JSON list of decimal strings")
    out = []
    for i, s in enumerate(doc):
        if isinstance(s, bool) or not isinstance(s, (str, int)):
            raise InputError(f"{what}[{i}]: expected a decimal string")
        try:
            v = int(s, 10) if isinstance(s, str) else s
        except ValueError:
            raise InputError(f"{what}[{i}]: not a decimal number: {s!r}") from None
        if not 0 <= v < params.R:
            raise InputError(f"{what}[{i}] is not a field element (must be in [0, r))")
        out.append(v)
    return out


def write_json(path, doc) -> None:
    """Write a document as snarkjs does (one-space indent)."""
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")
