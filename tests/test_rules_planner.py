"""The rules planner copes with every shape of real dataset, and its plans render."""

from __future__ import annotations

import csv
import datetime as dt
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.plan import Chart, Kpis, Table
from docagent.engine.planners.rules import plan_report
from docagent.engine.validate import validate
from docagent.errors import NothingToPlan
from docagent.renderers import render_all
from tests.conftest import EXAMPLE
from tests.test_cli import EXE


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


SHAPES = {
    "wide": lambda: ([f"m{i}" for i in range(60)], [[r * i for i in range(60)] for r in range(50)]),
    "long series": lambda: (
        ["day", "value"],
        [[(dt.date(2000, 1, 1) + dt.timedelta(days=i)).isoformat(), i % 97] for i in range(9000)],
    ),
    "no numbers": lambda: (["name", "team", "city"], [[f"n{i}", f"t{i % 4}", f"c{i % 7}"] for i in range(40)]),
    "no categories": lambda: (["x", "y"], [[i, i * i] for i in range(100)]),
    "single row": lambda: (["region", "revenue", "day"], [["North", 10.5, "2024-01-01"]]),
    "dates only": lambda: (["when"], [[f"2024-01-{d:02d}"] for d in range(1, 29)]),
    "ids only": lambda: (["id"], [[i] for i in range(500)]),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_gets_a_valid_plan_that_renders(shape, tmp_path):
    header, rows = SHAPES[shape]()
    path = write(tmp_path / "data.csv", header, rows)
    with Catalog() as c:
        (ds,) = c.ingest(path)
        plan = plan_report([profile(c, ds)], f"Report on {shape}")
        validate(plan, c)
        bound = bind(plan, c)
    assert plan.meta.title == f"Report on {shape}"
    assert any(isinstance(b, Kpis) for b in plan.blocks)
    files, _ = render_all(bound, "corporate", tmp_path, "r", ["docx", "xlsx", "pdf"])
    assert all(p.stat().st_size > 3000 for p in files.values())
    charts = [b for b in plan.blocks if isinstance(b, Chart)]
    if shape in ("long series",):
        assert charts and charts[0].query is not None and charts[0].query.select[0].bucket == "quarter"
    if shape in ("single row", "dates only", "ids only", "no categories"):
        assert not any(isinstance(b, Chart) and b.kind in ("bar", "hbar") for b in plan.blocks)
    if shape == "no numbers":
        assert any(isinstance(b, Table) and b.query is not None for b in plan.blocks)


def test_several_datasets_get_a_section_each(tmp_path):
    a = write(tmp_path / "a.csv", ["k", "v"], [["x", 1], ["y", 2]])
    b = write(tmp_path / "b.csv", ["k", "w"], [["x", 3], ["z", 4]])
    with Catalog() as c:
        profiles = [profile(c, ds) for p in (a, b) for ds in c.ingest(p)]
        plan = plan_report(profiles, "")
        validate(plan, c)
    headings = [b.text for b in plan.blocks if b.type == "heading"]
    assert "Dataset: a.csv" in headings and "Dataset: b.csv" in headings
    assert plan.meta.title == "V report"  # named after what the data measures, not after a file


def test_without_data_the_rules_planner_says_so():
    with pytest.raises(NothingToPlan, match="the rules planner needs data"):
        plan_report([], "A lesson plan")


# -- the analysis language in the rules planner -------------------------------------------------


def sales_truth() -> tuple[float, float, float]:
    """Gross margin, latest quarter-over-quarter and year-over-year revenue change, from the CSV itself."""
    revenue: dict[tuple[int, int], float] = {}
    total_rev = total_cost = 0.0
    with EXAMPLE.open(newline="") as f:
        for row in csv.DictReader(f):
            day = dt.date.fromisoformat(row["order_date"])
            key = (day.year, (day.month - 1) // 3 + 1)
            revenue[key] = revenue.get(key, 0.0) + float(row["revenue"])
            total_rev += float(row["revenue"])
            total_cost += float(row["cost"])
    quarters = sorted(revenue)
    latest, previous = revenue[quarters[-1]], revenue[quarters[-2]]
    year_ago = revenue[(quarters[-1][0] - 1, quarters[-1][1])]
    return (total_rev - total_cost) / total_rev, latest / previous - 1, latest / year_ago - 1


def pct(x: float) -> str:
    return f"{x * 100:,.1f}%"


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode()
    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"</w:p>", "\n", xml)).split())


