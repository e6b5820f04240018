"""Style mode for .xlsx templates: a house workbook made in LibreOffice Calc keeps its sheets in front of
docagent's, and docagent's sheets take its body font and theme colours."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.writer.theme import theme_xml

from docagent.pipeline.generate import render_plan
from docagent.renderers.theme import load_theme
from docagent.renderers.xlsxstyle import template_look, theme_colours
from tests.conftest import needs_soffice
from tests.orgtemplates import INVOICES, ODF, soffice_convert

# A house workbook as a person sets it up in Calc: the default cell font changed to DejaVu Serif, a cover
# sheet with a merged, bold, coloured title, the finance team's figures summed by a formula under a
# number format, a wide first column, a cell named "balance" (Insert > Named Expression) waiting for the
# report's figure, and a sheet of its own called Summary.
HOUSE_FODS = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document {ODF} xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
  xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"
  office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:styles>
  <style:default-style style:family="table-cell">
   <style:text-properties style:font-name="DejaVu Serif" fo:font-family="'DejaVu Serif'" fo:font-size="11pt"/>
  </style:default-style>
 </office:styles>
 <office:automatic-styles>
  <number:number-style style:name="thousands"><number:number number:decimal-places="2"
    number:min-integer-digits="1" number:grouping="true"/></number:number-style>
  <style:style style:name="wide" style:family="table-column"><style:table-column-properties
    style:column-width="2.5in"/></style:style>
  <style:style style:name="title" style:family="table-cell">
   <style:text-properties fo:font-weight="bold" fo:color="#7b241c" fo:font-size="16pt"/>
  </style:style>
  <style:style style:name="money" style:family="table-cell" style:data-style-name="thousands"/>
 </office:automatic-styles>
 <office:body><office:spreadsheet>
  <table:table table:name="Cover">
   <table:table-column table:style-name="wide"/><table:table-column table:number-columns-repeated="2"/>
   <table:table-row><table:table-cell table:style-name="title" table:number-columns-spanned="3"
     office:value-type="string"><text:p>Northwind finance pack</text:p></table:table-cell>
    <table:covered-table-cell table:number-columns-repeated="2"/></table:table-row>
   <table:table-row><table:table-cell office:value-type="string"><text:p>Budget</text:p></table:table-cell>
    <table:table-cell table:style-name="money" office:value-type="float" office:value="1200.5"/></table:table-row>
   <table:table-row><table:table-cell office:value-type="string"><text:p>Reserve</text:p></table:table-cell>
    <table:table-cell table:style-name="money" office:value-type="float" office:value="300"/></table:table-row>
   <table:table-row><table:table-cell office:value-type="string"><text:p>Total</text:p></table:table-cell>
    <table:table-cell table:style-name="money" table:formula="of:=SUM([.B2:.B3])" office:value-type="float"
      office:value="1500.5"/></table:table-row>
   <table:table-row><table:table-cell office:value-type="string"><text:p>Receivables</text:p></table:table-cell>
    <table:table-cell/></table:table-row>
  </table:table>
  <table:table table:name="Summary">
   <table:table-row><table:table-cell office:value-type="string"><text:p>The board's own summary</text:p>
   </table:table-cell></table:table-row>
  </table:table>
  <table:named-expressions>
   <table:named-range table:name="balance" table:base-cell-address="$Cover.$B$5"
       table:cell-range-address="$Cover.$B$5"/>
  </table:named-expressions>
 </office:spreadsheet></office:body>
</office:document>
"""

