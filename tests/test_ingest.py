"""Ingestion of messy real-world files, and precise errors for bad ones."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest
import xlsxwriter

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.errors import EmptyFile, UnreadableData, UnsafeArchive, UnsupportedFormat


def rows(catalog: Catalog, name: str) -> list[tuple]:
    return catalog.con.execute(f'SELECT * FROM "{name}"').fetchall()


def types(ds) -> dict[str, str]:
    return {c.name: c.type for c in ds.columns}


def test_semicolon_decimal_comma_latin1(catalog, write):
    p = write(
        "umsatz.csv",
        "Région;Umsatz;Datum\nÎle-de-France;1.234,50;05/01/2024\nMünchen;12,5;13/02/2024\nZürich;3.000;01/03/2024\n",
        encoding="latin-1",
    )
    (ds,) = catalog.ingest(p)
    assert types(ds) == {"Région": "text", "Umsatz": "number", "Datum": "date"}
    assert rows(catalog, ds.table) == [
        ("Île-de-France", 1234.5, dt.date(2024, 1, 5)),
        ("München", 12.5, dt.date(2024, 2, 13)),
        ("Zürich", 3000.0, dt.date(2024, 3, 1)),
    ]


def test_bom_thousands_dayfirst_blank_lines(catalog, write):
    p = write(
        "bom.csv",
        b"\xef\xbb\xbf"
        + b'region,revenue,date\n\nNorth,"1,234.50",05/01/2024\n\nSouth,"12,000",13/02/2024\n'
        + b"East,300,01/03/2024\n\n",
    )
    (ds,) = catalog.ingest(p)
    assert [c.name for c in ds.columns] == ["region", "revenue", "date"]
    assert types(ds) == {"region": "text", "revenue": "number", "date": "date"}
    assert rows(catalog, ds.table)[1] == ("South", 12000.0, dt.date(2024, 2, 13))


def test_windows_1252_quotes_and_tabs(catalog, write):
    p = write("q.tsv", "name\tnote\tqty\nA\t\u201cquoted\u201d \u20ac\t7\n", encoding="cp1252")
    (ds,) = catalog.ingest(p)
    assert rows(catalog, ds.table) == [("A", "\u201cquoted\u201d \u20ac", 7)]
    assert types(ds)["qty"] == "integer"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024-01-31", "2024-02-29"], [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]),
        (["01/31/2024", "02/29/2024"], [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]),
        (["31.01.2024", "29.02.2024"], [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]),
        (["3 March 2024", "15 April 2024"], [dt.date(2024, 3, 3), dt.date(2024, 4, 15)]),
        (["Mar 5, 2024", "Apr 15, 2024"], [dt.date(2024, 3, 5), dt.date(2024, 4, 15)]),
    ],
)
def test_date_formats(catalog, write, values, expected):
    p = write("d.csv", "when,x\n" + "".join(f'"{v}",1\n' for v in values))
    (ds,) = catalog.ingest(p)
    assert types(ds)["when"] == "date"
    assert [r[0] for r in rows(catalog, ds.table)] == expected


def test_one_stray_value_late_in_the_file_keeps_the_column_text(catalog, write):
    body = "".join(f"{i},{i}\n" for i in range(3000)) + "3000,n/a\n"
    (ds,) = catalog.ingest(write("late.csv", "a,b\n" + body))
    assert types(ds) == {"a": "integer", "b": "text"}


def test_words_only_make_a_column_text_or_yes_no_and_what_casts_without_a_digit_still_counts(catalog, write):
    """A column with a word is tried as yes/no only, but nan and inf cast as numbers (and epoch as a
    time) without a digit, so a column of numbers with a nan stays numeric."""
    body = "region,active,amount,seen\nNorth,yes,10,2024-01-01 10:00:00\nSouth,no,nan,epoch\nEast,yes,5.5,2024-02-01 09:30:00\n"
    (ds,) = catalog.ingest(write("w.csv", body))
    assert types(ds) == {"region": "text", "active": "boolean", "amount": "number", "seen": "datetime"}


def test_xlsx_every_sheet_title_row_and_formula_values(catalog, tmp_path):
    # XlsxWriter stores formulas with cached values, as Excel does on save.
    path = tmp_path / "book.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Sales")
    ws.write("A1", "Quarterly sales — confidential")
    ws.write_row("A3", ["Region", "Q1", "Q2", "Total"])
    ws.write_row("A4", ["North", 10, 20])
    ws.write_formula("D4", "=B4+C4", None, 30)
    ws.write_row("A5", ["South", 5, 7])
    ws.write_formula("D5", "=B5+C5", None, 12)
    staff = wb.add_worksheet("Staff")
    staff.write_row("A1", ["Name", "Joined"])
    staff.write("A2", "Ana")
    staff.write_datetime("B2", dt.datetime(2023, 4, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()
    sales, people = catalog.ingest(path)
    assert sales.name == "book_sales" and people.name == "book_staff"
    assert [c.name for c in sales.columns] == ["Region", "Q1", "Q2", "Total"]
    assert rows(catalog, sales.table) == [("North", 10, 20, 30), ("South", 5, 7, 12)]
    assert rows(catalog, people.table) == [("Ana", dt.date(2023, 4, 1))]


def test_nested_json_flattens_to_dotted_columns(catalog, write):
    data = [
        {"id": 1, "customer": {"name": "Ana", "address": {"city": "Lisbon"}}, "tags": ["a", "b"]},
        {"id": 2, "customer": {"name": "Bo", "address": {"city": "Oslo"}}, "tags": []},
    ]
    (ds,) = catalog.ingest(write("orders.json", json.dumps(data)))
    assert [c.name for c in ds.columns] == ["id", "customer.name", "customer.address.city", "tags"]
    assert rows(catalog, ds.table)[0] == (1, "Ana", "Lisbon", '["a", "b"]')


def test_ndjson(catalog, write):
    (ds,) = catalog.ingest(write("events.ndjson", '{"k": "a", "v": 1.5}\n\n{"k": "b", "v": 2}\n'))
    assert rows(catalog, ds.table) == [("a", 1.5), ("b", 2.0)]


def test_parquet(catalog, tmp_path):
    path = tmp_path / "p.parquet"
    catalog.con.execute(f"COPY (SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y') TO '{path}' (FORMAT parquet)")
    (ds,) = catalog.ingest(path)
    assert types(ds) == {"a": "integer", "b": "text"} and ds.rows == 2


def zip_bomb(path, size=300 * 2**20):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * 2**20
            for _ in range(size // 2**20):
                f.write(chunk)


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("empty.csv", b"", EmptyFile, "empty.csv: the file is empty"),
        ("blank.csv", b"\n\n  \n", EmptyFile, "blank.csv: the file is empty"),
        ("header.csv", b"a,b\n", EmptyFile, "header.csv: no data rows under the header"),
        (
            "junk.csv",
            bytes(range(256)) * 40,
            UnreadableData,
            "junk.csv: binary data, not a text table",
        ),
        ("fake.xlsx", b"this is not a workbook", UnsafeArchive, "fake.xlsx: not a valid XLSX file"),
        ("fake.parquet", b"nope nope", UnsafeArchive, "fake.parquet: not a valid PARQUET file"),
        ("list.json", b"[1, 2, 3]", UnreadableData, "list.json: JSON is not records"),
        ("broken.json", b'{"a": ', UnreadableData, "broken.json: invalid JSON at line 1"),
        ("empty.json", b"[]", EmptyFile, "empty.json: the JSON array has no records"),
        ("notes.docx", b"PK\x03\x04", UnsafeArchive, "notes.docx: not an Excel workbook"),
        ("image.gif", b"GIF89a", UnsupportedFormat, "image.gif: unsupported file type '.gif'"),
        ("image.png", b"\x89PNG\r\n", UnreadableData, "image.png: not a PNG image"),  # images are inputs too
    ],
)
def test_bad_input_errors_name_the_file_and_problem(catalog, write, name, content, error, message):
    with pytest.raises(error) as e:
        catalog.ingest(write(name, content))
    assert str(e.value).startswith(message)


def test_zip_bomb_refused_before_parsing(catalog, tmp_path):
    path = tmp_path / "bomb.xlsx"
    zip_bomb(path)
    with pytest.raises(UnsafeArchive, match=r"bomb.xlsx: refused: would inflate to 300 MiB"):
        Catalog(settings=catalog.settings.model_copy(update={"max_xlsx_uncompressed_bytes": 2**27})).ingest(path)
    with pytest.raises(UnsafeArchive, match=r"compression ratio \d+:1 looks like a zip bomb"):
        catalog.ingest(path)


def test_zip_that_is_not_a_workbook(catalog, tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(UnsafeArchive, match="a zip archive but not an Excel workbook"):
        catalog.ingest(path)


def test_profile_size_does_not_grow_with_rows(catalog, write):
    def sized(n: int) -> int:
        body = "".join(f"2024-01-{i % 28 + 1:02d},{'abcde'[i % 5]},{i * 1.5}\n" for i in range(n))
        (ds,) = catalog.ingest(write(f"n{n}.csv", "d,cat,v\n" + body))
        p = profile(catalog, ds)
        assert p.rows == n
        return len(p.model_dump_json().replace(str(n), ""))

    small, large = sized(100), sized(20000)
    assert abs(large - small) < 120  # only the digits of min/max/mean differ


def test_profile_contents(catalog):
    from tests.conftest import EXAMPLE

    (ds,) = catalog.ingest(EXAMPLE)
    p = profile(catalog, ds)
    region = p.column("region")
    assert region.type == "text" and region.distinct == 5 and len(region.top) == 5
    revenue = p.column("revenue")
    assert revenue.type == "number" and revenue.min < revenue.mean < revenue.max
    assert p.column("order_date").min == "2024-01-01" and len(p.sample) == 3


def test_row_and_column_limits(write):
    from docagent.settings import Settings

    tight = Settings(max_rows=10, max_columns=5)
    with Catalog(settings=tight) as c:
        with pytest.raises(UnreadableData, match="rows.csv: 11 rows exceed the limit of 10"):
            c.ingest(write("rows.csv", "a\n" + "1\n" * 11))
        with pytest.raises(UnreadableData, match="cols.csv: 6 columns exceed the limit of 5"):
            c.ingest(write("cols.csv", "a,b,c,d,e,f\n1,2,3,4,5,6\n"))
