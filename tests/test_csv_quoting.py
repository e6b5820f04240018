"""CSV as RFC 4180 writes it: newlines, delimiters and quotes inside quoted fields read back as written."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.sql import quote


def read(path) -> list[tuple]:
    with Catalog() as c:
        (ds,) = c.ingest(path)
        return c.con.execute(f"SELECT * FROM {quote(ds.table)}").fetchall()


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ('k,v\nx,"a\nb"\n', [("x", "a\nb")]),
        ('k,v\r\nx,"a\r\nb"\r\ny,c\r\n', [("x", "a\r\nb"), ("y", "c")]),
        ('k,v\nx,"a,b"\n', [("x", "a,b")]),
        ('k,v\nx,"12"" pipe"\n', [("x", '12" pipe')]),
        ('k;v\nx;"a;b\nc"\n', [("x", "a;b\nc")]),
        ('k,v,w\nx,"first\nsecond"\ny\n', [("x", "first\nsecond", None), ("y", None, None)]),
    ],
    ids=["newline", "crlf newline", "delimiter", "doubled quote", "semicolon", "short row after a newline"],
)
def test_quoted_fields_read_as_written(write, text, rows):
    assert read(write("q.csv", text)) == rows


def test_a_tsv_with_a_quoted_tab_and_newline(write):
    assert read(write("q.tsv", 'k\tv\nx\t"a\tb\nc"\n')) == [("x", "a\tb\nc")]


# text with the characters CSV quoting is about; other control characters read as binary data, by design
cell = st.text(
    st.one_of(st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from('\n\r\t,;"')), max_size=20
).map(
    lambda s: "t" + s + "t"  # text on both ends: the value stays text, and edges are not trimmed away
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(cell, cell), min_size=1, max_size=8))
def test_what_pythons_csv_writer_writes_reads_back_unchanged(tmp_path, rows):
    """What a scheduled SQL source writes (csv.writer) is what the dataset holds."""
    buf = io.StringIO()
    csv.writer(buf).writerows([("name", "note"), *rows])
    path = tmp_path / "sql.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    assert read(path) == [tuple(r) for r in rows]
