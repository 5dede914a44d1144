"""Ledger commands of `zkp-ledger`: init, keygen, notarize, list, history, show, verify,
inclusion, consistency, checkpoint, audit.

Proof checks plug in through `ENTRY_VERIFIERS`: the module that proves statistics (proof_commands) registers
`ENTRY_VERIFIERS["statistics"] = fn` with `fn(ledger, entry, data=None, trust=None) -> str` (a summary;
raise PipelineError when the proofs do not verify; `data` is the dataset path given to
`verify --data`, `trust` the verifying keys pinned by --vk/--trusted-keys/--trust-entry-key,
a pipeline.key_trust.KeyTrust). `verify` and `audit --proofs` call it.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ledger import Entry, Ledger
# ledger.audit, ledger.checkpoint (cryptography) and ledger.trust are imported by the commands that
# use them: every `zkp-ledger` run imports this module to build its parser (start-up time).
from ledger.entry import check_name
from ledger.errors import LedgerError, RecordError, UnknownSignerError
from ledger.merkle import BLAKE3, verify_inclusion
from pipeline import __version__
from pipeline.errors import InputError, PipelineError

TOOL = f"zkp-ledger {__version__}"
DEFAULT_KEY = "keys/signer.key"  # relative to the ledger's directory


def _verify_notarization(ledger: Ledger, entry: Entry, data: Path | None = None, trust=None) -> str:
    return "notarization: no proofs to check (raw-bytes commitment only; use --data to re-hash)"


ENTRY_VERIFIERS: dict[str, Callable[..., str]] = {
    "genesis": lambda ledger, entry, data=None, trust=None: "genesis entry: origin and hash of the log",
    "notarization": _verify_notarization,
}


# --- helpers -----------------------------------------------------------------------------------


def _key_trust(args):
    """The Groth16 verifying keys the user pinned (see pipeline/key_trust.py)."""
    from pipeline.key_trust import KeyTrust

    trust = KeyTrust.from_options(args.vk, args.trusted_keys, args.trust_entry_key, ledger_dir=Path(args.ledger).parent,
                                  allow_v1=args.allow_v1)
    for warning in trust.warnings:
        print(f"zkp-ledger {args.command}: warning: {warning}", file=sys.stderr)
    return trust


def _add_key_trust_options(p) -> None:
    p.add_argument("--vk", action="append", default=[], metavar="FILE|FILE.json@SHAPE|SHA256",
                   help="a Groth16 verifying key you trust: a verifying.key file, a snarkjs verification_key.json "
                   "with the shape it was made for (e.g. vk.json@r1024-c4-k32-t9), or the SHA-256 of a "
                   "verifying.key (an entry's vk_hash); repeatable. Proofs under any other key fail")
    p.add_argument("--trusted-keys", action="append", default=[], metavar="DIR", help="trust every verifying key "
                   "in DIR (e.g. the keys/ folder of a setup you ran, or the keys of a ceremony you took part in); "
                   "repeatable")
    p.add_argument("--trust-entry-key", action="store_true", help="accept the key an entry carries, with a warning: "
                   "the result then proves nothing against whoever made that key")
    p.add_argument("--allow-v1", action="store_true", help="also accept entries of the weak statement v1 (with a "
                   "warning that names its weaknesses); by default they fail")


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _emit(args, doc: dict, text: str) -> None:
    if args.json:
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        print(text)


def _open(args) -> Ledger:
    ledger = Ledger.open(args.ledger)
    if ledger.torn_tail:
        done = "cut off" if ledger.torn_tail_cut else "ignored (the file is not writable)"
        print(f"zkp-ledger: note: {ledger.path}: {ledger.torn_tail} bytes of an append that did not finish "
              f"were {done}", file=sys.stderr)
    return ledger


def _key_path(args, ledger_path: Path) -> Path:
    return Path(args.key) if getattr(args, "key", None) else ledger_path.parent / DEFAULT_KEY


def _signer_text(ledger: Ledger) -> str | None:
    from ledger.checkpoint import load_verifier

    pub = ledger.dir / (DEFAULT_KEY + ".pub")
    try:
        return load_verifier(str(pub)).text() if pub.is_file() else ledger.genesis.get("signer")
    except LedgerError:
        return ledger.genesis.get("signer")


def _check_name(value: str, what: str) -> str:
    try:
        return check_name(value, what)
    except RecordError as exc:
        raise InputError(str(exc)) from None


@contextmanager
def progress_reporter(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A callback counting bytes: a rich progress bar on a terminal, plain log lines elsewhere."""
    if sys.stderr.isatty() and total:
        from rich.progress import (BarColumn, DownloadColumn, Progress, TimeRemainingColumn,
                                   TransferSpeedColumn)
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    state = {"done": 0, "last": time.monotonic()}

    def tick(n: int) -> None:
        state["done"] += n
        now = time.monotonic()
        if now - state["last"] >= 10:
            state["last"] = now
            pct = f" ({100 * state['done'] / total:.0f}%)" if total else ""
            print(f"zkp-ledger: {label}: {state['done'] / 1e9:.2f} GB{pct}", file=sys.stderr)
    yield tick


