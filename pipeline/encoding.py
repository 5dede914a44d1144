"""Value encoding: column text or numbers to exact fixed-point integers within declared bounds.

A column with scale d stores v·10^d as an integer. The conversion is exact or an error: a value
with more than d decimals, NaN, ±inf, text that is not a number, or a value outside the declared
range is an `InputError` naming the file, the row and the column. Every value goes through
Arrow's decimal parser (numbers are first printed in their shortest round-trip form), so a CSV
"0.1" and a Parquet double 0.1 encode to the same integer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.errors import InputError

MAX_RANGE_BITS = 62      # scaled values and their offsets stay inside int64
MAX_SCALE = 18


@dataclass(frozen=True)
class ColumnEncoding:
    """How one column becomes integers: `scale` decimals, scaled bounds [lo, hi], `bits` wide."""

    name: str
    scale: int
    lo: int
    hi: int

    @property
    def span_bits(self) -> int:
        """Bits needed for v − lo, v in [lo, hi]."""
        return max(1, (self.hi - self.lo).bit_length())

    def to_units(self, scaled: int) -> Decimal:
        """The column's own units of a scaled integer."""
        return Decimal(scaled).scaleb(-self.scale)

    def describe(self) -> dict:
        return asdict(self) | {"min_bound": str(self.to_units(self.lo)), "max_bound": str(self.to_units(self.hi))}


def parse_assignments(text: str | list[str] | None, option: str) -> dict[str, str]:
    """`a=1,b=2` (or several such texts, one per repeated option) → {"a": "1", "b": "2"};
    InputError on a malformed item or a column given twice."""
    out: dict[str, str] = {}
    if not text:
        return out
    for part in [text] if isinstance(text, str) else text:
        for item in part.split(","):
            name, sep, value = item.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise InputError(f"{option}: '{item}' is not COLUMN=VALUE (example: {option} price=2)")
            if name.strip() in out:
                raise InputError(f"{option}: column '{name.strip()}' is given twice ({option} {name.strip()}="
                                 f"{out[name.strip()]} and {option} {item.strip()}); give each column once")
            out[name.strip()] = value.strip()
    return out


