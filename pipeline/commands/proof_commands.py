"""Proof commands of `zkp-ledger`: prove, setup, export; and the statistics verifier that `verify`
and `audit --proofs` call (registered in ledger_commands.ENTRY_VERIFIERS)."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ledger import Entry, Ledger
from pipeline.commands import ledger_commands
from pipeline.commands.ledger_commands import _check_name, _emit, _entry_summary, _open
from pipeline.device import resolve_device
from pipeline.errors import InputError


def _verify_statistics_entry(ledger: Ledger, entry: Entry, data: Path | None = None, trust=None) -> str:
    from pipeline.key_trust import KeyTrust
    from pipeline.statistics_verify import verify_statistics

    return verify_statistics(ledger, entry, data, trust=trust or KeyTrust()).summary()


ledger_commands.ENTRY_VERIFIERS["statistics"] = _verify_statistics_entry


@contextmanager
def chunk_progress(label: str):
    """progress(rows_done, rows_total): a rich bar on a terminal, a log line every 10 s elsewhere."""
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task(label, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    last = [time.monotonic()]

    def report(done: int, total: int | None) -> None:
        if time.monotonic() - last[0] >= 10 or done == total:
            last[0] = time.monotonic()
            print(f"zkp-ledger: {label}: {done} of {total if total is not None else '?'} rows proved",
                  file=sys.stderr)
    yield report


def cmd_prove(args) -> int:
    from pipeline.ingest import DEFAULT_BLOCKSIZE
    from pipeline.statistics_proof import ProveRequest, prove_statistics

    name = _check_name(args.name, "dataset name")
    tag = _check_name(args.tag, "tag") if args.tag else None
    columns = [c.strip() for c in args.columns.split(",") if c.strip()]
    ledger = _open(args)
    request = ProveRequest(dataset=args.dataset, name=name, columns=columns, scale=args.scale,
                           ranges=args.range, delimiter=args.delimiter, null_values=args.null_values,
                           range_bits=args.range_bits, chunk_rows=args.chunk_rows,
                           width=args.width, blocksize=args.blocksize or DEFAULT_BLOCKSIZE,
                           device=resolve_device(args.device),
                           tag=tag, parent=args.parent, keys=Path(args.keys) if args.keys else None)
    with chunk_progress(f"prove {Path(args.dataset).name}") as progress:
        request.progress = progress
        if args.cluster or args.workers:      # chunk proofs as tasks on a Dask cluster
            from pipeline.batch.cluster import open_cluster
            from pipeline.commands.batch_commands import prove_on_cluster

            with open_cluster(args.cluster or "local", args.workers) as client:
                entry = prove_on_cluster(ledger, request, client, progress=progress)
        else:
            entry = prove_statistics(ledger, request)
    stats = entry.record["statistics"]
    doc = {**_entry_summary(entry), "statistics": stats, "circuit": entry.record["circuit"],
           "proof_bundle": entry.record["proof_bundle"]}
    lines = [f"proved {args.dataset} as {name}@{entry.version} (entry {entry.index}, id {entry.id[:16]}): "
             f"{entry.record['rows']} rows in {entry.record['circuit']['chunks']} chunk proofs"]
    for col, s in stats.items():
        lines.append(f"  {col}: count {s['count']}, nulls {s['nulls']}, sum {s['sum']}, mean {s['mean']}, "
                     f"variance {s['variance']}, proven range [{s['min_bound']}, {s['max_bound']}]")
    _emit(args, doc, "\n".join(lines))
    return 0


def cmd_setup(args) -> int:
    from pipeline.circuit.statistics import Shape, circuit
    from pipeline.keystore import KeyStore
    from pipeline.statistics_proof import key_store

    shape = Shape.parse(args.shape)
    if args.out:
        store = KeyStore(Path(args.out))
    else:
        ledger_path = Path(args.ledger)
        if not ledger_path.exists():
            raise InputError(f"{ledger_path}: no ledger here; run `zkp-ledger init` first (keys live beside it), "
                             "or give --out DIR")
        store = key_store(Ledger.open(ledger_path))
    if store.has_keys(shape) and not args.force:
        store.load_keys(shape)
        text = f"keys for {shape.key_id()} already exist in {store.shape_dir(shape)} (use --force to remake)"
    else:
        if args.force and store.has_keys(shape):
            for path in store.shape_dir(shape).iterdir():
                path.unlink()
            store.shape_dir(shape).rmdir()
        store.make_keys(shape)
        text = f"made keys for {shape.key_id()} in {store.shape_dir(shape)}"
    r1cs = circuit(shape)
    meta = json.loads((store.shape_dir(shape) / "shape.json").read_text())
    values = shape.rows * shape.columns
    vk_path = store.shape_dir(shape) / "verifying.key"
    doc = {"shape": shape.describe(), "key_dir": str(store.shape_dir(shape)), "constraints": r1cs.n_constraints,
           "constraints_per_value": r1cs.n_constraints / values, "vk_sha256": meta["vk_sha256"],
           "verifying_key": str(vk_path)}
    _emit(args, doc, f"{text}\n  {r1cs.n_constraints} constraints, "
          f"{r1cs.n_constraints / values:.1f} per value; verifying key sha256 {meta['vk_sha256'][:16]}\n"
          f"  verifiers pin it with: --vk {vk_path}")
    return 0


def cmd_export(args) -> int:
    from pipeline.statistics_verify import export_snarkjs

    if args.format != "snarkjs":
        raise InputError(f"--format {args.format}: only snarkjs is supported")
    if args.out is None and args.circuit is None:
        raise InputError("export needs --out DIR (proofs as snarkjs JSON) or --circuit DIR (.r1cs, .zkey, .wtns)")
    if args.circuit is None and (args.data or args.keys):
        raise InputError("--data and --keys go with --circuit DIR (they give the witnesses and the proving key)")
    ledger = _open(args)
    entry = ledger.resolve(args.entry)
    if entry.kind != "statistics":
        raise InputError(f"entry {entry.index} is a {entry.kind} entry; only statistics entries carry proofs")
    written = export_snarkjs(ledger, entry, Path(args.out) if args.out else None,
                             circuit_dir=Path(args.circuit) if args.circuit else None,
                             data=Path(args.data) if args.data else None, keys=Path(args.keys) if args.keys else None)
    lines = [f"wrote {len(written)} files"]
    if args.out:
        out = Path(args.out)
        lines.append(f"check a proof with: snarkjs groth16 verify {out / 'verification_key.json'} "
                     f"{out / 'public_0.json'} {out / 'proof_0.json'}")
    if args.circuit:
        c = Path(args.circuit)
        if args.data:
            lines.append(f"prove a chunk with snarkjs: snarkjs groth16 prove {c / 'circuit.zkey'} {c / 'chunk_0.wtns'} "
                         f"proof.json public.json && snarkjs groth16 verify {c / 'verification_key.json'} "
                         "public.json proof.json")
            lines.append(f"the chunk_<k>.wtns files in {c} hold the data's cells: keep them as private as the data")
        else:
            lines.append("no .wtns written: give --data DATASET (the file the entry proved) for each chunk's witness")
    _emit(args, {"entry": entry.index, "files": [str(p) for p in written]}, "\n".join(lines))
    return 0


def write_sample_dataset(path: Path, rows: int) -> None:
    """A synthetic sales table (order id, amount with cents, quantity with some blanks) for the demo."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng()          # fresh OS entropy: the demo data is not a secret, just new
    amount = np.round(rng.gamma(2.0, 30.0, rows), 2).clip(0, 9999.99)
    quantity = rng.integers(1, 20, rows).astype(float)
    quantity[rng.random(rows) < 0.02] = np.nan
    frame = pd.DataFrame({"order_id": np.arange(1, rows + 1), "amount": amount, "quantity": quantity,
                          "region": rng.choice(["north", "south", "east", "west"], rows)})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def cmd_demo(args) -> int:
    """The main job on the embedded default: a local ledger file, CPU unless a GPU is usable. It plays
    the two roles a proof needs: an auditor makes the keys and pins them, a data owner proves."""
    from pipeline.cli import main

    ledger_path = Path(args.ledger)
    dataset = ledger_path.parent / "sample-sales.csv"
    auditor_keys = ledger_path.parent / "auditor-keys"
    kept = ledger_path.parent / "auditor-kept.note"
    rows = min(args.chunk_rows, args.rows)
    shape = f"r{rows}-c2-k20-t9"
    if not dataset.exists():
        write_sample_dataset(dataset, args.rows)
        print(f"zkp-ledger demo: wrote a sample dataset {dataset} ({args.rows} rows)", file=sys.stderr)
    if not ledger_path.exists():
        main(["init", "--ledger", str(ledger_path)])
    steps = [
        ("auditor: make the Groth16 keys (the data owner never learns their secrets)",
         ["setup", "--shape", shape, "--out", str(auditor_keys)]),
        ("data owner: prove two columns with the auditor's proving key",
         ["prove", str(dataset), "--ledger", str(ledger_path), "--name", "sample-sales", "--columns", "amount,quantity",
          "--scale", "amount=2", "--range", "amount=0:10000,quantity=0:100", "--range-bits", "20",
          "--chunk-rows", str(rows), "--device", args.device, "--keys", str(auditor_keys)]),
        ("auditor: verify with the key it pinned, and against the data",
         ["verify", "sample-sales@latest", "--ledger", str(ledger_path), "--data", str(dataset),
          "--vk", str(auditor_keys / shape / "verifying.key")]),
        ("data owner: sign the tree head; the auditor keeps a copy and the owner's public key",
         ["checkpoint", "--ledger", str(ledger_path), "--out", str(kept)]),
        ("auditor: audit the whole ledger and every proof against the kept checkpoint and pinned keys",
         ["audit", "--proofs", "--ledger", str(ledger_path), "--trusted-keys", str(auditor_keys),
          "--vkey", str(ledger_path.parent / "keys" / "signer.key.pub"), "--checkpoint", str(kept)]),
    ]
    for role, step in steps:
        print(f"# {role}\n$ zkp-ledger " + " ".join(step), flush=True)
        code = main(step)
        if code:
            return code
    return 0