def _entry_summary(e: Entry) -> dict:
    r = e.record
    data = r.get("data") or {}
    return {"index": e.index, "id": e.id, "kind": e.kind, "name": r.get("name"), "version": r.get("version"),
            "tag": r.get("tag"), "parent": r.get("parent"), "time": r.get("time"), "rows": r.get("rows"),
            "format": data.get("format"), "size": data.get("size"), "root": data.get("root")}


def _entry_line(e: Entry) -> str:
    s = _entry_summary(e)
    if e.kind == "genesis":
        return f"{s['index']:>6}  {e.id[:16]}  genesis  origin {e.record.get('origin')}  {s['time']}"
    rows = "" if s["rows"] is None else f"{s['rows']} rows  "
    tag = f" [{s['tag']}]" if s["tag"] else ""
    return (f"{s['index']:>6}  {e.id[:16]}  {s['kind']:<12} {s['name']}@{s['version']}{tag}  "
            f"{s['format']}  {s['size']} bytes  {rows}{s['time']}")


# --- commands ----------------------------------------------------------------------------------


def cmd_init(args) -> int:
    import secrets

    from ledger.checkpoint import SigningKey

    path = Path(args.ledger)
    if path.exists():
        raise LedgerError(f"ledger {path} already exists")
    ledger_origin = _check_name(args.origin, "origin") if args.origin else f"zkp-ledger/{secrets.token_hex(8)}"
    key = key_path = None
    if args.key:
        key_path = Path(args.key)
        key = SigningKey.load(key_path)
    elif args.key_dir:
        key_path = _outside_key_path(Path(args.key_dir), path, ledger_origin)
        key = SigningKey.generate(ledger_origin)
        key.save(key_path)
    elif not args.no_key:
        key_path = path.parent / DEFAULT_KEY
        if key_path.exists():
            raise LedgerError(f"{key_path} already exists; pass --key {key_path} to use it")
        key = SigningKey.generate(ledger_origin)
        key.save(key_path)
    if key is not None and key_path != path.parent / DEFAULT_KEY:
        # The folder holds only the verifier key, for readers; auditors get theirs out of band.
        pub = path.parent / (DEFAULT_KEY + ".pub")
        pub.parent.mkdir(parents=True, exist_ok=True)
        if not pub.exists():
            pub.write_text(key.verifier.text() + "\n")
    ledger = Ledger.create(path, origin=ledger_origin, signer=key.verifier.text() if key else None, tool=TOOL)
    inside = key_path is not None and _is_within(key_path, ledger.dir)
    doc = {"ledger": str(ledger.path), "origin": ledger.origin, "size": ledger.size,
           "root": _b64(ledger.root()), "signer": key.verifier.text() if key else None,
           "key": str(key_path) if key_path else None, "key_inside_ledger_folder": inside if key else None}
    if key is None:
        text = "\nno signing key (make one with keygen)"
    else:
        text = (f"\nsigning key: {key_path}\nverifier key (give it to auditors yourself, not through the ledger "
                f"folder): {key.verifier.text()}")
        if inside:
            text += ("\nnote: the signing key is inside the ledger folder, so whoever can write the folder can also "
                     "sign checkpoints; keep it elsewhere (init --key-dir DIR) when others can write the folder")
        else:
            text += f"\nsign checkpoints with: zkp-ledger checkpoint --ledger {ledger.path} --key {key_path}"
    _emit(args, doc, f"created ledger {ledger.path} (origin {ledger.origin})" + text)
    return 0


