"""Notarization: the raw-bytes Merkle root (checked against b3sum), formats, schema, rows, bad input."""

from __future__ import annotations

import os
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ledger.merkle import BLAKE3
from pipeline.errors import InputError
from pipeline.notarize import compare, notarize
from tests.conftest import require_tool


def b3sum_leaf(tmp_path, data: bytes) -> bytes:
    """BLAKE3(0x00 || data) computed by the b3sum tool."""
    f = tmp_path / "leaf.bin"
    f.write_bytes(b"\x00" + data)
    out = subprocess.run([require_tool("b3sum"), "--no-names", str(f)], check=True, capture_output=True, text=True)
    return bytes.fromhex(out.stdout.strip())


def test_root_matches_b3sum(tmp_path):
    require_tool("b3sum")
    chunk = 1000
    data = os.urandom(3 * chunk + 123)
    (tmp_path / "d.bin").write_bytes(data)
    n = notarize(tmp_path / "d.bin", chunk_size=chunk)
    leaves = [b3sum_leaf(tmp_path, data[i:i + chunk]) for i in range(0, len(data), chunk)]
    h = BLAKE3.hash_children
    expected = h(h(leaves[0], leaves[1]), h(leaves[2], leaves[3]))
    assert n.root == expected.hex() and n.size == len(data) and n.format == "binary"
    one = notarize(tmp_path / "d.bin", chunk_size=1 << 20)
    assert one.root == b3sum_leaf(tmp_path, data).hex()


def test_csv_schema_rows_and_single_pass_root(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id,x,name\n" + "".join(f'{i},{i * 0.5},"n, {i}"\n' for i in range(5000)))
    n = notarize(p, chunk_size=4096)
    assert n.rows == 5000 and n.format == "csv"
    assert n.schema == [{"name": "id", "type": "int64"}, {"name": "x", "type": "double"},
                        {"name": "name", "type": "string"}]
    assert n.root == notarize(p, chunk_size=4096, scan=False).root  # parsing does not change the hash
    assert compare(n.data_record(), p) == []
    p.write_text(p.read_text().replace("n, 7", "n, 8"))
    assert compare(n.data_record(), p)


def test_parquet_and_directory(tmp_path):
    d = tmp_path / "ds"
    (d / "part").mkdir(parents=True)
    for k in range(3):
        pq.write_table(pa.table({"a": list(range(k * 10, k * 10 + 10)), "b": ["x"] * 10}), d / "part" / f"{k}.parquet")
    (d / "_SUCCESS").write_bytes(b"")
    n = notarize(d)
    assert n.layout == "directory" and n.format == "parquet" and n.rows == 30
    assert [f.path for f in n.files] == ["_SUCCESS", "part/0.parquet", "part/1.parquet", "part/2.parquet"]
    assert compare(n.data_record(), d) == []
    os.rename(d / "part" / "2.parquet", d / "part" / "3.parquet")  # same bytes, other name
    assert notarize(d).root != n.root
    assert any("missing" in x for x in compare(n.data_record(), d))


@pytest.mark.parametrize("content,expect", [
    (b"a,b\n1,2\n3\n", r"row 3 .*has 1 fields but the header has 2"),
    (b"a,b\n1,2\n3,\xff\xfe\n", r"row 3 .*column 'b': invalid UTF-8"),
    (b"", "file is empty"),
])
def test_bad_csv(tmp_path, content, expect):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=expect) as exc:
        notarize(p)
    assert str(p) in str(exc.value) and "\n" not in str(exc.value)


def test_missing_unreadable_and_empty_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        notarize(tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no files"):
        notarize(tmp_path / "empty")


def test_unreadable_file(tmp_path, monkeypatch):
    import pipeline.notarize as nz

    p = tmp_path / "secret.csv"
    p.write_text("a\n1\n")
    if os.geteuid() == 0:  # root reads anything: make the open fail the way it would for a user
        def deny(*a, **k):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(nz, "open", deny, raising=False)
    else:
        p.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            notarize(p)
    finally:
        p.chmod(0o644)
