"""Audit: recheck every record, the Merkle root, every inclusion, every checkpoint; report as JSON or HTML.

The audit never modifies the ledger (an unfinished append at the end is reported, not cut).
"""

from __future__ import annotations

import base64
import fcntl
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ledger.checkpoint import VerifierKey
from ledger.entry import Entry
from ledger.errors import LedgerError
from ledger.merkle import BLAKE3, MerkleFrontier, verify_inclusion
from ledger.store import Ledger
from ledger.trust import FOLDER, KEPT, HeadCheck, check_head, coverage, folder_verifiers

COVERAGE = "trusted checkpoint"  # the check that a trusted checkpoint covers the tree

# A hook for proof checks (the pipeline's Groth16 verifier): returns a short note or raises.
EntryCheck = Callable[[Ledger, Entry], str]


@dataclass
class AuditReport:
    ledger: str
    origin: str | None = None
    size: int = 0
    root: str | None = None
    checks: list[dict] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    checkpoints: list[dict] = field(default_factory=list)
    trust: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks) and all(e["ok"] for e in self.entries) \
            and all(c["ok"] for c in self.checkpoints)

    def problems(self) -> list[str]:
        """Every failure, the most specific first: damage, then bad checkpoints, then coverage."""
        out = [f"{c['check']}: {c['detail']}" for c in self.checks if not c["ok"] and c["check"] != COVERAGE]
        out += [f"entry {e['index']}: {'; '.join(e['problems'])}" for e in self.entries if not e["ok"]]
        out += [f"checkpoint {c['file']}: {c['detail']}" for c in self.checkpoints if not c["ok"]]
        out += [f"{c['check']}: {c['detail']}" for c in self.checks if not c["ok"] and c["check"] == COVERAGE]
        return out

    @property
    def trusted(self) -> bool:
        """Whether a checkpoint signed by a key the auditor named vouches for the tree."""
        return bool(self.trust.get("complete"))

    def add(self, check: str, ok: bool, detail: str, *, note: bool = False) -> None:
        """Record a check; `note` marks a passing check the reader should not take for assurance."""
        self.checks.append({"check": check, "ok": ok, "detail": detail, **({"note": True} if note else {})})

    def to_dict(self) -> dict:
        return {"ledger": self.ledger, "origin": self.origin, "size": self.size, "root": self.root,
                "ok": self.ok, "problems": self.problems(), "checks": self.checks,
                "entries": self.entries, "checkpoints": self.checkpoints, "trust": self.trust}


def audit(path: str | os.PathLike, *, verifiers: Sequence[VerifierKey] = (),
          kept: Sequence[str | os.PathLike] = (), allow_uncovered_tail: bool = False,
          entry_check: EntryCheck | None = None, lock_timeout: float = 5.0) -> AuditReport:
    """Audit the ledger at `path` read-only and return the report (never raises for damage it
    finds: damage is in `report.problems()`).

    `verifiers` are the keys the auditor trusts, and the only ones: keys found in the ledger
    folder are reported, never trusted. With `verifiers`, the audit fails unless a checkpoint
    they signed (in checkpoints/ or among the `kept` files) covers the whole tree (see
    ledger.trust), or, with `allow_uncovered_tail`, some prefix of it. `kept` are checkpoint
    files the auditor kept outside the ledger folder: each must be signed by a trusted key, the
    ledger must extend it, and every entry below its size must prove into its root. Without
    `verifiers` (and `kept`) the audit checks only that the ledger is self-consistent."""
    path = Path(path)
    report = AuditReport(str(path))
    try:
        ledger = Ledger.open(path, lock_timeout=lock_timeout, repair=False)
    except LedgerError as exc:
        report.add("records", False, str(exc))
        return report
    with ledger:
        report.origin, report.size = ledger.origin, ledger.size
        report.root = ledger.root().hex()
        report.add("records", True, f"{ledger.size} records: canonical form, checksums, leaf hashes, indices, "
                                    "prev_root chain, versions and parents all check")
        _check_tail(ledger, report)
        _check_entries(ledger, report, entry_check)
        _check_tree(ledger, report)
        _check_trust(ledger, report, list(verifiers), list(kept), allow_uncovered_tail)
    return report


