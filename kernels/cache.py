"""Where compiled kernels are cached on disk, so a second process does not compile them again.

Numba checks a cached function against its own source file only, not against the functions it
calls; so the cache lives in a folder named after a hash of every source file of `kernels/`,
and any change to the kernels starts a fresh cache. `NUMBA_CACHE_DIR`, when set, wins.
Generated sources (the Montgomery routines) are written there too, as real files that Numba's
cache can locate.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _sources_digest() -> str:
    h = hashlib.sha256()
    # The build flavour: callers' cached code holds the field routines they were compiled with,
    # so the portable (ZKP_LEDGER_NO_ASM) and the assembly builds need separate caches.
    h.update(b"portable" if os.environ.get("ZKP_LEDGER_NO_ASM") else b"native")
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        h.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_base() -> Path:
    """The user's cache folder of this tool (`ZKP_LEDGER_CACHE` or ~/.cache/zkp-dataset-ledger)."""
    return Path(os.environ.get("ZKP_LEDGER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zkp-dataset-ledger"))


def cache_root() -> Path:
    """The per-version cache folder (created on first use)."""
    root = cache_base() / f"kernels-{_sources_digest()}"
    root.mkdir(parents=True, exist_ok=True)
    return root


def configure_numba_cache() -> None:
    """Point Numba's cache at `cache_root()/numba` unless the user chose a folder."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    from numba.core import config

    path = str(cache_root() / "numba")
    config.CACHE_DIR = path
    os.environ["NUMBA_CACHE_DIR"] = path  # child processes (Dask workers) inherit it


def write_generated_module(name: str, source: str) -> Path:
    """Write generated source to a real file (atomically, once per content) and return its path."""
    folder = cache_base() / "generated"   # named by content below, so shared across versions
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = folder / f"{name}_{digest}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    return path


def _stable_id(fn) -> str:
    """An id for a function that is the same in every process: its module, name, bytecode and
    closure contents (dispatchers by their own stable id, arrays by their bytes)."""
    import numpy as np

    h = hashlib.sha256()
    h.update(f"{fn.__module__}:{fn.__qualname__}".encode())
    h.update(fn.__code__.co_code)
    h.update(repr(fn.__code__.co_consts).encode())
    for cell in fn.__closure__ or ():
        value = cell.cell_contents
        if hasattr(value, "py_func"):          # a Numba dispatcher
            h.update(str(value._uuid).encode())
        elif isinstance(value, np.ndarray):
            h.update(value.dtype.str.encode() + repr(value.shape).encode() + value.tobytes())
        else:
            h.update(repr(value).encode())
    return "zkp-" + h.hexdigest()[:32]


def cached_njit(**options):
    """`numba.njit(cache=True, **options)` whose cache survives across processes for closures.

    Numba keys a closure's cache entry on the pickled cell contents, and a dispatcher pickles with
    a random per-process uuid, so factory-made kernels (closures over other kernels) would never
    hit the cache. Giving each dispatcher an id derived from its code and cells makes the key
    stable (kernels.cache._stable_id).
    """
    from numba import njit

    def decorate(fn):
        dispatcher = njit(cache=True, **options)(fn)
        dispatcher._set_uuid(_stable_id(fn))
        return dispatcher

    return decorate
