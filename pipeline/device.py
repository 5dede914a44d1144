"""Which processor proves: `--device auto|cpu|cuda` to "cpu" or "cuda"."""

from __future__ import annotations

import os

from pipeline.errors import InputError


def _driver_present() -> bool:
    """False when the CUDA driver library cannot be loaded (then no GPU is usable); True otherwise."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return True             # let Numba decide
    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def cuda_usable() -> bool:
    """True when Numba sees a real CUDA GPU (never the simulator, which is far slower than the CPU)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    if not _driver_present():
        return False            # without importing Numba (start-up time of every CLI command)
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001  (no CUDA toolkit or driver at all is the common case)
        return False


def resolve_device(choice: str) -> str:
    """"cpu" or "cuda"; auto picks cuda only when a GPU is usable. InputError for cuda without one."""
    if choice == "cpu":
        return "cpu"
    if choice not in ("auto", "cuda"):
        raise InputError(f"--device must be auto, cpu or cuda, got {choice!r}")
    if cuda_usable():
        return "cuda"
    if choice == "cuda":
        raise InputError("--device cuda: no CUDA GPU is usable here (install the gpu-cuda12/13 extra on a GPU "
                         "machine), or use --device cpu")
    return "cpu"