def scaled_decimal(text: str, scale: int, what: str) -> int:
    """Exact integer of a decimal string times 10^scale; InputError if inexact or not a number."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputError(f"{what}: '{text}' is not a number") from None
    if not value.is_finite():
        raise InputError(f"{what}: '{text}' is not a finite number")
    scaled = value.scaleb(scale)
    if scaled != scaled.to_integral_value():
        raise InputError(f"{what}: '{text}' has more than {scale} decimals; raise the column's --scale")
    return int(scaled)


def column_encodings(columns: list[str], scale_opt: str | list[str] | None, range_opt: str | list[str] | None,
                     range_bits: int) -> list[ColumnEncoding]:
    """Encodings for the chosen columns from `--scale a=2` and `--range a=0:1e6`.

    A column without `--range` gets [0, 2^range_bits − 1] (non-negative values). Raises
    InputError for unknown columns in the options, bad numbers, or a range wider than range_bits.
    """
    if not columns:
        raise InputError("--columns: name at least one numeric column (example: --columns price,qty)")
    if len(set(columns)) != len(columns):
        raise InputError(f"--columns: a column is named twice in {','.join(columns)}")
    if not 1 <= range_bits <= MAX_RANGE_BITS:
        raise InputError(f"--range-bits must be between 1 and {MAX_RANGE_BITS}, got {range_bits}")
    scales = parse_assignments(scale_opt, "--scale")
    ranges = parse_assignments(range_opt, "--range")
    for option, given in (("--scale", scales), ("--range", ranges)):
        unknown = sorted(set(given) - set(columns))
        if unknown:
            raise InputError(f"{option}: column '{unknown[0]}' is not among --columns {','.join(columns)}")
    encodings = []
    for name in columns:
        try:
            scale = int(scales.get(name, "0"))
        except ValueError:
            raise InputError(f"--scale {name}: '{scales[name]}' is not a whole number of decimals") from None
        if not 0 <= scale <= MAX_SCALE:
            raise InputError(f"--scale {name}: decimals must be between 0 and {MAX_SCALE}")
        if name in ranges:
            lo_text, sep, hi_text = ranges[name].partition(":")
            if not sep:
                raise InputError(f"--range {name}: '{ranges[name]}' is not LOW:HIGH (example: --range {name}=0:1e6)")
            lo = scaled_decimal(lo_text, scale, f"--range {name} low bound")
            hi = scaled_decimal(hi_text, scale, f"--range {name} high bound")
            if lo > hi:
                raise InputError(f"--range {name}: low bound {lo_text} is above high bound {hi_text}")
        else:
            lo, hi = 0, (1 << range_bits) - 1
        enc = ColumnEncoding(name, scale, lo, hi)
        if enc.span_bits > range_bits:
            raise InputError(f"--range {name}: the range spans {enc.span_bits} bits after scaling by 10^{scale}, "
                             f"more than --range-bits {range_bits}; narrow the range or raise --range-bits")
        encodings.append(enc)
    return encodings


def _first_bad(texts: pa.Array, scale: int) -> tuple[int, str]:
    """Index and reason of the first value Arrow's decimal parser rejects (error path only).

    Bisects with the same cast that failed, so the row found is the one Arrow objected to.
    """
    target = pa.decimal128(38, scale)

    def converts(part: pa.Array) -> bool:
        try:
            pc.cast(part, target)
            return True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False

    lo, hi = 0, len(texts)          # the first bad index lies in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if converts(texts.slice(lo, mid - lo)):
            lo = mid
        else:
            hi = mid
    item = texts[lo].as_py()
    try:
        scaled_decimal(item, scale, "value")
    except InputError as exc:
        return lo, str(exc).removeprefix("value: ")
    return lo, f"'{item}' is not a plain decimal number"


def encode_values(values: pa.Array, enc: ColumnEncoding, where, first_row: int,
                  null_values: tuple[str, ...] = ("",), text: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scaled int64 values and a null mask for one column of one partition.

    `where(row) -> str` names the place for messages ("data.csv row 12"); `first_row` is the
    row number of values[0]. Text (`text`: CSV cells, Hive partition values) is trimmed and a cell
    equal to one of `null_values` is null; typed columns (Parquet) must be numeric, their nulls are
    nulls and a floating-point NaN is null when "NaN" is one of the markers. Nulls get value 0.
    Raises InputError for any bad value.
    """
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        if not text:
            raise InputError(f"{where(first_row)} column '{enc.name}': type {values.type} is text in a typed file; "
                             "choose numeric columns with --columns, or store the column as numbers")
        texts = pc.utf8_trim_whitespace(values)
        markers = pa.array(list(null_values), texts.type)
        texts = pc.if_else(pc.is_in(texts, value_set=markers), pa.scalar(None, texts.type), texts)
    elif pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_decimal(values.type):
        if pa.types.is_floating(values.type) and "NaN" in null_values:
            values = pc.if_else(pc.is_nan(values), pa.scalar(None, values.type), values)
        texts = pc.cast(values, pa.string())
    elif pa.types.is_null(values.type):
        texts = pa.array([None] * len(values), pa.string())
    else:
        raise InputError(f"{where(first_row)} column '{enc.name}': type {values.type} is not numeric; "
                         "choose numeric columns with --columns")
    nulls = texts.is_null().to_numpy(zero_copy_only=False)
    try:
        dec = pc.cast(texts, pa.decimal128(38, enc.scale))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        k, reason = _first_bad(texts, enc.scale)
        raise InputError(f"{where(first_row + k)} column '{enc.name}': {reason}"
                         + ("" if "decimals" in reason else "; clean the value or drop the column")) from None
    # decimal128 stores the unscaled integer as 16-byte little-endian two's complement.
    raw = np.frombuffer(dec.buffers()[1], dtype="<i8", count=2 * (len(dec) + dec.offset))[2 * dec.offset:]
    low, high = raw[0::2], raw[1::2]
    fits = (high == (low >> 63)) | nulls
    scaled = np.where(nulls, 0, low).astype(np.int64)
    bad = ~fits | (~nulls & ((scaled < enc.lo) | (scaled > enc.hi)))
    if bad.any():
        k = int(np.argmax(bad))
        shown = texts[k].as_py()
        raise InputError(f"{where(first_row + k)} column '{enc.name}': value {shown} is outside the declared range "
                         f"[{enc.to_units(enc.lo)}, {enc.to_units(enc.hi)}]; widen --range {enc.name}=LOW:HIGH")
    return scaled, nulls
