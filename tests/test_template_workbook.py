"""Fill mode for .xlsx templates: a statement workbook made in LibreOffice Calc, filled per customer."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from docagent.errors import RenderError
from docagent.pipeline.generate import render_plan
from tests.conftest import needs_soffice
from tests.orgtemplates import INVOICES, LETTER_PLAN, ODF, soffice_convert

# A statement as a person sets it up in Calc: a bold title holding the customer, the balance beside its
# label, a cell named "due" (Insert > Named Expression), an invoice row to repeat, a closing line under it,
# and a second sheet of notes that has nothing to do with the data.
STATEMENT_FODS = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document {ODF} office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:automatic-styles>
  <style:style style:name="bold" style:family="table-cell">
   <style:text-properties fo:font-weight="bold" fo:color="#1f4e79"/>
  </style:style>
 </office:automatic-styles>
 <office:body><office:spreadsheet>
  <table:table table:name="Statement">
   <table:table-column table:number-columns-repeated="2"/>
   <table:table-row><table:table-cell table:style-name="bold" office:value-type="string">
    <text:p>Statement for {{{{customer}}}}</text:p></table:table-cell></table:table-row>
   <table:table-row><table:table-cell/></table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>Balance</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>{{{{balance}}}}</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>Due</text:p></table:table-cell><table:table-cell/>
   </table:table-row>
   <table:table-row>
    <table:table-cell table:style-name="bold" office:value-type="string"><text:p>Invoice</text:p></table:table-cell>
    <table:table-cell table:style-name="bold" office:value-type="string"><text:p>Amount</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>{{{{table:invoices.invoice}}}}</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>{{{{table:invoices.amount}}}}</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>Thank you for your business.</text:p></table:table-cell>
   </table:table-row>
  </table:table>
  <table:table table:name="Notes">
   <table:table-row><table:table-cell office:value-type="string"><text:p>Payment terms: 30 days</text:p>
   </table:table-cell></table:table-row>
  </table:table>
  <table:named-expressions>
   <table:named-range table:name="due" table:base-cell-address="$Statement.$B$4"
       table:cell-range-address="$Statement.$B$4"/>
  </table:named-expressions>
 </office:spreadsheet></office:body>
</office:document>
"""

BURST = {"by": "customer", "dataset": "invoices", "filename": "statement-{customer}"}
BALANCES = {"Acme Corp": 300.5, "Birch & Co": 75.25, "Cedar Ltd": 60.0}
INVOICE_COUNT = {"Acme Corp": 2, "Birch & Co": 1, "Cedar Ltd": 3}


def statement_from_libreoffice(tmp: Path) -> Path:
    src = tmp / "statement.fods"
    src.write_text(STATEMENT_FODS, encoding="utf-8")
    return soffice_convert(src, "xlsx", tmp)


def plan() -> dict:
    p = copy.deepcopy(LETTER_PLAN)
    p["meta"].update(title="Statements", template="statement.xlsx", burst=BURST)
    p["metrics"].append({**p["metrics"][0], "name": "due", "label": "Due"})
    return p


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> dict[str, Path]:
    if subprocess.run(["which", "soffice"], capture_output=True).returncode:
        pytest.skip("LibreOffice (soffice) is not installed")
    tmp = tmp_path_factory.mktemp("statements")
    template = statement_from_libreoffice(tmp)
    (tmp / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    files = render_plan(plan(), [tmp / "invoices.csv"], ["xlsx"], tmp / "out", templates=[template])
    assert files["zip"].is_file()
    return {p.stem.removeprefix("statement-"): p for p in (tmp / "out" / "burst").iterdir()}


def test_each_statement_holds_its_customers_balance_as_a_number_in_currency_format(statements):
    assert sorted(statements) == sorted(BALANCES)
    for customer, balance in BALANCES.items():
        ws = openpyxl.load_workbook(statements[customer])["Statement"]
        assert ws["A1"].value == f"Statement for {customer}"
        assert ws["B3"].value == pytest.approx(balance) and ws["B3"].number_format == '"$"#,##0.00'
        assert ws["B4"].value == pytest.approx(balance)  # the cell named "due"


def test_the_invoice_row_repeats_per_invoice_with_numbers_and_the_rows_below_move_down(statements):
    for customer, n in INVOICE_COUNT.items():
        ws = openpyxl.load_workbook(statements[customer])["Statement"]
        rows = [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(6, 6 + n)]
        assert all(inv.startswith("INV-") and isinstance(amount, int | float) for inv, amount in rows), rows
        assert sum(amount for _, amount in rows) == pytest.approx(BALANCES[customer])
        assert ws.cell(6 + n, 1).value == "Thank you for your business."
        assert not any("{{" in str(c.value) for row in ws.iter_rows() for c in row)


def test_the_templates_styles_and_other_sheets_are_kept(statements):
    wb = openpyxl.load_workbook(statements["Cedar Ltd"])
    assert wb.sheetnames == ["Statement", "Notes"] and wb["Notes"]["A1"].value == "Payment terms: 30 days"
    title, header = wb["Statement"]["A1"], wb["Statement"]["A5"]
    assert title.font.b and title.font.color.rgb.endswith("1F4E79") and header.font.b


@needs_soffice
def test_a_filled_statement_passes_the_ooxml_audit_and_converts(statements, tmp_path):
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("openxml-audit")), str(statements["Acme Corp"])],
        capture_output=True,
        text=True,
    )
    assert "Errors: 0" in audit.stdout, audit.stdout[-2000:]
    assert soffice_convert(statements["Acme Corp"], "pdf", tmp_path).stat().st_size > 1000


def test_a_workbook_template_with_pictures_is_refused_with_the_reason(tmp_path):
    import xlsxwriter

    from docagent.renderers.xlsxfill import XlsxFiller

    path = tmp_path / "pictured.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        ws.write(0, 0, "{{balance}}")
        chart = wb.add_chart({"type": "line"})
        chart.add_series({"values": "=Sheet1!$A$1:$A$1"})
        ws.insert_chart("C3", chart)
    with pytest.raises(RenderError, match="charts or images, which docagent cannot carry over"):
        XlsxFiller(path.read_bytes(), "en", "USD")


def test_a_placeholder_left_in_a_filled_workbook_fails_rather_than_ships(tmp_path):
    from docagent.engine.templatefiles.binding import FillValues
    from docagent.renderers.xlsxfill import XlsxFiller

    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A2"] = "{{balance}}", "Dear {{customer}}"
    wb.save(tmp_path / "t.xlsx")
    filler = XlsxFiller((tmp_path / "t.xlsx").read_bytes(), "en", "USD")
    with pytest.raises(RenderError, match=r"\{\{balance\}\}"):
        filler.write(FillValues({"customer": "X"}), tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()