def test_quarterly_sales_report_states_gross_margin_and_the_latest_quarter_change_in_every_format(tmp_path):
    margin, qoq, yoy = sales_truth()
    r = subprocess.run(
        [EXE, "generate", str(EXAMPLE), "--prompt", "Quarterly sales report", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    docx, xlsx, pdf = (Path(p) for p in r.stdout.split())
    moved = "rose by" if qoq > 0 else "fell by"
    expected = [f"Gross margin (revenue less cost, as a share of revenue) is {pct(margin)}", f"{moved} {pct(abs(qoq))}"]
    pdf_text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
    for text in (pdf_text, docx_text(docx)):
        for phrase in expected:
            assert phrase in text
        assert "{" not in text  # every placeholder bound
    wb = openpyxl.load_workbook(xlsx, data_only=True)
    ws = wb["Summary"]  # a KPI's label sits under its value; the first one of each name is the KPI row
    labels = {c.value: c for row in reversed(list(ws.iter_rows())) for c in row if isinstance(c.value, str)}
    value_of = {name: ws.cell(labels[name].row - 1, labels[name].column).value for name in KPI_LABELS}
    assert value_of["Gross margin"] == pytest.approx(margin)
    assert value_of["Latest quarter vs previous"] == pytest.approx(qoq)
    assert value_of["Latest quarter vs a year ago"] == pytest.approx(yoy)


KPI_LABELS = ("Gross margin", "Latest quarter vs previous", "Latest quarter vs a year ago")


def test_a_french_marge_column_is_averaged_weighted_by_revenue_never_summed(tmp_path):
    path = tmp_path / "ventes.csv"
    path.write_text("Région;CA;Marge\nNord;1000;9,5\nSud;3000;7,2\nEst;2000;12,0\nOuest;500;4,1\n", encoding="utf-8")
    with Catalog() as c:
        (ds,) = c.ingest(path)
        plan = plan_report([profile(c, ds)], "Rapport")
        validate(plan, c)
        bound = bind(plan, c)
    summed = [m for m in plan.metrics if m.column == "Marge" and m.agg == "sum"]
    summed += [m for m in plan.metrics if m.expr and re.search(r'sum\("Marge"\)', m.expr)]
    assert summed == []
    (avg,) = [m for m in plan.metrics if "Marge" in (m.expr or m.column or "")]
    weighted = (1000 * 9.5 + 3000 * 7.2 + 2000 * 12.0 + 500 * 4.1) / 6500
    assert bound.metrics[avg.name] == pytest.approx(weighted)
    tables = [b for b in plan.blocks if isinstance(b, Table) and b.query is not None]
    assert all(s.agg != "sum" or s.column != "Marge" for t in tables for s in t.query.select)  # type: ignore[union-attr]


def test_quarter_columns_of_a_budget_sheet_are_unpivoted_and_its_total_row_left_out(tmp_path):
    from tests.test_totals import budget_xlsx

    with Catalog() as c:
        (ds,) = c.ingest(budget_xlsx(tmp_path / "budget.xlsx"))
        plan = plan_report([profile(c, ds)], "Budget review")
        validate(plan, c)
        bound = bind(plan, c)
    i, chart = next((i, b) for i, b in enumerate(plan.blocks) if isinstance(b, Chart) and b.query and b.query.unpivot)
    assert chart.query.unpivot.columns == ["Q1", "Q2", "Q3", "Q4"]  # type: ignore[union-attr]
    assert bound.results[i].rows == [("Q1", 230), ("Q2", 245), ("Q3", 270), ("Q4", 290)]
    prose = " ".join(bound.text(b.text) for b in plan.blocks if b.type == "paragraph")  # type: ignore[union-attr]
    assert "totals row" in prose and "Total Q1" not in prose
    assert "Total budget is 1,035." in prose and "In Q4 it rose by 7.4% on Q3." in prose  # (290 - 270) / 270
    table = next(i for i, b in enumerate(plan.blocks) if isinstance(b, Table) and b.query and b.query.unpivot)
    assert bound.results[table].rows[0][:2] == ("Sales", 460)


def test_t1_to_t4_keys_are_a_trend_in_their_natural_order(tmp_path):
    path = tmp_path / "trimestres.csv"
    rows = [[t, r, v] for t, v in (("T3", 30), ("T1", 10), ("T4", 40), ("T2", 20)) for r in ("Nord", "Sud")]
    write(path, ["trimestre", "région", "ventes"], rows)
    with Catalog() as c:
        (ds,) = c.ingest(path)
        plan = plan_report([profile(c, ds)], "Rapport")
        validate(plan, c)
        bound = bind(plan, c)
    i = next(i for i, b in enumerate(plan.blocks) if isinstance(b, Chart) and b.x == "Trimestre")
    assert bound.results[i].rows == [("T1", 20), ("T2", 40), ("T3", 60), ("T4", 80)]


def test_prose_uses_readable_labels_and_shares_are_shown(tmp_path):
    rows = [[f"2024-{m:02d}-01", day, 10.0 + m, 1.5] for m in range(1, 13) for day in ("Thur", "Fri", "Sat")]
    path = write(tmp_path / "tips.csv", ["visit_date", "day", "total_bill", "tip"], rows)
    with Catalog() as c:
        (ds,) = c.ingest(path)
        plan = plan_report([profile(c, ds)], "Tips")
        validate(plan, c)
        bound = bind(plan, c)
    prose = " ".join(bound.text(b.text) for b in plan.blocks if b.type == "paragraph")  # type: ignore[union-attr]
    assert "Total bill is 594.00" in prose and "total bill was" in prose and "total_bill" not in prose
    share = next(
        (i, s) for i, b in enumerate(plan.blocks) if isinstance(b, Table) and b.query
        for s in b.query.select if s.transform == "share"
    )  # fmt: skip
    assert sum(bound.results[share[0]].column(share[1].label or "")) == pytest.approx(1.0)


def test_year_columns_of_a_headcount_sheet_are_one_series_not_three_measures(tmp_path):
    path = write(
        tmp_path / "headcount.csv", ["team", "2023", "2024", "2025"], [["Ops", 10, 12, 15], ["Sales", 20, 18, 25]]
    )
    with Catalog() as c:
        (ds,) = c.ingest(path)
        plan = plan_report([profile(c, ds)], "Headcount")
        validate(plan, c)
        bound = bind(plan, c)
    assert not any(m.column in ("2023", "2024", "2025") for m in plan.metrics)
    i = next(i for i, b in enumerate(plan.blocks) if isinstance(b, Chart) and b.query and b.query.unpivot)
    assert bound.results[i].rows == [("2023", 30), ("2024", 30), ("2025", 40)]
    prose = " ".join(bound.text(b.text) for b in plan.blocks if b.type == "paragraph")  # type: ignore[union-attr]
    assert "In 2025 it rose by 33.3% on 2024." in prose


def test_a_score_is_averaged_plainly_not_weighted_by_revenue(tmp_path):
    path = write(tmp_path / "s.csv", ["store", "revenue", "satisfaction_score"], [["a", 100, 4.0], ["b", 900, 2.0]])
    with Catalog() as c:
        (ds,) = c.ingest(path)
        plan = plan_report([profile(c, ds)], "Stores")
        bound = bind(validate(plan, c), c)
    (score,) = [m for m in plan.metrics if "satisfaction_score" in (m.expr or m.column or "")]
    assert score.agg == "avg" and bound.metrics[score.name] == pytest.approx(3.0)