def _positive(text: str) -> int:
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise InputError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise InputError(f"'{text}' must be at least 1")
    return value


def register(subparsers, common) -> None:
    p = subparsers.add_parser("prove", parents=[common], help="notarize a CSV/Parquet dataset and prove column statistics",
                              description="Notarize DATASET and prove, in zero knowledge, the row count, sums, sums "
                              "of squares, null counts and value ranges of the chosen numeric columns; record "
                              "one ledger entry with the proofs. DATASET is a CSV or Parquet file, a directory of "
                              "part files, or a quoted glob ('sales/*.parquet'), read as one table in sorted path "
                              "order; hidden files and _-prefixed markers (_SUCCESS) are skipped and named in the "
                              "entry; Hive folders (year=2024/) add their keys as columns. CSV may be compressed "
                              "(.gz, .bz2, .xz, .zst): such a file is decompressed as one stream by this process "
                              "(it cannot be split into byte ranges) and still proves in chunks of --chunk-rows.")
    p.add_argument("dataset", help="a file, a directory of part files, or a quoted glob of them")
    p.add_argument("--name", required=True, help="dataset name (versions count up per name)")
    p.add_argument("--columns", required=True, help="comma-separated numeric columns, e.g. price,qty")
    p.add_argument("--scale", action="append", help="decimals per column, e.g. price=2 (values are stored as "
                   "value*10^scale); repeat it or list several: --scale price=2,tax=3")
    p.add_argument("--range", action="append", help="bounds per column in its units, e.g. price=0:1e6 (default "
                   "0:2^bits-1); repeat it or list several: --range price=0:1e6 --range qty=-5:100")
    p.add_argument("--delimiter", help="CSV field delimiter: one character, or tab (default: ',' and tab for "
                   ".tsv/.tab); recorded in the entry")
    p.add_argument("--null-values", metavar="LIST", help="comma-separated cell texts read as null after trimming "
                   "spaces (default: pandas' markers: empty, NA, N/A, NULL, null, NaN, nan, None, ...; "
                   "--null-values '' for empty cells only); recorded in the entry. A floating-point NaN in "
                   "Parquet is null when NaN is a marker")
    p.add_argument("--range-bits", type=int, default=32, help="bits of the range check (default 32)")
    p.add_argument("--chunk-rows", type=_positive, default=1024, help="rows per proof (default 1024)")
    p.add_argument("--width", type=int, default=9, choices=[3, 5, 9, 12], help="Poseidon sponge width (default 9)")
    p.add_argument("--blocksize", type=_positive, default=None,       # ingest's DEFAULT_BLOCKSIZE (not imported here: start-up)
                   help="bytes per Dask CSV partition (default 64 MiB)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--tag")
    p.add_argument("--parent", help="lineage: the entry this dataset derives from")
    from pipeline.commands.batch_commands import add_cluster_options

    add_cluster_options(p)
    p.add_argument("--keys", metavar="DIR", help="take the keys of this shape from DIR (made by `setup --out DIR` or "
                   "a ceremony), never make them; default: the ledger's keys/ folder, made on first use by a "
                   "one-party setup that verifiers cannot trust unless they made it")
    p.set_defaults(func=cmd_prove)

    p = subparsers.add_parser("demo", parents=[common], help="prove, verify and audit a generated sample dataset",
                              description="The main job end to end on a sample sales table written beside the "
                              "ledger (default ./zkp-ledger/): init; the auditor makes keys; the data owner proves "
                              "two columns with them; the auditor verifies with the pinned key and the data, "
                              "and audits.")
    p.add_argument("--rows", type=_positive, default=2000, help="rows of the sample dataset (default 2000)")
    p.add_argument("--chunk-rows", type=_positive, default=256, help="rows per proof (default 256)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser("setup", parents=[common], help="make the Groth16 keys of a circuit shape",
                              description="One-party Groth16 setup (toxic waste from the OS CSPRNG, erased) for a "
                              "statistics circuit shape; keys are stored beside the ledger and reused.")
    p.add_argument("--shape", required=True, help="rows=R,columns=C,bits=K[,width=T] or r1024-c2-k32-t9")
    p.add_argument("--force", action="store_true", help="make new keys even if some exist")
    p.add_argument("--out", metavar="DIR", help="key folder to write (default: the ledger's keys/ folder); give "
                   "the proving key to the data owner (prove --keys DIR) and pin the verifying key (--vk)")
    p.set_defaults(func=cmd_setup)

    p = subparsers.add_parser("export", parents=[common], help="write an entry's proofs, circuit and witnesses for "
                              "snarkjs", description="Write a statistics entry's proofs as snarkjs JSON (--out), and/or "
                              "its circuit for snarkjs or rapidsnark (--circuit): circuit.r1cs, circuit.zkey (the "
                              "proving key the entry used) and, with --data, each chunk's chunk_<k>.wtns.")
    p.add_argument("entry")
    p.add_argument("--format", default="snarkjs", choices=["snarkjs"])
    p.add_argument("--out", metavar="DIR", help="write verification_key.json, proof_<k>.json, public_<k>.json here")
    p.add_argument("--circuit", metavar="DIR", help="write circuit.r1cs, circuit.zkey, verification_key.json and "
                   "(with --data) chunk_<k>.wtns here")
    p.add_argument("--data", metavar="DATASET", help="the file the entry proved: rebuilds each chunk's witness from it "
                   "and the ledger's openings (the .wtns files hold the data: keep them private)")
    p.add_argument("--keys", metavar="DIR", help="the key folder the entry was proved with (prove --keys DIR); "
                   "default: the ledger's keys/ folder")
    p.set_defaults(func=cmd_export)
