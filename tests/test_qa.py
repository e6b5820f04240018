"""The QA pass before delivery: each check finds the defect it names, and our outputs have none."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pypdf
import pypdfium2 as pdfium
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate
from xlsxwriter.workbook import Workbook

from docagent.engine.bind import Bound, bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.pipeline.generate import generate
from docagent.renderers import qa, render_all
from tests.conftest import EXAMPLE
from tests.test_documents import FOUR_KPIS


def bound_with(*blocks: dict) -> Bound:
    return Bound(Plan.model_validate({"meta": {"title": "QA"}, "blocks": list(blocks)}))


def test_a_number_too_wide_for_its_xlsx_column_is_found(tmp_path):
    path = tmp_path / "narrow.xlsx"
    wb = Workbook(str(path))
    ws = wb.add_worksheet("Summary")
    ws.write_number(0, 0, 2130607.58, wb.add_format({"num_format": '"$"#,##0.00'}))
    ws.write_number(0, 1, 12, wb.add_format({"num_format": "#,##0"}))
    ws.set_column(0, 1, 9)
    wb.close()
    (found,) = qa.xlsx_widths(path)
    assert "Summary!A1 shows '$2,130,607.58', too wide for its column (10 characters)" in found


@pytest.fixture(scope="module")
def kpi_files(tmp_path_factory):
    with Catalog() as c:
        c.ingest(EXAMPLE)
        bound = bind(validate(Plan.model_validate(FOUR_KPIS), c), c)
    out = tmp_path_factory.mktemp("kpis")
    files, _ = render_all(bound, "corporate", out, "kpis", ["xlsx", "pdf"])
    return files, bound


def test_four_currency_kpis_fit_their_cells_and_cards(kpi_files):
    files, bound = kpi_files
    assert qa.xlsx_widths(files["xlsx"]) == []
    assert qa.pdf_layout(qa.read_pdf(pdfium.PdfDocument(files["pdf"])), "kpis.pdf", bound) == []


def test_a_kpi_figure_broken_across_lines_is_found(kpi_files, tmp_path, monkeypatch):
    _, bound = kpi_files
    import docagent.renderers.pdf as pdf

    monkeypatch.setattr(pdf, "kpi_texts", lambda b, names, fits: [b.metric_text[m] for m in names])  # no short form
    files, _ = render_all(bound, "corporate", tmp_path, "kpis", ["pdf"])
    found = qa.pdf_layout(qa.read_pdf(pdfium.PdfDocument(files["pdf"])), "kpis.pdf", bound)
    assert found and all("is broken across two lines" in f for f in found)
    assert "'$13,379,834.92'" in found[0]


def heading_at_foot(path, markup: str) -> pdfium.PdfDocument:
    """A page of filler ending with a heading whose keepWithNext is off (the defect), its text on page 2."""
    body = getSampleStyleSheet()["BodyText"]
    story = [Paragraph(f"Line {n} of filler text.", body) for n in range(37)]
    loose = ParagraphStyle("h", parent=getSampleStyleSheet()["Heading1"], keepWithNext=0)
    story += [Paragraph(markup, loose), Paragraph("On the next page.", body)]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return pdfium.PdfDocument(path)


def test_a_heading_left_at_a_page_foot_is_found(tmp_path):
    reader = heading_at_foot(tmp_path / "foot.pdf", "Results")
    bound = bound_with({"type": "heading", "text": "Results"}, {"type": "paragraph", "text": "On the next page."})
    assert len(reader) == 2
    assert qa.pdf_layout(qa.read_pdf(reader), "foot.pdf", bound) == [
        "foot.pdf: page 1 ends with the heading 'Results'; what it introduces is on the next page"
    ]


def test_a_heading_written_in_several_runs_is_read_whole_at_a_page_foot(tmp_path):
    """ReportLab writes "P&L" as three runs (P, &, L): the check reads the heading a reader sees."""
    reader = heading_at_foot(tmp_path / "pl.pdf", "P&amp;L")
    bound = bound_with({"type": "heading", "text": "P&L"}, {"type": "paragraph", "text": "On the next page."})
    assert qa.pdf_layout(qa.read_pdf(reader), "pl.pdf", bound) == [
        "pl.pdf: page 1 ends with the heading 'P&L'; what it introduces is on the next page"
    ]


def test_a_page_holding_only_a_drawing_is_not_empty(tmp_path):
    path = tmp_path / "drawn.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.drawString(100, 400, "Hello")
    canvas.showPage()
    canvas.rect(100, 300, 300, 200, fill=1)  # a chart drawn as shapes has no text
    canvas.line(40, 820, 550, 820)  # a running header's rule alone would not count
    canvas.showPage()
    canvas.line(40, 820, 550, 820)
    canvas.save()
    assert qa.pdf_layout(qa.read_pdf(pdfium.PdfDocument(path)), "drawn.pdf", bound_with({"type": "page_break"})) == [
        "drawn.pdf: page 3 is empty"
    ]


def test_an_unembedded_font_and_an_empty_page_are_found(tmp_path):
    path = tmp_path / "plain.pdf"
    canvas = Canvas(str(path), pagesize=A4)
    canvas.drawString(100, 400, "Hello")
    canvas.showPage()
    canvas.showPage()
    canvas.save()
    reader = pdfium.PdfDocument(path)
    assert qa.pdf_fonts(qa.read_pdf(reader), "plain.pdf") == [
        "plain.pdf: font Helvetica is referenced but not embedded (print shops and PDF/A reject it)"
    ]
    assert qa.pdf_layout(qa.read_pdf(reader), "plain.pdf", bound_with({"type": "page_break"})) == [
        "plain.pdf: page 2 is empty"
    ]


def test_unpunctuated_and_loose_captions_and_schema_errors_are_found_in_docx(tmp_path):
    path = tmp_path / "loose.docx"
    d = docx.Document()
    caption = d.add_paragraph("Table 1. Sales Source: sales.csv", style="Caption")
    seq = OxmlElement("w:instrText")
    seq.text = " SEQ Table \\* ARABIC "  # a table caption, as the writer marks it
    caption.add_run()._r.append(seq)
    table = d.add_table(rows=1, cols=1)
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")  # what the writer used to do: not a valid on/off value
    table.rows[0]._tr.get_or_add_trPr().append(header)
    d.save(str(path))
    assert qa.docx_layout(path) == [
        "loose.docx: caption 'Table 1. Sales Source: sales.csv' does not end with a full stop",
        "loose.docx: caption 'Table 1. Sales Source: sales.csv' runs into its source without a full stop",
        "loose.docx: caption 'Table 1. Sales Source: sales.csv' may be left at a page foot, apart from its table",
    ]
    assert any("tblHeader" in f or "val" in f for f in qa.ooxml(path))


def test_rules_planner_documents_pass_the_qa_pass_and_report_no_warnings(tmp_path, write):
    inventory = write(
        "inventory.csv",
        "sku,store,category,on_hand,unit_cost,counted\n"
        + "".join(
            f"S{k},Store {k % 3},Cat {k % 4},{k * 7 % 50},{k * 1.25:.2f},2025-0{k % 9 + 1}-15\n" for k in range(40)
        ),
    )
    for data in (EXAMPLE, inventory):
        outcome = generate([data], "Report", out_dir=tmp_path / data.stem, planner="rules")
        assert outcome.warnings == [], outcome.warnings
        assert qa.ooxml(outcome.files["docx"]) == [] and qa.ooxml(outcome.files["xlsx"]) == []


def test_check_gathers_findings_of_every_file(tmp_path):
    path = tmp_path / "plain.pdf"
    canvas = Canvas(str(path))
    canvas.drawString(100, 400, "Hello")
    canvas.save()
    found = qa.check({"pdf": Path(path)}, bound_with({"type": "page_break"}))
    assert found == ["plain.pdf: font Helvetica is referenced but not embedded (print shops and PDF/A reject it)"]


def test_a_brand_font_the_pdf_cannot_embed_is_recorded_as_a_fallback(tmp_path):
    path = tmp_path / "empty.pdf"
    Canvas(str(path), initialFontName="Times-Roman").save()
    bound = Bound(Plan.model_validate({"meta": {"title": "t", "brand": {"primary": "#1B2A4A", "accent": "#F28C28",
                                                                     "font": "Futura"}}, "blocks": [{"type": "page_break"}]}))  # fmt: skip
    assert qa.check({"pdf": path}, bound)[0] == (
        "brand font 'Futura': named for Word headings; the PDF uses DejaVu Sans, the font it can embed"
    )


def test_the_schema_audit_reads_the_first_rows_of_each_sheet_and_still_finds_errors(tmp_path):
    import zipfile

    path = tmp_path / "big.xlsx"
    wb = Workbook(str(path))
    ws = wb.add_worksheet()
    for r in range(2_000):
        ws.write_row(r, 0, [r, f"name {r}", r * 1.5])
    wb.close()
    with zipfile.ZipFile(qa.sample(path, tmp_path / "sample.xlsx")) as z:
        assert z.read("xl/worksheets/sheet1.xml").count(b"<row ") == qa.AUDIT_ROWS
    assert qa.ooxml(path) == []
    bad = tmp_path / "bad.xlsx"  # a defect in the rows the audit reads is still found
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="A2">', b'<bogus/><c r="A2">', 1)
            out.writestr(item, data)
    assert any("Unexpected element 'bogus'" in finding for finding in qa.ooxml(bad))


# --- tables as a reader sees them, and what no document may carry ---------------------------------

WIDE_TABLE = {
    "type": "table",
    "title": "Accounts",
    "columns": ["Account", "Priority", "Opening balance", "Closing balance", "Receivables", "Payables", "Net"],
    "rows": [
        [f"Account {k}", "High", 8_935_081.01 * k, 12_345_678.9 * k, 4_567_890.12, 3_210_987.65, -1_234_567.89]
        for k in range(1, 6)
    ],
    "formats": [None, None, "currency", "currency", "currency", "currency", "currency"],
}


def bound_literal(*blocks: dict) -> Bound:
    with Catalog() as c:
        return bind(validate(Plan.model_validate({"meta": {"title": "QA"}, "blocks": list(blocks)}), c), c)


def test_a_number_too_wide_for_its_docx_column_is_found(tmp_path):
    import docx as python_docx
    from docx.shared import Pt

    d = python_docx.Document()
    tbl = d.add_table(rows=1, cols=2)
    tbl.autofit = False
    for k, text in enumerate(["Priority", "$8,935,081.01"]):
        tbl.columns[k].width = Pt(40)
        tbl.rows[0].cells[k].width = Pt(40)
        tbl.rows[0].cells[k].paragraphs[0].add_run(text).font.size = Pt(8.5)
    d.save(str(tmp_path / "narrow.docx"))
    found = qa.docx_tables(tmp_path / "narrow.docx")
    assert any("'$8,935,081.01' wraps in its column" in f for f in found), found


def test_wide_tables_keep_every_number_and_header_word_whole_in_pdf_and_docx(tmp_path):
    bound = bound_literal(WIDE_TABLE)
    files, _ = render_all(bound, "corporate", tmp_path, "wide", ["pdf", "docx"])
    assert qa.docx_tables(files["docx"]) == []
    assert qa.pdf_layout(qa.read_pdf(pdfium.PdfDocument(files["pdf"])), "wide.pdf", bound) == []
    lines = pypdf.PdfReader(files["pdf"]).pages[0].extract_text().splitlines()
    assert any("$44,675,405.05" in line for line in lines) and any("Priority" in line for line in lines)
    assert not any(re.search(r"\d\$", line) for line in lines)  # "4$8,935,081.01": cells run into each other


def test_highlight_rules_never_colour_the_total_row():
    from docagent.renderers.common import table_data

    block = {
        "type": "table",
        "title": "Spend",
        "columns": ["Line", "Over"],
        "rows": [["Travel", 5], ["Rent", 9], ["Total", 14]],
        "highlight": [{"column": "Over", "op": "top", "value": 1}, {"column": "Over", "op": "gt", "value": 4}],
    }
    bound = bound_literal(block)
    data = table_data(bound.plan.blocks[0], bound, 0)
    assert data.fills == {(1, 1): "bad", (0, 1): "bad"} and (2, 1) not in data.fills


def test_placeholders_and_the_product_name_are_found_in_any_format(tmp_path):
    found = qa.leftovers(tmp_path / "x.pdf", "Revenue reached {revenue}. Made with DocAgent.")
    assert found == [
        "x.pdf: placeholder {revenue} was never filled",
        "x.pdf: names the product ('docagent') in the user's document",
    ]
