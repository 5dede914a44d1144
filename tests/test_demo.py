"""The README's main job, end to end on a small sample: `zkp-ledger demo`."""

from __future__ import annotations

from pipeline.cli import main as cli


def test_demo_plays_auditor_and_owner_and_passes(tmp_path, capsys):
    ledger = tmp_path / "zkp-ledger" / "ledger.jsonl"
    assert cli(["demo", "--ledger", str(ledger), "--rows", "20", "--chunk-rows", "8", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "# auditor: make the Groth16 keys" in out and "# data owner: prove" in out
    assert "pinned by --vk" in out and "data re-encoded and matched every commitment" in out
    assert "covers all 2 entries" in out and out.rstrip().endswith("audit passed")
    # the auditor's keys live apart from the owner's ledger folder's key store, which stays empty
    assert (tmp_path / "zkp-ledger" / "auditor-keys" / "r8-c2-k20-t9" / "verifying.key").is_file()
    assert not (tmp_path / "zkp-ledger" / "keys" / "r8-c2-k20-t9").exists()
