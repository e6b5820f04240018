"""Style mode for an organisation's .xlsx template: docagent's workbook written in the template's look,
with the template's own sheets in front of it.

XlsxWriter cannot open a file and openpyxl drops the cached values of formulas and the charts it did not
draw, so the template is read with openpyxl and its sheets are written again with XlsxWriter, cell by
cell: values, formulas with their cached results, each cell's font, fill, borders, alignment and number
format (theme colours resolved), column widths, row heights, merged cells, frozen panes, print setup,
tab colours, hidden sheets, Excel tables and defined names. A defined name that names one of the plan's
metrics gets its value, as in fill mode, and an Excel table named like one of the plan's table blocks
takes that table's rows (the rows under it move; formulas pointing below it are not rewritten).
docagent's own sheets follow in the template's body font and theme colours (accent 1 for headers and
rules, the accents for charts). Named cell styles keep their look on the cells but not their names
(XlsxWriter writes only Normal); conditional formats, data validation and comments are not carried over.
A template holding charts or pictures is refused with the reason, as fill mode refuses it.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
from lxml import etree
from openpyxl.cell.cell import Cell
from openpyxl.styles.colors import COLOR_INDEX
from openpyxl.utils.cell import range_boundaries

from docagent.engine.bind import Bound
from docagent.engine.plan import Fmt
from docagent.engine.templatefiles.binding import FillValues, fill_values, key
from docagent.errors import RenderError
from docagent.renderers.excel import Builder, points
from docagent.renderers.theme import Theme, branded, dark, load_theme, tint
from docagent.renderers.xlsxfill import number_codes, refuse_drawings, set_names

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
SCHEME = ("lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4", "accent5", "accent6",
          "hlink", "folHlink")  # fmt: skip  # a cell's theme colour index: Excel swaps dk/lt against the part
BORDERS = {"thin": 1, "medium": 2, "dashed": 3, "dotted": 4, "thick": 5, "double": 6, "hair": 7, "mediumDashed": 8,
           "dashDot": 9, "mediumDashDot": 10, "dashDotDot": 11, "mediumDashDotDot": 12, "slantDashDot": 13}  # fmt: skip
ALIGN = {"left": "left", "center": "center", "right": "right", "fill": "fill", "justify": "justify",
         "centerContinuous": "center_across", "distributed": "distributed"}  # fmt: skip
VALIGN = {"top": "top", "center": "vcenter", "bottom": "bottom", "justify": "vjustify", "distributed": "vdistributed"}


def theme_colours(book: Any) -> dict[str, str]:
    """The template's colour scheme by name (dk1, lt1, accent1, ...), as #RRGGBB."""
    if not book.loaded_theme:
        return {}
    root = etree.fromstring(book.loaded_theme)
    scheme = root.find(f".//{A}clrScheme")
    out: dict[str, str] = {}
    for el in scheme if scheme is not None else []:
        found = el.find(f"{A}srgbClr")
        value = found.get("val") if found is not None else None
        if found is None and (sys := el.find(f"{A}sysClr")) is not None:
            value = sys.get("lastClr")
        if value:
            out[etree.QName(el).localname] = "#" + value.upper()
    return out


