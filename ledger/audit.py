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
from typing import Callable

from ledger.checkpoint import (VerifierKey, load_verifier, open_checkpoint, verify_checkpoint_against)
from ledger.entry import Entry
from ledger.errors import LedgerError
from ledger.merkle import BLAKE3, MerkleFrontier, verify_inclusion
from ledger.store import Ledger

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

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks) and all(e["ok"] for e in self.entries) \
            and all(c["ok"] for c in self.checkpoints)

    def problems(self) -> list[str]:
        out = [f"{c['check']}: {c['detail']}" for c in self.checks if not c["ok"]]
        out += [f"entry {e['index']}: {'; '.join(e['problems'])}" for e in self.entries if not e["ok"]]
        out += [f"checkpoint {c['file']}: {c['detail']}" for c in self.checkpoints if not c["ok"]]
        return out

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": check, "ok": ok, "detail": detail})

    def to_dict(self) -> dict:
        return {"ledger": self.ledger, "origin": self.origin, "size": self.size, "root": self.root,
                "ok": self.ok, "problems": self.problems(), "checks": self.checks,
                "entries": self.entries, "checkpoints": self.checkpoints}


def known_verifiers(ledger: Ledger) -> list[VerifierKey]:
    """The verifier keys the ledger itself names: the genesis signer and keys/*.pub beside it."""
    found: dict[str, VerifierKey] = {}
    signer = ledger.genesis.get("signer")
    if signer:
        v = load_verifier(signer)
        found[v.text()] = v
    keys = ledger.dir / "keys"
    if keys.is_dir():
        for pub in sorted(keys.glob("*.pub")):
            try:
                v = load_verifier(str(pub))
            except LedgerError:
                continue
            found[v.text()] = v
    return list(found.values())


def audit(path: str | os.PathLike, *, verifiers: list[VerifierKey] = (), entry_check: EntryCheck | None = None,
          lock_timeout: float = 5.0) -> AuditReport:
    """Audit the ledger at `path` read-only and return the report (never raises for damage it
    finds: damage is in `report.problems()`)."""
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
        _check_checkpoints(ledger, report, list(verifiers) + known_verifiers(ledger))
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


def _check_checkpoints(ledger: Ledger, report: AuditReport, verifiers: list[VerifierKey]) -> None:
    directory = ledger.checkpoints_dir
    files = sorted(directory.glob("*.note")) if directory.is_dir() else []
    for f in files:
        item = {"file": f.name, "size": None, "signers": [], "ok": False, "detail": ""}
        try:
            cp = open_checkpoint(f.read_text(encoding="utf-8"), verifiers)
            item.update(size=cp.size, signers=list(cp.signers), root=cp.root.hex())
            proof = verify_checkpoint_against(ledger, cp)
            item.update(ok=True, detail=f"signed by {', '.join(cp.signers)}; consistent with today's ledger "
                                        f"({len(proof)}-hash consistency proof)")
        except (LedgerError, OSError, UnicodeDecodeError) as exc:
            item["detail"] = str(exc)
        report.checkpoints.append(item)
    if not files:
        report.add("checkpoints", True, "no checkpoints yet (`zkp-ledger checkpoint` signs one)")


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
    cps = "".join(f"<tr><td>{e(c['file'])}</td><td>{badge(c['ok'])}</td><td>{c['size']}</td>"
                  f"<td>{e(', '.join(c['signers']))}</td><td>{e(c['detail'])}</td></tr>" for c in report.checkpoints)
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
<h2>Checks</h2>
<table><tr><th>check</th><th>result</th><th>detail</th></tr>{checks}</table>
<h2>Checkpoints</h2>
<table><tr><th>file</th><th>result</th><th>tree size</th><th>signers</th><th>detail</th></tr>{cps}</table>
<h2>Entries and lineage</h2>
<table><tr><th>#</th><th>result</th><th>dataset</th><th>kind</th><th>tag</th><th>parent</th><th>time</th>
<th>format</th><th>rows</th><th>bytes</th><th>data root</th><th>entry id</th><th>detail</th></tr>
{''.join(rows)}</table>
</body></html>
"""
