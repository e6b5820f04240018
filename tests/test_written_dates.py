"""Dates in every common written form are read as dates, not text."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from docagent.engine.data.catalog import Catalog
from tests.test_cli import EXE

FORMS = [
    ("Jan 1 2000", "Feb 15 2000", dt.date(2000, 1, 1), dt.date(2000, 2, 15)),
    ("January 3 2000", "March 31 2000", dt.date(2000, 1, 3), dt.date(2000, 3, 31)),
    ("1 Jan 2000", "15 Feb 2000", dt.date(2000, 1, 1), dt.date(2000, 2, 15)),
    ("Jan 1, 2000", "Feb 15, 2000", dt.date(2000, 1, 1), dt.date(2000, 2, 15)),
    ("01-Jan-00", "15-Feb-00", dt.date(2000, 1, 1), dt.date(2000, 2, 15)),
    ("2000-01", "2000-02", dt.date(2000, 1, 1), dt.date(2000, 2, 1)),
    ("01/2000", "12/2000", dt.date(2000, 1, 1), dt.date(2000, 12, 1)),
    ("2000/01", "2000/12", dt.date(2000, 1, 1), dt.date(2000, 12, 1)),
    ("Jan-2000", "Dec-2000", dt.date(2000, 1, 1), dt.date(2000, 12, 1)),
    ("2024 Q1", "2024 Q4", dt.date(2024, 1, 1), dt.date(2024, 10, 1)),
    ("2024-Q2", "2025-Q1", dt.date(2024, 4, 1), dt.date(2025, 1, 1)),
    ("Q3 2024", "Q4 2024", dt.date(2024, 7, 1), dt.date(2024, 10, 1)),
    ("2024年3月", "2024年4月", dt.date(2024, 3, 1), dt.date(2024, 4, 1)),
    ("36526", "36571", dt.date(2000, 1, 1), dt.date(2000, 2, 15)),  # Excel serial days in a "Date" column
]


@pytest.mark.parametrize(("first", "last", "day1", "day2"), FORMS)
def test_a_written_date_is_a_date(first, last, day1, day2, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(f'Date,value\n"{first}",1\n"{last}",2\n', encoding="utf-8")
    with Catalog() as c:
        (ds,) = c.ingest(path)
        assert ds.column("Date").type == "date"  # type: ignore[union-attr]
        rows = c.con.execute(f'SELECT "Date" FROM "{ds.table}" ORDER BY value').fetchall()
    assert [r[0] for r in rows] == [day1, day2]


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("amount", ["36526", "36571"], "integer"),  # a number outside a date column stays a number
        ("Umsatz pro Tag", ["36526", "36571"], "integer"),
        ("quarter", ["Q1", "Q2"], "text"),  # a quarter without a year is an ordinal key, not a date
        ("code", ["Jan 1 2000", "n/a"], "text"),  # one value that is no date keeps the column text
    ],
)
def test_what_only_looks_like_a_date_is_not_one(name, values, kind, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(f"{name},x\n" + "".join(f'"{v}",{i}\n' for i, v in enumerate(values)), encoding="utf-8")
    with Catalog() as c:
        (ds,) = c.ingest(path)
    assert ds.columns[0].type == kind


def test_the_profile_of_a_stock_price_file_shows_its_dates(tmp_path):
    days = [
        dt.date(2000, 1, 3) + dt.timedelta(days=i)
        for i in range(40)
        if (dt.date(2000, 1, 3) + dt.timedelta(days=i)).weekday() < 5
    ]
    path = tmp_path / "stocks.csv"
    path.write_text(
        "symbol,date,price\n" + "".join(f"MSFT,{d:%b %-d %Y},{39.8 + i / 10:.2f}\n" for i, d in enumerate(days)),
        encoding="utf-8",
    )
    r = subprocess.run([EXE, "profile", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (p,) = json.loads(r.stdout)
    cols = {c["name"]: c for c in p["columns"]}
    assert (cols["date"]["type"], cols["date"]["role"]) == ("date", "time")
    assert cols["date"]["min"] == "2000-01-03" and cols["price"]["role"] == "average"
