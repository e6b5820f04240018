"""A render does only the work its formats and text need: chart forms, the CJK font."""

from __future__ import annotations

import subprocess
import sys

import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.renderers import charts, qa, render_all
from docagent.renderers.fonts import find_fonts
from tests.conftest import ROOT

DONUT = {
    "type": "chart",
    "kind": "donut",
    "title": "Budget",
    "columns": ["Item", "Share"],
    "rows": [["Venue", 40], ["Catering", 35], ["Prizes", 25]],
    "x": "Item",
    "y": ["Share"],
}


def plan(language: str = "en", title: str = "Budget") -> Plan:
    return Plan.model_validate({"meta": {"title": title, "language": language}, "blocks": [DONUT]})


@pytest.mark.parametrize(
    ("formats", "forms"),
    [(["pdf"], ("svg",)), (["docx"], ("png",)), (["docx", "pdf"], ("png", "svg")), (["docx", "xlsx"], ("png",))],
)
def test_charts_are_saved_only_in_the_forms_the_formats_place(tmp_path, monkeypatch, formats, forms):
    asked = []
    original = charts.draw_all

    def recording(bound, theme, wanted):
        asked.append(wanted)
        return original(bound, theme, wanted)

    monkeypatch.setattr(charts, "draw_all", recording)
    with Catalog() as c:
        render_all(bind(plan(), c), "corporate", tmp_path, "budget", formats)
    assert asked == [forms]


# Fonts are registered once per process, so each case renders in a fresh interpreter.
PROBE = """
import sys
from pathlib import Path
from reportlab.pdfbase import pdfmetrics
from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.renderers import render_all
from tests.test_lean_render import plan
with Catalog() as c:
    render_all(bind(plan(sys.argv[2], sys.argv[3]), c), "corporate", Path(sys.argv[1]), "x", ["pdf"])
print("DocCJK" in pdfmetrics.getRegisteredFontNames())
"""


@pytest.mark.skipif(find_fonts().cjk is None, reason="no CJK font installed")
@pytest.mark.parametrize(
    ("language", "title", "loaded"),
    [("en", "Budget", False), ("en", "预算 Budget", True), ("ja", "Budget", True)],
)
def test_the_cjk_font_is_read_only_when_the_text_needs_it(tmp_path, language, title, loaded):
    r = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), language, title],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(loaded)]


def test_the_schema_validator_is_built_once_per_worker_thread():
    assert qa._validator() is qa._validator()


def test_the_width_check_reads_only_the_rows_it_checks(tmp_path, monkeypatch):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.column_dimensions["A"].width = 4
    for r in range(1, 3001):
        ws.cell(r, 1, 1)
    ws.cell(10, 1, 123456789).number_format = "#,##0"
    ws.cell(2500, 1, 987654321).number_format = "#,##0"  # past the rows checked
    wb.save(tmp_path / "long.xlsx")
    loaded = []
    original = openpyxl.load_workbook

    def recording(*a, **kw):
        book = original(*a, **kw)
        loaded.append(book.active.max_row)
        return book

    monkeypatch.setattr(openpyxl, "load_workbook", recording)
    findings = qa.xlsx_widths(tmp_path / "long.xlsx")
    assert loaded == [qa.WIDTH_ROWS]
    assert [f.split(" shows ")[0] for f in findings] == ["long.xlsx: Data!A10"]