def _is_within(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _outside_key_path(key_dir: Path, ledger_path: Path, origin: str) -> Path:
    """Where `init --key-dir` puts the signing key: <key dir>/<origin as a file name>.key,
    refusing a directory inside the ledger folder (which would defeat the point)."""
    if _is_within(key_dir, ledger_path.parent):
        raise InputError(f"--key-dir {key_dir} is inside the ledger folder {ledger_path.parent}; "
                         "choose a directory that people who can write the ledger cannot write")
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if key_dir.stat().st_mode & 0o022:
        raise InputError(f"--key-dir {key_dir} is writable by other users; `chmod 700 {key_dir}` or choose another")
    key_path = key_dir / f"{_file_stem(origin)}.key"
    if key_path.exists():
        raise InputError(f"{key_path} already exists; pass --key {key_path} to use it, or choose another --origin")
    return key_path


def _file_stem(origin: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in origin).lstrip(".") or "signer"


def cmd_keygen(args) -> int:
    from ledger.checkpoint import SigningKey

    path = Path(args.ledger)
    out = Path(args.out) if args.out else path.parent / DEFAULT_KEY
    name = args.name
    if not name:
        try:
            with Ledger.open(path) as ledger:
                name = ledger.origin
        except LedgerError:
            name = "zkp-ledger"
    key = SigningKey.generate(name)
    pub = key.save(out)
    _emit(args, {"key": str(out), "vkey": key.verifier.text(), "vkey_file": str(pub)},
          f"wrote {out} (private, mode 0600) and {pub}\nverifier key: {key.verifier.text()}")
    return 0


def cmd_notarize(args) -> int:
    from pipeline.notarize import CHUNK_SIZE, notarize, total_size

    name = _check_name(args.name, "dataset name")
    tag = _check_name(args.tag, "tag") if args.tag else None
    ledger = _open(args)  # fail before the long read if the ledger is missing or damaged
    parent = None
    if args.parent:
        parent = ledger.resolve(args.parent).id
    dataset = Path(args.dataset)
    with progress_reporter(f"notarize {dataset.name}", total_size(dataset)) as tick:
        n = notarize(dataset, fmt=args.format, scan=not args.bytes_only, chunk_size=args.chunk_size or CHUNK_SIZE,
                     progress=tick, delimiter=args.delimiter)
    record = {"kind": "notarization", "name": name, "tag": tag, "tool": TOOL, "signer": _signer_text(ledger),
              "data": n.data_record(), "schema": n.schema, "rows": n.rows, "encoding": None}
    if parent is not None:
        record["parent"] = parent
    entry = ledger.append(record)
    doc = {**_entry_summary(entry), "ledger_size": ledger.size, "ledger_root": _b64(ledger.root())}
    _emit(args, doc, f"notarized {dataset} as {name}@{entry.version} (entry {entry.index}, id {entry.id[:16]})\n"
          f"  {n.format}, {n.size} bytes, root {n.root}" + ("" if n.rows is None else f", {n.rows} rows"))
    return 0


def cmd_list(args) -> int:
    ledger = _open(args)
    entries = list(ledger.entries())
    if args.json:
        print(json.dumps({"size": ledger.size, "root": _b64(ledger.root()),
                          "entries": [_entry_summary(e) for e in entries]}, indent=2, sort_keys=True))
    else:
        for e in entries:
            print(_entry_line(e))
    return 0


def cmd_history(args) -> int:
    ledger = _open(args)
    entries = ledger.history(args.name)
    if not entries:
        raise InputError(f"no dataset named {args.name!r} in {ledger.path} (see `zkp-ledger list`)")
    if args.json:
        print(json.dumps({"name": args.name, "versions": [_entry_summary(e) for e in entries]}, indent=2, sort_keys=True))
    else:
        for e in entries:
            print(_entry_line(e))
    return 0


def cmd_show(args) -> int:
    ledger = _open(args)
    e = ledger.resolve(args.entry)
    doc = {"index": e.index, "id": e.id, "entry": e.record, "leaf": _b64(e.leaf), "leafHash": _b64(e.leaf_hash),
           "leafRule": "leaf = canonical JSON of entry (sorted keys, no spaces, UTF-8); "
                       "leafHash = BLAKE3(0x00 || leaf)",
           "treeSize": ledger.size, "root": _b64(ledger.root())}
    header = f"entry {e.index}  id {e.id}\n"
    stats = e.record.get("statistics")
    if stats:
        # Statistics entries: the proven figures first, in the columns' own units.
        doc["statistics"] = stats
        header += f"{e.name}@{e.version}: {e.record.get('rows')} rows, statistics proven in zero knowledge\n"
        for column, s in stats.items():
            header += (f"  {column}: count {s['count']}, nulls {s['nulls']}, sum {s['sum']}, mean {s['mean']}, "
                       f"variance {s['variance']}, every value in [{s['min_bound']}, {s['max_bound']}]\n")
    _emit(args, doc, header + json.dumps(e.record, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


def cmd_verify(args) -> int:
    ledger = _open(args)
    e = ledger.resolve(args.entry)
    verify_inclusion(BLAKE3, e.index, ledger.size, e.leaf_hash, ledger.inclusion_proof(e.index), ledger.root())
    checks = [f"entry {e.index} is included in the ledger's tree of {ledger.size} (root {_b64(ledger.root())})"]
    if args.checkpoint:
        from ledger.trust import verify_entry_in_checkpoint   # cryptography: only when a checkpoint is given

        kept = verify_entry_in_checkpoint(ledger, e, _read_note(args.checkpoint, "--checkpoint"),
                                          _trusted_keys(args, "--checkpoint"), file=args.checkpoint)
        checks.append(f"entry {e.index} is included in the kept checkpoint {args.checkpoint} (size {kept.size}, "
                      f"root {_b64(kept.root)}, signed by {', '.join(kept.signers)}), which today's ledger extends")
    elif args.vkey:
        raise InputError("--vkey checks a kept checkpoint: give it with --checkpoint NOTE")
    verifier = ENTRY_VERIFIERS.get(e.kind)
    if verifier is None:
        raise PipelineError(f"no verifier for entry kind {e.kind!r}")
    checks.append(verifier(ledger, e, data=Path(args.data) if args.data else None, trust=_key_trust(args)))
    diffs: list[str] = []
    if args.data:
        from pipeline.notarize import compare, total_size

        data = e.record.get("data")
        if not data:
            raise InputError(f"entry {e.index} has no data commitment to compare with")
        target, files = Path(args.data), None
        if data.get("selection"):             # the part files a statistics entry read, selected alike
            from pipeline.dataset_files import dataset_of_entry

            chosen = dataset_of_entry(data, args.data)
            target, files = chosen.root, [(f.rel, f.path) for f in chosen.files]
        with progress_reporter("re-hash", total_size(target)) as tick:
            diffs = compare(data, target, progress=tick, files=files)
        checks.append(f"{args.data}: " + ("bytes match the entry" if not diffs else "DIFFERS: " + "; ".join(diffs)))
    ok = not diffs
    _emit(args, {"entry": _entry_summary(e), "ok": ok, "checks": checks, "differences": diffs},
          ("OK" if ok else "FAILED") + f" {e.name or e.kind}@{e.version} (entry {e.index})\n  " + "\n  ".join(checks))
    if not ok:
        print(f"zkp-ledger verify: error: {args.data} does not match entry {e.index}: {diffs[0]}", file=sys.stderr)
    return 0 if ok else 1


def cmd_inclusion(args) -> int:
    ledger = _open(args)
    e = ledger.resolve(args.entry)
    size = ledger.size if args.size is None else args.size
    if not e.index < size <= ledger.size:
        raise InputError(f"--size must be in {e.index + 1}..{ledger.size} for entry {e.index}")
    proof = ledger.inclusion_proof(e.index, size)
    doc = {"leafIdx": e.index, "treeSize": size, "root": _b64(ledger.root(size)), "leafHash": _b64(e.leaf_hash),
           "proof": [_b64(p) for p in proof]}
    _emit(args, doc, f"inclusion of entry {e.index} in the tree of {size} entries (BLAKE3, RFC 9162)\n"
          f"root {doc['root']}\nleaf hash {doc['leafHash']}\n" + "\n".join(doc["proof"]))
    return 0


def cmd_consistency(args) -> int:
    ledger = _open(args)
    new = ledger.size if args.new_size is None else args.new_size
    if not 0 < args.old_size <= new <= ledger.size:
        raise InputError(f"sizes must satisfy 0 < OLD_SIZE <= NEW_SIZE <= {ledger.size}")
    proof = ledger.consistency_proof(args.old_size, new)
    doc = {"size1": args.old_size, "size2": new, "root1": _b64(ledger.root(args.old_size)),
           "root2": _b64(ledger.root(new)), "proof": [_b64(p) for p in proof]}
    _emit(args, doc, f"consistency of the tree of {args.old_size} entries with that of {new} (BLAKE3, RFC 9162)\n"
          f"root1 {doc['root1']}\nroot2 {doc['root2']}\n" + "\n".join(doc["proof"]))
    return 0


def _read_note(path: str, option: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{option} {path}: cannot read checkpoint ({exc})") from None


def _trusted_keys(args, need: str) -> list:
    from ledger.checkpoint import load_verifier

    if not args.vkey:
        raise InputError(f"{need} needs --vkey KEY: the verifier key (text or file) you trust to sign this "
                         "ledger's checkpoints, obtained from its owner, not from the ledger folder")
    return [load_verifier(v) for v in args.vkey]


def cmd_checkpoint(args) -> int:
    from ledger.checkpoint import SigningKey, open_checkpoint, save_note, sign_checkpoint, verify_checkpoint_against

    ledger = _open(args)
    if args.verify:
        verifiers = _trusted_keys(args, "--verify")
        note = _read_note(args.verify, "--verify")
        try:
            cp = open_checkpoint(note, verifiers)
            proof = verify_checkpoint_against(ledger, cp)
        except LedgerError as exc:
            raise LedgerError(f"checkpoint {args.verify}: {exc}") from None
        doc = {"ok": True, "origin": cp.origin, "size1": cp.size, "size2": ledger.size, "root1": _b64(cp.root),
               "root2": _b64(ledger.root()), "proof": [_b64(p) for p in proof], "signers": list(cp.signers)}
        _emit(args, doc, f"OK: checkpoint at size {cp.size} signed by {', '.join(cp.signers)} is consistent with "
              f"the ledger at size {ledger.size}")
        return 0
    key_path = _key_path(args, ledger.path)
    if not args.key and not key_path.exists():
        raise LedgerError(f"no signing key at {key_path}; pass --key PATH (e.g. the key `init --key-dir` made "
                          "outside the ledger folder)")
    key = SigningKey.load(key_path)
    # A key kept outside the folder also keeps, beside it, the last checkpoint it signed for this
    # log: deleting the folder's checkpoints cannot then trick the signer into vouching for a rewrite.
    last = None if _is_within(key_path, ledger.dir) else \
        key_path.with_name(f"{key_path.name}.{_file_stem(ledger.origin)}.last.note")
    _refuse_rewritten_history(ledger, key, [last] if last is not None and last.exists() else [])
    note = sign_checkpoint(key, ledger.origin, ledger.size, ledger.root())
    out = save_note(ledger.checkpoints_dir / f"{ledger.size:012d}-{key.verifier.id.hex()}.note", note)
    doc = {"file": str(out), "note": note, "size": ledger.size, "root": _b64(ledger.root())}
    if last is not None:
        save_note(last, note)
        doc["signer_copy"] = str(last)
    if args.out:  # the copy the signer or an auditor keeps outside the ledger folder
        save_note(args.out, note)
        doc["kept"] = str(args.out)
    _emit(args, doc, note.rstrip("\n"))
    return 0


def _refuse_rewritten_history(ledger: Ledger, key: SigningKey, own: list[Path]) -> None:
    """Before signing today's tree, check it against every earlier checkpoint this key signed (in
    the folder, and the signer's own copies `own`), so that the signer never vouches for a
    rewritten or cut history."""
    from ledger.checkpoint import open_checkpoint, verify_checkpoint_against

    directory = ledger.checkpoints_dir
    for f in (sorted(directory.glob("*.note")) if directory.is_dir() else []) + own:
        try:
            cp = open_checkpoint(f.read_text(encoding="utf-8"), [key.verifier])
        except UnknownSignerError:
            continue  # another key's checkpoint: not ours to vouch for
        except (LedgerError, OSError, UnicodeDecodeError) as exc:
            raise LedgerError(f"checkpoint {f}: {exc}; refusing to sign until it is explained") from None
        try:
            verify_checkpoint_against(ledger, cp)
        except LedgerError as exc:
            raise LedgerError(f"refusing to sign: {exc} (your own checkpoint {f}); the ledger has been "
                              "tampered with, restore it from a copy that matches your checkpoints") from None


def cmd_audit(args) -> int:
    from ledger.audit import audit, write_report
    from ledger.checkpoint import load_verifier

    verifiers = _trusted_keys(args, "--checkpoint") if args.checkpoint else [load_verifier(v) for v in args.vkey]
    for kept in args.checkpoint:
        _read_note(kept, "--checkpoint")  # unreadable: a usage error, before the long audit
    check = None
    if args.proofs:
        trust = _key_trust(args)

        def check(ledger: Ledger, entry: Entry) -> str:
            return ENTRY_VERIFIERS[entry.kind](ledger, entry, trust=trust)
    if args.report and Path(args.report).is_dir():
        raise InputError(f"--report {args.report}: is a directory; give a file name")
    if args.report and Path(args.report).suffix not in (".html", ".htm", ".json"):
        raise InputError(f"--report {args.report}: the file must end in .html or .json")
    report = audit(args.ledger, verifiers=verifiers, kept=args.checkpoint,
                   allow_uncovered_tail=args.allow_uncovered_tail, entry_check=check)
    if args.report:
        write_report(report, args.report)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        for c in report.checks:
            print(f"{'note' if c.get('note') else 'ok  ' if c['ok'] else 'FAIL'} {c['check']}: {c['detail']}")
        for c in report.checkpoints:
            where = "kept checkpoint" if c["source"] == "kept" else "checkpoint"
            print(f"{'ok  ' if c['ok'] else 'FAIL'} {where} {c['file']}: {c['detail']}")
        bad = [x for x in report.entries if not x["ok"]]
        print(f"{'ok  ' if not bad else 'FAIL'} entries: {len(report.entries) - len(bad)} of {len(report.entries)} check")
        scope = "" if not report.ok or report.trust.get("trusted_keys") else \
            " (self-consistency only: no --vkey given)"
        print("audit " + ("passed" if report.ok else "FAILED") + scope
              + (f"; report in {args.report}" if args.report else ""))
    if not report.ok:
        print(f"zkp-ledger audit: error: {report.problems()[0]}", file=sys.stderr)
    return 0 if report.ok else 1


# --- registration ------------------------------------------------------------------------------

AUDIT_TRUST_HELP = """\
trust roots:
  Without --vkey the audit shows only that the ledger is self-consistent: whoever can write the
  ledger folder can rewrite the file and re-sign it with a key of their own.
  With --vkey K the audit trusts K alone. Keys found in the ledger folder (the genesis entry's
  signer, keys/*.pub) are reported, never trusted, and checkpoints only they signed count for
  nothing. The audit fails unless a checkpoint signed by a trusted key covers the tree.
  A trusted checkpoint (from the ledger's checkpoints/ folder, or a --checkpoint you kept) covers
  entries 0..S-1, S its tree size, when its origin is the ledger's, S is not beyond the ledger,
  and the RFC 9162 consistency proof from its root to today's root verifies; with S equal to
  today's size this means its root is today's root. The tree is covered when the newest trusted
  checkpoint has today's size. Entries appended after it are signed by nobody you trust: the audit
  fails and names them, unless --allow-uncovered-tail (then they are listed as unattested).
  A trusted checkpoint the ledger contradicts (other origin, more entries than the ledger, failed
  consistency proof) fails the audit, and so does a checkpoint file whose signature does not
  verify or that no key, trusted or found in the folder, signed.
  For a --checkpoint you kept, every entry below its size must also prove into its root.
  Checkpoints in the folder can be deleted together with the entries after them; only one you
  kept yourself detects that cut, so keep the newest checkpoint you have seen (checkpoint --out).
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def register(subparsers, common) -> None:
    def add(name, func, help_text):
        p = subparsers.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("init", cmd_init, "create an empty ledger and its Ed25519 signing key")
    p.add_argument("--origin", help="log origin for checkpoints (default: zkp-ledger/<random>)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--key", help="use this existing signing key file instead of making one")
    g.add_argument("--no-key", action="store_true", help="make no signing key")
    g.add_argument("--key-dir", metavar="DIR", help="make the signing key in DIR (outside the ledger folder, "
                   "mode 0700), as DIR/<origin>.key; only its verifier key goes into the ledger folder")

    p = add("keygen", cmd_keygen, "make an Ed25519 signing key (signed-note format) and its verifier key")
    p.add_argument("--name", help="key name (default: the ledger's origin)")
    p.add_argument("--out", help=f"key file (default: <ledger dir>/{DEFAULT_KEY}); the verifier key goes to OUT.pub")

    p = add("notarize", cmd_notarize, "record the BLAKE3 Merkle root, schema and row count of a file or directory")
    p.add_argument("dataset", metavar="DATASET", help="a file, or a directory (all its files, sorted)")
    p.add_argument("--name", required=True, help="dataset name; versions count up per name")
    p.add_argument("--tag", help="a label for this version")
    p.add_argument("--parent", metavar="ENTRY", help="lineage: the entry this dataset derives from "
                                                     "(default: the previous version of NAME)")
    p.add_argument("--format", default="auto", choices=["auto", "csv", "tsv", "parquet", "binary"],
                   help="how to read schema and rows (default: detect)")
    p.add_argument("--delimiter", metavar="CHAR", help="CSV field delimiter, e.g. ';' or '\\t' (default: ',' for "
                   ".csv, a tab for .tsv; given, a file of another suffix is read as CSV); recorded in the entry. "
                   "Compressed CSV (.csv.gz, .bz2, .xz, .zst) is committed as stored and its rows counted "
                   "as it decompresses")
    p.add_argument("--bytes-only", action="store_true", help="hash the bytes only; skip schema and row count")
    # The default is notarize's CHUNK_SIZE, read when the command runs (importing notarize costs start-up).
    p.add_argument("--chunk-size", type=_positive_int, default=None, help="bytes per Merkle leaf (default 4 MiB)")

    add("list", cmd_list, "list the entries of the ledger")
    p = add("history", cmd_history, "list the versions of one dataset")
    p.add_argument("name", metavar="NAME")
    p = add("show", cmd_show, "print one entry (ENTRY: index, entry id, NAME@VERSION or NAME)")
    p.add_argument("entry", metavar="ENTRY")
    p = add("verify", cmd_verify, "check an entry's inclusion and proofs; with --data, re-hash the data")
    p.add_argument("entry", metavar="ENTRY")
    p.add_argument("--data", metavar="DATASET", help="re-hash this file or directory and compare with the entry")
    p.add_argument("--checkpoint", metavar="NOTE", help="a checkpoint you kept (needs --vkey): signed by a trusted "
                   "key, today's ledger consistent with it, and the entry proved into its root; an entry "
                   "appended after it fails")
    p.add_argument("--vkey", action="append", default=[], help="verifier key (text or file) trusted to sign "
                   "--checkpoint; repeatable")
    _add_key_trust_options(p)
    p = add("inclusion", cmd_inclusion, "print the RFC 9162 inclusion proof of an entry")
    p.add_argument("entry", metavar="ENTRY")
    p.add_argument("--size", type=_positive_int, help="tree size to prove against (default: the whole ledger)")
    p = add("consistency", cmd_consistency, "print the RFC 9162 consistency proof between two tree sizes")
    p.add_argument("old_size", metavar="OLD_SIZE", type=_positive_int)
    p.add_argument("new_size", metavar="NEW_SIZE", type=_positive_int, nargs="?")
    p = add("checkpoint", cmd_checkpoint, "sign the current tree head (C2SP checkpoint), or --verify an old one")
    p.add_argument("--key", help=f"signing key file (default: <ledger dir>/{DEFAULT_KEY})")
    p.add_argument("--out", metavar="FILE", help="also write the signed checkpoint to FILE (a copy to keep "
                   "outside the ledger folder)")
    p.add_argument("--verify", metavar="NOTE", help="check a saved checkpoint against today's ledger (needs --vkey)")
    p.add_argument("--vkey", action="append", default=[], help="verifier key (text or file) trusted to sign "
                   "checkpoints; repeatable; keys in the ledger folder are never trusted")
    p = add("audit", cmd_audit, "recheck every record, the Merkle root, every checkpoint")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = AUDIT_TRUST_HELP
    p.add_argument("--proofs", action="store_true", help="also verify every entry's proofs (needs --vk, "
                   "--trusted-keys or --trust-entry-key)")
    _add_key_trust_options(p)
    p.add_argument("--report", metavar="FILE", help="write the report as FILE.html or FILE.json")
    p.add_argument("--vkey", action="append", default=[], help="verifier key (text or file) you trust to sign "
                   "this ledger's checkpoints; repeatable; the only keys trusted")
    p.add_argument("--checkpoint", action="append", default=[], metavar="NOTE",
                   help="a checkpoint you kept outside the ledger folder (needs --vkey); repeatable")
    p.add_argument("--allow-uncovered-tail", action="store_true",
                   help="pass when entries after the newest trusted checkpoint are unsigned (listed as unattested)")
