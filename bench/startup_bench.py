"""CLI start-up: seconds from process start until `zkp-ledger` first opens its input file.

    python -m bench.startup_bench [--repeats N]

Each case runs the CLI in a fresh interpreter with an audit hook that, on the first `open` of the
command's input file (the .zkey for `snarkjs prove`, the verification key for `snarkjs verify`,
the ledger for `verify`), writes the wall-clock time and which heavy modules are loaded, then
exits: what is timed is interpreter start, imports and argument parsing, never the work. The peer
in the same run is a bare `python -c pass` (the interpreter's own start-up on this machine, site
hooks of the virtual environment included). Saves `bench/results/startup-<machine>.json`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import machine_info, save_result

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("numba", "numpy", "pyarrow", "pandas", "dask", "kernels.ff", "cryptography")

CHILD = r"""
import os, sys, time
target, report, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
heavy = {heavy!r}

def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)) and os.fspath(args[0]) == target:
        loaded = sorted(h for h in heavy if h in sys.modules)
        with open(report, "w") as fh:
            fh.write(repr((time.time(), loaded)))
        os._exit(0)

sys.addaudithook(hook)
from pipeline.cli import main
sys.exit(main(argv))
"""


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def time_to_open(target: str, argv: list[str], folder: Path) -> tuple[float, list[str]]:
    """(seconds from spawn to the first open of `target`, heavy modules loaded by then)."""
    report = folder / "report.txt"
    report.unlink(missing_ok=True)
    code = CHILD.format(heavy=HEAVY)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", code, target, str(report), *argv], env=_env(),
                          capture_output=True, text=True, timeout=120)
    if not report.exists():
        raise RuntimeError(f"{argv}: never opened {target} (rc {proc.returncode}): {proc.stderr[-2000:]}")
    when, loaded = eval(report.read_text())  # noqa: S307  (our own child's repr of a tuple)
    return when - t0, loaded


def time_run(argv: list[str]) -> float:
    t0 = time.time()
    subprocess.run(argv, env=_env(), capture_output=True, timeout=120)
    return time.time() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {name: folder / name for name in ("c.zkey", "w.wtns", "vk.json", "public.json", "proof.json")}
        for path in files.values():
            path.write_bytes(b"")        # the child exits when it opens its input, before reading it
        ledger = folder / "l" / "ledger.jsonl"
        subprocess.run([sys.executable, "-m", "pipeline.cli", "init", "--ledger", str(ledger), "--no-key"],
                       env=_env(), check=True, capture_output=True)
        cases = {
            "snarkjs prove": (files["c.zkey"], ["snarkjs", "prove", str(files["c.zkey"]), str(files["w.wtns"]),
                                                 str(folder / "p.json"), str(folder / "pub.json")]),
            "snarkjs verify": (files["vk.json"], ["snarkjs", "verify", str(files["vk.json"]),
                                                   str(files["public.json"]), str(files["proof.json"])]),
            "verify": (ledger, ["verify", "0", "--ledger", str(ledger)]),
        }
        rows, best = [], {}
        for _ in range(args.repeats):         # interleaved, so the shared machine's load hits all alike
            best["python -c pass"] = min(best.get("python -c pass", 9e9), time_run([sys.executable, "-c", "pass"]))
            best["--help (to exit)"] = min(best.get("--help (to exit)", 9e9),
                                           time_run([sys.executable, "-m", "pipeline.cli", "--help"]))
            for name, (target, cli_argv) in cases.items():
                seconds, loaded = time_to_open(str(target), cli_argv, folder)
                if seconds < best.get(name, 9e9):
                    best[name] = seconds
                    best[name + " loaded"] = loaded
        for name in ("python -c pass", "--help (to exit)", *cases):
            row = {"command": name, "seconds": round(best[name], 4),
                   "over_bare_python_s": round(best[name] - best["python -c pass"], 4)}
            if name in cases:
                row["heavy_modules_loaded_at_first_read"] = best[name + " loaded"]
            rows.append(row)
            print(row, flush=True)
    payload = {"benchmark": "CLI start-up: process spawn to the first open of the input file (best of runs)",
               "goal": "<= 0.2 s for snarkjs prove and verify", "repeats": args.repeats,
               "machine": machine_info(), "rows": rows}
    print(save_result("startup", payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
