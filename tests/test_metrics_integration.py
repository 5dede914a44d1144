"""Metrics for real: `zkp-ledger batch --pushgateway` against a Debian prometheus-pushgateway on a
loopback port, a Debian prometheus scraping it (the query API returns what the batch pushed), and
`--metrics-port` serving /metrics while the job runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import (TINY_DATASETS, free_loopback_port, http_get, new_ledger, write_tiny_manifest,
                            zkp_ledger_exe)

CHUNKS = sum(-(-len(values) // 4) for _, values in TINY_DATASETS.values())
ROWS = sum(len(values) for _, values in TINY_DATASETS.values())


def _batch_argv(manifest, ledger, keys, *extra) -> list[str]:
    return [str(zkp_ledger_exe()), "batch", str(manifest), "--ledger", str(ledger), "--cluster", "local",
            "--workers", "1", "--keys", str(keys), *map(str, extra)]


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}


def _samples(text: str, name: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


@pytest.mark.timeout(600)
def test_batch_pushes_to_pushgateway_and_prometheus_scrapes_it(pushgateway, prometheus, tiny_keys, tmp_path):
    manifest = write_tiny_manifest(tmp_path / "data")
    ledger = new_ledger(tmp_path)
    proc = subprocess.run(_batch_argv(manifest, ledger, tiny_keys, "--pushgateway", pushgateway, "--json"),
                          capture_output=True, text=True, timeout=600, env=_env())
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    summary = json.loads(proc.stdout)

    status, body = http_get(f"{pushgateway}/metrics")
    assert status == 200
    chunks = [s for s in _samples(body, "zkp_ledger_chunks_proved_total") if s.labels.get("job") == "zkp-ledger"]
    assert len(chunks) == 1, chunks
    batch_id = chunks[0].labels.get("batch")
    assert batch_id == summary["batch"], (chunks[0].labels, summary)
    assert "slurm_job_id" not in chunks[0].labels  # outside SLURM the grouping key is the batch alone
    assert chunks[0].value == CHUNKS
    rows = [s for s in _samples(body, "zkp_ledger_rows_proved_total") if s.labels.get("batch") == batch_id]
    assert [s.value for s in rows] == [ROWS]
    seconds = [s for s in _samples(body, "zkp_ledger_chunk_prove_seconds_count")
               if s.labels.get("batch") == batch_id]
    assert [s.value for s in seconds] == [CHUNKS]

    query = f'zkp_ledger_chunks_proved_total{{job="zkp-ledger",batch="{batch_id}"}}'
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    deadline, result = time.monotonic() + 60, []
    while time.monotonic() < deadline:
        status, body = http_get(url)
        assert status == 200, body
        result = json.loads(body)["data"]["result"]
        if result:
            break
        time.sleep(0.5)
    assert len(result) == 1, f"prometheus never returned {query}"
    assert result[0]["metric"]["batch"] == batch_id and result[0]["metric"]["job"] == "zkp-ledger"
    assert float(result[0]["value"][1]) == CHUNKS


@pytest.mark.timeout(600)
def test_metrics_port_serves_metrics_while_the_batch_runs(tiny_keys, tmp_path):
    manifest = write_tiny_manifest(tmp_path / "data")
    ledger = new_ledger(tmp_path)
    port = free_loopback_port()
    log = open(tmp_path / "batch.log", "w+")
    proc = subprocess.Popen(_batch_argv(manifest, ledger, tiny_keys, "--metrics-port", port),
                            stdout=log, stderr=subprocess.STDOUT, env=_env())
    scraped = None
    try:
        while proc.poll() is None and scraped is None:
            try:
                status, body = http_get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                if status == 200 and "zkp_ledger_chunks_proved_total" in body:
                    scraped = body
            except OSError:
                time.sleep(0.05)
        assert proc.wait(timeout=600) == 0, (log.seek(0), log.read())[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert scraped is not None, f"nothing answered on --metrics-port {port} while the batch ran"
    assert _samples(scraped, "zkp_ledger_chunks_proved_total"), scraped
    assert "zkp_ledger_chunk_prove_seconds_bucket" in scraped
