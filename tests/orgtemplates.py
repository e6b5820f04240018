"""Templates made the way organisations make them: in LibreOffice (from a flat ODF file) and with python-docx."""

from __future__ import annotations

import subprocess
from pathlib import Path

ODF = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"'
)

# A letter as a person writes it in Writer: a running header, a coloured heading, the balance placeholder
# typed in two pieces with different formatting (so it is saved split across runs), an invoice table.
LETTER_FODT = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document {ODF} office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:styles>
  <style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph"
      style:default-outline-level="1">
   <style:text-properties fo:font-size="18pt" fo:color="#1f4e79" fo:font-weight="bold"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1">
   <style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin-top="2cm"
       fo:margin-bottom="2cm" fo:margin-left="3cm" fo:margin-right="2cm"/>
  </style:page-layout>
  <style:style style:name="B" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
  <style:style style:name="BI" style:family="text">
   <style:text-properties fo:font-weight="bold" fo:font-style="italic"/>
  </style:style>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1">
   <style:header><text:p>Acme Ltd - Accounts receivable</text:p></style:header>
  </style:master-page>
 </office:master-styles>
 <office:body><office:text>
  <text:h text:style-name="Heading_20_1" text:outline-level="1">Statement of account</text:h>
  <text:p>Dear {{{{customer}}}},</text:p>
  <text:p>Your balance is <text:span text:style-name="B">{{{{bal</text:span><text:span text:style-name="BI">ance}}}}</text:span>.</text:p>
  <table:table table:name="Invoices">
   <table:table-column table:number-columns-repeated="2"/>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>Invoice</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>Amount</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>{{{{table:invoices.invoice}}}}</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>{{{{table:invoices.amount}}}}</text:p></table:table-cell>
   </table:table-row>
  </table:table>
  <text:p>Yours sincerely,</text:p>
 </office:text></office:body>
</office:document>
"""


# A house style as a person sets it up in Writer: serif headings in a house colour, wide margins, a header
# and a footer, a cover line, and {{body}} where reports go.
REPORT_FODT = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document {ODF} office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:styles>
  <style:style style:name="Standard" style:family="paragraph">
   <style:text-properties style:font-name="DejaVu Sans" fo:font-size="10pt"/>
  </style:style>
  <style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph"
      style:default-outline-level="1">
   <style:text-properties style:font-name="DejaVu Serif" fo:font-family="'DejaVu Serif'" fo:font-size="20pt"
       fo:color="#7a1f3d" fo:font-weight="bold"/>
  </style:style>
  <style:style style:name="Heading_20_2" style:display-name="Heading 2" style:family="paragraph"
      style:default-outline-level="2">
   <style:text-properties fo:font-size="14pt" fo:color="#7a1f3d"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1">
   <style:page-layout-properties fo:page-width="21.59cm" fo:page-height="27.94cm" fo:margin-top="2.5cm"
       fo:margin-bottom="2.5cm" fo:margin-left="3.5cm" fo:margin-right="2.5cm"/>
  </style:page-layout>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1">
   <style:header><text:p>Northwind Research - Confidential</text:p></style:header>
   <style:footer><text:p>Northwind Research, 12 Quay Road</text:p></style:footer>
  </style:master-page>
 </office:master-styles>
 <office:body><office:text>
  <text:p>Prepared by the Northwind analytics team</text:p>
  <text:p>{{{{body}}}}</text:p>
  <text:p>Questions: analytics@northwind.example</text:p>
 </office:text></office:body>
</office:document>
"""


def report_from_libreoffice(tmp: Path) -> Path:
    src = tmp / "house.fodt"
    src.write_text(REPORT_FODT, encoding="utf-8")
    return soffice_convert(src, "docx", tmp)


def soffice_convert(source: Path, fmt: str, out: Path) -> Path:
    """Convert with LibreOffice in its own profile (parallel runs must not share one)."""
    profile = out / "lo-profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
         "--outdir", str(out), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out / f"{source.stem}.{fmt.split(':')[0]}"


