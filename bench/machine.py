"""What machine a benchmark ran on, recorded beside every result."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def machine_info() -> dict:
    import numba
    import numpy

    return {
        "host": socket.gethostname(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "gpu": gpu_name(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        # other work on the machine while measuring (1, 5, 15 min); absolute times scale with it
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def machine_tag(info: dict) -> str:
    """Short file-name tag: 'gpu-<name>' or 'cpu<cores>-<model>'."""
    base = f"gpu-{info['gpu']}" if info.get("gpu") else f"cpu{info['cores']}-{info['cpu']}"
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in base).strip("-").lower()[:60]


def save_result(name: str, payload: dict) -> Path:
    """Write `bench/results/<name>-<machine>.json` and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{machine_tag(payload['machine'])}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path
