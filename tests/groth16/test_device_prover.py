"""Proving on the device (simulator in CI, GPU under ZKP_GPU_TESTS=1): H's transforms on the device
equal the CPU's, a device proof equals the CPU proof made with the same r and s, the key goes to the
device once for many proofs, and a key too large for the device's free memory is refused in one line.
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from kernels import params
from kernels.ff.fields import FR
from pipeline.errors import DeviceError

R = params.R


def _random_qap(n: int, seed: int):
    """QAP rows of domain n with random sparse A and B over 5 variables (no need to be satisfiable)."""
    from pipeline.groth16.r1cs import SparseMatrix
    from pipeline.groth16.r1cs_to_qap import QapMatrices

    rng = random.Random(seed)

    def rows():
        return SparseMatrix.from_rows([[(rng.randrange(5), rng.randrange(R)) for _ in range(rng.randrange(3))]
                                       for _ in range(n - rng.randrange(2))])

    return QapMatrices(5, 1, n, rows(), rows()), FR.from_ints([1] + [rng.randrange(R) for _ in range(4)])


@pytest.mark.parametrize("n", [8, 16, 32])
def test_device_h_equals_cpu_h(cuda_device, n):
    from pipeline.groth16.r1cs_to_qap import h_numerator_odd_coset

    qap, z = _random_qap(n, n)
    want = h_numerator_odd_coset(qap, z)
    got = h_numerator_odd_coset(qap, z, device="cuda")
    assert got.dtype == np.uint32 and got.shape == (n, 8)
    assert np.array_equal(got, want)


def _fixed_r_s(monkeypatch, values):
    import pipeline.groth16.prover as prover
    draws = iter(values)
    monkeypatch.setattr(prover, "_random_scalar", lambda: next(draws))


def _fresh_key(pk):
    """Another ProvingKey object with the same points (so no device copy of it exists yet)."""
    return dataclasses.replace(pk)


def test_device_proof_equals_the_cpu_proof_with_the_same_r_and_s(cuda_device, small_circuit, small_keys, monkeypatch):
    from pipeline.groth16 import prove, verify

    r1cs, z = small_circuit
    pk, vk = small_keys
    r, s = 0x1234567 % R, (R - 99) % R
    _fixed_r_s(monkeypatch, [r, s, r, s])
    cpu = prove(pk, r1cs, z)
    device = prove(_fresh_key(pk), r1cs, z, device="cuda")
    assert verify(vk, r1cs.public_inputs(z), device)
    assert np.array_equal(device.a, cpu.a) and np.array_equal(device.b, cpu.b) and np.array_equal(device.c, cpu.c)
    assert device.to_bytes() == cpu.to_bytes()


def test_the_key_is_uploaded_once_for_two_proofs(cuda_device, small_circuit, small_keys, monkeypatch):
    """Only scalars go to the device once the key is resident: no array of points is copied by the
    second proof, and the five query tables were uploaded exactly once."""
    from numba import cuda

    from kernels.msm import resident
    from pipeline.groth16 import device_key, prove, verify

    r1cs, z = small_circuit
    pk = _fresh_key(small_keys[0])
    uploads, copies = [], []
    real_upload, real_to_device = device_key.upload_proving_key, cuda.to_device
    monkeypatch.setattr(device_key, "upload_proving_key", lambda key, *a, **k: uploads.append(key) or real_upload(key, *a, **k))
    table_init = resident.ResidentPoints.__init__
    tables = []
    monkeypatch.setattr(resident.ResidentPoints, "__init__",
                        lambda self, *a, **k: tables.append(a[0]) or table_init(self, *a, **k))
    first = prove(pk, r1cs, z, device="cuda")
    monkeypatch.setattr(cuda, "to_device", lambda ary, *a, **k: copies.append(np.shape(ary)) or real_to_device(ary, *a, **k))
    second = prove(pk, r1cs, z, device="cuda")
    assert uploads == [pk] and sorted(tables) == ["g1", "g1", "g1", "g1", "g2"]
    point_shapes = [s for s in copies if len(s) >= 3 and (s[-2:] == (2, 12) or s[-3:] == (2, 2, 12))]
    assert copies and point_shapes == [], copies
    assert {s[-1] for s in copies if len(s) == 2} == {8}       # scalars and H's values: (m, 8) limbs
    public = r1cs.public_inputs(z)
    assert verify(small_keys[1], public, first) and verify(small_keys[1], public, second)
    assert first.to_bytes() != second.to_bytes()              # fresh r, s each time
    assert device_key.resident_key(pk) is device_key.resident_key(pk)


def test_a_key_that_does_not_fit_is_refused_in_one_line(small_circuit, small_keys, monkeypatch):
    from pipeline.groth16 import device_key, prove

    pk = small_keys[0]
    key_bytes = device_key.key_device_bytes(pk)
    assert key_bytes == sum(np.asarray(getattr(pk, q)).nbytes for q in device_key.QUERIES)
    need = device_key.device_bytes_needed(key_bytes)
    device_key.check_fits(key_bytes, need)                   # exactly enough passes
    device_key.check_fits(key_bytes, None)                   # unknown (the simulator) passes
    with pytest.raises(DeviceError) as err:
        device_key.check_fits(40 << 30, 8 << 30, 80 << 30)
    text = str(err.value)
    assert "\n" not in text
    assert "45.00 GiB of GPU memory (40.00 GiB of points" in text and "8.00 GiB free of 80.00 GiB" in text
    assert text.endswith("use --device cpu, fewer workers per GPU (each keeps its own copy), or a GPU with more "
                         "free memory")
    with pytest.raises(DeviceError, match="use --device cpu"):
        device_key.upload_proving_key(pk, free_bytes=need - 1)

    # prove asks the device for its free memory before any work, and uploads nothing when short
    from kernels.msm import resident
    monkeypatch.setattr(resident, "device_memory_info", lambda: (need - 1, 16 << 30))
    monkeypatch.setattr(resident.ResidentPoints, "__init__", lambda *a, **k: pytest.fail("uploaded"))
    r1cs, z = small_circuit
    with pytest.raises(DeviceError, match=r"GPU has 0\.25 GiB free of 16\.00 GiB: use --device cpu"):
        prove(_fresh_key(pk), r1cs, z, device="cuda")


def test_prove_on_cuda_without_a_gpu_is_a_clear_error(small_circuit, small_keys, monkeypatch):
    from numba import cuda

    from kernels.errors import KernelError
    from pipeline.groth16 import prove

    monkeypatch.setattr(cuda, "is_available", lambda: False)
    r1cs, z = small_circuit
    with pytest.raises(KernelError, match="needs an NVIDIA GPU"):
        prove(_fresh_key(small_keys[0]), r1cs, z, device="cuda")


def test_a_wrong_device_result_is_never_handed_out(cuda_device, small_circuit, small_keys, monkeypatch):
    """A device MSM that is off by one point (a kernel bug, a flipped bit in device memory) makes a
    proof that fails the prover's own check: it is refused, naming the GPU, never returned."""
    from kernels.ec.points import g1_add, g1_generator
    from pipeline.groth16 import device_key, prove
    from pipeline.groth16.prover import ProofFailsCheck

    real_msm = device_key.DeviceProvingKey.msm

    def off_by_g(self, name, scalars):
        point = real_msm(self, name, scalars)
        return g1_add(point, g1_generator()) if name == "l_query" else point

    monkeypatch.setattr(device_key.DeviceProvingKey, "msm", off_by_g)
    r1cs, z = small_circuit
    with pytest.raises(ProofFailsCheck, match="made on the GPU does not verify.*--device cpu"):
        prove(_fresh_key(small_keys[0]), r1cs, z, device="cuda")
