"""Fill mode for an organisation's .xlsx template: its {{placeholders}} replaced with bound values.

A cell that holds one placeholder and nothing else takes the value as a number where it is one (a
workbook's figures must add up), in the cell's own number format, or docagent's for the value's format
when the cell has none. A placeholder inside other text is replaced by the value as the documents print
it. A defined name that names a metric (a template's `balance` pointing at B4) is filled the same way. A
row holding {{table:NAME.column}} cells is repeated for each row of that table, in the row's styles.

Everything else the workbook holds — sheets, named styles, number formats, formulas, print setup — is kept
as openpyxl reads and writes it. openpyxl drops the charts and images it reads, so a template with
drawings is refused with that reason rather than written without them; rows inserted for a table do not
move merged cells or formulas below them (openpyxl does not), so a total row under a repeated row should
sum a whole column or a named table. Anything left unfilled is an error, as for .docx templates.
"""

from __future__ import annotations

import io
import zipfile
from copy import copy
from pathlib import Path
from typing import Any

import openpyxl
from lxml import etree
from openpyxl.cell.cell import Cell

from docagent.engine.plan import Fmt
from docagent.engine.templatefiles import PLACEHOLDER
from docagent.engine.templatefiles.binding import FillValues, Number, refuse_unfilled, row_table
from docagent.errors import RenderError
from docagent.renderers.excel import currency_format, num_formats, points

GENERAL = "General"


# CT_Font's children in the schema's order; openpyxl writes name and family first, which Excel's validator
# (and openxml-audit) reports as unexpected elements
FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color", "name",
              "family", "charset", "scheme")  # fmt: skip
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _schema_order(package: bytes) -> bytes:
    """The saved workbook with each font's children in the schema's order (the styles part rewritten)."""
    rank = {MAIN + t: i for i, t in enumerate(FONT_ORDER)}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/styles.xml":
                root = etree.fromstring(data)
                for font in root.iter(MAIN + "font"):
                    font[:] = sorted(font, key=lambda el: rank.get(el.tag, len(rank)))
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            dst.writestr(info, data)
    return out.getvalue()


def _row_table(cells: tuple[Cell, ...]) -> str | None:
    """The table NAME whose {{table:NAME.column}} placeholders a row holds, if any."""
    return row_table(" ".join(c.value for c in cells if isinstance(c.value, str)))


def refuse_drawings(template: bytes) -> None:
    """openpyxl drops the charts and pictures of a workbook it reads: such a template is refused, saying why."""
    with zipfile.ZipFile(io.BytesIO(template)) as zf:
        drawings = [n for n in zf.namelist() if n.startswith("xl/drawings/") and n.endswith(".xml")]
    if drawings:
        raise RenderError(
            "the .xlsx template holds charts or images, which docagent cannot carry over (openpyxl drops "
            "them): remove them from the template, or use a .docx or .pptx template for a document with pictures"
        )


def number_codes(language: str, currency: str) -> dict[Fmt, str]:
    """The number format docagent gives each kind of figure, for a cell whose own format is General."""
    return {**num_formats(language), Fmt.currency: currency_format(currency)}


def set_number(cell: Cell, number: Number, codes: dict[Fmt, str]) -> None:
    value, fmt = number
    cell.value = points(value, fmt)  # pp cells hold points, as docagent's own do
    if cell.number_format == GENERAL:
        cell.number_format = codes.get(fmt, GENERAL)


def set_names(wb: Any, values: FillValues, codes: dict[Fmt, str]) -> None:
    """A defined name that names a metric (or the burst column) is a placeholder for its one cell."""
    for names in [wb.defined_names, *(ws.defined_names for ws in wb.worksheets)]:
        for name, dn in names.items():
            if name not in values.scalars:
                continue
            for sheet, ref in dn.destinations:
                if sheet not in wb.sheetnames or ":" in ref:
                    continue  # a range is the template's own (a print area, a table), not a value's place
                cell = wb[sheet][ref.replace("$", "")]
                number = values.numbers.get(name)
                if number is not None:
                    set_number(cell, number, codes)
                else:
                    cell.value = values.scalars[name]


class XlsxFiller:
    """One template, read for each document it fills (a burst's workbooks start from the same bytes)."""

    def __init__(self, template: bytes, language: str, currency: str) -> None:
        refuse_drawings(template)
        self.template = template
        self.codes = number_codes(language, currency)

    def write(self, values: FillValues, out: Path) -> Path:
        wb = openpyxl.load_workbook(io.BytesIO(self.template))
        for ws in wb.worksheets:
            self._repeat_rows(ws, values)
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and "{{" in cell.value:
                        self._fill(cell, values.scalars.get, values.numbers.get)
        set_names(wb, values, self.codes)
        refuse_unfilled(sorted({m.group(0) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                                if isinstance(c.value, str) for m in PLACEHOLDER.finditer(c.value)}))  # fmt: skip
        buf = io.BytesIO()
        wb.save(buf)
        tmp = out.with_suffix(".xlsx.part")
        tmp.write_bytes(_schema_order(buf.getvalue()))
        tmp.replace(out)
        return out

    def _fill(self, cell: Cell, text: Any, number: Any) -> None:
        whole = PLACEHOLDER.fullmatch(cell.value.strip())
        if whole and (n := number(whole.group(1))) is not None:
            set_number(cell, n, self.codes)
            return

        def sub(m: Any) -> str:
            found = text(m.group(1))
            return m.group(0) if found is None else found

        cell.value = PLACEHOLDER.sub(sub, cell.value)

    def _repeat_rows(self, ws: Any, values: FillValues) -> None:
        """Each row of {{table:NAME.column}} cells becomes one row per table row, bottom-up so that the
        rows found above keep their numbers."""
        found = [(cells[0].row, name) for cells in ws.iter_rows() if (name := _row_table(cells)) in values.tables]
        for r, name in reversed(found):
            n = len(values.tables[name].rows)
            template = [(c.column, c.value, c._style) for c in ws[r]]
            if n == 0:
                ws.delete_rows(r)
                continue
            if n > 1:
                ws.insert_rows(r + 1, n - 1)
                ws.row_dimensions[r + n - 1].height = ws.row_dimensions[r].height
            for k in range(n):
                for col, value, style in template:
                    cell = ws.cell(r + k, col)
                    cell.value, cell._style = value, copy(style)
                    if isinstance(value, str) and "{{" in value:
                        self._fill(cell, *self._row_lookups(values, name, k))

    @staticmethod
    def _row_lookups(values: FillValues, name: str, k: int) -> tuple[Any, Any]:
        """Text and number lookups for row k of table `name`; other placeholders as anywhere else."""

        def text(ph: str) -> str | None:
            column = values.column(ph, name)
            return values.scalars.get(ph) if column is None else values.cell(name, column, k)

        def number(ph: str) -> Number | None:
            column = values.column(ph, name)
            return values.numbers.get(ph) if column is None else values.number(name, column, k)

        return text, number
