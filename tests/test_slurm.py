"""SLURM for real: a one-node cluster brought up by slurm/local-cluster.sh (Debian slurm-wlm, munge).

`sbatch slurm/prove.sbatch` proves a two-dataset manifest inside one allocation, and the entries
verify against keys the test made itself; `--cluster slurm` submits dask-jobqueue worker jobs from
this machine as from a login node. Without SLURM these skip, except in CI (ZKP_REQUIRE_INTEGRATIONS=1).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from pipeline.batch.cluster import job_script, open_cluster, slurm_cluster_kwargs
from pipeline.errors import InputError
from tests.conftest import (REPO_ROOT, TINY_DATASETS, new_ledger, run, write_tiny_manifest,
                            zkp_ledger_exe)

PROVE_SBATCH = REPO_ROOT / "slurm" / "prove.sbatch"


def _env_with_venv() -> dict:
    exe = zkp_ledger_exe()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env["PATH"] = f"{exe.parent}:{env.get('PATH', '')}"
    env["ZKP_LEDGER_BIN"] = str(exe)
    return env


def _verify_tiny_entries(ledger, keys):
    for name in TINY_DATASETS:
        proc = run([zkp_ledger_exe(), "verify", f"{name}@1", "--ledger", ledger, "--trusted-keys", keys])
        assert f"OK {name}@1" in proc.stdout, proc.stdout
        assert "pinned by --trusted-keys" in proc.stdout, proc.stdout


def _squeue_jobs(name: str = "zkp-ledger") -> list[str]:
    out = subprocess.run(["squeue", "-h", "-n", name, "-o", "%i"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


# --- The job script and the options (dask-jobqueue renders it; no SLURM needed) ---------------------

def test_job_script_carries_size_queue_account_walltime_and_gpus():
    script = job_script({"queue": "gpu", "account": "proj42", "walltime": "02:30:00", "cores": 4,
                         "memory": "16GB", "gpus_per_job": 2})
    lines = script.splitlines()
    for directive in ("#SBATCH -p gpu", "#SBATCH -A proj42", "#SBATCH -t 02:30:00",
                      "#SBATCH --cpus-per-task=4", "#SBATCH --gres=gpu:2", "#SBATCH -J zkp-ledger"):
        assert directive in lines, script
    assert any(line.startswith("#SBATCH --mem=") for line in lines), script
    assert "export PYTHONSAFEPATH=1" in lines, script  # the submit directory never shadows the package
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert "--nworkers 4" in worker and "--nthreads 1" in worker, worker  # one thread per process


def test_job_script_without_gpus_asks_for_none():
    script = job_script({"cores": 2, "memory": "2GB"})
    assert "--gres" not in script
    assert "#SBATCH --cpus-per-task=2" in script.splitlines()


@pytest.mark.parametrize("options, names", [
    ({"partition": "x"}, "partition"),
    ({"walltime": "two hours"}, "walltime"),
    ({"memory": "lots"}, "memory"),
    ({"cores": 0}, "cores"),
    ({"cores": "four"}, "cores"),
    ({"gpus_per_job": -1}, "gpus_per_job"),
    ({"cores": 4, "processes": 3}, "processes"),
])
def test_bad_slurm_options_are_one_line_naming_the_key(options, names):
    with pytest.raises(InputError) as err:
        slurm_cluster_kwargs(options)
    assert names in str(err.value) and "\n" not in str(err.value)


def test_cli_spelling_of_options_is_accepted():
    kwargs = slurm_cluster_kwargs({"gpus-per-job": 1, "cores": 2, "queue": None})
    assert kwargs["job_extra_directives"] == ["--gres=gpu:1"] and kwargs["queue"] is None


def test_local_cuda_says_in_one_line_what_is_missing_or_runs_on_the_gpus():
    try:
        with open_cluster("local-cuda", log=lambda text: None) as client:
            # dask_cuda and a GPU are present: every worker sees exactly one device.
            visible = client.run(lambda: os.environ.get("CUDA_VISIBLE_DEVICES", ""))
            assert visible and all(v for v in visible.values())
    except InputError as err:
        assert "local-cuda" in str(err) and "\n" not in str(err)
        assert "dask-cuda" in str(err) or "no NVIDIA GPU" in str(err)


# --- A real one-node SLURM ---------------------------------------------------------------------------

@pytest.mark.timeout(900)
def test_sbatch_proves_a_two_dataset_manifest_that_verifies(slurm_cluster, tiny_keys, tmp_path, pushgateway):
    manifest = write_tiny_manifest(tmp_path / "data")
    ledger = new_ledger(tmp_path)
    out = tmp_path / "job-%j.out"
    env = {**_env_with_venv(), "ZKP_PUSHGATEWAY": pushgateway}
    proc = subprocess.run(
        ["sbatch", "--wait", "--parsable", "--cpus-per-task=2", "--time=00:15:00", f"--chdir={tmp_path}",
         f"--output={out}", str(PROVE_SBATCH), str(manifest), str(ledger), "--keys", str(tiny_keys)],
        capture_output=True, text=True, timeout=900, env=env)
    job_id = proc.stdout.strip().split(";")[0]
    log = (tmp_path / f"job-{job_id}.out")
    log_text = log.read_text(errors="replace") if log.exists() else "(no job output)"
    assert proc.returncode == 0, f"sbatch --wait failed ({proc.returncode}): {proc.stderr}\n{log_text}"
    assert f"zkp-ledger job {job_id} on" in log_text, log_text
    _verify_tiny_entries(ledger, tiny_keys)

    # The job pushed its metrics grouped by its own SLURM job id.
    from prometheus_client.parser import text_string_to_metric_families

    from tests.conftest import http_get
    status, body = http_get(f"{pushgateway}/metrics")
    assert status == 200
    chunks = [s for f in text_string_to_metric_families(body) for s in f.samples
              if s.name == "zkp_ledger_chunks_proved_total" and s.labels.get("job") == "zkp-ledger"]
    assert [s.labels.get("slurm_job_id") for s in chunks] == [job_id], chunks
    assert chunks[0].value == sum(-(-len(v) // 4) for _, v in TINY_DATASETS.values())


@pytest.mark.timeout(900)
def test_sbatch_without_a_manifest_says_how_to_call_it(slurm_cluster, tmp_path):
    proc = subprocess.run(["sbatch", "--wait", "--parsable", f"--chdir={tmp_path}",
                           f"--output={tmp_path / 'job.out'}", str(PROVE_SBATCH)],
                          capture_output=True, text=True, timeout=300, env=_env_with_venv())
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "usage: sbatch" in (tmp_path / "job.out").read_text()


@pytest.mark.timeout(600)
def test_dask_jobqueue_workers_run_as_slurm_jobs_and_leave_with_the_client(slurm_cluster, tmp_path):
    options = {"cores": 1, "memory": "1GB", "walltime": "00:10:00", "log_directory": str(tmp_path)}
    with open_cluster("slurm", 2, options, log=lambda text: None) as client:
        client.wait_for_workers(2, timeout=240)
        jobs = client.run(lambda: os.environ.get("SLURM_JOB_ID"))
        assert len(set(jobs.values())) == 2 and all(jobs.values()), jobs
        assert set(jobs.values()) <= set(_squeue_jobs())
        assert client.submit(pow, 3, 5).result() == 243
    deadline = time.monotonic() + 60
    while set(jobs.values()) & set(_squeue_jobs()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not set(jobs.values()) & set(_squeue_jobs()), "the worker jobs outlived the client"


@pytest.mark.timeout(900)
def test_batch_with_cluster_slurm_from_a_login_node(slurm_cluster, tiny_keys, tmp_path):
    manifest = write_tiny_manifest(tmp_path / "data", cluster={
        "cores": 1, "memory": "1GB", "walltime": "00:15:00", "log_directory": str(tmp_path / "worker-logs")})
    ledger = new_ledger(tmp_path)  # tmp_path/ledger/: the worker jobs start here and must not import it
    proc = subprocess.run([str(zkp_ledger_exe()), "batch", str(manifest), "--ledger", str(ledger),
                           "--cluster", "slurm", "--workers", "2", "--keys", str(tiny_keys), "--json"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=_env_with_venv())
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    json.loads(proc.stdout)
    _verify_tiny_entries(ledger, tiny_keys)
