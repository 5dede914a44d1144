"""Start-up of `zkp-ledger`: which modules are loaded before a command reads its first file.

An import-graph check, not a clock: each case runs the CLI in a fresh interpreter with an audit hook
that, at the first `open` of the command's input file, prints the heavy modules already loaded and
exits. Numba (and for the lighter paths NumPy, pyarrow, pandas, Dask) must not be among them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("numba", "numpy", "pyarrow", "pandas", "dask", "kernels.ff", "kernels.ec", "cryptography")

CHILD = r"""
import json, os, sys
target, argv = sys.argv[1], sys.argv[2:]
heavy = {heavy!r}

def loaded():
    return sorted(h for h in heavy if h in sys.modules)

def hook(event, args):
    if event == "open" and isinstance(args[0], (str, os.PathLike)) and os.fspath(args[0]) == target:
        print("LOADED " + json.dumps(loaded()), flush=True)
        os._exit(0)

sys.addaudithook(hook)
from pipeline.cli import main
try:
    code = main(argv)
except SystemExit as exc:
    code = exc.code
print("EXIT " + json.dumps(loaded()), flush=True)
sys.exit(code or 0)
"""


def _run(target: str, argv: list[str]) -> tuple[str, list[str]]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", CHILD.format(heavy=HEAVY), target, *argv], env=env,
                          capture_output=True, text=True, timeout=120)
    for line in proc.stdout.splitlines():
        if line.startswith(("LOADED ", "EXIT ")):
            kind, _, modules = line.partition(" ")
            return kind, json.loads(modules)
    raise AssertionError(f"no report (rc {proc.returncode}): {proc.stderr[-2000:]}")


def test_help_loads_no_numeric_stack():
    kind, loaded = _run("/nonexistent", ["--help"])
    assert kind == "EXIT"
    assert loaded == [], f"`zkp-ledger --help` imported {loaded}"


@pytest.mark.parametrize("argv", [["snarkjs", "--help"], ["snarkjs", "prove", "--help"], ["verify", "--help"],
                                  ["prove", "--help"], ["notarize", "--help"]])
def test_subcommand_help_loads_no_numba(argv):
    kind, loaded = _run("/nonexistent", argv)
    assert kind == "EXIT"
    assert not {"numba", "numpy", "kernels.ff"} & set(loaded), f"{argv} imported {loaded}"


def test_snarkjs_prove_reads_the_key_before_loading_numba(tmp_path):
    zkey = tmp_path / "c.zkey"
    zkey.write_bytes(b"")
    kind, loaded = _run(str(zkey), ["snarkjs", "prove", str(zkey), str(tmp_path / "w.wtns"),
                                    str(tmp_path / "p.json"), str(tmp_path / "pub.json"), "--device", "auto"])
    assert kind == "LOADED", "the .zkey was never opened"
    assert not {"numba", "numpy", "kernels.ff"} & set(loaded), loaded


def test_snarkjs_verify_reads_the_key_before_loading_numpy(tmp_path):
    vk = tmp_path / "vk.json"
    vk.write_text("{}")
    kind, loaded = _run(str(vk), ["snarkjs", "verify", str(vk), str(tmp_path / "public.json"),
                                  str(tmp_path / "proof.json")])
    assert kind == "LOADED"
    assert not {"numba", "numpy", "kernels.ff", "kernels.ec"} & set(loaded), loaded


def test_ledger_verify_reads_the_ledger_before_loading_numba(tmp_path):
    ledger = tmp_path / "l" / "ledger.jsonl"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-m", "pipeline.cli", "init", "--ledger", str(ledger), "--no-key"],
                   env=env, check=True, capture_output=True, timeout=120)
    kind, loaded = _run(str(ledger), ["verify", "0", "--ledger", str(ledger)])
    assert kind == "LOADED"
    assert not {"numba", "numpy", "pyarrow", "kernels.ff", "cryptography"} & set(loaded), loaded


def test_snarkjs_verify_bad_json_is_one_line_naming_the_file(tmp_path, capsys):
    from pipeline.cli import main

    vk = tmp_path / "vk.json"
    vk.write_text("{not json")
    (tmp_path / "public.json").write_text("[]")
    (tmp_path / "proof.json").write_text("{}")
    assert main(["snarkjs", "verify", str(vk), str(tmp_path / "public.json"), str(tmp_path / "proof.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(vk) in err[0] and "not valid JSON" in err[0]


def test_help_defaults_match_the_constants_they_name():
    # The parser does not import notarize or ingest (start-up), so their defaults are spelled in the help.
    from pipeline.cli import build_parser
    from pipeline.ingest import DEFAULT_BLOCKSIZE
    from pipeline.notarize import CHUNK_SIZE

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    assert f"default {CHUNK_SIZE >> 20} MiB" in sub["notarize"].format_help()
    assert CHUNK_SIZE == (CHUNK_SIZE >> 20) << 20
    assert f"default {DEFAULT_BLOCKSIZE >> 20} MiB" in sub["prove"].format_help()


def test_groth16_package_names_resolve_lazily():
    import pipeline.groth16 as g16
    from pipeline.groth16.setup import setup as setup_fn

    assert g16.setup is setup_fn and callable(g16.setup)   # the function, not the submodule of that name
    assert g16.prove.__module__ == "pipeline.groth16.prover"
    with pytest.raises(AttributeError):
        g16.no_such_name  # noqa: B018
