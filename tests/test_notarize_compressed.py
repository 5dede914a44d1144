"""Compressed CSV (.gz, .bz2, .xz, .zst) and other delimiters: the commitment is over the stored
bytes, the rows are the decompressed ones, bad streams fail with one line; `delimiter` and the
notarize command's `--delimiter` are recorded."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma

import pandas as pd
import pyarrow as pa
import pytest

import pipeline.notarize as nz
from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.notarize import compare, notarize


def zstd_compress(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


COMPRESS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress, "zst": zstd_compress}
NAMES = {"gz": "gzip", "bz2": "bz2", "xz": "xz", "zst": "zstd"}


def table(rows: int) -> bytes:
    return ("id,name,v\n" + "".join(f'{i},"n, {i}\n""x""",{i * 0.5}\n' for i in range(rows))).encode()


@pytest.fixture
def small_pieces(monkeypatch):
    """Decompressed pieces of 64 bytes: records, quotes and characters cut by every piece end."""
    monkeypatch.setattr(nz, "SCAN_PIECE", 64)


@pytest.mark.parametrize("ext", sorted(COMPRESS))
def test_compressed_csv_rows_and_stored_bytes(tmp_path, small_pieces, ext):
    data = table(300)
    p = tmp_path / f"d.csv.{ext}"
    stored = COMPRESS[ext](data)
    p.write_bytes(stored)
    n = notarize(p, chunk_size=1000)
    plain = tmp_path / "d.csv"
    plain.write_bytes(data)
    assert n.rows == 300 == len(pd.read_csv(plain)) == notarize(plain).rows
    assert n.format == "csv" and n.files[0].compression == NAMES[ext] and n.size == len(stored)
    assert n.schema == notarize(plain).schema
    ref = nz.ChunkHasher(1000)
    ref.update(stored)  # the stored (compressed) bytes, as for any file
    assert n.root == ref.root() == notarize(p, chunk_size=1000, scan=False).root
    record = n.data_record()
    assert record["format"] == "csv" and record["compression"] == NAMES[ext] and record["delimiter"] == ","
    assert compare(record, p) == []


def test_compressed_tsv_and_multi_member_gzip(tmp_path):
    p = tmp_path / "d.tsv.gz"
    p.write_bytes(gzip.compress(b"a\tb\n1\t2\n") + gzip.compress(b"3\t4\n5\t6\n"))  # two members: one stream
    n = notarize(p)
    assert (n.format, n.rows, n.files[0].compression, n.files[0].delimiter) == ("tsv", 3, "gzip", "\t")


@pytest.mark.parametrize("ext", sorted(COMPRESS))
def test_errors_inside_compressed_csv_name_the_line(tmp_path, small_pieces, ext):
    data = table(40) + b"7,8\n" + table(3)[10:]
    p = tmp_path / f"r.csv.{ext}"
    p.write_bytes(COMPRESS[ext](data))
    with pytest.raises(InputError, match=r"r.csv.%s: line 82 has 2 fields but the header has 3 \('7,8'\)" % ext):
        notarize(p)
    p.write_bytes(COMPRESS[ext](table(40) + b'1,x"y,2\n'))
    with pytest.raises(InputError, match=r"line 82, column 'name': a quote inside an unquoted field"):
        notarize(p)


