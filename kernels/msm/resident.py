"""Point tables kept in device memory: uploaded once, then MSMs against them with host scalars.

A proving key's bases are fixed while its witnesses change, so a prover that keeps them on the
device sends only scalars per proof. `ResidentPoints.msm(scalars)` takes one scalar per row of the
table, keeps the rows that count (nonzero scalar, finite point: the host notes which rows are
infinity when it uploads), splits them into classes by bit length as the CPU MSM does
(`kernels.msm.pippenger.scalar_classes`), and runs each class's bucket MSM on the device
(`kernels.msm.cuda_msm.bucket_msm_device`) with the class's row numbers in the sort's entries,
so the chunk kernel reads the resident rows in place: no point is copied or gathered per MSM.

`device_memory_info()` says how much device memory is free, for a caller to check a table's size
before uploading it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from kernels.ec import points as ec_points
from kernels.ff.fields import FR
from kernels.msm import pippenger
from kernels.msm.cuda_msm import ScalarUpload, bucket_msm_device
from kernels.msm.cuda_recode import MAX_WINDOW, require_gpu

_GROUPS = {"g1": (ec_points.G1_SHAPE, pippenger._g1_msm), "g2": (ec_points.G2_SHAPE, pippenger._g2_msm)}


def device_memory_info() -> tuple[int, int] | None:
    """(free, total) bytes of the current device's memory, or None when unknown (the simulator
    reports unbounded memory). Raises KernelError without a GPU."""
    require_gpu()
    free, total = cuda.current_context().get_memory_info()
    if not (math.isfinite(free) and math.isfinite(total)):
        return None
    return int(free), int(total)


class ResidentPoints:
    """One affine table (G1 (n, 2, 12) or G2 (n, 2, 2, 12), Montgomery, infinity all zero) in device memory.

    Raises ValueError for another shape, KernelError without a GPU. `upload` (a
    `kernels.msm.cuda_msm.ScalarUpload`) may be shared by several tables, so that all their MSMs run on
    one stream through one pinned buffer; by default the table has its own.
    """

    def __init__(self, group: str, points: np.ndarray, upload: ScalarUpload | None = None):
        if group not in _GROUPS:
            raise ValueError(f"group must be 'g1' or 'g2', got {group!r}")
        require_gpu()
        shape, self._host_msm = _GROUPS[group]
        points = np.ascontiguousarray(points, dtype=np.uint32)     # a key's memmap stays a view: no host copy
        if points.ndim != len(shape) + 1 or points.shape[1:] != shape:
            raise ValueError(f"{group} points must have shape (m,) + {shape}, got {points.shape}")
        self.group, self.shape = group, shape
        self.rows = points.shape[0]
        self.nbytes = points.nbytes
        self.finite = points.reshape(self.rows, int(np.prod(shape))).any(axis=1)
        self.upload = upload if upload is not None else ScalarUpload()
        # an empty table still gets one (never read) row: a device array cannot be empty everywhere
        table = points if self.rows else np.zeros((1,) + shape, np.uint32)
        self.d_points = cuda.to_device(table, stream=self.upload.stream)
        self.upload.stream.synchronize()

    def msm(self, scalars: np.ndarray, window: int | None = None) -> np.ndarray:
        """sum_k [scalars[k]] points[k] as an affine point (all zero for infinity), as `msm_g1`/`msm_g2`.

        `scalars`: (rows, 8) canonical Fr limbs, one per table row; `window` forces the window size.
        Raises ValueError on another shape or a window outside 1..16.
        """
        scalars = np.ascontiguousarray(scalars, dtype=np.uint32)
        if scalars.shape != (self.rows, FR.nlimbs):
            raise ValueError(f"{self.rows} points but scalars of shape {scalars.shape} (want ({self.rows}, {FR.nlimbs}))")
        if window is not None and not 1 <= window <= MAX_WINDOW:
            raise ValueError(f"window {window}: the device MSM takes 1 <= window <= {MAX_WINDOW}")
        rows = np.flatnonzero(self.finite & scalars.any(axis=1))
        parts = []                      # Jacobian partial sums, one per scalar class
        if rows.size:
            live = scalars[rows]
            for idx, c in pippenger.scalar_classes(live):
                parts.append(bucket_msm_device(self.group, self.d_points, live[idx], window or c,
                                               rows=rows[idx], upload=self.upload))
        out = np.zeros(self.shape, np.uint32)
        if parts:
            self._host_msm.parts_to_affine(out, np.stack(parts))
        return out


__all__ = ["ResidentPoints", "device_memory_info"]
