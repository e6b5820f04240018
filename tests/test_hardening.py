"""Hostile and unlucky inputs: property tests of ingestion and bindings, stale jobs, odd file names."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.query import run_query
from docagent.engine.plan import Query
from docagent.engine.validate import check_query
from docagent.errors import DocagentError, IngestError
from docagent.service.records import safe_filename

cells = st.one_of(
    st.text(alphabet=string.printable + "éü中文;,\"'=+-@\t", max_size=12),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)).map(str),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=30),
    delim=st.sampled_from([",", ";", "\t"]),
)
def test_any_csv_ingests_or_fails_with_an_ingest_error(tmp_path, rows, delim):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim).writerows([["a", "b", "c"], *rows])
    path = tmp_path / "fuzz.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    with Catalog() as c:
        try:
            (ds,) = c.ingest(path)
        except IngestError as e:
            assert e.filename == "fuzz.csv" and e.problem
            return
        assert ds.rows >= 1 and len(ds.columns) >= 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(min_size=1, max_size=2000), suffix=st.sampled_from([".csv", ".json", ".xlsx", ".parquet", ".tsv"])
)
def test_random_bytes_never_raise_anything_but_ingest_errors(tmp_path, data, suffix):
    path = tmp_path / f"blob{suffix}"
    path.write_bytes(data)
    with Catalog() as c, contextlib.suppress(IngestError):
        c.ingest(path)


names = st.text(alphabet=string.ascii_letters + "_ ", min_size=1, max_size=8)


@pytest.fixture(scope="module")
def shop():
    import tempfile
    from pathlib import Path

    d = Path(tempfile.mkdtemp())
    (d / "shop.csv").write_text("day,region,amount\n2024-01-03,North,10\n2024-02-20,South,5.5\n2024-02-21,,7\n")
    c = Catalog()
    c.ingest(d / "shop.csv")
    yield c
    c.close()


select_items = st.fixed_dictionaries(
    {"column": st.one_of(st.none(), st.sampled_from(["day", "region", "amount", "nope"]), names)},
    optional={
        "agg": st.sampled_from(["sum", "avg", "min", "max", "count", "count_distinct", "median"]),
        "bucket": st.sampled_from(["day", "week", "month", "quarter", "year"]),
        "label": names,
    },
)
filters = st.fixed_dictionaries(
    {
        "column": st.sampled_from(["day", "region", "amount", "x"]),
        "op": st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le", "in", "not_in", "contains", "is_null", "not_null"]),
    },
    optional={
        "value": st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False)),
        "values": st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    },
)


@settings(max_examples=150, deadline=None)
@given(
    select=st.lists(select_items, min_size=1, max_size=4), flt=st.lists(filters, max_size=2), limit=st.integers(1, 50)
)
def test_validated_bindings_always_run(shop, select, flt, limit):
    """Whatever a model writes: either the validator names a problem, or the compiled SQL runs."""
    q = Query.model_validate({"dataset": "shop", "select": select, "filters": flt, "limit": limit})
    problems: list[str] = []
    if check_query(q, shop, "q", problems) is None:
        assert problems
        return
    try:
        run_query(shop, q)
    except DocagentError as e:  # a value that cannot be compared with the column's type
        assert "failed" in str(e)
    assert shop.con.execute('SELECT count(*) FROM "shop"').fetchone() == (3,)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.csv", "report.csv"),
        ("evil\x00name\r\n.csv", "evil_name_.csv"),
        ('a<b>:"c"|?*.csv', "a_b_c_.csv"),
        ("   ", "upload"),
        ("report\u202excod.exe", "reportxcod.exe"),  # right-to-left override: would read "reportexe.docx"
        ("a\u2066b\u2069c\u200fd.csv", "abcd.csv"),
        ("x" * 400 + ".csv", "x" * 150),
    ],
)
def test_upload_names_are_made_safe(raw, safe):
    assert safe_filename(raw) == safe


def test_xml_entity_attack_in_xlsx_is_refused(tmp_path):
    import zipfile

    from docagent.errors import UnsafeArchive

    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    path = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        z.writestr("xl/workbook.xml", bomb + "<workbook>&lol2;</workbook>")
    with Catalog() as c, pytest.raises(UnsafeArchive, match="entities.xlsx: not a readable Excel workbook"):
        c.ingest(path)


def test_deeply_nested_json_is_a_clear_error(tmp_path):
    from docagent.errors import UnreadableData

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with Catalog() as c, pytest.raises(UnreadableData, match="deep.json: JSON nested too deeply"):
        c.ingest(path)