def _tinted(hex_color: str, amount: float) -> str:
    """Excel's tint: towards white (positive) or black (negative) in lightness."""
    r, g, b = (int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, lum, s = colorsys.rgb_to_hls(r, g, b)
    lum = lum * (1 + amount) if amount < 0 else lum + (1 - lum) * amount
    return "#" + "".join(f"{round(c * 255):02X}" for c in colorsys.hls_to_rgb(h, lum, s))


def colour(c: Any, scheme: dict[str, str]) -> str | None:
    """An openpyxl colour as #RRGGBB: an RGB value, a theme colour with its tint, or an indexed one."""
    if c is None:
        return None
    if c.type == "rgb" and isinstance(c.rgb, str) and len(c.rgb) >= 6:
        return "#" + c.rgb[-6:].upper()
    if c.type == "theme" and isinstance(c.theme, int) and c.theme < len(SCHEME):
        base = scheme.get(SCHEME[c.theme])
        return _tinted(base, c.tint) if base and c.tint else base
    if c.type == "indexed" and isinstance(c.indexed, int) and c.indexed < len(COLOR_INDEX):
        return "#" + COLOR_INDEX[c.indexed][-6:]
    return None


def cell_format(cell: Cell, scheme: dict[str, str]) -> dict[str, Any]:
    """A cell's look as XlsxWriter format properties."""
    font, fill, border, align = cell.font, cell.fill, cell.border, cell.alignment
    out: dict[str, Any] = {"font_name": font.name, "font_size": font.sz, "bold": bool(font.b), "italic": bool(font.i)}
    if font.u:
        out["underline"] = 2 if font.u == "double" else 1
    if font.strike:
        out["font_strikeout"] = True
    if found := colour(font.color, scheme):
        out["font_color"] = found
    if fill.fill_type == "solid" and (found := colour(fill.fgColor, scheme)):
        out["bg_color"] = found
    for side in ("left", "right", "top", "bottom"):
        edge = getattr(border, side)
        if edge is not None and edge.style in BORDERS:
            out[side] = BORDERS[edge.style]
            if found := colour(edge.color, scheme):
                out[f"{side}_color"] = found
    if align.horizontal in ALIGN:
        out["align"] = ALIGN[align.horizontal]
    if align.vertical in VALIGN:
        out["valign"] = VALIGN[align.vertical]
    if align.wrap_text:
        out["text_wrap"] = True
    if align.indent:
        out["indent"] = int(align.indent)
    if align.text_rotation:
        out["rotation"] = int(align.text_rotation) if align.text_rotation <= 90 else 90 - int(align.text_rotation)
    if cell.number_format and cell.number_format != "General":
        out["num_format"] = cell.number_format
    return {k: v for k, v in out.items() if v is not None}


class SheetCopier:
    """The template's sheets written into an XlsxWriter workbook, one format per distinct look."""

    def __init__(self, book: Any, cached: Any, values: FillValues, codes: dict[Fmt, str]) -> None:
        self.book, self.cached = book, cached
        self.wb: Any = None  # the workbook being written, given to copy()
        self.values, self.codes = values, codes
        self.scheme = theme_colours(book)
        self.formats: dict[tuple[Any, ...], Any] = {}

    def _format(self, cell: Cell, num_format: str | None = None) -> Any:
        props = cell_format(cell, self.scheme)
        if num_format and props.get("num_format") is None:
            props["num_format"] = num_format
        look = tuple(sorted(props.items()))  # (not `key`, the binding's function this module also uses)
        if look not in self.formats:
            self.formats[look] = self.wb.add_format(props)
        return self.formats[look]

    def copy(self, wb: Any) -> None:
        """Write the template's sheets into `wb`, before anything else is written there."""
        self.wb = wb
        for ws in self.book.worksheets:
            self._sheet(ws, self.cached[ws.title])
        for name, dn in self.book.defined_names.items():
            if not name.startswith("_xlnm") and dn.attr_text:
                self.wb.define_name(name, "=" + dn.attr_text)
        for ws in self.book.worksheets:
            for name, dn in ws.defined_names.items():
                if not name.startswith("_xlnm") and dn.attr_text:
                    self.wb.define_name(f"'{ws.title}'!{name}", "=" + dn.attr_text)

    def _sheet(self, ws: Any, values: Any) -> None:
        out = self.wb.add_worksheet(ws.title)
        filled = {t.displayName: t for t in ws.tables.values() if key(t.displayName) in self.values.tables}
        # a filled table grows or shrinks to the plan's rows: the rows below it move with it
        shifts = []
        for t in filled.values():
            (c0, r0, c1, r1) = range_boundaries(t.ref)
            shifts.append((r1, max(1, len(self.values.tables[key(t.displayName)].rows)) - (r1 - r0)))

        def moved(r: int) -> int:
            return r + sum(delta for end, delta in shifts if r > end)

        for dim in ws.column_dimensions.values():
            if dim.width or dim.hidden:
                first, last = (dim.min or 1) - 1, (dim.max or dim.min or 1) - 1
                out.set_column(first, last, dim.width or 8.43, None, {"hidden": bool(dim.hidden)})
        for r, dim in ws.row_dimensions.items():
            if dim.height is not None or dim.hidden:
                out.set_row(moved(r) - 1, dim.height, None, {"hidden": bool(dim.hidden)})
        covered: set[tuple[int, int]] = set()
        for table in ws.tables.values():  # before the cells: a table writes its header row, the cells win
            c0, r0, c1, r1 = range_boundaries(table.ref)
            top = moved(r0)
            if table.displayName in filled:
                covered |= {(r, c) for r in range(r0 + 1, r1 + 1) for c in range(c0, c1 + 1)}
                bottom = top + self._fill_table(out, ws, table, top)
            else:
                bottom = moved(r1)
            self._table(out, table, (top, c0, bottom, c1))
        for rng in ws.merged_cells.ranges:
            top = ws.cell(rng.min_row, rng.min_col)
            value = self._value(top, values)
            first, last = moved(rng.min_row) - 1, moved(rng.max_row) - 1
            out.merge_range(first, rng.min_col - 1, last, rng.max_col - 1, "", self._format(top))
            self._write(out, top, value, first)
            covered |= {(r, c) for r, c in rng.cells}
        for row in ws.iter_rows():
            for cell in row:
                if (cell.row, cell.column) in covered or (cell.value is None and not cell.has_style):
                    continue
                self._write(out, cell, self._value(cell, values), moved(cell.row) - 1)
        self._setup(ws, out)

    def _fill_table(self, out: Any, ws: Any, table: Any, header: int) -> int:
        """The plan's table of the same name in the template's table, each column in the style of its first
        data cell; returns the rows written (at least one)."""
        plan = self.values.tables[key(table.displayName)]
        c0, r0, _, _ = range_boundaries(table.ref)
        for k, column in enumerate(table.tableColumns):
            j = plan.columns.index(key(column.name)) if key(column.name) in plan.columns else None
            style = ws.cell(r0 + 1, c0 + k)
            for n, row in enumerate(plan.rows):
                number = plan.numbers[n][j] if j is not None and plan.numbers else None
                if number is not None:
                    value, fmt = number
                    out.write_number(
                        header + n, c0 + k - 1, points(value, fmt), self._format(style, self.codes.get(fmt))
                    )
                elif j is not None:
                    out.write_string(header + n, c0 + k - 1, row[j], self._format(style))
        return max(1, len(plan.rows))

    @staticmethod
    def _table(out: Any, table: Any, bounds: tuple[int, int, int, int]) -> None:
        """An Excel table of the template's (a named range with a header row, banding and filters) over
        `bounds` (first row, first column, last row, last column; 1-based, where it lands)."""
        first, c0, last, c1 = bounds
        style = table.tableStyleInfo
        out.add_table(
            first - 1,
            c0 - 1,
            last - 1,
            c1 - 1,
            {
                "name": table.displayName,
                "columns": [{"header": c.name} for c in table.tableColumns],
                "style": style.name if style is not None and style.name else None,
                "banded_rows": bool(style.showRowStripes) if style is not None else True,
                "autofilter": table.autoFilter is not None,
                "header_row": bool(table.headerRowCount if table.headerRowCount is not None else 1),
                "total_row": bool(table.totalsRowCount),
            },
        )

    @staticmethod
    def _value(cell: Cell, values: Any) -> tuple[Any, Any]:
        """The cell's value, and for a formula the result the template's file holds for it."""
        if cell.data_type == "f":
            formula = cell.value if isinstance(cell.value, str) else getattr(cell.value, "text", "")
            return str(formula), values[cell.coordinate].value
        return cell.value, None

    def _write(self, out: Any, cell: Cell, value: tuple[Any, Any], r: int) -> None:
        """The cell at row `r` (0-based: where it lands once the tables above it are filled)."""
        v, cached = value
        c, fmt = cell.column - 1, self._format(cell)
        if cell.data_type == "f" and v:
            out.write_formula(r, c, v if v.startswith("=") else "=" + v, fmt, cached)
        elif isinstance(v, dt.datetime | dt.date | dt.time):
            out.write_datetime(r, c, v, fmt)
        elif v is None:
            out.write_blank(r, c, None, fmt)
        else:
            out.write(r, c, v, fmt)

    def _setup(self, ws: Any, out: Any) -> None:
        if ws.freeze_panes:
            out.freeze_panes(ws.freeze_panes)
        if ws.sheet_state != "visible":
            out.hide()
        tab = colour(ws.sheet_properties.tabColor, self.scheme)
        if tab:
            out.set_tab_color(tab)
        if ws.sheet_view.showGridLines is False:
            out.hide_gridlines(2)
        if ws.page_setup.orientation == "landscape":
            out.set_landscape()
        if ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage:
            out.fit_to_pages(ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight or 0)
        if ws.print_area:
            out.print_area(ws.print_area.split(",")[0].split("!")[-1].replace("$", ""))
        if ws.sheet_view.zoomScale:
            out.set_zoom(ws.sheet_view.zoomScale)


def template_look(theme: Theme, book: Any) -> tuple[Theme, str]:
    """Our theme in the template's colours, and its body font (the Normal style's)."""
    scheme = theme_colours(book)
    accents = [scheme[f"accent{k}"] for k in range(1, 7) if f"accent{k}" in scheme]
    font = book._fonts[0].name if book._fonts else "Calibri"
    if not accents:
        return theme, font
    first = accents[0]
    return theme.model_copy(
        update={
            "primary": scheme.get("dk2", first),
            "accent": first,
            "palette": accents,
            "header_fill": first,
            "header_text": "#FFFFFF" if dark(first) else "#000000",
            "band_fill": tint(first, 0.08),
            "text": scheme.get("dk1", theme.text),
        }
    ), font


class StyledBuilder(Builder):
    """docagent's workbook after the template's sheets, in the template's look."""

    def __init__(self, bound: Bound, theme: Theme, path: Path, font: str, copier: SheetCopier) -> None:
        super().__init__(bound, theme, path, font=font, reserved=copier.book.sheetnames)
        self.copier = copier

    def build(self) -> None:
        self.copier.copy(self.wb)
        super().build()


def render_styled_xlsx(bound: Bound, theme_name: str, template: bytes, path: Path) -> Path:
    refuse_drawings(template)
    book = openpyxl.load_workbook(io.BytesIO(template))
    cached = openpyxl.load_workbook(io.BytesIO(template), data_only=True)
    if book.chartsheets:
        raise RenderError("the .xlsx template has chart sheets, which cannot be carried over: remove them")
    meta = bound.plan.meta
    values, codes = fill_values(bound), number_codes(meta.language, meta.currency)
    set_names(book, values, codes)  # a defined name that names a metric: its value
    theme, font = template_look(branded(load_theme(theme_name), meta.brand), book)
    tmp = path.with_suffix(".xlsx.part")
    StyledBuilder(bound, theme, tmp, font, SheetCopier(book, cached, values, codes)).build()
    tmp.replace(path)
    return path


__all__ = ["cell_format", "colour", "render_styled_xlsx", "template_look", "theme_colours"]
