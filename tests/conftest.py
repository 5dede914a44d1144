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
VECTORS = REPO_ROOT / "tests" / "vectors"
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
    """Published test vectors (Poseidon over BLS12-381, RFC 6962 Merkle proofs), kept in tests/vectors
    so that a fresh clone runs every test; ../shared/testdata, where they came from, must agree."""
    if SHARED_TESTDATA.is_dir():
        for path in sorted(SHARED_TESTDATA.rglob("*")):
            if path.is_file() and path.parent.name != "testdata":
                mine = VECTORS / path.relative_to(SHARED_TESTDATA)
                assert mine.is_file() and mine.read_bytes() == path.read_bytes(), f"{mine} differs from {path}"
    return VECTORS


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


# --- Integrations of batch proving: a one-node SLURM, a Pushgateway and a Prometheus ----------------

SLURM_UP_SCRIPT = REPO_ROOT / "slurm" / "local-cluster.sh"


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    """The node name of a one-node SLURM brought up (or found up) by slurm/local-cluster.sh.

    The daemons stay up after the session: the script is idempotent and the next run reuses them.
    """
    for tool in ("sbatch", "sinfo", "squeue", "scontrol"):
        require_tool(tool)
    if not (shutil.which("slurmctld") or Path("/usr/sbin/slurmctld").exists()):
        missing("'slurmctld' is not installed (bash .ci/run installs slurm-wlm munge)")
    if os.geteuid() != 0:
        up = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=30)
        if not (up.returncode == 0 and up.stdout.split()[:1] in (["idle"], ["mix"], ["alloc"])):
            missing("SLURM is not running and slurm/local-cluster.sh needs root to start it")
    else:  # idempotent and quick when all is up; it also restarts a daemon that died
        env = {**os.environ, "ZKP_SLURM_NO_INSTALL": "1",
               "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"}
        proc = subprocess.run(["bash", str(SLURM_UP_SCRIPT)], capture_output=True, text=True, timeout=300, env=env)
        if proc.returncode != 0:
            pytest.fail(f"slurm/local-cluster.sh failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    nodes = subprocess.run(["sinfo", "-h", "-N", "-o", "%N"], capture_output=True, text=True, timeout=30)
    return nodes.stdout.split()[0]


def free_loopback_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


class _Daemon:
    """A server process on a loopback port, its log in a file; `stop` terminates and reaps it."""

    def __init__(self, argv: list[str], log: Path, ready_url: str, name: str):
        self.name, self.log, self.ready_url = name, log, ready_url
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def wait_ready(self, timeout: float = 60.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if http_get(self.ready_url, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"{self.name} did not become ready at {self.ready_url} "
                    f"(exit {self.proc.returncode}):\n{self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self._log_file.close()


@pytest.fixture
def pushgateway(tmp_path) -> str:
    """The URL of a real Prometheus Pushgateway (Debian prometheus-pushgateway) on a loopback port."""
    exe = require_tool("prometheus-pushgateway")
    port = free_loopback_port()
    # Debian's default persistence file is shared by every run; each test gets its own, empty one.
    daemon = _Daemon([exe, f"--web.listen-address=127.0.0.1:{port}",
                      f"--persistence.file={tmp_path / 'pushgateway.data'}"], tmp_path / "pushgateway.log",
                     f"http://127.0.0.1:{port}/-/ready", "prometheus-pushgateway")
    try:
        daemon.wait_ready()
        yield f"http://127.0.0.1:{port}"
    finally:
        daemon.stop()


@pytest.fixture
def prometheus(tmp_path, pushgateway) -> str:
    """The URL of a real Prometheus that scrapes `pushgateway` every second (honor_labels)."""
    exe = require_tool("prometheus")
    port = free_loopback_port()
    target = pushgateway.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n    honor_labels: true\n"
        f"    static_configs:\n      - targets: ['{target}']\n")
    daemon = _Daemon([exe, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                      f"--web.listen-address=127.0.0.1:{port}"], tmp_path / "prometheus.log",
                     f"http://127.0.0.1:{port}/-/ready", "prometheus")
    try:
        daemon.wait_ready()
        yield f"http://127.0.0.1:{port}"
    finally:
        daemon.stop()


# A two-dataset batch manifest of tiny CSVs in the smallest circuit shape: one column per dataset,
# 4 rows per chunk, 8-bit range checks, Poseidon width 3 (shape r4-c1-k8-t3).
TINY_SHAPE = "r4-c1-k8-t3"
TINY_DATASETS = {"sales": ("amount", [12, 0, 255, 7, 99, 31]), "stock": ("qty", [5, 1, 200, 64, 3])}


def zkp_ledger_exe() -> Path:
    """The zkp-ledger console script of the Python running the tests (the project's venv)."""
    import sys

    exe = Path(sys.executable).parent / "zkp-ledger"
    if not exe.exists():
        pytest.fail(f"no zkp-ledger beside {sys.executable}: pip install -e '.[test]'")
    return exe


def write_tiny_manifest(folder: Path, cluster: dict | None = None) -> Path:
    """Write the tiny CSVs and their manifest into `folder`; returns the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, (column, values) in TINY_DATASETS.items():
        (folder / f"{name}.csv").write_text(f"{column}\n" + "".join(f"{v}\n" for v in values))
        lines += ["[[dataset]]", f'path = "{name}.csv"', f'name = "{name}"', f'columns = ["{column}"]',
                  f'range = {{ {column} = "0:255" }}', "range_bits = 8", "chunk_rows = 4", "width = 3", ""]
    if cluster:
        lines.append("[cluster]")
        for key, value in cluster.items():
            lines.append(f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}")
        lines = [line.replace("'", '"') for line in lines]
    manifest = folder / "manifest.toml"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


@pytest.fixture(scope="session")
def tiny_keys(tmp_path_factory) -> Path:
    """A key folder with the Groth16 keys of TINY_SHAPE, made once per session with `setup --out`."""
    keys = tmp_path_factory.mktemp("tiny-keys") / "keys"
    run([zkp_ledger_exe(), "setup", "--shape", TINY_SHAPE, "--out", keys], timeout=600)
    return keys


def new_ledger(folder: Path) -> Path:
    ledger = folder / "ledger" / "ledger.jsonl"
    run([zkp_ledger_exe(), "init", "--ledger", ledger])
    return ledger
