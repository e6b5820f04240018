"""A spreadsheet's own totals rows are not data: ingestion drops them and the profile says so."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile

DEPARTMENTS = [("Sales", 100, 110, 120, 130), ("Ops", 50, 55, 60, 65), ("R&D", 80, 80, 90, 95)]


def budget_xlsx(path: Path, total_label: str | None = "Total") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["FY2025 budget"])  # a title row above the header
    ws.append(["Department", "Q1", "Q2", "Q3", "Q4", "Year"])
    for i, row in enumerate(DEPARTMENTS, start=3):
        ws.append([*row, f"=SUM(B{i}:E{i})"])  # a row total across: the row is still data
    last = 2 + len(DEPARTMENTS)
    ws.append([total_label, *(f"=SUM({c}3:{c}{last})" for c in "BCDEF")])
    wb.save(path)
    return path


def test_a_totals_row_of_a_budget_sheet_is_excluded_and_the_profile_says_so(tmp_path):
    with Catalog() as c:
        (ds,) = c.ingest(budget_xlsx(tmp_path / "budget.xlsx"))
        p = profile(c, ds)
        departments = [r[0] for r in c.con.execute(f'SELECT "Department" FROM "{ds.table}"').fetchall()]
        (q1,) = c.con.execute(f'SELECT sum("Q1") FROM "{ds.table}"').fetchone()  # type: ignore[misc]
    assert sorted(departments) == ["Ops", "R&D", "Sales"]
    assert q1 == 230
    assert p.rows == 3
    assert any("'Total'" in n and "excluded" in n for n in p.notes)
    assert p.period_columns == ["Q1", "Q2", "Q3", "Q4"]


def test_a_formula_totals_row_without_a_label_is_excluded_too(tmp_path):
    with Catalog() as c:
        (ds,) = c.ingest(budget_xlsx(tmp_path / "budget.xlsx", total_label=None))
        p = profile(c, ds)
    assert p.rows == 3 and p.notes and "formulas summing the rows above" in p.notes[0]


def test_a_csv_total_row_is_excluded_and_the_year_column_stays_a_number(tmp_path):
    path = tmp_path / "headcount.csv"
    path.write_text("year,staff\n2023,10\n2024,12\n2025,15\nGrand total,37\n", encoding="utf-8")
    with Catalog() as c:
        (ds,) = c.ingest(path)
        p = profile(c, ds)
    assert p.rows == 3
    assert p.column("year").type == "integer"  # type: ignore[union-attr]
    assert p.column("staff").max == 15  # type: ignore[union-attr]
    assert "'Grand total'" in p.notes[0]


def test_chinese_totals_rows_are_excluded(tmp_path):
    path = tmp_path / "费用.csv"
    path.write_text("部门,费用\n销售,10\n研发,20\n市场,5\n合计,35\n", encoding="utf-8")
    with Catalog() as c:
        (ds,) = c.ingest(path)
    assert ds.rows == 3 and "'合计'" in ds.notes[0]


def test_a_category_called_total_is_kept_when_it_is_most_of_the_rows(tmp_path):
    path = tmp_path / "scope.csv"
    path.write_text("scope,n\nTotal,1\nTotal,2\nPartial,3\n", encoding="utf-8")
    with Catalog() as c:
        (ds,) = c.ingest(path)
    assert ds.rows == 3 and ds.notes == []


def test_subtotal_rows_labelled_after_a_year_are_excluded(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(
        "year,region,sales\n2024,North,10\n2024,South,20\n2024,Subtotal,30\n2025,North,15\n2025,South,25\n"
        "2025,Subtotal,40\n,Grand total,70\n",
        encoding="utf-8",
    )
    with Catalog() as c:
        (ds,) = c.ingest(path)
        (total,) = c.con.execute(f'SELECT sum(sales) FROM "{ds.table}"').fetchone()  # type: ignore[misc]
    assert ds.rows == 4 and total == 70
    assert "'Subtotal', 'Grand total'" in ds.notes[0]
