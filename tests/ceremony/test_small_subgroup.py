"""Points outside the order-r subgroup never meet a contributor's secret, and never pass a check.

A coordinator who hands a contributor a file with small-order components in its points learns the
secret's residues modulo those orders from the response (more of them under GLV/GLS, whose halves
act as scalars only in the subgroup), and can clean the file so that it verifies afterwards; the
pairing maps small-order components to 1, so a proof of knowledge made of such points would pass
snarkjs's sameRatio. These are the dishonest coordinator's and the dishonest contributor's files.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from kernels import params
from kernels.ec import points as P
from pipeline.ceremony.keypair import same_ratio
from pipeline.ceremony.powersoftau_contribute import contribute_ptau
from pipeline.ceremony.powersoftau_new import new_ptau
from pipeline.ceremony.powersoftau_prepare import prepare_ptau
from pipeline.ceremony.powersoftau_verify import verify_ptau
from pipeline.ceremony.zkey_contribute import contribute_zkey
from pipeline.ceremony.zkey_new import NEW_ZKEY_ORDER, new_zkey
from pipeline.errors import InputError, ProofError
from pipeline.snarkjs.ptau_file import read_ptau, write_ptau_sections
from pipeline.snarkjs.zkey_file import read_zkey_ceremony, write_zkey_file
from tests.groth16.conftest import small_builder
from tests.kernels.test_ec_points import g1_outside_subgroup, g2_outside_subgroup

RNG = random.Random(2026)
OUTSIDE_G1 = P.g1_from_ints([g1_outside_subgroup(RNG)])[0]
OUTSIDE_G2 = P.g2_from_ints([g2_outside_subgroup(RNG)])[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("subgroup")
    new_ptau(3, d / "p0.ptau")
    contribute_ptau(d / "p0.ptau", d / "p1.ptau", "honest")
    prepare_ptau(d / "p1.ptau", d / "p.ptau")
    write_zkey_file(d / "c0.zkey", new_zkey(small_builder().build(), read_ptau(d / "p.ptau")), NEW_ZKEY_ORDER)
    return d


def _planted_ptau(src, dst, kind, index, point):
    ptau = read_ptau(src)
    sections = {k: np.array(v) for k, v in ptau.sections.items() if k in (2, 3, 4, 5, 6)}
    sections[kind][index] = point
    write_ptau_sections(dst, ptau.power, sections, ptau.contributions)


@pytest.mark.parametrize("kind,index,point", [(2, 1, OUTSIDE_G1), (3, 1, OUTSIDE_G2), (5, 0, OUTSIDE_G1),
                                              (6, 0, OUTSIDE_G2)])
def test_contributor_refuses_a_ptau_with_points_outside_the_subgroup(files, tmp_path, kind, index, point):
    _planted_ptau(files / "p1.ptau", tmp_path / "planted.ptau", kind, index, point)
    with pytest.raises(InputError, match=rf"section {kind} .*not in the prime-order subgroup.*refusing to contribute"):
        contribute_ptau(tmp_path / "planted.ptau", tmp_path / "out.ptau", "victim")
    assert not (tmp_path / "out.ptau").exists()


@pytest.mark.parametrize("where", ["L", "H", "delta1", "delta2"])
def test_contributor_refuses_a_zkey_with_points_outside_the_subgroup(files, tmp_path, where):
    z = read_zkey_ceremony(files / "c0.zkey")
    if where in ("L", "H"):
        section = 8 if where == "L" else 9
        points = np.array(z.points(section))
        points[0] = OUTSIDE_G1
        z.raw[section] = points.tobytes()
    elif where == "delta1":
        z.delta1 = OUTSIDE_G1
    else:
        z.delta2 = OUTSIDE_G2
    write_zkey_file(tmp_path / "planted.zkey", z)
    with pytest.raises(InputError, match="not in the prime-order subgroup.*refusing to contribute"):
        contribute_zkey(tmp_path / "planted.zkey", tmp_path / "out.zkey", "victim")
    assert not (tmp_path / "out.zkey").exists()


def test_same_ratio_refuses_points_outside_the_subgroup():
    k = 1234567
    g1, g2 = P.g1_generator(), P.g2_generator()
    assert same_ratio(g1, P.g1_mul(g1, k), g2, P.g2_mul(g2, k))
    # Equal ratios by construction, but of points a pairing check cannot vouch for.
    assert not same_ratio(OUTSIDE_G1, OUTSIDE_G1, g2, g2)
    assert not same_ratio(g1, g1, OUTSIDE_G2, OUTSIDE_G2)


def test_verify_refuses_lagrange_points_outside_the_subgroup(files, tmp_path):
    ptau = read_ptau(files / "p.ptau")
    sections = {k: np.array(v) for k, v in ptau.sections.items()}
    sections[12][3] = OUTSIDE_G1
    write_ptau_sections(tmp_path / "lag.ptau", ptau.power, sections, ptau.contributions)
    with pytest.raises(ProofError, match="section 12.*not in the prime-order subgroup"):
        verify_ptau(tmp_path / "lag.ptau")


def test_per_point_multiplication_refuses_scalars_of_r_or_more():
    r = np.array([[(params.R >> (32 * i)) & 0xFFFFFFFF for i in range(8)]], np.uint32)
    with pytest.raises(ValueError, match="not below r"):
        P.g1_mul_each(P.g1_generator()[None], r)
    with pytest.raises(ValueError, match="not below r"):
        P.g2_mul_each(P.g2_generator()[None], r)


def _overwrite_after_check(monkeypatch, module, path, kind, index, point_bytes):
    """After the real input check passes, a coordinator who can still write `path` swaps one point of
    section `kind` in place (the reader maps the file, so a view of it would see the new bytes)."""
    from pipeline.snarkjs.binfile import read_binfile

    offset = read_binfile(path, path.read_bytes()[:4], 1).sections[kind][0] + index * len(point_bytes)
    real = module.check_input_points

    def check_then_swap(*args, **kwargs):
        real(*args, **kwargs)
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(point_bytes)
            f.flush()

    monkeypatch.setattr(module, "check_input_points", check_then_swap)


def test_ptau_contribution_multiplies_the_points_it_checked_not_the_file_as_changed_later(files, tmp_path,
                                                                                           monkeypatch):
    from pipeline.ceremony import powersoftau_contribute as module

    target = tmp_path / "in.ptau"
    target.write_bytes((files / "p1.ptau").read_bytes())
    _overwrite_after_check(monkeypatch, module, target, 2, 1, np.ascontiguousarray(OUTSIDE_G1, "<u4").tobytes())
    contribute_ptau(target, tmp_path / "out.ptau", "victim")
    P.g1_validate(np.array(read_ptau(tmp_path / "out.ptau").sections[2]))     # nothing outside the subgroup came out
    verify_ptau(tmp_path / "out.ptau")


def test_zkey_contribution_multiplies_the_points_it_checked_not_the_file_as_changed_later(files, tmp_path,
                                                                                           monkeypatch):
    from pipeline.ceremony import zkey_contribute as module

    target = tmp_path / "in.zkey"
    target.write_bytes((files / "c0.zkey").read_bytes())
    _overwrite_after_check(monkeypatch, module, target, 9, 0, np.ascontiguousarray(OUTSIDE_G1, "<u4").tobytes())
    contribute_zkey(target, tmp_path / "out.zkey", "victim")
    z = read_zkey_ceremony(tmp_path / "out.zkey")
    P.g1_validate(np.array(z.points(9)))
    P.g1_validate(np.array(z.points(8)))
