"""The batch manifest: TOML, one `[[dataset]]` table per dataset (the options of `prove`), and an
optional `[cluster]` table (see pipeline/batch/cluster.py).

    [[dataset]]
    path = "sales.csv"            # CSV or Parquet file, directory of parts or glob, relative to the manifest
    name = "sales"
    columns = ["amount", "qty"]
    scale = { amount = 2 }
    range = { amount = "0:10000", qty = "0:100" }
    range_bits = 20
    chunk_rows = 1024
    delimiter = ";"               # optional, CSV only
    null_values = ["", "NA"]      # optional (default: pandas' markers)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.dataset_files import TextOptions
from pipeline.errors import InputError
from pipeline.ingest import DEFAULT_BLOCKSIZE
from pipeline.statistics_proof import ProveRequest

if sys.version_info >= (3, 11):
    import tomllib
else:                                  # pragma: no cover - Python 3.10
    import tomli as tomllib

DATASET_KEYS = {"path", "name", "columns", "scale", "range", "range_bits", "chunk_rows", "width", "tag", "parent",
                "blocksize", "delimiter", "null_values"}


@dataclass
class Manifest:
    path: Path
    datasets: list[ProveRequest]
    cluster: dict = field(default_factory=dict)


def _assignments(value, what: str) -> str | None:
    """A TOML table {col = value} as the `col=value,...` text `prove` parses."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError(f"{what} must be a table such as {{ amount = 2 }}")
    return ",".join(f"{k}={v}" for k, v in value.items())


def load_manifest(path: str | Path, device: str = "cpu", keys: Path | None = None) -> Manifest:
    """The manifest at `path` as prove requests; InputError naming the file and the dataset for any
    malformed item (nothing is proved before the whole manifest reads cleanly)."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(doc) - {"dataset", "cluster"}
    if unknown:
        raise InputError(f"{path}: unknown top-level table(s) {sorted(unknown)}; use [[dataset]] and [cluster]")
    items = doc.get("dataset")
    if not isinstance(items, list) or not items:
        raise InputError(f"{path}: no [[dataset]] tables; list at least one dataset")
    requests, names = [], set()
    for k, item in enumerate(items, 1):
        where = f"{path} dataset {k}"
        bad = set(item) - DATASET_KEYS
        if bad:
            raise InputError(f"{where}: unknown key(s) {sorted(bad)}; allowed: {sorted(DATASET_KEYS)}")
        for key in ("path", "name", "columns"):
            if key not in item:
                raise InputError(f"{where}: '{key}' is required")
        columns = item["columns"]
        if isinstance(columns, str):
            columns = [c.strip() for c in columns.split(",") if c.strip()]
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise InputError(f"{where}: columns must be a list of column names")
        if (item["name"], item.get("tag")) in names:
            raise InputError(f"{where}: dataset '{item['name']}' is listed twice")
        names.add((item["name"], item.get("tag")))
        ints = {}
        for key, default in (("range_bits", 32), ("chunk_rows", 1024), ("width", 9), ("blocksize", DEFAULT_BLOCKSIZE)):
            value = item.get(key, default)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{where}: {key} must be a positive whole number, got {value!r}")
            ints[key] = value
        dataset = Path(item["path"])
        delimiter, null_values = item.get("delimiter"), item.get("null_values")
        if delimiter is not None and not isinstance(delimiter, str):
            raise InputError(f"{where}: delimiter must be a text such as \";\"")
        if null_values is not None and not (isinstance(null_values, list) and all(isinstance(v, str) for v in null_values)):
            raise InputError(f"{where}: null_values must be a list of texts such as [\"\", \"NA\"]")
        try:
            TextOptions.from_options(delimiter, null_values)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        requests.append(ProveRequest(
            dataset=str(dataset if dataset.is_absolute() else path.parent / dataset), name=str(item["name"]),
            delimiter=delimiter, null_values=null_values,
            columns=columns, scale=_assignments(item.get("scale"), f"{where}: scale"),
            ranges=_assignments(item.get("range"), f"{where}: range"), device=device, keys=keys,
            tag=item.get("tag"), parent=item.get("parent"), **ints))
    cluster = doc.get("cluster", {})
    if not isinstance(cluster, dict):
        raise InputError(f"{path}: [cluster] must be a table")
    return Manifest(path, requests, cluster)
