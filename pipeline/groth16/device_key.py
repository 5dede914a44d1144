"""A proving key kept on the GPU: its A, B (G1 and G2), L and H query points uploaded once per
process and reused by every proof made with that key, so that a proof sends only its scalars.

`resident_key(pk)` returns the device copy of `pk`, uploading it the first time (after checking
that it fits in the device's free memory) and keeping it while `pk` lives: a batch worker, which
loads each key once (pipeline.statistics_proof), uploads it once. The five tables share one stream
and one pinned staging buffer for the scalars (kernels.msm.cuda_msm.ScalarUpload).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from pipeline.errors import DeviceError
from pipeline.groth16.keys import ProvingKey

QUERIES = ("a_query", "b_g1_query", "b_g2_query", "l_query", "h_query")
GROUP = {"a_query": "g1", "b_g1_query": "g1", "b_g2_query": "g2", "l_query": "g1", "h_query": "g1"}
# Room beside the points for one MSM's scalars, digits, sort entries and buckets, and H's three
# transforms; a few percent of a key at the shapes in use.
WORKSPACE_MIN_BYTES = 256 << 20
WORKSPACE_FRACTION = 8            # at least 1/8 of the key's points more


def key_device_bytes(pk: ProvingKey) -> int:
    """Bytes of the query points that go to the device."""
    return sum(np.asarray(getattr(pk, name)).nbytes for name in QUERIES)


def device_bytes_needed(key_bytes: int) -> int:
    """The key's points plus the working space of the MSMs and H's transforms."""
    return key_bytes + max(WORKSPACE_MIN_BYTES, key_bytes // WORKSPACE_FRACTION)


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def check_fits(key_bytes: int, free_bytes: int | None, total_bytes: int | None = None) -> None:
    """Raise DeviceError (one line: the sizes and what to do) unless a key of `key_bytes` and its
    working space fit in `free_bytes` of device memory; None (unknown, the simulator) passes."""
    if free_bytes is None:
        return
    need = device_bytes_needed(key_bytes)
    if need > free_bytes:
        of_total = f" of {_gib(total_bytes)}" if total_bytes else ""
        raise DeviceError(f"the proving key needs {_gib(need)} of GPU memory ({_gib(key_bytes)} of points and "
                          f"{_gib(need - key_bytes)} of working space) but the GPU has {_gib(free_bytes)} free"
                          f"{of_total}: use --device cpu, fewer workers per GPU (each keeps its own copy), "
                          "or a GPU with more free memory")


@dataclass
class DeviceProvingKey:
    """The device tables of one proving key (kernels.msm.resident.ResidentPoints, by query name)."""

    tables: dict
    nbytes: int

    def msm(self, name: str, scalars: np.ndarray) -> np.ndarray:
        """sum_k [scalars[k]] table[k] of query `name` as an affine point, on the device."""
        return self.tables[name].msm(scalars)


def upload_proving_key(pk: ProvingKey, free_bytes: int | None = None) -> DeviceProvingKey:
    """Upload pk's query points to the GPU (one copy each). `free_bytes`: the device's free memory
    (default: asked of the device). Raises DeviceError when the key does not fit, KernelError
    without a GPU."""
    from kernels.msm.cuda_msm import ScalarUpload
    from kernels.msm.resident import ResidentPoints, device_memory_info

    key_bytes = key_device_bytes(pk)
    total = None
    if free_bytes is None:
        info = device_memory_info()
        free_bytes, total = info if info is not None else (None, None)
    check_fits(key_bytes, free_bytes, total)
    upload = ScalarUpload()
    tables = {name: ResidentPoints(GROUP[name], getattr(pk, name), upload) for name in QUERIES}
    return DeviceProvingKey(tables, key_bytes)


# id(pk) -> (weak reference to pk, its device copy); an entry goes when its key is collected.
_RESIDENT: dict[int, tuple[weakref.ref, DeviceProvingKey]] = {}


def resident_key(pk: ProvingKey) -> DeviceProvingKey:
    """The device copy of `pk`, uploaded on first use in this process and kept while pk lives.

    Keyed by the key object itself (a worker holds one object per key; a key loaded again, e.g.
    after a new setup, is another object and is uploaded again, the old copy freed with its key).
    Raises as `upload_proving_key`.
    """
    entry = _RESIDENT.get(id(pk))
    if entry is not None and entry[0]() is pk:
        return entry[1]
    device_key = upload_proving_key(pk)
    key_id = id(pk)

    def forget(ref) -> None:
        if _RESIDENT.get(key_id, (None,))[0] is ref:
            del _RESIDENT[key_id]

    _RESIDENT[key_id] = (weakref.ref(pk, forget), device_key)
    return device_key


def release_all() -> None:
    """Drop every device copy of this process (their memory is freed when nothing else holds them)."""
    _RESIDENT.clear()
