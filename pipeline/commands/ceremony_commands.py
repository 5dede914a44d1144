"""`zkp-ledger ceremony new|contribute|beacon|prepare|circuit|verify` and `zkp-ledger keys import`:
a multi-party Groth16 setup in snarkjs's .ptau and .zkey formats (see pipeline.ceremony).

  ceremony new POWER OUT.ptau                          blank powers of tau (circuits up to 2^POWER rows)
  ceremony contribute IN OUT --name NAME [--entropy T] add a contribution (.ptau or .zkey, from the file)
  ceremony beacon IN OUT --hash HEX --iterations E     close a phase with a public random beacon
  ceremony prepare IN.ptau OUT.ptau                    add the phase-2 (Lagrange) sections
  ceremony circuit SHAPE PTAU OUT.zkey                 initial key of a statistics shape (+ OUT.r1cs)
  ceremony verify FILE [--ptau P] [--r1cs R | --shape S]
  keys import ZKEY --shape SHAPE --ptau PTAU [--allow-single-party]
  keys tables SHAPE [--keys DIR] [--window C]          fixed-base tables beside a proving key (faster proofs)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipeline.errors import InputError


def _log(args):
    if args.json:
        return lambda _m: None
    return lambda m: print(f"zkp-ledger: {m}", file=sys.stderr)


def _kind(path) -> str:
    """"ptau" or "zkey" from the file's magic; InputError for anything else."""
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if magic in (b"ptau", b"zkey"):
        return magic.decode()
    raise InputError(f"{path}: neither a .ptau nor a .zkey file (magic {magic!r})")


def _report(args, doc: dict, text: str) -> int:
    print(json.dumps(doc, sort_keys=True) if args.json else text)
    return 0


def _timed(fn, *a, **kw):
    start = time.perf_counter()
    doc = fn(*a, **kw)
    doc["seconds"] = round(time.perf_counter() - start, 3)
    return doc


def cmd_new(args) -> int:
    from pipeline.ceremony.powersoftau_new import new_ptau
    doc = _timed(new_ptau, args.power, args.out)
    return _report(args, doc, f"wrote {args.out} (power {args.power}); first challenge {doc['first_challenge'][:32]}…")


def cmd_contribute(args) -> int:
    if _kind(args.input) == "ptau":
        from pipeline.ceremony.powersoftau_contribute import contribute_ptau as fn
    else:
        from pipeline.ceremony.zkey_contribute import contribute_zkey as fn
    doc = _timed(fn, args.input, args.output, args.name, args.entropy, log=_log(args))
    digest = doc.get("response_hash") or doc.get("contribution_hash")
    return _report(args, doc, f"wrote {args.output} ({doc['contributions']} contributions); publish your "
                              f"contribution hash: {digest}")


def cmd_beacon(args) -> int:
    if _kind(args.input) == "ptau":
        from pipeline.ceremony.powersoftau_contribute import beacon_ptau as fn
    else:
        from pipeline.ceremony.zkey_contribute import beacon_zkey as fn
    doc = _timed(fn, args.input, args.output, args.name, args.hash, args.iterations, log=_log(args))
    return _report(args, doc, f"wrote {args.output} ({doc['contributions']} contributions, closed by the beacon)")


def cmd_prepare(args) -> int:
    from pipeline.ceremony.powersoftau_prepare import prepare_ptau
    if _kind(args.input) != "ptau":
        raise InputError(f"{args.input}: prepare takes a .ptau")
    doc = _timed(prepare_ptau, args.input, args.output, log=_log(args))
    return _report(args, doc, f"wrote {args.output}: ready for phase 2 ({doc['points']} Lagrange points)")


def cmd_circuit(args) -> int:
    from pipeline.ceremony.zkey_new import circuit_zkey
    doc = _timed(circuit_zkey, args.shape, args.ptau, args.out, log=_log(args))
    return _report(args, doc, f"wrote {doc['zkey']} and {doc['r1cs']} for {doc['shape']} ({doc['constraints']} "
                              f"constraints, domain {doc['domain']}); circuit hash {doc['cs_hash'][:32]}…")


