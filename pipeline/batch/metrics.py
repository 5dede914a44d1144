"""Prometheus metrics of a batch job, declared once in their own registry (what a job pushes).

Served on `--metrics-port` while the job runs (prometheus_client's HTTP server) and pushed once
at its end to `--pushgateway` (job "zkp-ledger", grouping key: the batch id and, inside a SLURM
job, SLURM_JOB_ID), so a finished job's figures outlive it.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, push_to_gateway, start_http_server

JOB = "zkp-ledger"


class BatchMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.chunks = Counter("zkp_ledger_chunks_proved", "Chunk proofs made", registry=r)
        self.rows = Counter("zkp_ledger_rows_proved", "Rows proved", registry=r)
        self.values = Counter("zkp_ledger_values_proved", "Column values proved", registry=r)
        self.constraints = Counter("zkp_ledger_constraints_proved", "R1CS constraints proved", registry=r)
        self.resumed = Counter("zkp_ledger_chunks_resumed", "Chunk proofs taken from the resume cache", registry=r)
        self.bytes_notarized = Counter("zkp_ledger_bytes_notarized", "Dataset bytes notarized", registry=r)
        self.datasets = Counter("zkp_ledger_datasets_recorded", "Datasets recorded in the ledger", registry=r)
        self.failures = Counter("zkp_ledger_failures", "Datasets that failed, by reason", ["reason"], registry=r)
        self.chunk_seconds = Histogram("zkp_ledger_chunk_prove_seconds", "Seconds per chunk (witness and proof)",
                                       buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
                                       registry=r)

    def serve(self, port: int) -> None:
        """Serve /metrics on `port` (all interfaces) for the life of this process."""
        start_http_server(port, registry=self.registry)

    def chunk(self, rows: int, columns: int, constraints: int, seconds: float, resumed: bool) -> None:
        if resumed:
            self.resumed.inc()
            return
        self.chunks.inc()
        self.rows.inc(rows)
        self.values.inc(rows * columns)
        self.constraints.inc(constraints)
        self.chunk_seconds.observe(seconds)

    def push(self, gateway: str, batch_id: str) -> dict:
        """Push everything once; returns the grouping key used."""
        grouping = {"batch": batch_id}
        if os.environ.get("SLURM_JOB_ID"):
            grouping["slurm_job_id"] = os.environ["SLURM_JOB_ID"]
        push_to_gateway(gateway, job=JOB, registry=self.registry, grouping_key=grouping)
        return grouping
