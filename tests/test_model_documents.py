"""Model blocks in .docx and .pdf (tables of computed values after their assumptions), and `sheet` in .xlsx."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.formatting import format_value
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from tests.conftest import needs_poppler
from tests.test_model_xlsx import coffee


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    bound = bind(validate(coffee(), catalog=None), catalog=None)  # type: ignore[arg-type]
    out = tmp_path_factory.mktemp("docs")
    written, _ = render_all(bound, "classic", out, "coffee", ["docx", "pdf"])
    return written


def expected_net_income() -> list[str]:
    """What the P&L's net income row must read, from the evaluator (not typed here)."""
    b = bind(coffee(), catalog=None)  # type: ignore[arg-type]
    assert b.models is not None
    i = b.models.models.by_title("P&L")
    assert i is not None
    return [format_value(float(v), "currency") for v in b.models.row(i, "net_income")]


def test_docx_shows_each_model_as_a_table_of_values_after_its_assumptions(files):
    d = docx.Document(str(files["docx"]))
    grids = [[[c.text for c in r.cells] for r in t.rows] for t in d.tables]
    statements = [g for g in grids if g[0] == ["", "2026", "2027", "2028"]]
    assert len(statements) == 3
    pl = next(g for g in statements if g[1][0] == "Revenue")
    net = next(r for r in pl if r[0] == "Net income")
    assert net[1:] == expected_net_income()
    assumptions = [g for g in grids if g[0][0] == "Assumptions"]
    assert ["Tax rate on profit", "25.0%", "no tax on losses"] in assumptions[1]
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "" and t.rows[1].cells[0].text == "Revenue")
    bold = {r.cells[0].text: r.cells[1].paragraphs[0].runs[0].bold for r in table.rows[1:]}
    assert bold["Net income"] and bold["Gross profit"] and not bold["Rent"]


@needs_poppler
def test_pdf_shows_the_computed_values_and_the_bound_prose(files):
    text = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True, text=True).stdout
    assert "Assumptions" in text and "Tax rate on profit" in text
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("Net income") and "$" in ln)
    assert line.split()[2:] == expected_net_income()
    assert "net income turns positive in 2027" in " ".join(text.split())


def test_blocks_that_name_a_sheet_go_there_in_the_workbook(tmp_path):
    plan = Plan.model_validate(
        {
            "meta": {"title": "Sheets"},
            "blocks": [
                {"type": "paragraph", "text": "Intro."},
                {
                    "type": "model",
                    "title": "Budget",
                    "sheet": "Plan",
                    "periods": {"start": "2026-Q1", "count": 4, "unit": "quarter"},
                    "inputs": [{"name": "fee", "label": "Fee", "value": 10}],
                    "rows": [
                        {"name": "sales", "label": "Sales", "formula": "fee * period_index()"},
                        {"name": "memo", "label": "Memo", "formula": "sales * 2", "sheet": "Memo"},
                    ],
                },
                {"type": "table", "title": "Notes", "columns": ["Item"], "rows": [["a"]], "sheet": "plan"},
                {"type": "chart", "kind": "line", "title": "Sales", "x": "period", "y": ["sales"], "model": "Budget"},
            ],
        }
    )
    bound = bind(validate(plan, catalog=None), catalog=None)  # type: ignore[arg-type]
    files, _ = render_all(bound, "classic", tmp_path, "s", ["xlsx"])
    wb = openpyxl.load_workbook(files["xlsx"])
    assert wb.sheetnames == ["Summary", "Assumptions", "Plan", "Memo"]
    plan_ws = wb["Plan"]
    assert [plan_ws.cell(2, c).value for c in range(2, 6)] == ["2026 Q1", "2026 Q2", "2026 Q3", "2026 Q4"]
    assert plan_ws["E3"].value == "=fee*4"
    assert wb["Memo"]["B3"].value == "='Plan'!B3*2"
    texts = [c.value for r in plan_ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert any("Notes" in t for t in texts)  # the table follows its sheet, below the model
    assert len(wb["Summary"]._charts) == 1