@pytest.mark.parametrize("ext", sorted(COMPRESS))
def test_corrupt_or_truncated_stream(tmp_path, ext):
    good = COMPRESS[ext](table(2000))
    p = tmp_path / f"bad.csv.{ext}"
    p.write_bytes(good[:len(good) // 2])  # truncated
    with pytest.raises(InputError, match=rf"bad.csv.{ext}: corrupt {NAMES[ext]} stream after \d+ decompressed bytes") as exc:
        notarize(p)
    assert "\n" not in str(exc.value)
    damaged = bytearray(good)
    for i in range(len(good) // 3, len(good) // 3 + 64):
        damaged[i] ^= 0x5A
    p.write_bytes(bytes(damaged))
    # zstd frames written without a checksum can decode damage into other bytes: the scan then
    # refuses the text they make (the commitment is over the stored bytes either way)
    expect = rf"bad.csv.{ext}: corrupt {NAMES[ext]} stream" + (r"|bad.csv.zst: line \d+" if ext == "zst" else "")
    with pytest.raises(InputError, match=expect) as exc:
        notarize(p)
    assert "\n" not in str(exc.value)
    p.write_bytes(b"this is not compressed at all\n1,2\n")
    with pytest.raises(InputError, match=rf"bad.csv.{ext}: corrupt {NAMES[ext]} stream after 0 decompressed bytes"):
        notarize(p)


def test_compressed_memory_is_bounded(tmp_path, monkeypatch):
    """The decompressed stream is read one piece at a time: the scan never holds more than a
    piece, however large the file (here: a reader that fails past 2 pieces' worth of buffer)."""
    data = table(20000)
    p = tmp_path / "d.csv.gz"
    p.write_bytes(gzip.compress(data))
    monkeypatch.setattr(nz, "SCAN_PIECE", 4096)
    seen = []
    real = nz._open_decompressed

    class Spy(io.RawIOBase):
        def __init__(self, inner):
            self.inner = inner

        def readable(self):
            return True

        def readinto(self, b):
            seen.append(len(b))
            return self.inner.readinto(b)

        def close(self):
            self.inner.close()

    monkeypatch.setattr(nz, "_open_decompressed", lambda path, c: Spy(real(path, c)))
    assert notarize(p).rows == 20000
    assert max(seen) <= max(4096 + 3, nz.SCHEMA_BLOCK) and len(seen) > len(data) // 8192


# --- delimiter -----------------------------------------------------------------------------------


def test_semicolon_delimiter(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_bytes(b"amount;qty;note\n1,5;2;x\n")
    with pytest.raises(InputError, match=r"eu.csv: line 2 has 2 fields but the header has 1"):
        notarize(p)  # the decimal comma splits the row: refused, as the issue found it
    p.write_bytes(b'amount;qty;note\n1,5;2;"a; b"\n2,25;3;x\n')
    with pytest.raises(InputError, match=r"eu.csv: line 2, column 2: a quote inside an unquoted field"):
        notarize(p)  # read with commas, the quote is inside the field '5;2;"a; b"'
    n = notarize(p, delimiter=";")
    assert n.rows == 2 and [c["name"] for c in n.schema] == ["amount", "qty", "note"]
    assert n.files[0].delimiter == ";" and n.data_record()["delimiter"] == ";"
    assert nz.digest_file(p, delimiter=";").rows == 2
    q = tmp_path / "eu.txt"  # unknown suffix: a delimiter says it is a CSV
    q.write_bytes(p.read_bytes())
    assert notarize(q, delimiter=";").format == "csv" and notarize(q).format == "binary"
    t = tmp_path / "t.csv"
    t.write_bytes(b"a\tb\n1\t2\n")
    assert notarize(t, delimiter="\\t").rows == 1 and notarize(t, delimiter="tab").files[0].delimiter == "\t"


@pytest.mark.parametrize("bad", ['"', "\n", ";;", "", "\u00e9"])
def test_bad_delimiter(tmp_path, bad):
    p = tmp_path / "d.csv"
    p.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(InputError, match="delimiter"):
        notarize(p, delimiter=bad)


def test_cli_notarize_delimiter_and_compressed(tmp_path, capsys):
    import json

    ledger = tmp_path / "zl" / "ledger.jsonl"
    assert main(["init", "--ledger", str(ledger), "--origin", "test.example/log"]) == 0
    p = tmp_path / "eu.csv.gz"
    p.write_bytes(gzip.compress(b"amount;qty\n1,5;2\n2,5;3\n"))
    capsys.readouterr()
    assert main(["notarize", "--ledger", str(ledger), str(p), "--name", "eu", "--delimiter", ";", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == 2
    entry = json.loads(ledger.read_text().splitlines()[-1])
    data = entry["entry"]["data"]
    assert (data["format"], data["compression"], data["delimiter"]) == ("csv", "gzip", ";")
    assert main(["notarize", "--ledger", str(ledger), str(p), "--name", "eu"]) != 0  # the comma default: ragged
    err = capsys.readouterr().err.strip()
    assert "line 2 has 2 fields but the header has 1" in err and "\n" not in err
    p.write_bytes(gzip.compress(b"a,b\n1,2\n" * 1000)[:-30])
    assert main(["notarize", "--ledger", str(ledger), str(p), "--name", "eu"]) != 0
    err = capsys.readouterr().err.strip()
    assert "corrupt gzip stream" in err and "\n" not in err


@pytest.mark.parametrize("ext", ["gz", "zst"])
def test_compressed_multibyte_characters_across_pieces(tmp_path, small_pieces, ext):
    """Characters of 2, 3 and 4 bytes fall across the ends of the 64-byte decompressed pieces at
    every offset; a cut one (invalid UTF-8) is still found on its line."""
    rows = "".join(f'{i},"\u00e9\u20ac{"x" * (i % 7)}\U0001f600",{i}\n' for i in range(200))
    data = ("id,name,v\n" + rows).encode()
    p = tmp_path / f"u.csv.{ext}"
    p.write_bytes(COMPRESS[ext](data))
    assert notarize(p).rows == 200
    bad = data.replace("\U0001f600".encode(), b"\xf0\x9f\x98", 1)  # the first emoji cut short (line 2)
    p.write_bytes(COMPRESS[ext](bad))
    with pytest.raises(InputError, match=r"u.csv.%s: line 2, column 'name': invalid UTF-8" % ext):
        notarize(p)
