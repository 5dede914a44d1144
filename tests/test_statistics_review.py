"""Review of statement v2 as an attacker: each test plays a dishonest prover (or an observer) against
`verify_statistics` with pinned keys. A test that fails names a weakness still open.

Helpers come from tests/test_statistics_attacks.py (the dishonest-prover harness).
"""

from __future__ import annotations

import copy
import json

import pytest

from pipeline.circuit.statistics import Shape, circuit
from pipeline.errors import ProofError
from pipeline.groth16.keys import VerifyingKey
from pipeline.key_trust import KeyTrust, points_digest
from pipeline.statistics_proof import key_store
from pipeline.statistics_verify import load_bundle
from pipeline.statistics_verify import verify_statistics as verify_with_trust
from tests.test_statistics_attacks import (BITS, SHAPE, dishonest_entry, ledger, name, verify_statistics,  # noqa: F401
                                           write_csv)

# Same rows, columns and sponge width as SHAPE (so the same number of public inputs), twice the range bits.
WIDE_RANGE = Shape(SHAPE.rows, SHAPE.columns, 2 * BITS, SHAPE.width)


def relabeled_as(shape: Shape):
    """vk_edit: keep every point of the key, write `shape`'s circuit digest into its header."""
    def edit(vk: VerifyingKey) -> VerifyingKey:
        return VerifyingKey(vk.alpha_g1, vk.beta_g2, vk.gamma_g2, vk.delta_g2, vk.ic, circuit(shape).digest(),
                            vk.label)
    return edit


def _pins(ledger, tmp_path, form: str) -> KeyTrust:
    """The verifier pins ONLY the genuine key of WIDE_RANGE, in one of the documented forms."""
    _, vk = key_store(ledger).keys_for(WIDE_RANGE)
    if form == "file":
        path = tmp_path / "wide.vk"
        vk.save(path)
        return KeyTrust.from_options(vk=[str(path)])
    if form == "points-digest":
        return KeyTrust.from_options(vk=[points_digest(vk)])
    from pipeline.snarkjs.json_io import vk_to_json
    path = tmp_path / "verification_key.json"
    path.write_text(json.dumps(vk_to_json(vk)))
    return KeyTrust.from_options(vk=[f"{path}@{WIDE_RANGE.key_id()}"])


# --- finding 1: a pin fixes the key's circuit, so a pinned key relabeled for another shape is refused ------

@pytest.mark.parametrize("form", ["file", "points-digest", "snarkjs-json"])
def test_pinned_key_relabeled_for_a_narrower_shape_is_refused(ledger, tmp_path, form):
    """The cheat proves with the pinned key of a 32-bit shape, writes the 16-bit shape's circuit digest
    into that key's header and records the 16-bit shape, so that a value of 2^20 would 'lie in
    [0, 2^16 − 1]'. Every form of pin names the key's circuit too, so the relabeled key is not
    trusted (and were it, the shape-bound chain ends would still refuse it)."""
    big = 1 << 20
    data = write_csv(tmp_path / "big.csv", [big, 5])
    entry = dishonest_entry(ledger, name(), data, [([big, 5], 2)], proving_shape=WIDE_RANGE,
                            vk_edit=relabeled_as(SHAPE))
    stats = entry.record["statistics"]["value"]
    assert stats["scaled"]["max_bound"] == (1 << BITS) - 1 and stats["scaled"]["sum"] == big + 5   # false bound
    trust = _pins(ledger, tmp_path, form)
    _, vk = load_bundle(ledger, entry)[:2]
    with pytest.raises(ProofError, match="not among the keys you trust"):
        trust.check(vk, "relabeled")
    with pytest.raises(ProofError, match="not among the keys you trust"):
        verify_with_trust(ledger, entry, trust=trust)