def cmd_verify(args) -> int:
    if _kind(args.file) == "ptau":
        from pipeline.ceremony.powersoftau_verify import verify_ptau
        doc = _timed(verify_ptau, args.file, log=_log(args))
        text = (f"{args.file}: OK, power {doc['power']}, {doc['contributions']} contributions "
                f"({', '.join(n or 'unnamed' for n in doc['names'])}){', beacon' if doc['beacon'] else ''}"
                f"{', prepared for phase 2' if doc['prepared'] else ''}")
        return _report(args, doc, text)
    from pipeline.ceremony.zkey_verify import verify_zkey
    r1cs = args.r1cs
    if args.shape:
        from pipeline.circuit.statistics import Shape, circuit
        r1cs = circuit(Shape.parse(args.shape))
    doc = _timed(verify_zkey, args.file, args.ptau, r1cs, log=_log(args))
    text = (f"{args.file}: OK, {doc['contributions']} contributions "
            f"({', '.join(n or 'unnamed' for n in doc['names']) or 'none'}){', beacon' if doc['beacon'] else ''}; "
            + ("derived from the powers of tau for exactly this circuit" if doc["against_circuit"] else
               "transcript and key relations only (give --ptau and --r1cs or --shape to check it against its circuit)"))
    if doc["contributions"] == 0:
        text += "; WARNING: no contribution after the initial key (δ = 1): not fit for use"
    return _report(args, doc, text)


def _store(args):
    from pipeline.keystore import KeyStore

    if args.keys:
        return KeyStore(Path(args.keys), log=_log(args))
    from ledger import Ledger
    from pipeline.statistics_proof import key_store

    ledger_path = Path(args.ledger)
    if not ledger_path.exists():
        raise InputError(f"{ledger_path}: no ledger here; run `zkp-ledger init` first or give --keys DIR")
    store = key_store(Ledger.open(ledger_path))
    store.log = _log(args)
    return store


def cmd_keys_tables(args) -> int:
    from pipeline.circuit.statistics import Shape

    shape = Shape.parse(args.shape)
    if args.window is not None and not 8 <= args.window <= 16:
        raise InputError(f"--window {args.window}: window bits must be between 8 and 16")
    store = _store(args)
    if not store.has_keys(shape):
        raise InputError(f"no keys for shape {shape.key_id()} in {store.folder}; make or import them first "
                         f"(`zkp-ledger setup --shape {shape.key_id()}` or `zkp-ledger keys import`)")
    start = time.perf_counter()
    tables = store.build_tables(shape, args.window)
    doc = {"shape": shape.key_id(), "file": str(store.tables_path(shape)), "bytes": tables.nbytes,
           "tables": tables.describe(), "seconds": round(time.perf_counter() - start, 3)}
    return _report(args, doc, f"wrote {doc['file']} ({tables.nbytes / 2**20:.0f} MiB, {doc['seconds']:.1f} s); "
                              "proofs of this shape now use it (delete the file to prove without)")


def cmd_keys_import(args) -> int:
    from pipeline.ceremony.zkey_import import import_zkey

    store = _store(args)
    doc = _timed(import_zkey, args.zkey, args.shape, args.ptau, store, args.allow_single_party, args.force,
                 log=_log(args))
    return _report(args, doc, f"installed the {doc['shape']} key in {doc['folder']} ({doc['label']}); "
                              f"verifying key sha256 {doc['vk_sha256']}")


