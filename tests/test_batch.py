"""`zkp-ledger batch` on a real Dask LocalCluster: manifests, per-dataset failures, resume after SIGKILL,
a damaged cache file, a worker killed mid-task, and the in-process path giving the same statistics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import Ledger
from pipeline.cli import main as cli
from pipeline.errors import InputError

TINY = "range_bits = 8\nchunk_rows = 4\nwidth = 3\n"
SHAPE = "r4-c1-k8-t3"


def dataset(folder: Path, name: str, values: list) -> Path:
    path = folder / f"{name}.csv"
    path.write_text("id,v\n" + "".join(f"{i},{'' if v is None else v}\n" for i, v in enumerate(values)))
    return path


def manifest(folder: Path, items: list[tuple[str, str]]) -> Path:
    path = folder / "manifest.toml"
    path.write_text("".join(f'[[dataset]]\npath = "{p}"\nname = "{n}"\ncolumns = ["v"]\n'
                            f'range = {{ v = "0:200" }}\n{TINY}\n' for p, n in items))
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("batch-keys") / "keys"
    assert cli(["setup", "--shape", SHAPE, "--out", str(folder)]) == 0
    return folder


def new_ledger(folder: Path) -> Path:
    ledger = folder / "l" / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger), "--no-key"]) == 0
    return ledger


def run_batch(*args, check=True) -> tuple[int, dict, str]:
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "batch", *map(str, args), "--json"],
                          capture_output=True, text=True, timeout=900)
    if check and proc.returncode not in (0, 1):
        raise AssertionError(proc.stderr)
    doc = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return proc.returncode, doc, proc.stderr


def test_manifest_errors_are_one_line(tmp_path):
    from pipeline.batch.manifest import load_manifest

    for text, message in (("", "no [[dataset]] tables"), ("[[dataset]]\nname='x'\ncolumns=['v']\n", "'path' is required"),
                          ("[[dataset]]\npath='a'\nname='x'\ncolumns=['v']\nrows=3\n", "unknown key"),
                          ("[[dataset]]\npath='a'\nname='x'\ncolumns=['v']\nchunk_rows=0\n", "positive whole number"),
                          ("[[dataset\n", "not valid TOML"), ("[other]\n", "unknown top-level")):
        path = tmp_path / "m.toml"
        path.write_text(text)
        with pytest.raises(InputError) as info:
            load_manifest(path)
        assert message in str(info.value) and str(path) in str(info.value)


def test_two_workers_record_good_datasets_and_name_the_bad_one(tmp_path, keys):
    ledger = new_ledger(tmp_path)
    dataset(tmp_path, "a", list(range(1, 14)))
    dataset(tmp_path, "bad", [1, "ten", 3])
    dataset(tmp_path, "b", [7, 8, None])
    m = manifest(tmp_path, [("a.csv", "a"), ("bad.csv", "bad"), ("b.csv", "b")])
    code, doc, err = run_batch(m, "--ledger", ledger, "--workers", 2, "--keys", keys)
    assert code == 1 and doc["failed"] == 1
    assert [r["ok"] for r in doc["datasets"]] == [True, False, True]
    assert "bad.csv row 2 column 'v': 'ten' is not a number" in err
    assert doc["chunks_proved"] == 4 + 1
    led = Ledger.open(ledger)
    assert [e.name for e in led.entries(1)] == ["a", "b"]               # manifest order, one entry each
    a, b = led.resolve("a@1").record["statistics"]["v"], led.resolve("b@1").record["statistics"]["v"]
    assert a["scaled"]["sum"] == sum(range(1, 14)) and a["count"] == 13
    assert b["scaled"]["sum"] == 15 and b["nulls"] == 1
    for name, data in (("a@1", "a.csv"), ("b@1", "b.csv")):
        assert cli(["verify", name, "--ledger", str(ledger), "--data", str(tmp_path / data), "--vk",
                    str(keys / SHAPE / "verifying.key")]) == 0
    assert not any((ledger.parent / "batch-cache").glob("*/*.json"))     # caches of recorded entries are dropped


def _cached(ledger: Path) -> list[Path]:
    return sorted((ledger.parent / "batch-cache").glob("*/*.json"))


def test_resume_after_sigkill_proves_only_what_is_missing(tmp_path, keys):
    ledger = new_ledger(tmp_path)
    dataset(tmp_path, "big", [i % 200 for i in range(48)])             # 12 chunks
    m = manifest(tmp_path, [("big.csv", "big")])
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "batch", str(m), "--ledger", str(ledger),
                             "--workers", "1", "--keys", str(keys)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while len(_cached(ledger)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)                                   # the client and its workers
    proc.wait()
    done = len(_cached(ledger))
    assert 3 <= done < 12, f"{done} chunks were cached before the kill"
    assert Ledger.open(ledger).size == 1                                 # nothing half-written
    files = _cached(ledger)
    files[0].write_text("{ damaged")                                     # one cache file is damaged
    # another holds a valid proof, but of a different chunk: planted under this chunk's name
    planted = json.loads(files[2].read_text())
    files[1].write_text(json.dumps(planted))
    code, doc, err = run_batch(m, "--ledger", ledger, "--workers", 1, "--keys", keys, "--resume")
    assert code == 0, err
    assert doc["chunks_resumed"] == done - 2 and doc["cache_rejected"] == 2
    assert doc["chunks_proved"] == 12 - (done - 2)
    assert cli(["verify", "big@1", "--ledger", str(ledger), "--data", str(tmp_path / "big.csv"),
                "--trusted-keys", str(keys)]) == 0
    assert Ledger.open(ledger).resolve("big@1").record["statistics"]["v"]["scaled"]["sum"] == sum(
        i % 200 for i in range(48))


def test_without_resume_the_cache_is_not_reused(tmp_path, keys):
    ledger = new_ledger(tmp_path)
    dataset(tmp_path, "c", [1, 2, 3, 4, 5])
    m = manifest(tmp_path, [("c.csv", "c")])
    from pipeline.batch.resume import ResumeCache
    from pipeline.circuit.statistics import DatasetBinding
    from pipeline.notarize import notarize

    cache = ResumeCache(ledger.parent / "batch-cache", resume=False)
    binding = DatasetBinding(notarize(tmp_path / "c.csv").root, "c", 1)
    first = cache.mask_key(binding)
    assert ResumeCache(ledger.parent / "batch-cache", resume=True).mask_key(binding) == first
    assert cache.mask_key(binding) != first                              # a fresh run draws a fresh key
    code, doc, _ = run_batch(m, "--ledger", ledger, "--workers", 1, "--keys", keys)
    assert code == 0 and doc["chunks_resumed"] == 0 and doc["chunks_proved"] == 2


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(tmp_path, keys):
    """Kill one of two workers while chunk proofs run; Dask reruns its tasks on the other."""
    import threading

    from distributed import Client, LocalCluster

    from pipeline.commands.batch_commands import prove_on_cluster
    from pipeline.statistics_proof import ProveRequest

    ledger_path = new_ledger(tmp_path)
    values = [(7 * i) % 200 for i in range(40)]                         # 10 chunks
    data = dataset(tmp_path, "k", values)
    request = ProveRequest(dataset=data, name="k", columns=["v"], ranges="v=0:200", range_bits=8, chunk_rows=4,
                           width=3, keys=keys, log=lambda t: None)
    seen = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        pids = [w.process.pid for w in cluster.workers.values()]

        def kill_after_first_chunk():
            deadline = time.monotonic() + 600
            while not seen and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(pids[0], signal.SIGKILL)
        killer = threading.Thread(target=kill_after_first_chunk)
        killer.start()

        class Counting:
            def chunk(self, rows, columns, constraints, seconds, resumed):
                seen.append(rows)
        entry = prove_on_cluster(Ledger.open(ledger_path), request, client, metrics=Counting())
        killer.join()
    assert entry.record["circuit"]["chunks"] == 10 and entry.record["rows"] == 40
    assert entry.record["statistics"]["v"]["scaled"]["sum"] == sum(values)
    assert cli(["verify", "k@1", "--ledger", str(ledger_path), "--data", str(data), "--trusted-keys", str(keys)]) == 0


def test_the_client_stops_when_every_worker_is_gone():
    """A cluster that loses all its workers (a SLURM job past its walltime) mid-task: the client
    gives up after the timeout with a line that says what to do, instead of waiting forever."""
    from distributed import Client, LocalCluster

    from pipeline.batch.tasks import ClusterLostError, WorkerWatch

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        watch = WorkerWatch(client, lost_after=2.0, poll=0.2)
        assert watch.result(client.submit(sum, [1, 2])) == 3
        stuck = client.submit(time.sleep, 120, pure=False)
        cluster.scale(0)
        started = time.monotonic()
        with pytest.raises(ClusterLostError, match="run again with --resume"):
            watch.result(stuck)
        assert 2.0 <= time.monotonic() - started < 60
        assert not client.scheduler_info()["workers"]


def test_prove_and_batch_give_the_same_statistics(tmp_path, keys):
    ledger = new_ledger(tmp_path)
    data = dataset(tmp_path, "same", [3, 1, 4, 1, 5, 9, 2, 6, None, 5])
    m = manifest(tmp_path, [("same.csv", "batched")])
    assert run_batch(m, "--ledger", ledger, "--workers", 2, "--keys", keys)[0] == 0
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "direct", "--columns", "v", "--range", "v=0:200",
                "--range-bits", "8", "--chunk-rows", "4", "--width", "3", "--keys", str(keys), "--device", "cpu"]) == 0
    assert cli(["prove", str(data), "--ledger", str(ledger), "--name", "clustered", "--columns", "v", "--range",
                "v=0:200", "--range-bits", "8", "--chunk-rows", "4", "--width", "3", "--keys", str(keys),
                "--device", "cpu", "--workers", "1"]) == 0
    led = Ledger.open(ledger)
    batched, direct, clustered = (led.resolve(n).record["statistics"] for n in ("batched@1", "direct@1", "clustered@1"))
    assert batched == direct == clustered


def test_print_job_script_shows_what_slurm_would_run(tmp_path, capsys):
    dataset(tmp_path, "a", [1, 2])
    m = manifest(tmp_path, [("a.csv", "a")])
    m.write_text(m.read_text() + '[cluster]\nqueue = "short"\nmemory = "8GB"\n')
    assert cli(["batch", str(m), "--print-job-script", "--cores", "2", "--walltime", "00:30:00"]) == 0
    script = capsys.readouterr().out
    assert "#SBATCH -p short" in script and "--cpus-per-task=2" in script and "#SBATCH -t 00:30:00" in script
    assert "--mem=8G" in script and "dask_worker" in script
    assert cli(["batch", str(m), "--print-job-script", "--walltime", "soon"]) == 1
