"""Review of datasets as part files (commit 1565a99) read as an attacker would: a dishonest data
owner who wants `verify --data` to pass on another reading of the data, or to disagree with what
was proven; and a malicious dataset that makes prove or verify hang, crash or read outside it.
Also: old entries (no recorded `null_values`) must verify exactly as before.

Hangs are run in a child process with a timeout, so a regression fails instead of stalling."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ledger import Ledger
from pipeline.dataset_files import DEFAULT_NULL_VALUES, TextOptions, dataset_of_entry, resolve_dataset
from pipeline.encoding import column_encodings
from pipeline.errors import InputError
from pipeline.ingest import iter_chunks
from pipeline.key_trust import KeyTrust
from pipeline.statistics_proof import ProveRequest, prove_statistics
from pipeline.statistics_verify import verify_statistics

REPO = Path(__file__).resolve().parents[1]
SHAPE = dict(chunk_rows=4, range_bits=12, width=3)     # every proof here: shape r4-c2-k12-t3 (one key setup)
LEGACY_ENCODING = {"columns": [], "range_bits": 12, "chunk_rows": 4, "fixed_point": "value * 10^scale, exact"}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Ledger:
    return Ledger.create(tmp_path_factory.mktemp("attacks") / "ledger.jsonl")


def verified(ledger: Ledger, entry, data):
    return verify_statistics(ledger, entry, data, trust=KeyTrust.from_options(trusted_keys=str(ledger.dir / "keys")))


def cells(dataset, columns, scale=None, text=TextOptions(), bits=20):
    """[(values, nulls)] per row through the ingest path (no proof)."""
    encodings = column_encodings(columns, scale, None, bits)
    out = []
    for chunk in iter_chunks(dataset, encodings, 5, text=text):
        a = chunk.active_rows
        out += list(zip(chunk.values[:a].tolist(), chunk.nulls[:a].tolist()))
    return out


def finishes(code: str, timeout: float = 10) -> subprocess.CompletedProcess:
    """Run `code` in a child Python (repo on the path); fail the test if it does not finish in time."""
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {timeout} s: a hang")


# --- FINDING (high): Dask/fsspec reads a part's path as a URL or glob, not as that file ---------------

def test_part_named_like_a_glob_is_read_as_itself_not_its_uncommitted_siblings(tmp_path):
    """_partitions passes str(file.path) to dd.read_csv / dd.read_parquet, and fsspec expands '*': a
    part literally named '*.csv' reads every .csv beside it, the skipped (never committed) '_hidden.csv'
    and '.dot.csv' included. A .txt (or compressed, or suffix-less) part makes notarize's row count
    None, so prove's Dask-vs-notarize row check is off: the entry proves rows that no committed byte
    holds, and `verify --data` on the same folder re-reads them alike and passes."""
    root = tmp_path / "d"
    root.mkdir()
    (root / "*.csv").write_text("v\n1\n")
    (root / "a.txt").write_text("v\n3\n")
    (root / "_hidden.csv").write_text("v\n100\n200\n")
    (root / ".dot.csv").write_text("v\n300\n")
    ds = resolve_dataset(root)
    assert [f.rel for f in ds.files] == ["*.csv", "a.txt"] and sorted(ds.skipped) == [".dot.csv", "_hidden.csv"]
    assert [v for (v,), _ in cells(ds, ["v"])] == [1, 3]


def test_file_named_with_an_fsspec_chain_proves_its_own_bytes(ledger, tmp_path):
    """fsspec splits 'x::y.csv' as a chained URL and opens 'x': the entry commits to the bytes of
    'x::y.csv' (9) but proves those of its neighbour 'x' (4000), with the same row count so the row
    check is silent, and `verify --data x::y.csv` (commitments and raw bytes) passes."""
    (tmp_path / "x").write_text("v,w\n4000,1\n")
    path = tmp_path / "x::y.csv"
    path.write_text("v,w\n9,1\n")
    entry = prove_statistics(ledger, ProveRequest(dataset=path, name="chain", columns=["v", "w"], log=lambda t: None,
                                                  **SHAPE))
    assert verified(ledger, entry, path).data_checked
    assert entry.record["statistics"]["v"]["scaled"]["sum"] == 9, "proved another file's values"


# --- FINDING: a FIFO in a dataset directory hangs prove and verify --data ---------------------------

def test_fifo_in_a_dataset_directory_does_not_hang(tmp_path):
    """list_files (whole-directory selection) lists every non-directory, and file_format() opens each
    one to read its magic before any regular-file check: open() of a FIFO blocks forever. The data
    owner hands the verifier such a folder; `verify --data` (check_data -> dataset_of_entry) hangs."""
    root = tmp_path / "parts"
    root.mkdir()
    (root / "part-0.csv").write_text("v\n1\n")
    os.mkfifo(root / "part-1.csv")
    done = finishes(f"""
        from pipeline.dataset_files import dataset_of_entry
        from pipeline.errors import InputError
        try:
            print(dataset_of_entry({{"layout": "directory", "selection": "**"}}, {str(root)!r}).files)
        except InputError as exc:
            print("refused:", exc)
        """)
    assert done.returncode == 0, done.stderr


# --- FINDING: glob selections follow directory symlinks (loops hang, the root is left) ------------

def test_recorded_glob_selection_does_not_follow_symlink_loops(tmp_path):
    """glob.glob(recursive=True) follows symbolic links to directories, unlike the whole-directory
    selection (os.walk). Two links to '.' make '**' exponential: the entry records selection
    '**/*.csv', the data owner ships the folder with the links, the verifier hangs."""
    root = tmp_path / "loop"
    root.mkdir()
    (root / "part-0.csv").write_text("v\n1\n")
    os.symlink(".", root / "a")
    os.symlink(".", root / "b")
    done = finishes(f"""
        from pipeline.dataset_files import dataset_of_entry
        from pipeline.errors import InputError
        try:
            print(len(dataset_of_entry({{"layout": "directory", "selection": "**/*.csv"}}, {str(root)!r}).files))
        except InputError as exc:
            print("refused:", exc)
        """)
    assert done.returncode == 0, done.stderr


def test_glob_selection_stays_inside_the_root_like_the_directory_selection(tmp_path):
    """A symlinked folder takes a '**' glob outside the dataset root (the '..' check on the recorded
    selection is bypassed); the whole-directory selection of the same folder does not follow it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("v\n7\n")
    root = tmp_path / "ds"
    root.mkdir()
    (root / "part-0.csv").write_text("v\n1\n")
    os.symlink(outside, root / "ext")
    whole = [f.rel for f in resolve_dataset(root).files]
    assert whole == ["part-0.csv"]
    globbed = [f.rel for f in resolve_dataset(str(root / "**" / "*.csv")).files]
    assert globbed == whole, f"the glob read {globbed}: a file outside {root}"


