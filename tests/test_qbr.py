"""The quarterly business review example: every figure equals an independent pandas computation,
in all three files, and LibreOffice recomputes the workbook's formulas to the same values."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from docagent.formatting import format_value
from tests.conftest import EXAMPLE, ROOT, needs_poppler, needs_soffice
from tests.test_cli import run

QBR = ROOT / "examples" / "plans" / "qbr.json"
TEAM = ROOT / "examples" / "team.csv"


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
    regions = df.groupby("region")["revenue"].sum().sort_values(ascending=False)
    reps = pd.read_csv(TEAM).set_index("region")["reps"]
    return {
        "quarters": q,
        "revenue_q": latest["revenue"],
        "qoq": latest["revenue"] / previous["revenue"] - 1,
        "yoy": latest["revenue"] / year_ago["revenue"] - 1,
        "margin_q": latest["margin"],
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


def _check_workbook(path: Path, expected: dict[str, object]) -> None:
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    kpis = [ws.cell(4, k).value for k in range(1, 5)]
    assert kpis == pytest.approx([expected[k] for k in ("revenue_q", "qoq", "yoy", "margin_q")], rel=1e-9)
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
    assert all(str(ws.cell(4, k).value).startswith("=") for k in range(1, 5))  # KPIs over relative periods


@needs_soffice
def test_libreoffice_recalculates_the_same_figures(files, expected, tmp_path):
    stripped = tmp_path / "stripped.xlsx"
    openpyxl.load_workbook(files["xlsx"]).save(stripped)  # openpyxl drops every cached value
    assert openpyxl.load_workbook(stripped, data_only=True)["Summary"].cell(4, 1).value is None
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
    plan["blocks"][5]["series"] = None  # a line chart by quarter and region without series
    plan["blocks"][2]["text"] = "Revenue was {nope}."
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan))
    r = run("render", str(bad), str(EXAMPLE), str(TEAM), "--out", str(tmp_path))
    assert r.returncode == 2 and r.stdout == ""
    assert "metric 'qoq': expression unexpected character ';'" in r.stderr
    assert "block 6 (chart 'Revenue by quarter and region' under 'Trend'): the query groups by ['region']" in r.stderr
    assert "block 3 (paragraph under 'Summary'): placeholder {nope}" in r.stderr
    assert list(tmp_path.iterdir()) == [bad]


def test_a_plan_that_breaks_the_schema_names_the_block_by_its_title(tmp_path):
    plan = json.loads(QBR.read_text())
    plan["blocks"][5]["kind"] = "zigzag"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan))
    r = run("render", str(bad), str(EXAMPLE), "--out", str(tmp_path))
    assert r.returncode == 2
    assert "block 6 (chart 'Revenue by quarter and region').kind: Input should be" in r.stderr
