"""The datasets the benchmarks prove: CSV files of random integers, written in blocks."""

from __future__ import annotations

from pathlib import Path


def write_random_csv(path: Path, rows: int, columns: int, bits: int, seed: int | None = None) -> int:
    """A CSV with header c0,c1,... and `rows` rows of `columns` random integers in [0, 2^bits − 1];
    returns its size in bytes. `seed` fixes the values (benchmark inputs, never secrets) so that
    runs compare; None draws fresh ones."""
    import numpy as np

    rng = np.random.default_rng(seed)
    block = 200_000
    with open(path, "w") as fh:
        fh.write(",".join(f"c{j}" for j in range(columns)) + "\n")
        for start in range(0, rows, block):
            n = min(block, rows - start)
            values = rng.integers(0, 1 << bits, size=(n, columns), dtype=np.int64)
            np.savetxt(fh, values, fmt="%d", delimiter=",")
    return path.stat().st_size
