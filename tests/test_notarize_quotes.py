"""The quote-aware CSV row scan (pipeline/csv_scan.py) through notarize: quoted delimiters and
newlines, escaped quotes, CRLF, misplaced and unclosed quotes, and the in-quote state carried
across pieces (8 bytes) and units read by other threads (32 bytes), checked against pandas."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline.notarize as nz
from pipeline.errors import InputError
from pipeline.notarize import notarize


@pytest.fixture
def tiny_units(monkeypatch):
    """Pieces of 8 bytes, units of 32 (with chunk_size 16: two leaves) on 3 threads: a quoted
    field crosses piece and unit (thread) boundaries at every offset."""
    monkeypatch.setattr(nz, "SCAN_UNIT", 32)
    monkeypatch.setattr(nz, "SCAN_PIECE", 8)
    monkeypatch.setattr(nz, "_cores", lambda: 3)


def pandas_rows(data: bytes) -> int:
    return len(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False))


def check_rows(tmp_path, data: bytes, name: str = "d.csv") -> int:
    p = tmp_path / name
    p.write_bytes(data)
    n = notarize(p, chunk_size=16)
    assert n.rows == pandas_rows(data), data
    assert n.root == notarize(p, chunk_size=16, scan=False).root
    return n.rows


@pytest.mark.parametrize("shift", range(0, 12))
def test_quoted_field_across_piece_and_thread_boundaries(tmp_path, tiny_units, shift):
    """The quoted field (delimiters, a newline, escaped quotes, a CRLF inside) starts `shift`
    bytes later each time, so its quotes, its newline and its `""` fall on every offset of a
    piece and of a unit that another thread reads without knowing it starts inside quotes."""
    field = b'"x, ""y""\nz\r\n,"'
    body = b"".join(b"%d,%s,%d\n" % (i, b"p" * shift if i % 2 else field, i) for i in range(12))
    assert check_rows(tmp_path, b"a,b,c\n" + body) == 12
    assert check_rows(tmp_path, b"a,b,c\r\n" + body.replace(b"\n", b"\r\n")) == 12


def test_escapes_crlf_and_edge_quotes(tmp_path, tiny_units):
    cases = [
        b'a,b\n"",""\n"""",x\n',                      # empty quoted fields, a field that is one quote
        b'a,b\n"a""b","c"""\n"""d",e\n',             # escapes at the start, middle and end of fields
        b'a,b\r\n"x\r\ny",1\r\n"\r",2\r\n',          # CRLF and a lone CR inside quotes: no record break
        b'"a","b"\n1,2',                              # quoted header; no final newline
        b'a\n"1"\n\n"2"\r\n\r\n',                     # one column, blank lines between quoted rows
        b'a,b\n1,"x"\n2,"y"',                         # a closing quote at the end of the file
    ]
    for data in cases:
        check_rows(tmp_path, data)


@pytest.mark.parametrize("data,line,column,snippet", [
    (b'a,b\n1,2\n3,x"y\n', 3, "b", 'x"y'),            # a quote inside an unquoted field
    (b'a,b\n1,2\n"3"4,5\n', 3, "a", '"3"4'),          # text after a closing quote
    (b'a,b\n1,2\n"3" ,5\n', 3, "a", '"3" '),          # a space after a closing quote
    (b'a,b\n"x\ny",1\n2,"z"w\n', 4, "b", '"z"w'),     # after a quoted newline: the right line
    (b'a,b\r\n1,2\r\n3, "4"\r\n', 3, "b", ' "4"'),    # a space before an opening quote
])
def test_misplaced_quote_is_named(tmp_path, tiny_units, data, line, column, snippet):
    p = tmp_path / "bad.csv"
    p.write_bytes(data)
    with pytest.raises(InputError, match=rf"bad.csv: line {line}, column '{column}': a quote inside an unquoted "
                                         r"field or text after a closing quote") as exc:
        notarize(p, chunk_size=16)
    assert snippet in str(exc.value) and "\n" not in str(exc.value)


def test_unclosed_quote_names_the_line_where_it_opens(tmp_path, tiny_units):
    p = tmp_path / "open.csv"
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(9))
    p.write_bytes(b"a,b\n" + rows + b'9,"never closed\n' + rows)
    with pytest.raises(InputError, match=r"open.csv: line 11: a quoted field opens here and is never closed"):
        notarize(p, chunk_size=16)


@pytest.mark.parametrize("split", range(1, 4))
@pytest.mark.parametrize("at", [32, 40])  # a unit (another thread) or a piece begins there
def test_multibyte_character_inside_quotes_across_boundaries(tmp_path, tiny_units, split, at):
    char = "\U0001f600".encode()
    prefix = b'a,b\n1,"x\n'
    pad = b"y" * (at - len(prefix) - split)
    p = tmp_path / "u.csv"
    p.write_bytes(prefix + pad + char + b'"\n2,3\n')
    assert notarize(p, chunk_size=16).rows == 2
    p.write_bytes(prefix + pad + char[:split] + b'z"\n2,3\n')  # cut short: bad where it starts, line 3
    with pytest.raises(InputError, match=r"u.csv: line 3, column 'b': invalid UTF-8"):
        notarize(p, chunk_size=16)


