"""What runs on the Dask workers, and how the client feeds them.

Partitions are read as tasks (`dask_partitions`: a few ahead, in order, so the client holds at most
that many partitions' columns), and the client encodes them, so that every bad value is named by its
exact row. Each chunk proof is a task (`dask_runner`: statistics_proof.prove_chunk, which loads the
proving key once per worker process, memory-mapped); at most `window` chunks are in flight, so the
client never holds more than that many chunks. A worker lost mid-task: Dask runs its tasks again
elsewhere; the client keeps one proof per chunk index.
"""

from __future__ import annotations

from collections import deque

from pipeline.statistics_proof import prove_chunk


def dask_partitions(client, ahead: int = 2):
    """compute(parts) for pipeline.ingest: the partitions' frames in order, read by the workers."""
    def compute(parts):
        pending = deque()
        parts = iter(parts)
        try:
            for part in parts:
                pending.append(client.compute(part))
                if len(pending) > ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
    return compute


def dask_runner(client, window: int):
    """run(jobs) for statistics_proof.prove_statistics: chunk proofs as tasks, `window` in flight,
    yielded as they finish. Unfinished tasks are cancelled if the caller stops early (an error)."""
    from distributed import as_completed

    def run(jobs):
        jobs = iter(jobs)
        running = as_completed()
        futures = []

        def submit() -> bool:
            job = next(jobs, None)
            if job is None:
                return False
            future = client.submit(prove_chunk, job, pure=False, retries=1, key=f"prove-chunk-{job.binding.name}-"
                                   f"{job.index}-{id(job):x}")
            futures.append(future)
            running.add(future)
            return True

        try:
            for _ in range(window):
                if not submit():
                    break
            for future in running:
                yield future.result()
                submit()
        finally:
            client.cancel([f for f in futures if not f.done()])
    return run
