"""Dataset ingest, the statistics circuit, Groth16, snarkjs interop, scheduling and the CLI."""

__version__ = "0.1.0"
