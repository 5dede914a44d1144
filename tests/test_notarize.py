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
import pipeline.notarize as nz
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
    (b"a,b\n1,2\n3\n", r"line 3 has 1 fields but the header has 2 \('3'\)"),
    (b"a,b\n1,2\n\n3,4,5", r"line 4 has 3 fields but the header has 2"),  # no final newline
    (b"a,b\n1,2\n3,\xff\xfe\n", r"line 3, column 'b': invalid UTF-8"),
    (b"a,b\r\n1,2\r\n3,4,\r\n", r"line 3 has 3 fields but the header has 2"),
    (b'a,b\n"x\ny",2\n3\n', r"line 4 has 1 fields but the header has 2"),  # the parser's row 3
    (b"a,b\n1,caf\xc3\xa9\n2,\xe2\x82", r"line 3: the file ends inside a UTF-8 sequence"),
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


@pytest.fixture
def small_blocks(monkeypatch):
    """Reads (and kernel calls) of 16 bytes: every piece boundary case shows up in a small file."""
    monkeypatch.setattr(nz, "SCAN_UNIT", 64)
    monkeypatch.setattr(nz, "SCAN_PIECE", 16)


def reference_rows(path) -> int:
    import pandas as pd

    return len(pd.read_csv(path, dtype=str, keep_default_na=False))


@pytest.mark.parametrize("blocks", ["default", "small"])
def test_quoted_csv_rows_match_pandas(tmp_path, request, blocks):
    """Quotes with embedded newlines, delimiters and escaped quotes, before, after or without
    plain rows, with LF or CRLF: the compiled scan gives pandas' row count."""
    if blocks == "small":
        request.getfixturevalue("small_blocks")
    plain = "".join(f"{i},{i * 2},plain\n" for i in range(40))
    quoted = "".join(f'{i},"a, b\nc ""{i}""",x\n' for i in range(40))
    for name, text, rows in [("first.csv", "id,v,w\n" + quoted + plain, 80),
                             ("later.csv", "id,v,w\n" + plain + quoted, 80),
                             ("header.csv", '"id","v","w"\n' + plain, 40),
                             ("crlf.csv", ("id,v,w\n" + plain + quoted).replace("\n", "\r\n"), 80)]:
        p = tmp_path / name
        p.write_text(text, newline="")
        n = notarize(p, chunk_size=100)
        assert n.rows == reference_rows(p) == rows, name
        assert n.root == notarize(p, chunk_size=100, scan=False).root


