"""Every block and chart type renders to every format, and the files open as a person would open them."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import docx
import openpyxl
import pypdf
import pypdfium2 as pdfium
import pytest

from docagent.engine.bind import bind
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.errors import FontMissing
from docagent.renderers import fonts as fonts_mod
from docagent.renderers import render_all
from tests.conftest import EXAMPLE, needs_poppler, needs_soffice
from tests.plans import CHARTS, every_block


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    from docagent.engine.data.catalog import Catalog

    out = tmp_path_factory.mktemp("every")
    with Catalog() as catalog:
        catalog.ingest(EXAMPLE)
        plan = validate(every_block(), catalog)
        bound = bind(plan, catalog)
    files, _ = render_all(bound, "corporate", out, "every", ["docx", "xlsx", "pdf"])
    return files


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_pdf_has_every_block_metadata_and_page_numbers(rendered):
    reader = pypdf.PdfReader(rendered["pdf"])
    assert reader.metadata.title == "Every block" and reader.metadata.author == "tests"
    text = pdf_text(rendered["pdf"])
    for needle in [
        "Contents",
        "Overview",
        "Revenue by region",
        "Price list",
        "Figures are unaudited",
        "Ünïcödé, Ελληνικά, Русский",
        "Table 3",
        "Figure 10",
        "Total",
    ]:
        assert needle in text, needle
    n = len(reader.pages)
    assert f"1 / {n}" in text and f"{n} / {n}" in text
    # charts are vector drawings: no page embeds a raster image
    assert all(len(page.images) == 0 for page in reader.pages)


def test_pdf_prose_placeholders_are_filled(rendered):
    text = pdf_text(rendered["pdf"])
    assert "{total_revenue}" not in text and "13.4M" in text and "2,922" in text


def test_docx_structure(rendered):
    d = docx.Document(str(rendered["docx"]))
    styles = [p.style.name for p in d.paragraphs]
    assert "Title" in styles and "Heading 1" in styles and "Heading 2" in styles
    assert "List Bullet" in styles and "List Number" in styles
    body = d.element.xml
    assert 'TOC \\o "1-3"' in body and "SEQ Table" in body and "SEQ Figure" in body
    assert "<w:tblHeader" in body
    footer = d.sections[0].footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer
    captions = [p.text for p in d.paragraphs if p.style.name == "Caption"]
    assert "Table 1. Revenue by region. Sum of revenue. Source: sales.csv." in captions
    assert len([c for c in captions if c.startswith("Figure")]) == len(CHARTS)
    assert len(d.inline_shapes) == len(CHARTS)
    region = d.tables[2]  # after the KPI row and the callout
    assert region.rows[0].cells[0].text == "region"
    assert region.rows[-1].cells[0].text == "Total"
    assert region.rows[1].cells[1].paragraphs[0].alignment == 2  # numbers right-aligned
    assert d.core_properties.title == "Every block"


def test_xlsx_formulas_have_cached_values_and_charts_are_native(rendered):
    wb = openpyxl.load_workbook(rendered["xlsx"])
    values = openpyxl.load_workbook(rendered["xlsx"], data_only=True)
    assert wb.sheetnames[:2] == ["Summary", "Chart data"] and "sales" in wb.sheetnames
    summary, cached = wb["Summary"], values["Summary"]
    formulas = [
        (c.coordinate, c.value)
        for row in summary.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert any("SUMIFS(sales!$F$2:$F$2923" in f for _, f in formulas)
    assert any("COUNTIFS(" in f for _, f in formulas)
    assert len(formulas) > 20
    for coord, f in formulas:
        assert cached[coord].value is not None, (coord, f)
    assert len(summary._charts) == len(CHARTS)
    data = wb["sales"]
    assert data.freeze_panes == "A2" and "t_sales" in data.tables


def test_xlsx_median_written_as_value_with_comment(rendered):
    ws = openpyxl.load_workbook(rendered["xlsx"])["Summary"]
    comments = [c.comment.text for row in ws.iter_rows() for c in row if c.comment]
    assert any("Values computed from the full data when the workbook was made" in t for t in comments)


def test_xlsx_never_writes_data_text_as_formula(rendered):
    ws = openpyxl.load_workbook(rendered["xlsx"])["Summary"]
    texts = {c.value: c.data_type for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert texts["=cmd|' /C calc'!A0"] == "s"
    assert texts["+1 then -2 @SUM"] == "s"


@needs_soffice
@pytest.mark.parametrize("fmt", ["docx", "xlsx", "pdf"])
def test_libreoffice_opens_every_file(rendered, fmt, tmp_path):
    src = rendered[fmt]
    if fmt == "pdf":  # LibreOffice imports PDFs with Draw; poppler is the stricter reader
        pytest.importorskip("pypdf")
        assert len(pypdf.PdfReader(src).pages) > 5
        return
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    out = tmp_path / (src.stem + ".pdf")
    assert out.is_file() and out.stat().st_size > 10_000


def test_missing_cjk_font_is_a_clear_error(monkeypatch, tmp_path):
    from docagent.engine.data.catalog import Catalog

    real = fonts_mod.find_fonts()
    monkeypatch.setattr(fonts_mod, "find_fonts", lambda: fonts_mod.Fonts(real.regular, real.bold, real.mono, None))
    plan = Plan.model_validate({"meta": {"title": "销售报告"}, "blocks": [{"type": "paragraph", "text": "你好"}]})
    with (
        Catalog() as c,
        pytest.raises(FontMissing, match="no CJK font is installed; install Debian's fonts-wqy-zenhei"),
    ):
        render_all(bind(plan, c), "corporate", tmp_path, "x", ["pdf"])


def big_plan(rows: int, cols: int) -> tuple[Plan, Path]:
    return Plan.model_validate(
        {
            "meta": {"title": f"{rows} x {cols}"},
            "blocks": [
                {
                    "type": "table",
                    "title": "Everything",
                    "query": {"dataset": "wide", "select": [{"column": f"c{i}"} for i in range(cols)]},
                }
            ],
        }
    ), Path()


@pytest.mark.parametrize(("rows", "cols"), [(5000, 4), (40, 30)])
def test_large_and_wide_tables_render_in_every_format(tmp_path, rows, cols):
    from docagent.engine.data.catalog import Catalog

    path = tmp_path / "wide.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"c{i}" for i in range(cols)])
        for r in range(rows):
            w.writerow(
                [f"row {r} " + "long text " * (8 if i == 1 else 0) if i % 3 == 1 else r * i for i in range(cols)]
            )
    plan, _ = big_plan(rows, cols)
    with Catalog() as c:
        c.ingest(path)
        bound = bind(validate(plan, c), c)
    files, _ = render_all(bound, "classic", tmp_path, "big", ["docx", "xlsx", "pdf"])
    assert len(docx.Document(str(files["docx"])).tables[0].rows) == rows + 1
    ws = openpyxl.load_workbook(files["xlsx"], read_only=True)["Summary"]
    assert ws.max_row >= rows + 3
    text = pdf_text(files["pdf"])
    assert f"row {rows - 2}" in text.replace("\n", " ")


@needs_poppler
def test_pdftotext_extracts_words(rendered):
    out = subprocess.run(["pdftotext", str(rendered["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Revenue by region" in out and "Русский" in out


def test_a_very_long_cell_and_a_very_wide_table_never_break_the_layout(tmp_path):
    from docagent.engine.data.catalog import Catalog

    long_text = "word " * 6000  # 30,000 characters in one cell
    plan = Plan.model_validate(
        {
            "meta": {"title": "Edge cases"},
            "blocks": [
                {"type": "table", "title": "Long", "columns": ["a", "b"], "rows": [["x", long_text], ["y", "short"]]},
                {
                    "type": "table",
                    "title": "Wide",
                    "columns": [f"c{i}" for i in range(45)],
                    "rows": [[f"v{i}" for i in range(45)]] * 3,
                },
            ],
        }
    )
    with Catalog() as c:
        files, _ = render_all(bind(plan, c), "corporate", tmp_path, "edge", ["docx", "xlsx", "pdf"])
    text = pdf_text(files["pdf"])
    flat = text.replace("\n", " ")
    assert "…" in flat and "c44" in flat and "v44" in flat


def test_docx_and_xlsx_are_valid_against_the_ooxml_schema(rendered):
    from docagent.renderers.qa import ooxml

    assert ooxml(rendered["docx"]) == []
    assert ooxml(rendered["xlsx"]) == []


def test_pdf_embeds_every_font_it_names(rendered):
    from docagent.renderers.qa import pdf_fonts, read_pdf

    assert pdf_fonts(read_pdf(pdfium.PdfDocument(rendered["pdf"])), "every.pdf") == []


@pytest.mark.parametrize(
    ("note", "language", "expected"),
    [
        (None, "en", "Table 1. Revenue by quarter. Source: sales.csv."),
        ("Sum of revenue", "en", "Table 1. Revenue by quarter. Sum of revenue. Source: sales.csv."),
        ("Is it growing?", "en", "Table 1. Revenue by quarter. Is it growing? Source: sales.csv."),
        (None, "zh", "表 1：Revenue by quarter。来源：sales.csv。"),
    ],
)
def test_a_caption_ends_its_sentence_before_the_source(note, language, expected):
    from docagent.engine.data.catalog import Catalog
    from docagent.renderers.common import caption

    plan = {
        "meta": {"title": "t", "language": language},
        "blocks": [
            {
                "type": "table",
                "title": "Revenue by quarter",
                "caption": note,
                "query": {"dataset": "sales", "select": [{"column": "region"}]},
            }
        ],
    }
    with Catalog() as catalog:
        catalog.ingest(EXAMPLE)
        bound = bind(validate(Plan.model_validate(plan), catalog), catalog)
    assert caption(bound.plan.blocks[0], bound, "表 1" if language == "zh" else "Table 1") == expected


def test_chart_text_is_text_for_the_pdf_unless_cjk_needs_a_second_font():
    """Text as text is searchable and svglib reads it about 3x faster than glyph paths; CJK falls back
    glyph by glyph to a second font, which one SVG text cannot name, so those charts keep paths."""
    from docagent.engine.data.catalog import Catalog
    from docagent.engine.plan import Chart
    from docagent.renderers.charts import draw_all
    from docagent.renderers.theme import load_theme

    with Catalog() as catalog:
        catalog.ingest(EXAMPLE)
        bound = bind(validate(every_block(), catalog), catalog)
    theme = load_theme("corporate")
    charts = [i for i, b in enumerate(bound.plan.blocks) if isinstance(b, Chart)]
    latin = draw_all(bound, theme, ("svg",))
    assert charts and all(b"<text" in latin[i].svg for i in charts)
    bound.plan.meta.language = "zh"
    cjk = draw_all(bound, theme, ("svg",))
    assert all(b"<text" not in cjk[i].svg and b"<use" in cjk[i].svg for i in charts)


def test_chart_titles_are_set_bold_in_the_pdf(rendered):
    """matplotlib writes a bold title's weight as 700, which svglib would set in the regular face."""
    import pypdfium2.raw as pdfium_c

    from docagent.renderers.qa import _font_name, _object_text

    titles = {f"{kind} chart" for kind in CHARTS}  # as every_block() titles them
    found = []
    for page in pdfium.PdfDocument(rendered["pdf"]):
        textpage = page.get_textpage()
        for obj in page.get_objects():
            if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT and _object_text(obj, textpage).strip() in titles:
                found.append(_font_name(pdfium_c.FPDFTextObj_GetFont(obj)))
    assert found and all(name.endswith("Bold") for name in found), found
