"""DuckDB's parallel typed read gives the table the one-threaded all-text read gives, or steps aside.

Every case is ingested twice: as it is (the typed read where DuckDB takes the file) and with the
typed read refused (the text read, which types every column itself). Types, rows, notes and the
profile must be the same; the cases marked "text" must have been refused by the typed read.
"""

from __future__ import annotations

import datetime as dt

import pytest

from docagent.engine.data import catalog as catalog_module
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.data.sql import quote
from docagent.settings import Settings

LATE_TEXT = "n,v\n" + "".join(f"{i},{i}\n" for i in range(30000)) + "n/a,1\n"  # past DuckDB's sample
CASES = {
    "plain": ("typed", "id,date,region,units,price\n1,2024-01-05,North,3,9.5\n2,2024-02-01,South,,12\n"),
    "quoted newline": ("typed", 'a,b\n1,"x\ny"\n2,z\n'),
    "yes/no and 0/1": ("typed", "flag,bit\nyes,1\nno,0\ntrue,1\n"),
    "US thousands": ("typed", 'item,amount\na,"1,234.50"\nb,"2,000"\n'),
    "decimal comma": ("typed", "item;amount;count\na;1,5;1.234\nb;2,25;2.000\n"),
    "spaces and blanks": ("typed", "name,v\n  Anna ,1\nBob, 2 \n,3\n"),
    "names to tidy": ("typed", "a,a,b  c,b c\n1,2,3,4\n"),
    "day first": ("typed", "when,v\n31/01/2024,1\n01/02/2024,2\n"),
    "ISO T and fractions": ("typed", "ts,t2\n2024-01-01T10:00:00,2024-01-01 10:00:00.5\n"),
    "timestamps": ("typed", "ts,v\n2024-01-01 10:00:00,1\n2024-01-02 11:30:00,2\n"),
    "quarters and months": ("typed", "q,month,v\n2024 Q1,Jan,1\n2024 Q2,Feb,2\n"),
    "Excel serial days": ("typed", "date,amount\n45000,1\n45001,2\n45002.5,3\n"),
    "not serial days": ("typed", "date,amount\n45000,1\n99999,2\n"),
    "nan and inf": ("typed", "a,b\nnan,1\ninf,2\n1.5,3\n"),
    "too big for BIGINT": ("typed", "a,b\n123456789012345678901234,1\n"),
    "leading zeros": ("typed", "zip,v\n01234,1\n00500,2\n"),
    "CJK": ("typed", "名前,金額\n東京,1000\n大阪,2000\n"),
    "text past the sample": ("text", LATE_TEXT),
    "short row": ("text", "a,b,c\n1,2,3\n4,5\n6,7,8\n"),
    "totals row": ("text", "region,sales\nN,10\nS,20\nTotal,30\n"),
    "a year column's total": ("text", "year,sales\n2021,10\n2022,20\nTotal,30\n"),
    "subtotals": ("text", "region,product,sales\nN,a,1\nN,b,2\nN Total,,3\nS,a,4\nGrand total,,7\n"),
}


def ingested(path, refuse_typed: bool, monkeypatch) -> tuple[str, str]:
    """Which read made the table, and the table, its profile and notes (as text: NaN is no NaN)."""
    roads = []
    real_text_read = Catalog._read_text

    def text_read(self, *args):
        roads.append("text")
        return real_text_read(self, *args)

    with monkeypatch.context() as m:
        m.setattr(Catalog, "_read_text", text_read)
        if refuse_typed:
            m.setattr(catalog_module, "read_typed", lambda *args: False)
        with Catalog() as c:
            (ds,) = c.ingest(path)
            table = c.con.execute(f"SELECT * FROM {quote(ds.table)} ORDER BY rowid").fetchall()
            shape = [[(col.name, col.type, col.order) for col in ds.columns], ds.notes, table]
            return (roads or ["typed"])[0], repr([*shape, profile(c, ds).model_dump(mode="json")])


@pytest.mark.parametrize("case", CASES)
def test_the_typed_read_gives_the_table_the_text_read_gives(case, write, monkeypatch):
    expected_road, content = CASES[case]
    path = write("data.csv", content)
    road, typed = ingested(path, False, monkeypatch)
    _, text = ingested(path, True, monkeypatch)
    assert road == expected_road
    assert typed == text


def test_a_word_past_the_typed_readers_sample_keeps_the_column_text(catalog, write):
    (ds,) = catalog.ingest(write("late.csv", LATE_TEXT))
    assert {c.name: c.type for c in ds.columns} == {"n": "text", "v": "integer"}
    last = catalog.con.execute(f"SELECT n FROM {quote(ds.table)} ORDER BY rowid DESC LIMIT 1").fetchone()
    assert last == ("n/a",)


def test_an_integer_too_big_for_bigint_is_a_number_not_an_empty_cell(catalog, write, monkeypatch):
    """The text read typed it integer and cast it to NULL: the value was lost."""
    for refuse in (False, True):
        monkeypatch.setattr(catalog_module, "read_typed", (lambda *a: False) if refuse else catalog_module.read_typed)
        with Catalog() as c:
            (ds,) = c.ingest(write("big.csv", "a,b\n123456789012345678901234,1\n"))
            assert ds.columns[0].type == "number"
            assert c.con.execute(f"SELECT a FROM {quote(ds.table)}").fetchone() == (1.2345678901234568e23,)


def test_the_profile_samples_the_files_first_rows(write):
    """A LIMIT alone took whichever rows a thread read first (rows 122,880+ of a 1M-row file)."""
    start = dt.date(2024, 1, 1)
    lines = "".join(f"{i},{start + dt.timedelta(days=i % 900)},r{i % 7},{i * 1.5}\n" for i in range(400_000))
    path = write("big.csv", "id,date,region,amount\n" + lines)
    for _ in range(3):  # the old query returned another row group's rows about every other time
        with Catalog(settings=Settings(duckdb_memory_limit="32MB")) as c:  # spilling, threads finish unevenly
            (ds,) = c.ingest(path)
            assert [r["id"] for r in profile(c, ds).sample] == [0, 1, 2]