def letter_from_libreoffice(tmp: Path) -> Path:
    src = tmp / "letter.fodt"
    src.write_text(LETTER_FODT, encoding="utf-8")
    return soffice_convert(src, "docx", tmp)


def letter_from_python_docx(tmp: Path) -> Path:
    """The same letter written with python-docx, the placeholder split into a bold and an italic run."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Acme Ltd - Accounts receivable"
    h = doc.add_heading("Statement of account", 1)
    h.runs[0].font.color.rgb = RGBColor(0x1F, 0x4E, 0x79)
    doc.add_paragraph("Dear {{customer}},")
    p = doc.add_paragraph("Your balance is ")
    a = p.add_run("{{bal")
    a.bold = True
    a.font.size = Pt(13)
    b = p.add_run("ance}}")
    b.italic = True
    p.add_run(".")
    t = doc.add_table(rows=2, cols=2)
    for cell, text in zip(t.rows[0].cells + t.rows[1].cells,
                          ["Invoice", "Amount", "{{table:invoices.invoice}}", "{{table:invoices.amount}}"],
                          strict=True):  # fmt: skip
        cell.text = text
    path = tmp / "letter-docx.docx"
    doc.save(str(path))
    return path


INVOICES = """customer,invoice,amount
Acme Corp,INV-1,100.50
Acme Corp,INV-2,200
Birch & Co,INV-3,75.25
Cedar Ltd,INV-4,10
Cedar Ltd,INV-5,20
Cedar Ltd,INV-6,30
"""

LETTER_PLAN = {
    "meta": {"title": "Balance letters", "template": "letter.docx"},
    "metrics": [
        {"name": "balance", "label": "Balance", "dataset": "invoices", "agg": "sum", "column": "amount",
         "format": "currency"}
    ],
    "blocks": [
        {"type": "table", "title": "Invoices",
         "query": {"dataset": "invoices", "select": [{"column": "invoice"}, {"column": "amount", "format": "currency"}],
                   "sort": [{"by": "invoice"}]}}
    ],
}  # fmt: skip


BRAND_ACCENT = "C0392B"


def deck_from_python_pptx(tmp: Path, widescreen: bool = True) -> Path:
    """A branded deck as a designer hands it over: its own theme colours and fonts, renamed layouts,
    a confidentiality line on the master, and a sample slide."""
    import re as _re

    from pptx import Presentation
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT
    from pptx.util import Emu, Pt

    prs = Presentation()
    if widescreen:
        prs.slide_width, prs.slide_height = Emu(12_192_000), Emu(6_858_000)
    theme = prs.slide_master.part.part_related_by(RT.THEME)
    xml = theme.blob.decode()
    xml = _re.sub(r'(<a:accent1>\s*<a:srgbClr val=")[0-9A-F]{6}', rf"\g<1>{BRAND_ACCENT}", xml)
    xml = _re.sub(r'(<a:majorFont>\s*<a:latin typeface=")[^"]*', r"\g<1>DejaVu Serif", xml)
    theme._blob = xml.encode()
    for layout, name in zip(prs.slide_layouts, ["Acme Title", "Acme Content", "Acme Section"], strict=False):
        layout.name = name
    sample = prs.slides.add_slide(prs.slide_layouts[1])
    sample.shapes.title.text = "Sample slide from the designer"
    # a line on the master, as PowerPoint's View > Slide Master puts it (python-pptx adds shapes to slides only)
    box = sample.shapes.add_textbox(Emu(457200), Emu(6_400_000), Emu(4_000_000), Emu(300_000))
    box.text_frame.text = "Acme Confidential"
    box.text_frame.paragraphs[0].runs[0].font.size = Pt(9)
    box._element.nvSpPr.cNvPr.set("id", "100")
    prs.slide_master.shapes._spTree.append(box._element)  # moved from the sample slide to the master
    path = tmp / "brand.pptx"
    prs.save(str(path))
    return path
