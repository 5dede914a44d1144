"""`zkp-ledger snarkjs prove|verify`: drop-ins for `snarkjs groth16 prove|verify` on bls12381 circuits.

Same argument order and file formats as snarkjs:
  zkp-ledger snarkjs prove CIRCUIT.zkey WITNESS.wtns PROOF.json PUBLIC.json [--device auto|cpu|cuda]
  zkp-ledger snarkjs verify VERIFICATION_KEY.json PUBLIC.json PROOF.json     (exit 0 valid, 1 invalid)
"""

from __future__ import annotations

import json
import sys
import time

from pipeline.checked_files import mark_checked, open_file_digest, was_checked
from pipeline.device import resolve_device
from pipeline.errors import InputError, ProofError


def prove_command(args) -> int:
    device = resolve_device(args.device)
    start = time.perf_counter()
    try:
        # One open file for the hash and the map: a .zkey renamed over it in between is never used.
        fh = open(args.zkey, "rb")
    except OSError as exc:
        raise InputError(f"{args.zkey}: cannot read the zkey ({exc.strerror})") from None
    with fh:
        digest = open_file_digest(fh)     # first read the key; the kernels (Numba) load after it
        checked = was_checked(digest, "key")
        from pipeline.groth16.prover import ProofFailsCheck, prove
        from pipeline.snarkjs.json_io import proof_to_json, public_to_json, write_json
        from pipeline.snarkjs.wtns_file import read_wtns
        from pipeline.snarkjs.zkey_file import read_zkey

        zkey = read_zkey(args.zkey, validate=not checked, file=fh)
    if not checked:      # points and the relations a key alone allows, once per content hash
        from pipeline.groth16.keys import check_key_relations
        check_key_relations(zkey.pk, str(args.zkey))
        mark_checked(digest)
        mark_checked(digest, "key")
    witness = read_wtns(args.witness)
    if witness.shape[0] != zkey.qap.n_vars:
        raise ProofError(f"{args.witness}: witness has {witness.shape[0]} values, circuit of {args.zkey} "
                         f"has {zkey.qap.n_vars} (witness for another circuit?)")
    # A .zkey has no C matrix, so a bad witness shows only when prove checks its proof.
    try:
        proof = prove(zkey.pk, zkey.qap, witness, device=device)
    except ProofFailsCheck:
        raise ProofError(f"{args.witness}: the witness does not satisfy the circuit of {args.zkey} (the proof "
                         "does not verify; if the witness is right, the key is damaged); recompute it with "
                         "`snarkjs wtns calculate`") from None
    public = _public(witness, zkey.qap.n_public)
    write_json(args.proof, proof_to_json(proof))
    write_json(args.public, public_to_json(public))
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({"proof": str(args.proof), "public": str(args.public), "device": device,
                          "n_public": len(public), "seconds": round(seconds, 3)}))
    else:
        print(f"proof written to {args.proof}, public inputs to {args.public} ({device}, {seconds:.2f} s)")
    return 0


def _public(witness, n_public: int) -> list[int]:
    from kernels.ff.fields import FR
    return FR.canonical_to_ints(witness[1:n_public + 1])


def _read_json(path):
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def verify_command(args) -> int:
    # Read the three files first; NumPy and the pairing kernels (Numba) load after (start-up time).
    vk_doc, public_doc, proof_doc = (_read_json(p) for p in (args.verification_key, args.public, args.proof))
    from pipeline.groth16.verifier import verify
    from pipeline.snarkjs.json_io import proof_from_json, public_from_json, vk_from_json

    vk = vk_from_json(vk_doc, f"{args.verification_key}")
    public = public_from_json(public_doc, f"{args.public}")
    try:
        proof = proof_from_json(proof_doc, f"{args.proof}")
        ok = verify(vk, public, proof)
        reason = "" if ok else "the pairing check fails"
    except ProofError as exc:      # a malformed proof or a key/input count mismatch is an invalid proof
        ok, reason = False, str(exc)
    if args.json:
        print(json.dumps({"valid": ok, **({"reason": reason} if reason else {})}))
    elif ok:
        print("OK!")
    else:
        print(f"Invalid proof: {reason}", file=sys.stderr)
    return 0 if ok else 1


def register(subparsers, common) -> None:
    group = subparsers.add_parser("snarkjs", help="drop-in for `snarkjs groth16 prove|verify` on bls12381 circuits",
                                  description=__doc__.split("\n\n")[0])
    sub = group.add_subparsers(dest="snarkjs_command", metavar="{prove,verify}")
    group.set_defaults(func=lambda args: (group.print_help(sys.stderr), 2)[1])

    p = sub.add_parser("prove", parents=[common], help="prove with a snarkjs .zkey and a .wtns witness",
                       description="Same arguments and output files as `snarkjs groth16 prove`.")
    p.add_argument("zkey", help="CIRCUIT.zkey (snarkjs Groth16 proving key, curve bls12381)")
    p.add_argument("witness", help="WITNESS.wtns (from `snarkjs wtns calculate`)")
    p.add_argument("proof", help="PROOF.json to write")
    p.add_argument("public", help="PUBLIC.json to write")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="where the MSMs run (auto: the GPU when one is visible)")
    p.set_defaults(func=prove_command)

    v = sub.add_parser("verify", parents=[common], help="verify a snarkjs proof; exit 0 valid, 1 invalid",
                       description="Same arguments as `snarkjs groth16 verify`; exit 0 when valid, 1 when not.")
    v.add_argument("verification_key", help="VERIFICATION_KEY.json")
    v.add_argument("public", help="PUBLIC.json")
    v.add_argument("proof", help="PROOF.json")
    v.set_defaults(func=verify_command)