@pytest.mark.parametrize("shift", range(0, 10))
def test_ragged_row_after_quoted_newlines(tmp_path, tiny_units, shift):
    """Quoted newlines count as physical lines: the ragged row's own first line is named."""
    head = b'a,b,c\n"x\n' + b"y" * shift + b'\n",1,2\n'   # one record over lines 2-4
    body = b"".join(b'%d,"q\n%d",%d\n' % (i, i, i) for i in range(3))  # three records, two lines each
    p = tmp_path / "ragged.csv"
    p.write_bytes(head + body + b"7,8\n" + body)
    with pytest.raises(InputError, match=r"ragged.csv: line 11 has 2 fields but the header has 3 \('7,8'\)"):
        notarize(p, chunk_size=16)
    p.write_bytes(head + body + b'"7\n7",8\n' + body)  # the ragged record itself spans two lines
    with pytest.raises(InputError, match=r"ragged.csv: line 11 has 2 fields but the header has 3"):
        notarize(p, chunk_size=16)
    p.write_bytes(head + body + b'7,8,"9\n9"\n' + body)  # right width: fine
    assert notarize(p, chunk_size=16).rows == 8


def test_wrong_hypothesis_that_never_fails(tmp_path, tiny_units):
    """Units with no quote at all read as if inside quotes never meet an error: the stitch must
    still take the summaries of the true state (here outside, after a closed multi-line field)."""
    plain = b"".join(b"%d,%d\n" % (i, i) for i in range(60))
    data = b'a,b\n"x\ny\n",1\n' + plain + b'"\n",2\n' + plain
    assert check_rows(tmp_path, data) == 122


# --- property: any RFC 4180 table, any boundaries, pandas' row count ------------------------------

FIELD_CHARS = st.sampled_from(["a", "7", " ", ",", '"', "\n", "\r\n", "\u00e9", "\U0001f600", ";"])
fields = st.lists(FIELD_CHARS, max_size=6).map("".join)


def encode_field(text: str, force_quote: bool) -> str:
    if force_quote or any(c in text for c in ',"\r\n') or text.startswith(" ") or text.endswith(" "):
        return '"' + text.replace('"', '""') + '"'
    return text


@st.composite
def tables(draw):
    ncols = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(fields, min_size=ncols, max_size=ncols), max_size=12))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    quote_all = draw(st.booleans())
    header = [f"h{j}" for j in range(ncols)]
    lines = [",".join(encode_field(f, quote_all) for f in header)]
    for row in rows:
        if ncols == 1 and row[0] == "":  # a lone empty field is a blank line: pandas skips it
            row = ['""']
        lines.append(",".join(f if f == '""' else encode_field(f, quote_all) for f in row))
    final = draw(st.booleans())
    return (eol.join(lines) + (eol if final else "")).encode(), len(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_random_tables_match_pandas(tmp_path, tiny_units, table):
    data, nrows = table
    p = tmp_path / "h.csv"
    p.write_bytes(data)
    assert notarize(p, chunk_size=16).rows == nrows == pandas_rows(data)


def test_large_quoted_file_default_sizes(tmp_path):
    """Default pieces and units, several threads: every row has a quoted delimiter, every third
    an escaped quote and a quoted newline (the rows of bench/notarize_bench.py)."""
    from bench.notarize_bench import quoted_rows

    data = b"id,key,x,label\r\n" + quoted_rows(0, 400_000, True).encode()
    p = tmp_path / "big.csv"
    p.write_bytes(data)
    assert len(data) > nz.SCAN_UNIT  # two units: a thread boundary
    n = notarize(p)
    assert n.rows == 400_000 == pandas_rows(data)


@pytest.mark.parametrize("shift", range(0, 34))
def test_byte_after_closing_quote_checked_across_boundaries(tmp_path, tiny_units, shift):
    """The check of the byte after a closing quote is carried into the next piece (and the next
    unit, read by another thread): the closing quote falls on every offset around both."""
    p = tmp_path / "c.csv"
    pad = b"p" * shift
    p.write_bytes(b'a,b\n1,"x"\n' + pad + b',"x"y\n3,4\n')
    with pytest.raises(InputError, match=r"c.csv: line 3, column 'b': a quote inside an unquoted field"):
        notarize(p, chunk_size=16)
    p.write_bytes(b'a,b\n1,"x"\n' + pad + b',"x"\r\n3,4\n')
    assert notarize(p, chunk_size=16).rows == 3


def test_first_row_longer_than_the_schema_block(tmp_path):
    """A quoted field of 3 MiB (with newlines) in the first row: the schema block grows to hold
    it; the scan itself has no row-length limit (the 9 MiB field later on)."""
    long = "x\n" * (3 << 19)
    p = tmp_path / "long.csv"
    p.write_text('a,b\n1,"' + long + '"\n2,y\n3,"' + long * 3 + '"\n')
    n = notarize(p)
    assert n.rows == 3 and [c["name"] for c in n.schema] == ["a", "b"]
    p.write_text('a,b\n1,"' + long + '"\n2,y\n3\n')
    with pytest.raises(InputError, match=r"long.csv: line %d has 1 fields but the header has 2" % (4 + (3 << 19))):
        notarize(p)