def test_glob_never_selects_a_file_twice(tmp_path):
    """glob.glob returns a file once per '**' that can reach it: the spec 'data/**/**/*.csv' (recorded
    as selection '**/**/*.csv') reads every part twice, so the entry proves doubled counts and sums,
    and `verify --data data` applies the same selection and passes."""
    root = tmp_path / "data"
    for k in range(3):
        (root / f"d{k}").mkdir(parents=True)
        (root / f"d{k}" / "part-0.csv").write_text(f"v\n{k + 1}\n")
    ds = resolve_dataset(str(root / "**" / "**" / "*.csv"))
    rels = [f.rel for f in ds.files]
    assert len(rels) == len(set(rels)) == 3, rels
    again = dataset_of_entry({"layout": "directory", "selection": "**/**/*.csv"}, root)
    assert sum(v for (v,), _ in cells(again, ["v"])) == 6


# --- FINDING: old entries (no null_values) over Parquet no longer verify ------------------------------

def legacy_parquet(path: Path) -> Path:
    pq.write_table(pa.table({"f": pa.array([1.5, float("nan"), 2.0]), "i": pa.array([1, None, 3], pa.int64()),
                             "s": pa.array(["1", "2", None])}), path)
    return path


def test_legacy_reading_of_parquet_is_the_old_one(tmp_path):
    """Before 1565a99 Parquet went through pandas and pa.Array.from_pandas: a float NaN was null and a
    string column of numbers was parsed. The legacy reading now keeps only "" as a marker, so NaN is
    'not a finite number' and a string column is 'text in a typed file': every old entry over such a
    file fails `verify --data` (reproduced with the parent commit's CLI: 'nan' is not a finite number)."""
    path = legacy_parquet(tmp_path / "t.parquet")
    legacy = TextOptions.from_encoding(LEGACY_ENCODING)
    assert cells(path, ["f"], "f=1", text=legacy) == [([15], [False]), ([0], [True]), ([20], [False])]
    assert cells(path, ["s"], text=legacy) == [([1], [False]), ([2], [False]), ([0], [True])]