PLAN = {
    "meta": {"title": "Receivables", "template": "house.xlsx"},
    "metrics": [
        {"name": "balance", "label": "Balance", "dataset": "invoices", "agg": "sum", "column": "amount",
         "format": "currency"}
    ],
    "blocks": [
        {"type": "kpis", "items": [{"metric": "balance"}]},
        {"type": "table", "title": "By customer",
         "query": {"dataset": "invoices",
                   "select": [{"column": "customer"}, {"agg": "sum", "column": "amount", "label": "Amount",
                               "format": "currency"}],
                   "sort": [{"by": "customer"}]}},
        {"type": "chart", "title": "Balance by customer", "kind": "bar", "x": "customer", "y": ["Amount"],
         "query": {"dataset": "invoices", "select": [{"column": "customer"}, {"agg": "sum", "column": "amount",
                                                                         "label": "Amount"}]}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def styled(tmp_path_factory) -> Path:
    if subprocess.run(["which", "soffice"], capture_output=True).returncode:
        pytest.skip("LibreOffice (soffice) is not installed")
    tmp = tmp_path_factory.mktemp("house")
    src = tmp / "house.fods"
    src.write_text(HOUSE_FODS, encoding="utf-8")
    template = soffice_convert(src, "xlsx", tmp)
    (tmp / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    files = render_plan(PLAN, [tmp / "invoices.csv"], ["xlsx", "pdf"], tmp / "out", templates=[template])
    assert set(files) == {"xlsx", "pdf"}  # the other formats in docagent's own look
    return files["xlsx"]


def test_the_templates_sheets_come_first_with_their_cells_formats_merges_and_widths(styled):
    wb = openpyxl.load_workbook(styled)
    assert wb.sheetnames[:2] == ["Cover", "Summary"]
    assert wb.sheetnames[2] == "Summary 2"  # docagent's summary steps aside for the template's own
    cover = wb["Cover"]
    title = cover["A1"]
    assert title.value == "Northwind finance pack" and title.font.b and title.font.color.rgb.endswith("7B241C")
    assert "A1:C1" in {str(r) for r in cover.merged_cells.ranges}
    assert cover["B4"].value == "=SUM(B2:B3)" and cover["B2"].number_format == "#,##0.00"
    assert cover.column_dimensions["A"].width > 15
    assert wb["Summary"]["A1"].value == "The board's own summary"


def test_a_formulas_result_is_kept_and_the_named_cell_takes_the_metric(styled):
    values = openpyxl.load_workbook(styled, data_only=True)
    assert values["Cover"]["B4"].value == pytest.approx(1500.5)  # the cached result, as the template had it
    balance = openpyxl.load_workbook(styled)["Cover"]["B5"]
    assert balance.value == pytest.approx(435.75) and "$" in balance.number_format  # sum of the invoices
    names = openpyxl.load_workbook(styled).defined_names
    assert "balance" in names and names["balance"].attr_text.replace("$", "") == "Cover!B5"


def test_docagents_sheets_take_the_templates_body_font(styled):
    ws = openpyxl.load_workbook(styled)["Summary 2"]
    fonts = {c.font.name for row in ws.iter_rows() for c in row if c.value is not None}
    assert fonts == {"DejaVu Serif"}, fonts
    with zipfile.ZipFile(styled) as z:  # the chart's title, legend and axes too
        chart = z.read(next(n for n in z.namelist() if n.startswith("xl/charts/chart"))).decode()
    assert 'typeface="DejaVu Serif"' in chart and "Calibri" not in chart
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Receivables" in texts and any("By customer" in t for t in texts)


def test_the_templates_accent_colours_head_docagents_tables():
    """A theme with its own accent (as Excel saves one), read from the template and used for headers."""
    book = openpyxl.Workbook()
    book.loaded_theme = theme_xml.replace('<a:srgbClr val="4F81BD"/>', '<a:srgbClr val="C0392B"/>').encode()
    buf = io.BytesIO()
    book.save(buf)
    again = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    assert theme_colours(again)["accent1"] == "#C0392B"
    theme, font = template_look(load_theme("corporate"), again)
    assert theme.header_fill == "#C0392B" and theme.palette[0] == "#C0392B" and font == "Calibri"


@needs_soffice
def test_the_styled_workbook_passes_the_ooxml_audit_and_converts(styled, tmp_path):
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("openxml-audit")), str(styled)], capture_output=True, text=True
    )
    assert "Errors: 0" in audit.stdout, audit.stdout[-2000:]
    pdf = soffice_convert(styled, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Northwind finance pack" in text and "$435.75" in text


def table_book(sheet: str, rows: list[tuple], name: str, style: str = "Light9") -> openpyxl.Workbook:
    """A workbook whose one sheet holds `rows` as an Excel table (Insert > Table), as Excel saves it."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    table = Table(displayName=name, ref=f"A1:B{len(rows)}")
    table.tableStyleInfo = TableStyleInfo(name=f"TableStyle{style}", showRowStripes=True)
    ws.add_table(table)
    return book


def test_an_excel_table_in_the_template_stays_a_table(tmp_path):
    """A price list kept as an Excel table (Insert > Table), with its style, next to docagent's report."""
    book = table_book("Prices", [("Product", "Price"), ("Widget", 12.5), ("Gadget", 30)], "price_list", "Medium4")
    book.save(tmp_path / "prices.xlsx")
    (tmp_path / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    plan = {**PLAN, "meta": {"title": "Receivables", "template": "prices.xlsx"}, "metrics": []}
    plan["blocks"] = PLAN["blocks"][1:]
    files = render_plan(
        plan, [tmp_path / "invoices.csv"], ["xlsx"], tmp_path / "out", templates=[tmp_path / "prices.xlsx"]
    )
    out = openpyxl.load_workbook(files["xlsx"])
    kept = out["Prices"].tables["price_list"]
    assert kept.ref == "A1:B3" and kept.tableStyleInfo.name == "TableStyleMedium4"
    assert [c.name for c in kept.tableColumns] == ["Product", "Price"] and out["Prices"]["B2"].value == 12.5
    assert out.sheetnames[:2] == ["Prices", "Summary"]


def test_an_excel_table_named_like_a_table_block_takes_its_rows_and_what_is_below_moves_down(tmp_path):
    """A "By customer" table set up in the template (two example rows, a currency column, a note under it)
    takes the plan's three customers; the note moves down a row and stays outside the table."""
    book = table_book("Receivables", [("Customer", "Amount"), ("Example Ltd", 1), ("Sample plc", 2)], "by_customer")
    ws = book.active
    ws["B2"].number_format = ws["B3"].number_format = '"£"#,##0.00'
    ws["A5"] = "Figures from the ledger."
    book.save(tmp_path / "ledger.xlsx")
    (tmp_path / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    plan = {**PLAN, "meta": {"title": "Receivables report", "template": "ledger.xlsx"}, "metrics": []}
    plan["blocks"] = [PLAN["blocks"][1]]
    files = render_plan(plan, [tmp_path / "invoices.csv"], ["xlsx"], tmp_path / "out",
                        templates=[tmp_path / "ledger.xlsx"])  # fmt: skip
    sheet = openpyxl.load_workbook(files["xlsx"])["Receivables"]
    assert sheet.tables["by_customer"].ref == "A1:B4"
    rows = [(sheet.cell(r, 1).value, sheet.cell(r, 2).value) for r in range(2, 5)]
    assert rows == [("Acme Corp", 300.5), ("Birch & Co", 75.25), ("Cedar Ltd", 60)]
    assert sheet["B4"].number_format == '"£"#,##0.00'  # the template's own format for its column
    assert sheet["A6"].value == "Figures from the ledger." and sheet["A5"].value is None
