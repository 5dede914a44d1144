"""Shared fixtures: paths to the shared test vectors and to integration tools.

An integration test asks for a tool through `require_tool`; when the tool is missing it is
skipped with the reason, except under `ZKP_REQUIRE_INTEGRATIONS=1` (set by `.ci/run`), where
a missing integration fails the run instead.
"""

from __future__ import annotations

import os

# CUDA kernels run in Numba's simulator unless the run is on a real GPU (bench/gpu_check.py sets
# ZKP_GPU_TESTS=1). Numba reads this once, at import, so it must be set before anything imports it.
if os.environ.get("ZKP_GPU_TESTS") != "1":
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
ON_REAL_GPU = os.environ.get("ZKP_GPU_TESTS") == "1"
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
REQUIRE_INTEGRATIONS = os.environ.get("ZKP_REQUIRE_INTEGRATIONS") == "1"


def missing(reason: str) -> None:
    """Skip (or, in CI, fail) a test whose integration is absent."""
    if REQUIRE_INTEGRATIONS:
        pytest.fail(f"required integration missing: {reason}")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"'{name}' is not installed (bash .ci/run installs it)")
    return path


@pytest.fixture(scope="session")
def shared_testdata() -> Path:
    if not SHARED_TESTDATA.is_dir():
        missing(f"test vectors live in ../shared/testdata (absent here: {SHARED_TESTDATA}); "
                "they exist in CI and in development sessions, not in a user's clone")
    return SHARED_TESTDATA


@pytest.fixture
def cuda_device():
    """numba.cuda for kernel tests: the simulator in CI, the real GPU under ZKP_GPU_TESTS=1."""
    import warnings

    from numba import cuda

    if ON_REAL_GPU and not cuda.is_available():
        pytest.fail("ZKP_GPU_TESTS=1 but numba.cuda sees no GPU")
    with warnings.catch_warnings():
        # The simulator runs the limb arithmetic on NumPy scalars, which warn on intended wrap-around.
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        yield cuda


NPM_PREFIX = REPO_ROOT / ".cache" / "npm"


def run(cmd, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def npm_tools() -> dict[str, Path]:
    """Paths of the snarkjs and circom2 executables, installed once with npm into .cache/npm."""
    bin_dir = NPM_PREFIX / "node_modules" / ".bin"
    tools = {"snarkjs": bin_dir / "snarkjs", "circom2": bin_dir / "circom2"}
    if not all(p.exists() for p in tools.values()):
        npm = require_tool("npm")
        require_tool("node")
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([npm, "install", "--prefix", str(NPM_PREFIX), "snarkjs", "circom2"],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not all(p.exists() for p in tools.values()):
            missing(f"npm install snarkjs circom2 failed: {proc.stderr.strip()[-300:]}")
    return tools
