"""Datasets as users keep them (issue 14) and as they come (issue 11, part 3): directories of part
files, globs, Hive partitions, compressed CSV, delimiters, Parquet types, null markers, repeated
options. Statistics are compared with pandas reading the same layout; the proofs and `verify --data`
run end to end on the main layouts, and every bad input names its file, row and column."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import secrets
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ledger import Ledger
from pipeline.cli import main as cli
from pipeline.dataset_files import DEFAULT_NULL_VALUES, TextOptions, resolve_dataset
from pipeline.encoding import column_encodings
from pipeline.errors import InputError
from pipeline.ingest import iter_chunks
from pipeline.key_trust import KeyTrust
from pipeline.statistics_proof import ProveRequest, prove_statistics
from pipeline.statistics_verify import verify_statistics

SHAPE = dict(chunk_rows=4, range_bits=12, width=3)
SHAPE_ARGS = ["--range-bits", "12", "--chunk-rows", "4", "--width", "3", "--device", "cpu"]


def frame_of(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(secrets.randbits(64))
    return pd.DataFrame({"price": np.round(rng.uniform(0, 40, n), 2), "qty": rng.integers(0, 30, n),
                         "note": [f"k, {i}" for i in range(n)]})


def sums_of(dataset, columns, scale=None, ranges=None, text=TextOptions(), bits=20):
    """Exact (count, nulls, sum) per column through the ingest path, without proving."""
    encodings = column_encodings(columns, scale, ranges, bits)
    count, nulls, total = [0] * len(columns), [0] * len(columns), [0] * len(columns)
    for chunk in iter_chunks(dataset, encodings, 7, text=text):
        a = chunk.active_rows
        for j in range(len(columns)):
            count[j] += int((~chunk.nulls[:a, j]).sum())
            nulls[j] += int(chunk.nulls[:a, j].sum())
            total[j] += int(chunk.values[:a, j].sum())
    return count, nulls, total


def scaled_sum(series: pd.Series, scale: int) -> int:
    return sum(int(Decimal(str(v)).scaleb(scale)) for v in series.dropna())


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Ledger:
    return Ledger.create(tmp_path_factory.mktemp("layouts") / "ledger.jsonl")


def prove(ledger: Ledger, dataset, name: str, **options):
    request = ProveRequest(dataset=dataset, name=name, columns=["price", "qty"], scale="price=2",
                           ranges="price=0:40,qty=0:30", log=lambda text: None, **SHAPE, **options)
    return prove_statistics(ledger, request)


def verified(ledger: Ledger, entry, data):
    return verify_statistics(ledger, entry, data, trust=KeyTrust.from_options(trusted_keys=str(ledger.dir / "keys")))


def write_parts(folder: Path, frame: pd.DataFrame, fmt: str, cuts=(0, 5, 6, 13)) -> list[Path]:
    """`frame` split into part files (one of them a single row), plus the markers writers leave."""
    folder.mkdir(parents=True)
    paths = []
    bounds = [*cuts, len(frame)]
    for k in range(len(bounds) - 1):
        part = frame.iloc[bounds[k]:bounds[k + 1]]
        path = folder / f"part-{k:05d}.{fmt}"
        part.to_csv(path, index=False) if fmt == "csv" else part.to_parquet(path, index=False)
        paths.append(path)
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / f".part-00000.{fmt}.crc").write_bytes(b"crc")
    return paths


# --- directories, globs, Hive partitions ------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_directory_of_parts_proves_verifies_and_names_skipped_files(ledger, tmp_path, fmt):
    frame = frame_of(17)
    write_parts(tmp_path / "parts", frame, fmt)
    entry = prove(ledger, tmp_path / "parts", f"dir-{fmt}")
    stats = entry.record["statistics"]
    assert entry.record["rows"] == 17
    assert stats["price"]["scaled"]["sum"] == scaled_sum(frame["price"], 2)
    assert stats["qty"]["scaled"]["sum"] == int(frame["qty"].sum())
    data = entry.record["data"]
    assert data["layout"] == "directory" and data["selection"] == "**"
    assert sorted(data["skipped"]) == sorted(["_SUCCESS", f".part-00000.{fmt}.crc"])
    assert [f["path"] for f in data["files"]] == [f"part-{k:05d}.{fmt}" for k in range(4)]
    assert verified(ledger, entry, tmp_path / "parts").data_checked
    # the CLI's verify --data re-hashes exactly the files read: markers may change, parts may not
    ledger_path = str(ledger.path)
    (tmp_path / "parts" / "_SUCCESS").write_text("rewritten")
    args = ["verify", str(entry.index), "--ledger", ledger_path, "--trusted-keys", str(ledger.dir / "keys")]
    assert cli([*args, "--data", str(tmp_path / "parts")]) == 0
    extra = tmp_path / "parts" / f"part-00009.{fmt}"
    (tmp_path / "parts" / f"part-00001.{fmt}").rename(extra)       # same bytes, another name and order
    assert cli([*args, "--data", str(tmp_path / "parts")]) == 1


def test_glob_reads_only_what_it_matches_and_verify_takes_the_folder_or_the_glob(ledger, tmp_path):
    frame = frame_of(14)
    write_parts(tmp_path / "mixed", frame, "csv")
    (tmp_path / "mixed" / "notes.parquet").write_bytes(b"PAR1 not data PAR1")    # not matched by the glob
    spec = str(tmp_path / "mixed" / "part-*.csv")
    ds = resolve_dataset(spec)
    assert ds.root == tmp_path / "mixed" and ds.selection == "part-*.csv" and len(ds.files) == 4
    entry = prove(ledger, spec, "glob")
    assert entry.record["data"]["selection"] == "part-*.csv"
    assert entry.record["statistics"]["qty"]["scaled"]["sum"] == int(frame["qty"].sum())
    assert verified(ledger, entry, tmp_path / "mixed").data_checked
    assert verified(ledger, entry, spec).data_checked
    with pytest.raises(InputError, match="notes.parquet is parquet; a dataset's part files share one format"):
        resolve_dataset(tmp_path / "mixed")             # the whole folder mixes in another format


def test_hive_partitions_are_columns_and_match_pandas(tmp_path):
    frame = frame_of(20)
    root = tmp_path / "hive"
    for (year, month), part in ((("2023", "12"), frame[:6]), (("2024", "01"), frame[6:9]), (("2024", "02"), frame[9:])):
        folder = root / f"year={year}" / f"month={month}"
        folder.mkdir(parents=True)
        part.to_parquet(folder / "part-0.parquet", index=False)
    ds = resolve_dataset(root)
    assert ds.partition_columns == ["year", "month"]
    expected = pd.read_parquet(root)                      # pandas adds the partition keys too
    count, nulls, total = sums_of(root, ["price", "month", "year"], "price=2")
    assert count == [20, 20, 20] and nulls == [0, 0, 0]
    assert total == [scaled_sum(expected["price"], 2), int(expected["month"].astype(int).sum()),
                     int(expected["year"].astype(int).sum())]


def test_bad_value_in_a_middle_part_names_the_file_row_and_column(ledger, tmp_path, capsys):
    frame = frame_of(12)
    paths = write_parts(tmp_path / "bad", frame, "csv", cuts=(0, 4, 8))
    lines = paths[1].read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[0], "4x", 1)       # third data row of the second part
    paths[1].write_text("\n".join(lines) + "\n")
    before = ledger.path.read_bytes()
    code = cli(["prove", str(tmp_path / "bad"), "--ledger", str(ledger.path), "--name", "bad", "--columns", "price",
                "--scale", "price=2", "--range", "price=0:40", *SHAPE_ARGS])
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert code == 1 and len(err) == 1
    assert str(paths[1]) in err[0] and "row 3" in err[0] and "'price'" in err[0] and "'4x'" in err[0]
    assert ledger.path.read_bytes() == before


def test_directory_refusals(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(InputError, match=r"no CSV or Parquet part files \(skipped: _SUCCESS\)"):
        resolve_dataset(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    frame_of(3).to_csv(mixed / "a.csv", index=False)
    frame_of(3).to_parquet(mixed / "b.parquet", index=False)
    with pytest.raises(InputError, match="b.parquet: is parquet, but .*a.csv is csv"):
        resolve_dataset(mixed)
    (mixed / "b.parquet").unlink()
    (mixed / "README.md").write_text("about")
    with pytest.raises(InputError, match="README.md: not a CSV or Parquet part file"):
        resolve_dataset(mixed)
    with pytest.raises(InputError, match="matches no CSV"):
        resolve_dataset(str(mixed / "*.tsv"))
    with pytest.raises(InputError, match="No such file"):
        resolve_dataset(tmp_path / "nope.csv")


# --- compressed CSV, delimiters ----------------------------------------------------------------

def compress(path: Path, data: bytes, codec: str) -> Path:
    out = path.with_name(path.name + {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}[codec])
    if codec == "zstd":
        with pa.output_stream(str(out), compression="zstd") as fh:
            fh.write(data)
    else:
        out.write_bytes({"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[codec](data))
    return out


@pytest.mark.parametrize("codec", ["gzip", "bz2", "xz", "zstd"])
def test_compressed_csv_reads_the_decompressed_rows_in_chunks(tmp_path, codec):
    frame = frame_of(41)
    text = frame.to_csv(index=False).encode()
    path = compress(tmp_path / "sales.csv", text, codec)
    ds = resolve_dataset(path)
    assert ds.files[0].compression == codec and ds.format == "csv"
    encodings = column_encodings(["qty"], None, None, 12)
    chunks = list(iter_chunks(path, encodings, 8, blocksize=1 << 10))     # small blocks: many batches
    assert [c.active_rows for c in chunks] == [8, 8, 8, 8, 8, 1]
    assert sum(int(c.values[:c.active_rows, 0].sum()) for c in chunks) == int(frame["qty"].sum())


def test_compressed_csv_proves_and_verifies_and_damage_is_one_line(ledger, tmp_path, capsys):
    frame = frame_of(9)
    path = compress(tmp_path / "d.csv", frame.to_csv(index=False).encode(), "gzip")
    entry = prove(ledger, path, "gz")
    assert entry.record["rows"] == 9 and entry.record["data"]["compression"] == ["gzip"]
    assert entry.record["data"]["size"] == path.stat().st_size             # the stored bytes are committed
    assert entry.record["statistics"]["price"]["scaled"]["sum"] == scaled_sum(frame["price"], 2)
    assert verified(ledger, entry, path).data_checked
    damaged = tmp_path / "damaged.csv.gz"
    raw = bytearray(path.read_bytes())
    damaged.write_bytes(bytes(raw[: len(raw) // 2]))
    before = ledger.path.read_bytes()
    code = cli(["prove", str(damaged), "--ledger", str(ledger.path), "--name", "dmg", "--columns", "qty",
                "--range", "qty=0:30", *SHAPE_ARGS])
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert code == 1 and len(err) == 1 and str(damaged) in err[0], err
    assert ledger.path.read_bytes() == before


def test_delimiter_is_used_and_recorded(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("amount;qty;note\n1.5;2;a,b\n2.25;3;c,d\n;4;e\n")
    count, nulls, total = sums_of(path, ["amount", "qty"], "amount=2", text=TextOptions(";"))
    assert (count, nulls, total) == ([2, 3], [1, 0], [375, 9])
    assert TextOptions.from_options("semicolon", None).describe(resolve_dataset(path))["delimiter"] == ";"
    tsv = tmp_path / "t.tsv.gz"
    tsv.write_bytes(gzip.compress(b"qty\tx\n5\t1,2\n7\t3\n"))
    assert sums_of(tsv, ["qty"])[2] == [12]
    with pytest.raises(InputError, match="--delimiter must be one character"):
        TextOptions.from_options('"', None)


# --- Parquet types as they come ----------------------------------------------------------------

def test_parquet_types_encode_exactly(tmp_path):
    big = 2**61 + 1                                    # not representable as a float64
    table = pa.table({
        "i8": pa.array([-3, None, 5], pa.int8()), "i16": pa.array([300, 2, None], pa.int16()),
        "i32": pa.array([7, 8, 9], pa.int32()), "i64": pa.array([big, None, 5], pa.int64()),
        "u8": pa.array([255, 0, 1], pa.uint8()), "u64": pa.array([2**62 - 1, 0, None], pa.uint64()),
        "f32": pa.array([0.5, 1.25, None], pa.float32()), "f64": pa.array([0.1, float("nan"), 2.5]),
        "dec": pa.array([Decimal("12.34"), None, Decimal("-0.01")], pa.decimal128(10, 2)),
        "cat": pa.array(["7", "8", "7"]).dictionary_encode(),
        "dnum": pa.array([1, 2, 1], pa.int64()).dictionary_encode(),
        "ts": pa.array([1, 2, 3], pa.timestamp("us")), "s": pa.array(["1", "2", "3"]),
    })
    path = tmp_path / "types.parquet"
    pq.write_table(table, path, row_group_size=2)
    cols = ["i8", "i16", "i32", "i64", "u8", "u64", "f32", "f64", "dec", "dnum"]
    count, nulls, total = sums_of(path, cols, "f32=2,f64=1,dec=2", "i8=-10:300,dec=-1:100", bits=62)
    assert nulls == [1, 1, 0, 1, 0, 1, 1, 1, 1, 0]                       # the f64 NaN is null (a default marker)
    assert total == [2, 302, 24, big + 5, 256, 2**62 - 1, 175, 26, 1233, 4]
    # exactness where float64 would round: one value, alone
    one = tmp_path / "one.parquet"
    pq.write_table(pa.table({"v": pa.array([big, None], pa.int64())}), one)
    assert sums_of(one, ["v"], bits=62)[2] == [big]
    for column, message in (("ts", "timestamp"), ("s", "is text in a typed file"), ("cat", "is text in a typed file")):
        with pytest.raises(InputError, match=message) as info:
            sums_of(path, [column])
        assert str(path) in str(info.value) and f"'{column}'" in str(info.value)
    with pytest.raises(InputError, match="has more than 1 decimals"):
        sums_of(path, ["dec"], "dec=1")
    with pytest.raises(InputError, match="not a finite number"):
        sums_of(path, ["f64"], "f64=1", text=TextOptions(None, ("",)))  # NaN is a value when not a marker


# --- null markers, repeated options ------------------------------------------------------------

PENGUINS = """species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year
Adelie,Torgersen,39.1,18.7,181,3750,male,2007
Adelie,Torgersen,39.5,17.4,186,3800,female,2007
Adelie,Torgersen,40.3,18,195,3250,female,2007
Adelie,Torgersen,NA,NA,NA,NA,NA,2007
Adelie,Torgersen,36.7,19.3,193,3450,female,2007
"""


def test_penguins_missing_values_are_nulls_and_the_markers_are_recorded(ledger, tmp_path, capsys):
    path = tmp_path / "penguins.csv"
    path.write_text(PENGUINS)
    expected = pd.read_csv(path)                     # pandas' default markers
    count, nulls, total = sums_of(path, ["bill_length_mm", "body_mass_g"], "bill_length_mm=1")
    assert count == [4, 4] and nulls == [1, 1]
    assert total == [scaled_sum(expected["bill_length_mm"], 1), int(expected["body_mass_g"].sum())]
    for spelling in ("N/A", "null", "NULL", "NaN", "", " NA "):
        other = tmp_path / "m.csv"
        other.write_text(f"v,w\n1,0\n{spelling},0\n2,0\n")
        assert sums_of(other, ["v"]) == ([2], [1], [3]), spelling
    strict = TextOptions.from_options(None, "")
    with pytest.raises(InputError, match=r"row 4 column 'bill_length_mm': 'NA' is not a number"):
        sums_of(path, ["bill_length_mm"], "bill_length_mm=1", text=strict)
    assert set(DEFAULT_NULL_VALUES) >= {"", "NA", "N/A", "null", "NULL", "NaN"}
    code = cli(["prove", str(path), "--ledger", str(ledger.path), "--name", "penguins", "--columns",
                "bill_length_mm,body_mass_g", "--scale", "bill_length_mm=1", "--range", "bill_length_mm=0:100",
                "--range", "body_mass_g=0:4000", "--null-values", "NA,", *SHAPE_ARGS, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    doc = json.loads(out)
    assert doc["statistics"]["bill_length_mm"]["nulls"] == 1 and doc["statistics"]["body_mass_g"]["count"] == 4
    ledger.refresh()
    entry = ledger.resolve("penguins")
    assert entry.record["encoding"]["null_values"] == ["NA", ""] and entry.record["encoding"]["delimiter"] == ","
    check = verified(ledger, entry, path)
    assert check.data_checked and "cells read as null: 'NA', ''" in check.summary()


def test_pandas_default_markers_are_ours():
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(DEFAULT_NULL_VALUES) == set(STR_NA_VALUES)


def test_repeated_range_and_scale_accumulate_and_a_column_twice_is_an_error(tmp_path, capsys):
    encodings = column_encodings(["a", "q"], ["a=2"], ["a=-500:500", "q=0:65535"], 20)
    assert [(e.scale, e.lo, e.hi) for e in encodings] == [(2, -50000, 50000), (0, 0, 65535)]
    with pytest.raises(InputError, match="column 'a' is given twice"):
        column_encodings(["a"], None, ["a=0:1", "a=0:2"], 20)
    with pytest.raises(InputError, match="column 'a' is given twice"):
        column_encodings(["a"], "a=1,a=2", None, 20)
    ledger_path = tmp_path / "l" / "ledger.jsonl"
    assert cli(["init", "--ledger", str(ledger_path), "--no-key"]) == 0
    data = tmp_path / "d.csv"
    data.write_text("amount,qty\n-40000,70000\n")
    capsys.readouterr()
    code = cli(["prove", str(data), "--ledger", str(ledger_path), "--name", "d", "--columns", "amount,qty",
                "--range", "amount=-50000:50000", "--range", "qty=0:65535", "--range-bits", "20"])
    err = capsys.readouterr().err
    assert code == 1 and "column 'qty': value 70000 is outside the declared range [0, 65535]" in err, err


def test_manifest_takes_delimiter_and_null_values(tmp_path):
    from pipeline.batch.manifest import load_manifest

    (tmp_path / "m.toml").write_text('[[dataset]]\npath = "parts/*.csv"\nname = "x"\ncolumns = ["v"]\n'
                                     'delimiter = ";"\nnull_values = ["", "-"]\n')
    request = load_manifest(tmp_path / "m.toml").datasets[0]
    assert request.dataset == os.path.join(str(tmp_path), "parts/*.csv")
    assert TextOptions.from_options(request.delimiter, request.null_values) == TextOptions(";", ("", "-"))
    (tmp_path / "bad.toml").write_text('[[dataset]]\npath = "a.csv"\nname = "x"\ncolumns = ["v"]\ndelimiter = ";;"\n')
    with pytest.raises(InputError, match="dataset 1: --delimiter must be one character"):
        load_manifest(tmp_path / "bad.toml")