def test_fast_path_line_endings_and_blank_lines(tmp_path, small_blocks):
    cases = {
        "crlf.csv": b"a,b\r\n" + b"".join(b"%d,%d\r\n" % (i, i) for i in range(50)),
        "blank.csv": b"a,b\n\n1,2\n\r\n\n3,4\n\n",
        "no_final_newline.csv": b"a,b\n" + b"\n".join(b"%d,%d" % (i, i) for i in range(50)),
        "lone_cr.csv": b"a,b\r1,2\r3,4\r\n5,6\n",  # old Mac line ends: the parser's business
        "one_column.csv": b"a\n1\n\n2\r\n\r\n3",
        "header_only.csv": b"a,b\n",
        "unicode.csv": "name,v\n".encode() + "".join(f"caf\u00e9 \u20ac{i} \U0001f600,{i}\n" for i in range(30)).encode(),
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        assert notarize(p).rows == reference_rows(p), name


def test_random_csvs_match_pyarrow(tmp_path, small_blocks):
    import random

    import pyarrow.csv as pcsv

    rng = random.Random(7)
    for trial in range(60):
        ncols = rng.randint(1, 4)
        lines = [",".join(f"h{j}" for j in range(ncols))]
        for _ in range(rng.randint(0, 30)):
            r = rng.random()
            if r < 0.1:
                lines.append("")
            elif r < 0.15 and trial % 3 == 0:
                lines.append(",".join(['"q,\n' + "x" * rng.randint(0, 20) + '"'] * ncols))
            else:
                lines.append(",".join(str(rng.randint(0, 10 ** rng.randint(0, 30))) for _ in range(ncols)))
        eol = "\r\n" if trial % 4 == 1 else "\n"
        text = eol.join(lines) + (eol if trial % 5 or len(lines) == 1 else "")  # pyarrow needs it
        p = tmp_path / f"r{trial}.csv"
        p.write_text(text, newline="")
        assert notarize(p).rows == pcsv.read_csv(p).num_rows, text


@pytest.mark.parametrize("quoted", [False, True])
def test_ragged_line_found_in_both_paths(tmp_path, small_blocks, quoted):
    head = 'a,b,c\n"x\ny",1,2\n' if quoted else "a,b,c\nx y,1,2\n"  # quoted: the parser's path
    body = "".join(f"{i},{i},{i}\n" for i in range(30))
    p = tmp_path / "ragged.csv"
    p.write_text(head + body + "7,8\n" + body)
    bad_line = head.count("\n") + 30 + 1
    with pytest.raises(InputError, match=rf"ragged.csv: line {bad_line} has 2 fields but the header has 3 \('7,8'\)"):
        notarize(p)


@pytest.mark.parametrize("split", range(1, 4))
def test_utf8_across_block_boundary(tmp_path, small_blocks, split):
    """A 4-byte character cut by the end of a 64-byte block is valid; a cut sequence that the
    next block does not complete is caught, on the right line and column."""
    char = "\U0001f600".encode()
    prefix = b"a,b\n" + b"x" * 30 + b",1\n" + b"1,"  # the second block starts at byte 64
    pad = b"y" * (64 - len(prefix) - split)
    p = tmp_path / "u.csv"
    p.write_bytes(prefix + pad + char + b"\n2,3\n")
    assert notarize(p).rows == 3
    p.write_bytes(prefix + pad + char[:split] + b"z\n2,3\n")
    with pytest.raises(InputError, match=r"u.csv: line 3, column 'b': invalid UTF-8"):
        notarize(p)


def test_invalid_utf8_in_quoted_region(tmp_path, small_blocks):
    p = tmp_path / "q.csv"
    p.write_bytes(b'a,b\n"x\ny",1\n' + b"2,3\n" * 20 + b"4,caf\xe9\n")
    with pytest.raises(InputError, match=r"q.csv: line 24, column 'b': invalid UTF-8"):
        notarize(p)


# --- the parallel read: units of whole leaves on several threads, pieces stitched in order ------------


@pytest.fixture
def tiny_units(monkeypatch):
    """Units of 32 bytes (with chunk_size 16: two leaves) read in pieces of 8 on several threads:
    every line, field and character can fall across a piece, a unit and a thread boundary."""
    monkeypatch.setattr(nz, "SCAN_UNIT", 32)
    monkeypatch.setattr(nz, "SCAN_PIECE", 8)
    monkeypatch.setattr(nz, "_cores", lambda: 3)


@pytest.mark.parametrize("chunk", [16, 7, 1 << 20])
def test_root_same_for_any_unit_and_piece(tmp_path, tiny_units, chunk):
    """Leaves hashed by several threads fold to the root of one sequential pass (and of b3sum's
    leaves, test_root_matches_b3sum), for CSV and binary alike."""
    data = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(300))
    p = tmp_path / "d.csv"
    p.write_bytes(data)
    ref = nz.ChunkHasher(chunk)
    ref.update(data)
    assert notarize(p, chunk_size=chunk).root == ref.root()
    assert notarize(p, chunk_size=chunk, scan=False).root == ref.root()
    assert notarize(p, chunk_size=chunk).rows == 300


@pytest.mark.parametrize("chunk", [16, 7])
def test_random_csvs_across_units_match_pyarrow(tmp_path, tiny_units, chunk):
    import random

    import pyarrow.csv as pcsv

    rng = random.Random(11)
    for trial in range(40):
        ncols = rng.randint(1, 4)
        lines = [",".join(f"h{j}" for j in range(ncols))]
        for _ in range(rng.randint(0, 30)):
            r = rng.random()
            if r < 0.1:
                lines.append("")
            elif r < 0.15 and trial % 3 == 0:
                lines.append(",".join(['"q,\n' + "x" * rng.randint(0, 20) + '"'] * ncols))
            else:
                lines.append(",".join("\u00e9" * rng.randint(0, 2) + str(rng.randint(0, 10 ** rng.randint(0, 30)))
                                      for _ in range(ncols)))
        eol = "\r\n" if trial % 4 == 1 else "\n"
        text = eol.join(lines) + (eol if trial % 5 or len(lines) == 1 else "")
        p = tmp_path / f"r{trial}.csv"
        p.write_text(text, newline="")
        assert notarize(p, chunk_size=chunk).rows == pcsv.read_csv(p).num_rows, text


