"""What runs on the Dask workers, and how the client feeds them.

Partitions are read as tasks (`dask_partitions`: a few ahead, in order, so the client holds at most
that many partitions' columns), and the client encodes them, so that every bad value is named by its
exact row. Each chunk proof is a task (`dask_runner`: statistics_proof.prove_chunk, which loads the
proving key once per worker process, memory-mapped); at most `window` chunks are in flight, so the
client never holds more than that many chunks. A worker lost mid-task: Dask runs its tasks again
elsewhere; the client keeps one proof per chunk index. Every cluster gone at once (a SLURM job past
its walltime, a node lost): the client waits `lost_after` seconds for a worker to come back, then
stops with ClusterLostError instead of waiting forever; finished chunk proofs are in the resume cache.
"""

from __future__ import annotations

import time
from collections import deque

from pipeline.errors import PipelineError
from pipeline.statistics_proof import prove_chunk

POLL_SECONDS = 1.0
DEFAULT_LOST_AFTER = 600.0


class ClusterLostError(PipelineError):
    """No Dask worker was left for longer than the client waits; the batch cannot go on."""


class WorkerWatch:
    """Waits on futures while watching that the cluster still has workers."""

    def __init__(self, client, lost_after: float = DEFAULT_LOST_AFTER, poll: float = POLL_SECONDS):
        self.client, self.lost_after, self.poll = client, lost_after, poll
        self.empty_since: float | None = None

    def check(self) -> None:
        """ClusterLostError once the cluster has had no worker for `lost_after` seconds."""
        if self.client.scheduler_info().get("workers"):
            self.empty_since = None
            return
        now = time.monotonic()
        if self.empty_since is None:
            self.empty_since = now
        elif now - self.empty_since >= self.lost_after:
            raise ClusterLostError(f"every Dask worker has been gone for {now - self.empty_since:.0f} s with work "
                                   "outstanding (a SLURM job ended? see squeue and the job logs); finished chunk "
                                   "proofs are kept: run again with --resume")

    def wait_any(self, futures) -> set:
        """The futures of `futures` that are done, at least one (blocks, watching the workers)."""
        from distributed import wait

        while True:
            try:
                done, _ = wait(futures, timeout=self.poll, return_when="FIRST_COMPLETED")
            except TimeoutError:            # distributed.wait: nothing finished within the poll
                done = ()
            if done:
                return set(done)
            self.check()

    def result(self, future):
        self.wait_any([future])
        return future.result()


def dask_partitions(client, ahead: int = 2, lost_after: float = DEFAULT_LOST_AFTER):
    """compute(parts) for pipeline.ingest: the partitions' columns in order, read by the workers."""
    watch = WorkerWatch(client, lost_after)

    def compute(parts):
        pending = deque()
        parts = iter(parts)
        try:
            for part in parts:
                pending.append(client.compute(part))
                if len(pending) > ahead:
                    yield watch.result(pending.popleft())
            while pending:
                yield watch.result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()
    return compute


def dask_runner(client, window: int, lost_after: float = DEFAULT_LOST_AFTER):
    """run(jobs) for statistics_proof.prove_statistics: chunk proofs as tasks, `window` in flight,
    yielded as they finish. Unfinished tasks are cancelled if the caller stops early (an error)."""
    watch = WorkerWatch(client, lost_after)

    def run(jobs):
        jobs = iter(jobs)
        running: set = set()
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
            while running:
                for future in watch.wait_any(running):
                    running.discard(future)
                    yield future.result()
                    submit()
        finally:
            client.cancel([f for f in futures if not f.done()])
    return run