def test_legacy_entry_over_parquet_with_nan_verifies_with_its_data(ledger, tmp_path, monkeypatch):
    """End to end: an entry shaped like the old ones (encoding without null_values) whose NaN was
    proven as a null, as the old prover did, must still verify against its file."""
    path = legacy_parquet(tmp_path / "old.parquet")
    with monkeypatch.context() as m:                       # record no text options, as before 1565a99
        m.setattr(TextOptions, "describe", lambda self, dataset: {})
        entry = prove_statistics(ledger, ProveRequest(dataset=path, name="legacy", columns=["f", "i"], scale="f=1",
                                                      null_values=["", "NaN"], log=lambda t: None, **SHAPE))
    assert "null_values" not in entry.record["encoding"]
    assert entry.record["statistics"]["f"]["nulls"] == 1
    assert verified(ledger, entry, path).data_checked


def test_legacy_csv_reading_is_unchanged(tmp_path):
    """Regression (passes): CSV entries without null_values still read only "" as null."""
    path = tmp_path / "d.csv"
    path.write_text("v\n1\nNaN\n")
    legacy = TextOptions.from_encoding(LEGACY_ENCODING)
    assert legacy == TextOptions(None, ("",), legacy=True)
    with pytest.raises(InputError, match=r"row 2 column 'v': 'NaN'"):
        cells(path, ["v"], text=legacy)
    assert "NaN" in DEFAULT_NULL_VALUES and cells(path, ["v"])[1] == ([0], [True])   # new entries: recorded


# --- FINDING: --delimiter is not used by the notarize scan ---------------------------------------------

def test_semicolon_csv_with_commas_in_text_proves_and_records_its_schema(ledger, tmp_path):
    """prove notarizes a .csv with ',' whatever --delimiter says: a ';' file whose text column holds a
    comma (decimal commas, addresses) is refused as ragged, and one without commas gets a schema of a
    single column named 'amount;qty;note'."""
    path = tmp_path / "eu.csv"
    path.write_text("amount;qty;note\n1.5;2;Rue 1, Paris\n2.25;3;x\n0.5;1;a,b\n1;2;c\n4;5;d\n")
    entry = prove_statistics(ledger, ProveRequest(dataset=path, name="eu", columns=["amount", "qty"],
                                                  scale="amount=2", delimiter=";", log=lambda t: None, **SHAPE))
    assert entry.record["statistics"]["qty"]["scaled"]["sum"] == 13
    assert [c["name"] for c in entry.record["schema"]] == ["amount", "qty", "note"]
    assert verified(ledger, entry, path).data_checked


# --- FINDING: a prover-written encoding crashes verify with a TypeError ---------------------------------

@pytest.mark.parametrize("encoding", [{"delimiter": 5}, {"delimiter": [","]}, {"delimiter": {"x": 1}}])
def test_malformed_recorded_delimiter_is_refused_not_a_traceback(encoding):
    """TextOptions.from_encoding passes the entry's delimiter to len()/`in` unchecked: TypeError, which
    check_encoding (catches InputError) and the CLI (PipelineError, ValueError, OSError) let through."""
    with pytest.raises(InputError):
        TextOptions.from_encoding(LEGACY_ENCODING | encoding)


# --- FINDING: a delimiter that splits numbers is accepted ----------------------------------------------

@pytest.mark.parametrize("delimiter", [".", "0", "7", "-", "+"])
def test_delimiter_that_is_part_of_numbers_is_refused(tmp_path, delimiter):
    """With --delimiter '.' the same bytes '1.5' are two cells: the entry then proves a table that no
    CSV reader with the usual delimiter sees (recorded, but only in the JSON of `show`)."""
    with pytest.raises(InputError):
        TextOptions.from_options(delimiter, None)
    with pytest.raises(InputError):
        TextOptions.from_encoding(LEGACY_ENCODING | {"delimiter": delimiter})


