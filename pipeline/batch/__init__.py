"""Batch proving on a Dask cluster: a manifest of datasets, chunk proofs as tasks, a resume cache
beside the ledger, Prometheus metrics. The client alone writes the ledger, one entry per dataset.

    manifest.py  the TOML manifest (datasets as `prove` takes them, an optional [cluster] table)
    cluster.py   which Dask cluster: LocalCluster, SLURMCluster (dask-jobqueue), LocalCUDACluster, an address
    tasks.py     what runs on workers: read a partition, prove a chunk (keys loaded once per worker)
    resume.py    the content-addressed cache of finished chunk proofs
    metrics.py   prometheus-client metrics: served while the job runs, pushed to a Pushgateway at its end
"""
