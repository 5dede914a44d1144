"""`zkp-ledger bench throughput --quick` end to end: the JSON, the table, the PNG and the README block
are sane (numbers positive, every peer measured or named missing). Never asserts wall-clock times."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, missing, zkp_ledger_exe

PEERS = ("b3sum", "snarkjs", "arkworks", "py_ecc")


def positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, npm_tools):
    """One quick run, with snarkjs from the tests' npm prefix and b3sum from PATH (CI installs both)."""
    out = tmp_path_factory.mktemp("throughput")
    if shutil.which("b3sum") is None:
        missing("'b3sum' is not installed (bash .ci/run installs it)")
    env = {**os.environ, "ZKP_SNARKJS": str(npm_tools["snarkjs"]),
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("NUMBA_ENABLE_CUDASIM", None)          # the bench measures the CPU kernels, not the simulator
    proc = subprocess.run([str(zkp_ledger_exe()), "bench", "throughput", "--quick", "--results-dir", str(out),
                           "--device", "cpu"], capture_output=True, text=True, timeout=1800, env=env, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [result_path] = out.glob("throughput-quick-*.json")
    return json.loads(result_path.read_text()), result_path, proc


def test_json_numbers_are_positive_and_consistent(quick_run):
    result, _, _ = quick_run
    assert result["benchmark"] == "throughput" and result["device"] == "cpu" and result["gpu_used"] is False
    assert result["machine"]["cores"] >= 1 and len(result["machine"]["load_average"]) == 3
    sizes = result["settings"]["sizes"]
    [config] = result["configurations"]
    assert config["columns"] == 1 and config["constraints_per_chunk"] > 0
    assert [r["rows"] for r in config["sizes"]] == sizes
    for r in config["sizes"]:
        assert positive(r["bytes"]) and r["values"] == r["rows"]
        nz, p, v = r["notarize"], r["prove"], r["verify"]
        assert nz["rows"] == r["rows"] and positive(nz["gb_per_s"]) and positive(nz["peak_anon_mb"])
        assert p["rows"] == r["rows"] and p["chunks"] == -(-r["rows"] // result["settings"]["chunk_rows"])
        for key in ("seconds", "rows_per_s", "values_per_s", "constraints_per_s", "peak_anon_mb"):
            assert positive(p[key]), key
        assert p["constraints"] == p["chunks"] * config["constraints_per_chunk"]
        assert positive(v["seconds"]) and positive(v["peak_anon_mb"])
        assert positive(r["b3sum"]["gb_per_s"])
    k = result["kernels"]
    assert k["msm_points"] == 2 ** 8 and positive(k["ours_msm_s"]) and positive(k["ours_pairing_s"])


def test_every_peer_is_measured_or_named_missing(quick_run):
    result, _, proc = quick_run
    [config] = result["configurations"]
    for peer in PEERS:
        status = result["peers"][peer]
        assert status["available"] or status["missing"], peer
        if not status["available"]:
            assert peer in result["missing_peers"] and f"MISSING peer {peer}" in proc.stderr
    # the test environment has all four: each must have produced numbers, and agreed with us
    assert result["missing_peers"] == {}
    sj = config["snarkjs"]
    assert positive(sj["snarkjs_s"]) and positive(sj["snarkjs_rows_per_s"]) and positive(sj["ours_dropin_s"])
    assert sj["snarkjs_verifies_its_proof"] and sj["snarkjs_verifies_ours"]
    k = result["kernels"]
    assert positive(k["arkworks_msm_s"]) and positive(k["arkworks_pairing_s"]) and k["arkworks_msm_agrees"]
    assert positive(k["py_ecc_msm_s"]) and positive(k["py_ecc_pairing_s"]) and k["py_ecc_msm_agrees"]


def test_table_png_and_readme_block(quick_run, tmp_path):
    result, result_path, proc = quick_run
    table = result_path.with_suffix(".md").read_text()
    assert "no GPU was used" in table and result["machine"]["cpu"] in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and line.split("|")[2].strip() == "1"]
    assert len(rows) == len(result["settings"]["sizes"])
    assert "snarkjs" in table and "arkworks" in table and "Missing peers: none" in table
    png = result_path.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    # the README block is generated from the results file, and replaced (not duplicated) on a re-run
    readme = tmp_path / "README.md"
    readme.write_text("# project\n\nintro\n")
    for _ in range(2):
        subprocess.run([sys.executable, "-m", "bench.throughput", "--write-readme-table", str(result_path),
                        "--readme", str(readme)], check=True, cwd=REPO_ROOT, capture_output=True, text=True)
    text = readme.read_text()
    assert text.startswith("# project\n\nintro\n") and text.count("## Performance") == 1
    assert text.count("bench-throughput:begin") == 1 and f"{result_path.with_suffix('.png').name})" in text
    assert "no GPU was used" in text


def test_missing_peers_are_named_and_the_table_says_so(tmp_path, monkeypatch):
    """Without b3sum and snarkjs (hidden from PATH and the npm prefix) the peers are named missing,
    with how to install them, and the table and plot are still made."""
    from bench import throughput

    monkeypatch.setenv("ZKP_SNARKJS", str(tmp_path / "no-snarkjs"))
    monkeypatch.setenv("ZKP_B3SUM", str(tmp_path / "no-b3sum"))
    monkeypatch.setattr(throughput.shutil, "which", lambda name: None)
    peers = throughput.peers_available()
    assert not peers["b3sum"]["available"] and "apt-get install b3sum" in peers["b3sum"]["missing"]
    assert not peers["snarkjs"]["available"] and "npm install" in peers["snarkjs"]["missing"]
    assert throughput.measure_b3sum(None, tmp_path, 1) is None
    result = {"machine": {"host": "h", "cpu": "cpu", "cores": 2, "numba_threads": 2, "python": "3", "gpu": None,
                          "date": "2026-11-30T00:00:00+00:00", "load_average": [1.0, 1.0, 1.0]},
              "gpu_used": False, "workers": None, "device": "cpu",
              "settings": {"chunk_rows": 4, "range_bits": 8, "width": 3, "repeat": 1},
              "configurations": [{"columns": 1, "shape": "r4-c1-k8-t3", "snarkjs": {"constraints": 10,
                                  "ours_dropin_s": 1.0, "ours_dropin_first_s": 2.0, "ours_dropin_peak_anon_mb": 5.0},
                                  "sizes": [{"rows": 10, "bytes": 40, "values": 10, "b3sum": None,
                                             "notarize": {"gb_per_s": 1e-3, "peak_anon_mb": 1.0},
                                             "prove": {"rows_per_s": 5.0, "values_per_s": 5.0,
                                                       "constraints_per_s": 50.0, "peak_anon_mb": 2.0},
                                             "verify": {"seconds": 0.5, "peak_anon_mb": 3.0}}]}],
              "kernels": {"msm_points": 256, "ours_msm_s": 0.1, "ours_pairing_s": 0.01, "ours_threads": 2},
              "missing_peers": {k: v["missing"] for k, v in peers.items() if not v["available"]}}
    table = throughput.markdown_table(result)
    assert "**b3sum**" in table and "**snarkjs**" in table and "| missing |" in table
    assert throughput.plot(result, tmp_path / "p.png").stat().st_size > 0


def test_anonymous_memory_is_sampled_from_proc_not_rss(tmp_path):
    """A child that maps a large file read-only has little anonymous memory; one that allocates has more."""
    from bench.throughput import run_measured

    big = tmp_path / "big"
    big.write_bytes(b"\1" * (64 << 20))
    code = ("import mmap,sys,time;f=open(sys.argv[1],'rb');m=mmap.mmap(f.fileno(),0,access=mmap.ACCESS_READ);"
            "s=sum(m[i] for i in range(0,len(m),4096));print('BENCH-START',flush=True);"
            "b=bytearray(int(sys.argv[2]))\nfor i in range(0,len(b),4096): b[i]=1\ntime.sleep(0.5);"
            "print('BENCH-RESULT {\"ok\": 1}',flush=True)")
    mapped = run_measured([sys.executable, "-c", code, str(big), "0"])
    alloc = run_measured([sys.executable, "-c", code, str(big), str(128 << 20)])
    assert mapped["result"] == {"ok": 1} and mapped["peak_anon_mb"] < 60          # the 64 MB of file pages are not counted
    assert alloc["peak_anon_mb"] - alloc["baseline_anon_mb"] > 100