# --- FINDING (low): a damaged Parquet part is not named -------------------------------------------------

def test_truncated_parquet_part_names_its_file(tmp_path):
    root = tmp_path / "pq"
    root.mkdir()
    pq.write_table(pa.table({"v": [1, 2]}), root / "part-0.parquet")
    (root / "part-1.parquet").write_bytes(b"PAR1" + b"\0" * 64)          # magic at the head only
    with pytest.raises(InputError, match="part-1.parquet"):
        cells(root, ["v"])


# --- FINDING (low): a compressed CSV is read by other rules than the same text uncompressed ---------

def test_whitespace_only_line_in_compressed_csv_reads_like_pandas(tmp_path):
    """Uncompressed CSV goes through pandas (a line of spaces is blank: skipped); compressed CSV goes
    through pyarrow's streaming reader, which keeps it as a row whose trimmed cell is "" (null).
    The .gz of the same text proves one more row and one more null than pandas reads."""
    path = tmp_path / "one.csv.gz"
    path.write_bytes(gzip.compress(b"v\n1\n \n2\n"))
    expected = pd.read_csv(path)["v"]
    assert cells(path, ["v"]) == [([int(v)], [False]) for v in expected]


# --- FINDING (low): a Parquet part without columns crashes with IndexError ----------------------------

def test_parquet_part_without_columns_under_hive_folders_is_not_a_traceback(tmp_path):
    """When every chosen column is a Hive key, ingest reads `own[:1]` to count rows; a Parquet part
    with no columns makes it [] and `block[read[0]]` raises IndexError (the CLI catches neither)."""
    folder = tmp_path / "hive" / "year=2024"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"v": [1, 2]}).drop_columns(["v"]), folder / "part-0.parquet")
    try:
        got = cells(tmp_path / "hive", ["year"])
    except InputError:
        return
    assert got == [([2024], [False])] * len(pd.read_parquet(tmp_path / "hive"))


# --- regressions that hold ---------------------------------------------------------------------------

@pytest.mark.parametrize("selection", ["../*.csv", "/etc/*", "a/../../*.csv", "./../x.csv"])
def test_recorded_selection_cannot_climb_out(tmp_path, selection):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "a.csv").write_text("v\n1\n")
    with pytest.raises(InputError, match="not a relative glob"):
        dataset_of_entry({"layout": "directory", "selection": selection}, tmp_path / "ds")


def test_concatenated_gzip_members_read_like_pandas_and_rows_are_per_file(tmp_path):
    root = tmp_path / "gz"
    root.mkdir()
    (root / "a.csv.gz").write_bytes(gzip.compress(b"v\n1\n2\n") + gzip.compress(b"3\n4\n"))
    (root / "b.csv.gz").write_bytes(gzip.compress(b"v\n5\n\n6\nx\n"))
    assert [v for (v,), _ in cells(root / "a.csv.gz", ["v"])] == pd.read_csv(root / "a.csv.gz")["v"].tolist()
    with pytest.raises(InputError, match=r"b\.csv\.gz row 3 column 'v': 'x' is not a number"):
        cells(root, ["v"])


def test_hidden_and_underscore_parts_are_skipped_like_pyarrow(tmp_path):
    root = tmp_path / "spark"
    (root / "_temporary").mkdir(parents=True)
    pq.write_table(pa.table({"v": [1, 2]}), root / "part-0.parquet")
    pq.write_table(pa.table({"v": [100]}), root / "_temporary" / "part-9.parquet")
    pq.write_table(pa.table({"v": [1000]}), root / ".part-8.parquet")
    ds = resolve_dataset(root)
    assert [f.rel for f in ds.files] == ["part-0.parquet"]
    assert sorted(ds.skipped) == [".part-8.parquet", "_temporary/part-9.parquet"]
    assert sum(v for (v,), _ in cells(root, ["v"])) == int(pd.read_parquet(root)["v"].sum()) == 3