def _check_tail(ledger: Ledger, report: AuditReport) -> None:
    size = os.path.getsize(ledger.path)
    extra = size - ledger._idx.end
    if extra <= 0:
        report.add("end of file", True, "the file ends with a complete record")
        return
    fd = os.open(ledger.path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            active = False
        except BlockingIOError:
            active = True
    finally:
        os.close(fd)
    if active:
        report.add("end of file", True, f"{extra} bytes of an append in progress (writer holds the lock)")
    else:
        report.add("end of file", False, f"{extra} bytes of an unfinished append (torn line) after entry "
                                         f"{ledger.size - 1}; the next open or append cuts them off")


def _check_entries(ledger: Ledger, report: AuditReport, entry_check: EntryCheck | None) -> None:
    for entry in ledger.entries():
        problems: list[str] = []
        notes: list[str] = []
        rec = entry.record
        bundle = rec.get("proof_bundle")
        if bundle:
            try:
                ledger.get_object(bundle)
                notes.append("proof bundle present and matches its hash")
            except LedgerError as exc:
                problems.append(str(exc))
        if entry_check is not None and entry.kind != "genesis":
            try:
                notes.append(entry_check(ledger, entry))
            except Exception as exc:  # a failing proof check is a finding, not a crash
                problems.append(str(exc))
        data = rec.get("data") or {}
        report.entries.append({
            "index": entry.index, "id": entry.id, "kind": entry.kind, "name": rec.get("name"),
            "version": rec.get("version"), "tag": rec.get("tag"), "parent": rec.get("parent"),
            "time": rec.get("time"), "rows": rec.get("rows"), "format": data.get("format"),
            "data_root": data.get("root"), "data_size": data.get("size"),
            "ok": not problems, "problems": problems, "notes": [n for n in notes if n],
        })


def _check_tree(ledger: Ledger, report: AuditReport) -> None:
    # Recompute the root from the leaves with independent code, then prove every entry into it.
    frontier = MerkleFrontier(BLAKE3)
    for entry in ledger.entries():
        frontier.append(entry.leaf_hash)
    root = ledger.root()
    if frontier.root() != root:
        report.add("merkle root", False, "root recomputed from the leaves differs from the tree's root")
        return
    report.add("merkle root", True, f"root {root.hex()} of {ledger.size} entries recomputed from the leaves")
    bad = []
    for i in range(ledger.size):
        try:
            verify_inclusion(BLAKE3, i, ledger.size, ledger.tree.leaf_hash(i), ledger.inclusion_proof(i), root)
        except LedgerError as exc:
            bad.append(f"{i}: {exc}")
    report.add("inclusion proofs", not bad, "; ".join(bad[:5]) if bad else f"all {ledger.size} entries prove into the root")


def _check_trust(ledger: Ledger, report: AuditReport, trusted: list[VerifierKey], kept: list,
                 allow_uncovered_tail: bool) -> None:
    folder = folder_verifiers(ledger)
    trusted_texts = {v.text() for v in trusted}
    heads = []
    directory = ledger.checkpoints_dir
    for f in sorted(directory.glob("*.note")) if directory.is_dir() else []:
        heads.append(_check_file(ledger, f, f.name, FOLDER, trusted, [v for _, v in folder]))
    for k in kept:
        heads.append(_check_file(ledger, Path(k), str(k), KEPT, trusted, []))
    report.checkpoints.extend(h.to_dict() for h in heads)
    cov = coverage(ledger.size, heads)
    report.trust = {
        "trusted_keys": sorted(trusted_texts),
        "folder_keys": [{"where": where, "key": v.text(), "trusted": v.text() in trusted_texts} for where, v in folder],
        "covered": cov.covered, "size": ledger.size, "complete": cov.complete,
        "newest_trusted_checkpoint": cov.newest.file if cov.newest else None,
    }
    if folder:
        listed = ", ".join(f"{where}: {v.name}+{v.id.hex()}" + (" (also given as trusted)" if v.text() in trusted_texts
                                                               else "") for where, v in folder)
        report.add("keys in the ledger folder", True, f"{listed}; reported, never trusted by themselves")
    if not trusted and not kept:
        report.add("trust roots", True, "none given: this shows the ledger is self-consistent, not that it is the "
                                        "ledger its owner signed (anyone who can write the folder can rewrite and "
                                        "re-sign it); pass --vkey KEY and --checkpoint NOTE you kept", note=True)
        return
    keys = ", ".join(v.name + "+" + v.id.hex() for v in trusted) or "none given"
    if cov.newest is None:
        report.add(COVERAGE, False, f"no checkpoint signed by a trusted key ({keys}) covers the tree of "
                                                f"{ledger.size} entries; have the key holder sign one with "
                                                "`zkp-ledger checkpoint`, and keep a copy outside the ledger folder")
    elif cov.complete:
        report.add(COVERAGE, True, f"{cov.newest.file} (signed by {', '.join(cov.newest.signers)}) "
                                               f"covers all {ledger.size} entries")
    else:
        late = f"entry {cov.covered} was" if cov.covered == ledger.size - 1 else \
            f"entries {cov.covered}..{ledger.size - 1} were"
        tail = f"{late} appended after the newest trusted checkpoint {cov.newest.file} (size {cov.covered}) " \
               "and no trusted key has signed them"
        if allow_uncovered_tail:
            report.add(COVERAGE, True, f"{tail}: accepted as unattested (--allow-uncovered-tail)")
        else:
            report.add(COVERAGE, False, f"{tail}; have the key holder run `zkp-ledger checkpoint`, "
                                                    "or pass --allow-uncovered-tail to accept them unattested")


def _check_file(ledger: Ledger, path: Path, label: str, source: str, trusted: list[VerifierKey],
                folder: list[VerifierKey]) -> HeadCheck:
    try:
        note = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return HeadCheck(source, label, detail=f"cannot read {path}: {exc}")
    return check_head(ledger, note, trusted=trusted, folder=folder, source=source, file=label)


def write_report(report: AuditReport, out: str | os.PathLike) -> Path:
    """Write `report` as JSON (.json) or a browser-readable page (.html)."""
    out = Path(out)
    if out.suffix == ".json":
        text = json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n"
    elif out.suffix in (".html", ".htm"):
        text = render_html(report)
    else:
        raise LedgerError(f"report file {out} must end in .html or .json")
    out.write_text(text, encoding="utf-8")
    return out


def render_html(report: AuditReport) -> str:
    e = html.escape

    def badge(ok: bool) -> str:
        return '<span class="ok">OK</span>' if ok else '<span class="bad">FAIL</span>'

    by_id = {x["id"]: x for x in report.entries}
    rows = []
    for x in report.entries:
        parent = by_id.get(x["parent"]) if x["parent"] else None
        lineage = f'<a href="#e{parent["index"]}">{e(str(parent["name"]))}@{parent["version"]}</a>' if parent else ""
        detail = "; ".join(x["problems"] + x["notes"])
        name = f'{e(str(x["name"]))}@{x["version"]}' if x["name"] else e(x["kind"])
        rows.append(
            f'<tr id="e{x["index"]}"><td>{x["index"]}</td><td>{badge(x["ok"])}</td><td>{name}</td>'
            f'<td>{e(x["kind"])}</td><td>{e(str(x["tag"] or ""))}</td><td>{lineage}</td>'
            f'<td>{e(str(x["time"] or ""))}</td><td>{e(str(x["format"] or ""))}</td>'
            f'<td>{"" if x["rows"] is None else x["rows"]}</td><td>{"" if x["data_size"] is None else x["data_size"]}</td>'
            f'<td><code>{e((x["data_root"] or "")[:16])}</code></td><td><code>{e(x["id"][:16])}</code></td>'
            f'<td>{e(detail)}</td></tr>')
    checks = "".join(f"<tr><td>{e(c['check'])}</td><td>{badge(c['ok'])}</td><td>{e(c['detail'])}</td></tr>"
                     for c in report.checks)
    cps = "".join(f"<tr><td>{e(c['file'])}</td><td>{e(c['source'])}</td><td>{badge(c['ok'])}</td>"
                  f"<td>{'yes' if c['trusted'] else 'no'}</td><td>{c['size']}</td>"
                  f"<td>{e(', '.join(c['signers']))}</td><td>{e(c['detail'])}</td></tr>" for c in report.checkpoints)
    t = report.trust
    if not t.get("trusted_keys") and not any(c["source"] == KEPT for c in report.checkpoints):
        trust = ("No trust roots were given: this page shows the ledger is self-consistent, "
                 "not that its owner signed it.")
    elif t.get("complete"):
        newest = e(str(t["newest_trusted_checkpoint"]))
        trust = f"A checkpoint signed by a trusted key covers all {t['size']} entries ({newest})."
    else:
        trust = f"Trusted checkpoints cover {t.get('covered', 0)} of {t.get('size', report.size)} entries."
    trust += " Trusted keys: " + (", ".join(f"<code>{e(k)}</code>" for k in t.get("trusted_keys", [])) or "none") + "."
    root_b64 = base64.b64encode(bytes.fromhex(report.root)).decode() if report.root else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Ledger audit: {e(report.ledger)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}} th{{background:#f3f3f3}}
.ok{{color:#fff;background:#2a7d2a;padding:1px 6px;border-radius:3px}}
.bad{{color:#fff;background:#b22;padding:1px 6px;border-radius:3px}} code{{font-size:90%}}
</style></head><body>
<h1>Ledger audit {badge(report.ok)}</h1>
<p>Ledger <code>{e(report.ledger)}</code>, origin <code>{e(str(report.origin))}</code>,
{report.size} entries, Merkle root (BLAKE3) <code>{e(str(report.root))}</code> (base64 <code>{e(root_b64)}</code>).</p>
<p>{trust}</p>
<h2>Checks</h2>
<table><tr><th>check</th><th>result</th><th>detail</th></tr>{checks}</table>
<h2>Checkpoints</h2>
<table><tr><th>file</th><th>found in</th><th>result</th><th>trusted</th><th>tree size</th><th>signers</th>
<th>detail</th></tr>{cps}</table>
<h2>Entries and lineage</h2>
<table><tr><th>#</th><th>result</th><th>dataset</th><th>kind</th><th>tag</th><th>parent</th><th>time</th>
<th>format</th><th>rows</th><th>bytes</th><th>data root</th><th>entry id</th><th>detail</th></tr>
{''.join(rows)}</table>
</body></html>
"""