def test_snarkjs_json_pin_needs_its_shape(ledger, tmp_path):
    from pipeline.errors import InputError
    from pipeline.snarkjs.json_io import vk_to_json

    _, vk = key_store(ledger).keys_for(WIDE_RANGE)
    path = tmp_path / "verification_key.json"
    path.write_text(json.dumps(vk_to_json(vk)))
    with pytest.raises(InputError, match="names no circuit"):
        KeyTrust.from_options(vk=[str(path)])
    trust = KeyTrust.from_options(vk=[f"{path}@{WIDE_RANGE.key_id()}"])
    assert trust.check(vk, "genuine")[0].startswith("pinned by --vk")


def test_relabeled_key_does_not_match_a_pin_by_its_full_hash(ledger, tmp_path):
    """A pin by the full key hash (header included) refuses the relabeled key outright."""
    data = write_csv(tmp_path / "relabel.csv", [3, 5])
    entry = dishonest_entry(ledger, name(), data, [([3, 5], 2)], proving_shape=WIDE_RANGE,
                            vk_edit=relabeled_as(SHAPE))
    _, vk = key_store(ledger).keys_for(WIDE_RANGE)
    with pytest.raises(ProofError, match="not among the keys you trust"):
        verify_with_trust(ledger, entry, trust=KeyTrust.from_options(vk=[vk.digest()]))


# --- finding 2: statistics the proofs do not cover ride along in a verified record --------------------

def test_statistics_of_an_unproven_column_are_refused(ledger, tmp_path, monkeypatch):
    """The record carries a 'salary' column's statistics that no proof covers; `show` prints them as
    'statistics proven in zero knowledge'. The verifier must refuse a record whose statistics (or
    encoding) name anything the proofs do not prove."""
    data = write_csv(tmp_path / "extra.csv", [3, 5, 7])
    append = ledger.append

    def with_extra(record, **kw):
        record = copy.deepcopy(record)
        forged = copy.deepcopy(record["statistics"]["value"])
        forged.update(sum="1000000", mean="333333.33")
        record["statistics"]["salary"] = forged
        return append(record, **kw)
    monkeypatch.setattr(ledger, "append", with_extra)
    entry = dishonest_entry(ledger, name(), data, [([3, 5], 2), ([7], 1)])
    monkeypatch.undo()
    assert "salary" in entry.record["statistics"]
    with pytest.raises(ProofError):
        verify_statistics(ledger, entry)


# --- finding 4: the verifier builds the circuit of whatever shape the record claims, before key trust --

def test_untrusted_key_is_refused_before_the_claimed_circuit_is_built(ledger, tmp_path, monkeypatch):
    """A record claiming 2^24 rows per chunk makes `check_verifying_key` build a ~3·10^8-constraint R1CS
    (minutes, tens of GB) before `trust.check` says the key is not pinned: any entry can stall
    `verify` and `audit --proofs`. An unpinned key must be refused first."""
    import pipeline.statistics_verify as sv

    huge = Shape(1 << 24, 1, BITS, SHAPE.width)
    data = write_csv(tmp_path / "dos.csv", [3, 5])
    entry = dishonest_entry(ledger, name(), data, [([3, 5], 2)], shape=huge, proving_shape=SHAPE)
    real_circuit = sv.circuit

    def guarded(shape):
        if shape.rows >= 1 << 20:
            raise AssertionError(f"the verifier builds the circuit of {shape.key_id()} for an unpinned key")
        return real_circuit(shape)
    monkeypatch.setattr(sv, "circuit", guarded)
    with pytest.raises(ProofError, match="not among the keys you trust|beyond what this verifier builds"):
        verify_with_trust(ledger, entry, trust=KeyTrust.from_options(vk=["0" * 64]))
    # a shape just under the cap still reaches the trust check before any circuit is built
    big = Shape(1 << 20, 1, BITS, SHAPE.width)
    entry = dishonest_entry(ledger, name(), data, [([3, 5], 2)], shape=big, proving_shape=SHAPE)
    with pytest.raises(ProofError, match="not among the keys you trust"):
        verify_with_trust(ledger, entry, trust=KeyTrust.from_options(vk=["0" * 64]))