@pytest.mark.parametrize("shift", range(0, 18))
def test_ragged_line_at_every_boundary_offset(tmp_path, tiny_units, shift):
    """The ragged line starts, or its newline falls, on every offset around piece (8) and unit
    (32) boundaries; the message names its line and its whole text, even when it straddles."""
    head = b"a,b,c\n" + b"x" * shift + b",1,2\n"
    body = b"".join(b"%d,%d,%d\n" % (i, i, i) for i in range(3))
    bad = b"7,8" + b"9" * (shift % 5)
    p = tmp_path / "ragged.csv"
    p.write_bytes(head + body + bad + b"\n" + body)
    with pytest.raises(InputError, match=rf"ragged.csv: line 6 has 2 fields but the header has 3 \('{bad.decode()}'\)"):
        notarize(p, chunk_size=16)
    p.write_bytes(head + body + bad)  # the last line, no newline after it
    with pytest.raises(InputError, match=rf"line 6 has 2 fields but the header has 3 \('{bad.decode()}'\)"):
        notarize(p, chunk_size=16)
    p.write_bytes(head + body + bad + b",x\r\n\r\n" + body)  # right width, CRLF, a blank CRLF line
    assert notarize(p, chunk_size=16).rows == 8


@pytest.mark.parametrize("split", range(1, 4))
@pytest.mark.parametrize("at", [32, 40])  # a unit (another thread) or a piece begins there
def test_multibyte_character_split_across_units(tmp_path, tiny_units, split, at):
    char = "\U0001f600".encode()
    prefix = b"a,b\n" + b"x" * 8 + b",1\n" + b"1,"
    pad = b"y" * (at - len(prefix) - split)
    p = tmp_path / "u.csv"
    p.write_bytes(prefix + pad + char + b"\n2,3\n")
    assert notarize(p, chunk_size=16).rows == 3
    p.write_bytes(prefix + pad + char[:split] + b"z\n2,3\n")  # cut short: bad where it starts
    with pytest.raises(InputError, match=r"u.csv: line 3, column 'b': invalid UTF-8"):
        notarize(p, chunk_size=16)
    p.write_bytes(prefix + pad + b"z" + char[1:] + b"\n2,3\n")  # continuation bytes no lead claims
    with pytest.raises(InputError, match=r"u.csv: line 3, column 'b': invalid UTF-8"):
        notarize(p, chunk_size=16)
    p.write_bytes(prefix + pad + char[:split])  # the file ends inside the character
    with pytest.raises(InputError, match=r"u.csv: line 3: the file ends inside a UTF-8 sequence"):
        notarize(p, chunk_size=16)


def test_quote_after_many_units_keeps_exact_lines(tmp_path, tiny_units):
    """A quoted newline after many units: the units after it are read by other threads that do
    not know they start outside quotes; errors after it keep their exact line and column."""
    plain = "".join(f"{i},{i}\n" for i in range(40))
    p = tmp_path / "q.csv"
    p.write_text("a,b\n" + plain + '"x\ny",1\n' + plain)
    assert notarize(p, chunk_size=16).rows == 81 == reference_rows(p)
    p.write_text("a,b\n" + plain + '"x\ny",1\n' + plain + "5\n")
    with pytest.raises(InputError, match=r"q.csv: line 84 has 1 fields but the header has 2"):
        notarize(p, chunk_size=16)
    p.write_bytes(("a,b\n" + plain + '"x\ny",1\n' + plain).encode() + b"4,caf\xe9\n")
    with pytest.raises(InputError, match=r"q.csv: line 84, column 'b': invalid UTF-8"):
        notarize(p, chunk_size=16)
