"""Which files make a dataset, and how their text is read.

A dataset is given as one file, a directory of part files, or a glob of part files (quote it in the
shell: `'sales/*.parquet'`), of CSV (optionally compressed: .gz, .bz2, .xz, .zst) or Parquet. A
directory or glob is read as one table, file after file in sorted relative-path order, each CSV
part with its own header. What Spark, Hadoop and Dask write beside the parts is skipped and named in
the entry: any path with a component starting with "." or "_" (`_SUCCESS`, `_metadata`, `.crc`
files, `_temporary/`). Anything else that is not a part of the same format is refused: a dataset
directory mixes nothing else. Hive-style directories (`year=2024/month=01/part-0.parquet`) add their
keys as text columns of every row below them, usable in `--columns` when numeric.

The raw-bytes commitment of a directory or glob is the tree that `notarize` makes over exactly the
files read (pipeline.notarize), so `verify --data` re-hashes the same files, selected by the same
rule (`selection_of`).
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError
from pipeline.notarize import COMPRESSIONS

CSV_DELIMITERS = {".csv": ",", ".txt": ",", ".tsv": "\t", ".tab": "\t"}
GLOB_CHARS = frozenset("*?[")
# pandas' default missing-value spellings (pandas._libs.parsers.STR_NA_VALUES, pandas 2 and 3); pyarrow's
# defaults are a subset. Kept here, not read from pandas, so an entry's meaning never moves with pandas.
DEFAULT_NULL_VALUES = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
LEGACY_NULL_VALUES = ("",)        # entries made before null markers were recorded read only "" as null
MAX_NULL_VALUES = 64
SELECT_ALL = "**"                 # the selection of a directory given whole


NOT_DELIMITERS = frozenset('"\r\n.+-0123456789eE')   # quotes, line ends, and what numbers are made of


@dataclass(frozen=True)
class TextOptions:
    """How text becomes values: the CSV field delimiter (None: by suffix, ',' or tab) and the cell
    texts, after trimming spaces, that mean null. Recorded in a statistics entry's encoding.
    `legacy`: an entry made before these were recorded (only "" is null in CSV; Parquet read through
    pandas' NumPy dtypes, as then)."""

    delimiter: str | None = None
    null_values: tuple[str, ...] = DEFAULT_NULL_VALUES
    legacy: bool = False

    def __post_init__(self):
        if self.delimiter is not None and (not isinstance(self.delimiter, str) or len(self.delimiter) != 1
                                           or self.delimiter in NOT_DELIMITERS):
            raise InputError(f"--delimiter must be one character other than a quote, a line break, a digit, '.', "
                             f"'+', '-' or 'e', got {self.delimiter!r} (examples: --delimiter ';', --delimiter tab)")
        if not isinstance(self.null_values, tuple) or len(self.null_values) > MAX_NULL_VALUES or \
                not all(isinstance(v, str) and len(v) <= 64 for v in self.null_values):
            raise InputError(f"--null-values: at most {MAX_NULL_VALUES} markers of at most 64 characters each")

    @classmethod
    def from_options(cls, delimiter: str | None, null_values: str | list[str] | None) -> TextOptions:
        """From `--delimiter` (one character, or 'tab') and `--null-values` (a comma-separated list,
        or a list of texts from a manifest; '' alone: only empty cells are null)."""
        if delimiter is not None:
            delimiter = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(delimiter,
                                                                                                   delimiter)
        markers = DEFAULT_NULL_VALUES
        if isinstance(null_values, str):
            null_values = null_values.split(",")
        if null_values is not None:
            if not all(isinstance(v, str) for v in null_values):
                raise InputError("null values must be texts, e.g. null_values = [\"NA\", \"\"]")
            markers = tuple(dict.fromkeys(v.strip() for v in null_values))
        return cls(delimiter, markers)

    @classmethod
    def from_encoding(cls, encoding: dict) -> TextOptions:
        """The options an entry's encoding records (older entries: only "" is null)."""
        if "null_values" not in encoding:
            return cls(encoding.get("delimiter"), LEGACY_NULL_VALUES, legacy=True)
        markers = encoding["null_values"]
        if not isinstance(markers, list) or not all(isinstance(v, str) for v in markers):
            raise InputError("the entry's encoding has null_values that are not a list of texts")
        return cls(encoding.get("delimiter"), tuple(markers))

    def delimiter_for(self, file: DataFile) -> str:
        return self.delimiter or file.default_delimiter

    def describe(self, dataset: Dataset) -> dict:
        out: dict = {"null_values": list(self.null_values)}
        if dataset.format == "csv":
            out["delimiter"] = self.delimiter or dataset.files[0].default_delimiter
        return out


@dataclass(frozen=True)
class DataFile:
    rel: str                                   # '/'-separated path below the dataset root ('' base name for a file)
    path: Path
    format: str                                # "csv" or "parquet"
    compression: str | None = None             # gzip, bz2, xz, zstd (CSV only)
    partitions: tuple[tuple[str, str], ...] = ()   # Hive keys of its directories, outermost first
    size: int = 0

    @property
    def default_delimiter(self) -> str:
        name = self.path.name.lower()
        for suffix in COMPRESSIONS:
            name = name.removesuffix(suffix)
        return CSV_DELIMITERS.get(Path(name).suffix, ",")


@dataclass
class Dataset:
    """The files of a dataset, in reading order, and what was skipped beside them."""

    spec: str                                  # as the user gave it
    root: Path                                 # the file itself, or the folder the parts are under
    layout: str                                # "file" or "directory"
    selection: str | None                      # glob below root (SELECT_ALL: the whole directory); None: a file
    files: list[DataFile]
    skipped: list[str] = field(default_factory=list)

    @property
    def format(self) -> str:
        return self.files[0].format

    @property
    def partition_columns(self) -> list[str]:
        return [k for k, _ in self.files[0].partitions] if self.files else []


def file_format(path: Path) -> tuple[str, str | None] | None:
    """("parquet", None) by the PAR1 magic, ("csv", compression) by the name, else None. InputError
    for what is not a regular file (a FIFO or a device would block or never end)."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            return None
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: not a regular file (a pipe, socket or device); a dataset holds files only")
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check the path and permissions") from None
    if head == b"PAR1":
        return "parquet", None
    name = path.name.lower()
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if name.endswith(suffix):
            compression, name = codec, name.removesuffix(suffix)
    suffix = Path(name).suffix
    if suffix in CSV_DELIMITERS or (not suffix and compression is None):
        return "csv", compression
    return None


def is_skipped(rel: str) -> bool:
    """Markers and hidden files that part-file writers leave beside the parts."""
    return any(part.startswith((".", "_")) for part in rel.split("/"))


def _hive_keys(rel: str) -> tuple[tuple[str, str], ...]:
    keys = []
    for part in rel.split("/")[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            keys.append((key, value))
    return tuple(keys)


def _sorted(paths: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    return sorted(paths, key=lambda x: x[0].encode("utf-8", "surrogateescape"))


def _glob_match(parts: list[str], pattern: list[str]) -> bool:
    """Whether a relative path (its components) matches a glob (its components): '**' is any number
    of folders, other components match one name each as fnmatch does, case-sensitively."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_match(parts[k:], pattern[1:]) for k in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob_match(parts[1:], pattern[1:])


def selection_of(root: Path, selection: str) -> tuple[list[tuple[str, Path]], list[str]]:
    """(files read, files skipped) below `root` under a selection: SELECT_ALL or a glob, as
    (relative '/' path, path) in sorted order. Both walk the same listing (regular files and links
    to files, each once; links to folders are not followed, so nothing outside `root` is reached)."""
    from pipeline.notarize import list_files

    found = list_files(root)
    if selection != SELECT_ALL:
        pattern = [p for p in selection.split("/") if p not in ("", ".")]
        found = [(rel, p) for rel, p in found if _glob_match(rel.split("/"), pattern)]
    read, skipped = [], []
    for rel, p in _sorted(found):
        if is_skipped(rel):
            skipped.append(rel)
        else:
            read.append((rel, p))
    return read, skipped


def _split_glob(spec: str) -> tuple[Path, str]:
    """'data/year=*/part-*.csv' → (data, 'year=*/part-*.csv'): the folder above the first wildcard."""
    parts = Path(spec).parts
    k = next(i for i, part in enumerate(parts) if GLOB_CHARS & set(part))
    root = Path(*parts[:k]) if k else Path(".")
    return root, "/".join(parts[k:])


def resolve_dataset(spec: str | os.PathLike) -> Dataset:
    """The files of a dataset spec (a file, a directory, or a glob); InputError naming what is wrong."""
    text = os.fspath(spec)
    path = Path(text)
    if path.is_file():
        kind = file_format(path)
        if kind is None:
            raise InputError(f"{path}: not a CSV or Parquet file (suffix {path.suffix!r}, no PAR1 magic); "
                             "use notarize for other data")
        size = path.stat().st_size
        if size == 0:
            raise InputError(f"{path}: file is empty; nothing to prove")
        return Dataset(text, path, "file", None, [DataFile(path.name, path, *kind, size=size)])
    if path.is_dir():
        root, selection = path, SELECT_ALL
    elif GLOB_CHARS & set(text):
        root, selection = _split_glob(text)
        if not root.is_dir():
            raise InputError(f"{text}: the folder {root} does not exist; check the path")
    elif path.exists():
        raise InputError(f"{path}: not a regular file or directory")
    else:
        raise InputError(f"{path}: cannot read (No such file or directory); check the path")
    return _dataset_of(text, root, selection)


def _dataset_of(spec: str, root: Path, selection: str) -> Dataset:
    read, skipped = selection_of(root, selection)
    if not read:
        what = "directory holds" if selection == SELECT_ALL else "glob matches"
        raise InputError(f"{spec}: the {what} no CSV or Parquet part files"
                         + (f" (skipped: {', '.join(skipped[:5])})" if skipped else "") + "; check the path")
    files = []
    for rel, p in read:
        kind = file_format(p)
        if kind is None:
            raise InputError(f"{p}: not a CSV or Parquet part file; a dataset directory or glob holds part files of "
                             "one format only (hidden files and _-prefixed markers are skipped); move it or "
                             "narrow the glob")
        files.append(DataFile(rel, p, *kind, partitions=_hive_keys(rel), size=p.stat().st_size))
    first = files[0]
    for f in files[1:]:
        if f.format != first.format:
            raise InputError(f"{f.path}: is {f.format}, but {first.path} is {first.format}; a dataset's part files "
                             "share one format")
        if [k for k, _ in f.partitions] != [k for k, _ in first.partitions]:
            raise InputError(f"{f.path}: its Hive partition keys {[k for k, _ in f.partitions]} differ from "
                             f"{[k for k, _ in first.partitions]} of {first.path}; partition every file alike")
        if f.format == "csv" and f.default_delimiter != first.default_delimiter:
            raise InputError(f"{f.path}: its suffix says another delimiter than {first.path}; keep one kind of CSV")
    return Dataset(spec, root, "directory", selection, files, skipped)


def dataset_of_entry(data: dict, path: str | os.PathLike) -> Dataset:
    """The files at `path` that an entry's `data` record says were read: the same selection rule
    (a whole directory or a glob below it) applied to the folder given, or the file itself."""
    path = Path(os.fspath(path))
    if data.get("layout", "file") == "file":
        if GLOB_CHARS & set(str(path)) and not path.exists():
            raise InputError(f"{path}: the entry proved one file; give that file")
        return resolve_dataset(path)
    selection = data.get("selection", SELECT_ALL)
    if not isinstance(selection, str) or selection.startswith("/") or ".." in selection.split("/"):
        raise InputError(f"the entry's data selection {selection!r} is not a relative glob")
    root = path
    if not path.is_dir() and GLOB_CHARS & set(str(path)):
        root, _ = _split_glob(str(path))
    if not root.is_dir():
        raise InputError(f"{path}: the entry proved a directory of part files; give that directory")
    return _dataset_of(str(path), root, selection)