def register(subparsers, common) -> None:
    group = subparsers.add_parser("ceremony", help="multi-party Groth16 setup in snarkjs .ptau/.zkey formats",
                                  description=__doc__.split("\n\n")[0])
    sub = group.add_subparsers(dest="ceremony_command", metavar="{new,contribute,beacon,prepare,circuit,verify}")
    group.set_defaults(func=lambda args: (group.print_help(sys.stderr), 2)[1])

    p = sub.add_parser("new", parents=[common], help="start a powers-of-tau ceremony")
    p.add_argument("power", type=int, help="circuits up to 2^POWER rows (1..28)")
    p.add_argument("out", help="OUT.ptau")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("contribute", parents=[common], help="add a contribution to a .ptau or .zkey",
                       description="Secrets come from the OS CSPRNG (plus --entropy) and are dropped after use.")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--name", required=True, help="contributor name recorded in the file (64 bytes at most)")
    p.add_argument("--entropy", help="extra text mixed into the OS randomness")
    p.set_defaults(func=cmd_contribute)

    p = sub.add_parser("beacon", parents=[common], help="close a phase with a public random beacon")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--hash", required=True, help="beacon value, hex (e.g. a future block hash)")
    p.add_argument("--iterations", type=int, required=True, help="SHA-256 applied 2^E times (10..63)")
    p.add_argument("--name", default="final beacon")
    p.set_defaults(func=cmd_beacon)

    p = sub.add_parser("prepare", parents=[common], help="make a .ptau ready for phase 2")
    p.add_argument("input")
    p.add_argument("output")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("circuit", parents=[common], help="initial phase-2 .zkey of a statistics shape (+ .r1cs)")
    p.add_argument("shape", help="e.g. r1024-c4-k32-t9 or rows=1024,columns=4,bits=32")
    p.add_argument("ptau", help="prepared powers of tau")
    p.add_argument("out", help="OUT.zkey (OUT.r1cs is written beside it)")
    p.set_defaults(func=cmd_circuit)

    p = sub.add_parser("verify", parents=[common], help="verify a .ptau or .zkey and its contributions")
    p.add_argument("file")
    p.add_argument("--ptau", help="for a .zkey: the powers of tau it was made from")
    p.add_argument("--r1cs", help="for a .zkey: its circuit as .r1cs")
    p.add_argument("--shape", help="for a .zkey: its circuit as a statistics shape (instead of --r1cs)")
    p.set_defaults(func=cmd_verify)

    keys = subparsers.add_parser("keys", help="install keys from a ceremony; fixed-base tables",
                                 description="Key store commands.")
    ksub = keys.add_subparsers(dest="keys_command", metavar="{import,tables}")
    keys.set_defaults(func=lambda args: (keys.print_help(sys.stderr), 2)[1])
    p = ksub.add_parser("import", parents=[common], help="verify a ceremony .zkey and install it for its shape",
                        description="Verifies the .ptau, the .zkey transcript and the key against the shape's "
                                    "circuit, then installs it in the ledger's key store.")
    p.add_argument("zkey")
    p.add_argument("--shape", required=True, help="the statistics shape the key was made for")
    p.add_argument("--ptau", required=True, help="the (prepared) powers of tau the key was made from")
    p.add_argument("--keys", help="key store folder (default: keys/ beside the ledger)")
    p.add_argument("--allow-single-party", action="store_true",
                   help="accept a key with no contribution after the initial one (tests only)")
    p.add_argument("--force", action="store_true", help="replace keys already installed for the shape")
    p.set_defaults(func=cmd_keys_import)
    p = ksub.add_parser("tables", parents=[common], help="build fixed-base tables beside a shape's proving key",
                        description="Precomputes the window multiples of every proving-key base (about 16x the "
                                    "key's size on disk, memory-mapped when proving) so that each MSM reduces one "
                                    "set of buckets; every later proof of the shape uses them and is verified "
                                    "before it is kept. Delete proving.tables to prove without.")
    p.add_argument("shape", help="e.g. r1024-c1-k32-t9")
    p.add_argument("--keys", help="key store folder (default: keys/ beside the ledger)")
    p.add_argument("--window", type=int, help="window bits c, 8..16 (default: chosen per query by its size)")
    p.set_defaults(func=cmd_keys_tables)
