"""Reproducible benchmarks; each writes machine-readable results under bench/results/."""
