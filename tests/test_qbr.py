"""The quarterly business review example: every figure equals an independent pandas computation,
in all three files, and LibreOffice recomputes the workbook's formulas to the same values."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pandas as pd
import pytest

from docagent.engine.formatting import format_value
from tests.conftest import EXAMPLE, ROOT, needs_poppler, needs_soffice
from tests.test_cli import run

QBR = ROOT / "examples" / "plans" / "qbr.json"
TEAM = ROOT / "examples" / "team.csv"
TREND = "Revenue by quarter and region"


def block_index(plan: dict, **match: str) -> int:
    return next(i for i, b in enumerate(plan["blocks"]) if all(b.get(k) == v for k, v in match.items()))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("qbr")
    r = run("render", str(QBR), str(EXAMPLE), str(TEAM), "--out", str(out))
    assert r.returncode == 0, r.stderr
    paths = [Path(line) for line in r.stdout.splitlines()]
    return {p.suffix[1:]: p for p in paths}


@pytest.fixture(scope="module")
def expected() -> dict[str, object]:
    """The QBR's figures computed with pandas from the CSV, without docagent."""
    df = pd.read_csv(EXAMPLE, parse_dates=["order_date"])
    df["quarter"] = df["order_date"].dt.to_period("Q")
    q = df.groupby("quarter")[["revenue", "cost"]].sum().sort_index()
    q["margin"] = (q["revenue"] - q["cost"]) / q["revenue"]
    q["qoq"] = q["revenue"].pct_change()
    q["yoy"] = q["revenue"].pct_change(4)  # eight consecutive quarters: four rows back is a year ago
    q["cumulative"] = q["revenue"].cumsum()
    latest, previous, year_ago = q.iloc[-1], q.iloc[-2], q.iloc[-5]
    end = df["order_date"].max()
    this_year = df[(df["order_date"] >= pd.Timestamp(end.year, 1, 1)) & (df["order_date"] <= end)]
    last_year = df[
        (df["order_date"] >= pd.Timestamp(end.year - 1, 1, 1)) & (df["order_date"] <= end - pd.DateOffset(years=1))
    ]
    regions = df.groupby("region")["revenue"].sum()
    plan = json.loads(QBR.read_text())
    table = plan["blocks"][block_index(plan, title="Regions: share, rank and revenue per rep")]
    regions = regions.reindex(table["query"]["sort"][0]["order"])  # the plan lists regions in its own order
    reps = pd.read_csv(TEAM).set_index("region")["reps"]
    return {
        "quarters": q,
        "revenue_q": latest["revenue"],
        "qoq": latest["revenue"] / previous["revenue"] - 1,
        "yoy": latest["revenue"] / year_ago["revenue"] - 1,
        "margin_q": latest["margin"],
        "ytd": this_year["revenue"].sum(),
        "ytd_growth": this_year["revenue"].sum() / last_year["revenue"].sum() - 1,
        "margin_pts": latest["margin"] - previous["margin"],
        "regions": pd.DataFrame(
            {
                "revenue": regions,
                "share": regions / regions.sum(),
                "rank": regions.rank(ascending=False).astype(int),
                "per_rep": regions / reps.reindex(regions.index),
            }
        ),
    }


def _table(ws, header: str) -> tuple[int, list[str]]:
    """Row index and headers of the table whose first header cell reads `header`."""
    for row in ws.iter_rows():
        if row[0].value == header:
            return row[0].row, [c.value for c in row if c.value is not None]
    raise AssertionError(f"no table headed {header!r}")


def _kpi_cells(ws: Any) -> list[Any]:
    """The two KPI rows: each figure sits above its label (the sheet's prose comes before them)."""
    rows = {c.value: c.row for c in ws["A"] if c.value in ("Revenue, latest quarter", "Growth vs a year ago")}
    first, second = rows["Revenue, latest quarter"] - 1, rows["Growth vs a year ago"] - 1
    return [ws.cell(first, k) for k in range(1, 4)] + [ws.cell(second, k) for k in range(1, 5)]


def _check_workbook(path: Path, expected: dict[str, object]) -> None:
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    kpis = [c.value for c in _kpi_cells(ws)]
    names = ("revenue_q", "ytd", "qoq", "yoy", "ytd_growth", "margin_q", "margin_pts")
    # a difference of two percentages is shown in points: the cell holds points (0.0034 -> 0.34 pp)
    want = [expected[k] * (100 if k == "margin_pts" else 1) for k in names]
    assert kpis == pytest.approx(want, rel=1e-9)
    top, header = _table(ws, "Quarter")
    assert header == ["Quarter", "Revenue", "Margin", "QoQ", "YoY", "Cumulative"]
    q = expected["quarters"]
    for i, (_, want) in enumerate(q.iterrows()):
        got = [ws.cell(top + 1 + i, k).value for k in range(2, 7)]
        for g, w in zip(
            got, [want["revenue"], want["margin"], want["qoq"], want["yoy"], want["cumulative"]], strict=True
        ):
            assert (g in (None, "") and pd.isna(w)) or g == pytest.approx(w, rel=1e-9)
    top, header = _table(ws, "Region")
    regions = expected["regions"]
    for i, (name, want) in enumerate(regions.iterrows()):
        got = [ws.cell(top + 1 + i, k).value for k in range(1, 6)]
        assert got[0] == name
        assert got[1:] == pytest.approx([want["revenue"], want["share"], want["rank"], want["per_rep"]], rel=1e-9)


def test_the_workbook_caches_the_pandas_figures_under_live_formulas(files, expected):
    _check_workbook(files["xlsx"], expected)
    ws = openpyxl.load_workbook(files["xlsx"])["Summary"]
    top, _ = _table(ws, "Quarter")
    second = [ws.cell(top + 2, k).value for k in range(2, 7)]
    assert second[0].startswith("=SUMIFS(")  # revenue
    assert second[1].startswith("=IFERROR(((SUMIFS(")  # margin: (revenue - cost) / revenue
    assert second[2] == f'=IFERROR(((B{top + 2})-(B{top + 1}))/ABS(B{top + 1}),"")'  # growth on the row before
    assert second[4] == f"=F{top + 1}+B{top + 2}"  # running total
    kpis = [c.value for c in _kpi_cells(ws)]
    assert all(str(f).startswith("=") and "MAX(sales!$A$2:$A$2923)" in f for f in kpis)  # periods follow the data
    top, _ = _table(ws, "Region")
    assert isinstance(ws.cell(top + 1, 2).value, float)  # a joined query: values, as a join may repeat rows


@needs_soffice
def test_libreoffice_recalculates_the_same_figures(files, expected, tmp_path):
    stripped = tmp_path / "stripped.xlsx"
    openpyxl.load_workbook(files["xlsx"]).save(stripped)  # openpyxl drops every cached value
    assert _kpi_cells(openpyxl.load_workbook(stripped, data_only=True)["Summary"])[0].value is None
    outdir = tmp_path / "recalculated"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            str(stripped),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    _check_workbook(outdir / "stripped.xlsx", expected)


def _shown(expected: dict[str, object]) -> list[tuple[float, str]]:
    """The figures (value, format) the documents print."""
    q = expected["quarters"]
    out = [(expected[k], "percent") for k in ("qoq", "yoy", "margin_q")] + [(expected["revenue_q"], "currency")]
    for _, row in q.iterrows():
        out += [(row["revenue"], "currency"), (row["margin"], "percent")]
    out += [(v, "percent") for v in q["qoq"].iloc[1:].tolist() + q["yoy"].iloc[4:].tolist()]
    r = expected["regions"]
    return out + [(v, "percent") for v in r["share"]] + [(v, "currency") for v in r["per_rep"]]


def _missing(text: str, expected: dict[str, object]) -> list[str]:
    """Figures not found as printed; a value on a rounding edge (x.xx5) may print either way."""
    out = []
    for value, fmt in _shown(expected):
        shown = {format_value(value * (1 + e), fmt) for e in (0, 1e-12, -1e-12)}
        if not any(s in text for s in shown):
            out.append(sorted(shown)[0])
    return out


def test_the_word_document_shows_the_pandas_figures(files, expected):
    d = docx.Document(str(files["docx"]))
    text = "\n".join(p.text for p in d.paragraphs)
    text += "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert _missing(text, expected) == []


@needs_poppler
def test_the_pdf_shows_the_pandas_figures(files, expected):
    text = subprocess.run(["pdftotext", str(files["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert _missing(text, expected) == []


def test_an_invalid_plan_exits_2_listing_every_problem(tmp_path):
    plan = json.loads(QBR.read_text())
    plan["metrics"][1]["expr"] = "sum(revenue); DROP TABLE sales"
    chart, para = block_index(plan, title=TREND), block_index(plan, type="paragraph")
    plan["blocks"][chart]["series"] = None  # a line chart by quarter and region without series
    plan["blocks"][para]["text"] = "Revenue was {nope}."
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan))
    r = run("render", str(bad), str(EXAMPLE), str(TEAM), "--out", str(tmp_path))
    assert r.returncode == 2 and r.stdout == ""
    assert "metric 'qoq': expression unexpected character ';'" in r.stderr
    assert f"block {chart + 1} (chart '{TREND}' under 'Trend'): the query groups by ['region']" in r.stderr
    assert f"block {para + 1} (paragraph under 'Summary'): placeholder {{nope}}" in r.stderr
    assert list(tmp_path.iterdir()) == [bad]


def test_a_plan_that_breaks_the_schema_names_the_block_by_its_title(tmp_path):
    plan = json.loads(QBR.read_text())
    chart = block_index(plan, title=TREND)
    plan["blocks"][chart]["kind"] = "zigzag"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan))
    r = run("render", str(bad), str(EXAMPLE), "--out", str(tmp_path))
    assert r.returncode == 2
    assert f"block {chart + 1} (chart '{TREND}').kind: Input should be" in r.stderr


def test_a_series_chart_is_one_native_series_per_region_in_the_workbook(files):
    import re
    import zipfile

    with zipfile.ZipFile(files["xlsx"]) as z:
        line = z.read("xl/charts/chart1.xml").decode()
    assert "<c:lineChart>" in line
    assert line.count("<c:ser>") == 5  # Central, East, North, South, West: one line each, not a zigzag
    names = re.findall(r"<c:tx><c:strRef><c:f>([^<]+)</c:f>", line)
    assert len(names) == 5


def test_the_word_and_pdf_charts_draw_one_line_per_region(catalog):
    from docagent.engine.bind import bind
    from docagent.engine.plan import Plan
    from docagent.renderers.charts import series_of

    catalog.ingest(EXAMPLE)
    catalog.ingest(TEAM)
    bound = bind(Plan.model_validate_json(QBR.read_text()), catalog)
    i = block_index(json.loads(QBR.read_text()), title=TREND)
    s = series_of(bound.plan.blocks[i], bound, i)
    assert [name for name, _ in s.y] == ["Central", "East", "North", "South", "West"]
    assert s.labels[:2] == ["2024 Q1", "2024 Q2"] and len(s.labels) == 8
