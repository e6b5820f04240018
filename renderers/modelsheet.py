"""Model blocks in the workbook: an Assumptions sheet of named inputs and one sheet per statement.

Finance conventions: inputs blue, formulas black, formulas that read another
sheet green; subtotal and total rows bold with a rule above; label column and
period header frozen; a `check` row turns red when it is not zero. Every model
cell is a live formula with the evaluator's exact value cached, so a viewer that
does not recalculate shows the same figures as one that does.

Works on the XlsxWriter objects the .xlsx renderer (renderers/excel.py, the one
module that imports XlsxWriter) hands over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from docagent.engine.bind import Bound
from docagent.engine.finance.models import Models, RowRef
from docagent.engine.finance.use import metric_period
from docagent.engine.formatting import SIGNIFICANT, compact_steps
from docagent.engine.i18n import REFERENCE, base, phrase
from docagent.engine.plan import Chart, ChartKind, Metric, ModelRow
from docagent.renderers.common import formula_text
from docagent.renderers.modelformula import FIRST_COLUMN, Place, Writer, col_name, defined_name, quote_sheet

BLUE, BLACK, GREEN = "#0000FF", "#000000", "#008000"
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# XlsxWriter's chart type and subtype per kind, for model charts and the data charts of excel.py
CHART_TYPES: dict[ChartKind, tuple[str, str | None]] = {
    ChartKind.bar: ("column", None),
    ChartKind.grouped_bar: ("column", None),
    ChartKind.stacked_bar: ("column", "stacked"),
    ChartKind.hbar: ("bar", None),
    ChartKind.line: ("line", None),
    ChartKind.area: ("area", None),
    ChartKind.pie: ("pie", None),
    ChartKind.donut: ("doughnut", None),
    ChartKind.scatter: ("scatter", None),
    ChartKind.combo: ("column", None),  # the y2 series are added as a line on a secondary axis
}


# Excel's TEXT codes that print what docagent.engine.formatting prints in English (currency: the workbook's own)
TEXT_CODES = {"integer": "#,##0", "number": "#,##0.00", "percent": "0.0%", "currency": ""}


def compact_text(cell: str) -> str:
    """An Excel expression printing `cell` as docagent.engine.formatting.compact prints it in English: the unit
    where the value rounds to at least one of it, three significant digits, no trailing zeros (2.13M,
    250K, 1M, 950). Excel's ROUND halves away from zero where Python's round halves to even, so an
    exact tie in the fourth digit may differ by one in the third; no other value does."""
    v = f"ABS({cell})"
    unit, suffix = "1", '""'
    for size, template in compact_steps(REFERENCE):
        at = f"{v}>={size * (1 - 0.5 * 10**-SIGNIFICANT):.1f}"  # compact moves to a unit at 0.9995 of it
        unit, suffix = f"IF({at},{size:.0f},{unit})", f'IF({at},"{template.format("")}",{suffix})'
    m = f"{v}/{unit}"
    r = f"IF({v}=0,0,ROUND({m},{SIGNIFICANT - 1}-INT(LOG10({m}))))"
    return f'IF(AND({cell}<0,{r}<>0),"-","")&{r}&{suffix}'


@dataclass
class Section:
    """One model block's rows on one sheet: a title, a period header, the rows."""

    block: int
    sheet: str
    rows: list[ModelRow]
    top: int = 0

    @property
    def header(self) -> int:
        return self.top + 1


@dataclass
class Workbook:
    """Sheet names for the whole workbook, and the places of every model row."""

    bound: Bound
    names: dict[str, str] = field(default_factory=dict)  # requested name (casefolded) -> sheet name
    sections: list[Section] = field(default_factory=list)
    places: dict[RowRef, tuple[Section, int]] = field(default_factory=dict)
    sheets: dict[str, Any] = field(default_factory=dict)  # sheet name -> worksheet
    cursor: dict[str, int] = field(default_factory=dict)  # next free row per sheet
    formula_count: int = 0

    def sheet_name(self, wanted: str, taken: set[str]) -> str:
        """The sheet a requested name maps to: legal characters, at most 31, unique ignoring case."""
        key = wanted.strip().casefold()
        if key in self.names:
            return self.names[key]
        base = BAD_SHEET_CHARS.sub(" ", wanted).strip().strip("'")[:31] or "Sheet"
        name, k = base, 2
        while name.casefold() in taken or name.casefold() in {n.casefold() for n in self.names.values()}:
            name = f"{base[: 31 - len(str(k)) - 1]} {k}"
            k += 1
        self.names[key] = name
        return name

    def layout(self, taken: set[str]) -> None:
        mv = self.bound.models
        if mv is None:
            return
        inputs = [x for b in mv.models.blocks.values() for x in b.inputs]
        if inputs:  # a model titled like it goes below the inputs
            self.cursor[self.sheet_name(phrase(self.bound.plan.meta.language, "assumptions"), taken)] = (
                2 + len(inputs) + len(mv.models.blocks) + 1
            )
        for i, b in mv.models.blocks.items():
            by_sheet: dict[str, Section] = {}
            for r in b.rows:
                sheet = self.sheet_name(r.sheet or b.sheet or b.title, taken)
                if sheet not in by_sheet:
                    by_sheet[sheet] = Section(i, sheet, [])
                    self.sections.append(by_sheet[sheet])
                by_sheet[sheet].rows.append(r)
        for s in self.sections:
            s.top = self.cursor.get(s.sheet, 0)
            for k, r in enumerate(s.rows):
                self.places[RowRef(s.block, r.name)] = (s, s.header + 1 + k)
            self.cursor[s.sheet] = s.header + 1 + len(s.rows) + 1

    def locate(self, ref: RowRef) -> Place:
        section, row = self.places[ref]
        return Place(section.sheet, row)


class ModelSheets:
    """Writes the Assumptions sheet and the model sections; places other blocks that name a sheet."""

    def __init__(
        self,
        wb: Any,
        bound: Bound,
        base: dict[str, Any],
        chart_font: dict[str, str],
        currency_format: str,
        num_formats: dict[Any, str],
    ) -> None:
        self.wb, self.bound, self.base, self.chart_font = wb, bound, base, chart_font
        self.num_formats = {**{str(k): v for k, v in num_formats.items()}, "currency": currency_format}
        self.book = Workbook(bound)
        self.taken: set[str] = {"summary", "chart data"}  # casefolded sheet names others hold
        self._formats: dict[tuple[str, str, str], Any] = {}
        self.head = wb.add_format({**base, "bold": True, "bottom": 1, "align": "right", "bg_color": "#F2F2F2"})
        self.head_left = wb.add_format({**base, "bold": True, "bottom": 1, "bg_color": "#F2F2F2"})
        self.title = wb.add_format({**base, "bold": True, "font_size": 12})
        self.label = wb.add_format(base)
        self.label_bold = wb.add_format({**base, "bold": True})
        self.label_total = wb.add_format({**base, "bold": True, "top": 1})
        self.note = wb.add_format({**base, "italic": True, "font_color": "#6B7280", "indent": 1})
        self.head_note = wb.add_format({**base, "bold": True, "bottom": 1, "bg_color": "#F2F2F2", "indent": 1})
        self.red = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})

    @property
    def models(self) -> Models | None:
        return self.bound.models.models if self.bound.models else None

    def fmt(self, num: str, style: str, colour: str) -> Any:
        key = (num, style, colour)
        if key not in self._formats:
            spec = {**self.base, "num_format": self.num_formats.get(num, "#,##0.00"), "font_color": colour}
            if style in ("subtotal", "total"):
                spec |= {"bold": True, "top": 1}
            if style == "total":
                spec["bottom"] = 6  # double rule under a total
            if style == "check":
                spec["italic"] = True
            self._formats[key] = self.wb.add_format(spec)
        return self._formats[key]

    # --- sheets ---

    def layout(self, taken: set[str]) -> set[str]:
        """Decide model sheets before anything else claims a name; returns the names used."""
        self.book.layout(taken)
        return {n.casefold() for n in self.book.names.values()}

    def worksheet(self, name: str) -> Any:
        if name not in self.book.sheets:
            ws = self.wb.add_worksheet(name)
            ws.set_column(0, 0, 24)
            ws.set_column(1, 12, 16)
            self.book.sheets[name] = ws
        return self.book.sheets[name]

    def write(self) -> None:
        """Assumptions, then every model sheet (all places are known, so formulas may point forward)."""
        mv = self.bound.models
        if mv is None:
            return
        if any(b.inputs for b in mv.models.blocks.values()):
            self.assumptions()
        for s in self.book.sections:
            self.worksheet(s.sheet)
        for s in self.book.sections:
            self.section(s)

    def assumptions(self) -> None:
        mv = self.bound.models
        assert mv is not None
        language = self.bound.plan.meta.language
        ws = self.worksheet(self.book.sheet_name(phrase(language, "assumptions"), set()))
        ws.set_column(0, 0, 36)
        ws.set_column(1, 1, 16)
        ws.set_column(2, 2, 60)
        ws.write_string(0, 0, phrase(language, "assumptions"), self.title)
        for k, h in enumerate([phrase(language, w) for w in ("input", "value", "note")]):
            ws.write_string(1, k, h, [self.head_left, self.head, self.head_note][k])
        ws.freeze_panes(2, 1)
        row = 2
        several = sum(1 for b in mv.models.blocks.values() if b.inputs) > 1
        for b in mv.models.blocks.values():
            if not b.inputs:
                continue
            if several:
                ws.write_string(row, 0, b.title, self.label_bold)
                row += 1
            for x in b.inputs:
                ws.write_string(row, 0, x.label, self.label)
                ws.write_number(row, 1, x.value, self.fmt(str(x.format), "normal", BLUE))
                if x.note:
                    ws.write_string(row, 2, x.note, self.note)
                self.wb.define_name(defined_name(x.name), f"={quote_sheet(ws.name)}!$B${row + 1}")
                row += 1
        self._print(ws, 1, landscape=False)
        self.book.cursor[ws.name] = row + 1

    def section(self, s: Section) -> None:
        mv = self.bound.models
        assert mv is not None
        ws = self.worksheet(s.sheet)
        block = mv.block(s.block)
        labels = mv.labels(s.block)
        writer = Writer(mv.models, self.book.locate)
        ws.write_string(s.top, 0, block.title, self.title)
        ws.write_string(s.header, 0, self.bound.plan.meta.currency, self.head_left)
        for t, label in enumerate(labels):
            ws.write_string(s.header, FIRST_COLUMN + t, label, self.head)
        width = max([28] + [len(r.label) + 2 for r in s.rows])
        ws.set_column(0, 0, min(width, 60))
        ws.set_column(FIRST_COLUMN, FIRST_COLUMN + len(labels) - 1, 13)
        if s.top == 0:
            ws.freeze_panes(s.header + 1, FIRST_COLUMN)
            self._print(ws, s.header, landscape=len(labels) > 6)
        for r in s.rows:
            ref = RowRef(s.block, r.name)
            _, row = self.book.places[ref]
            style = str(r.style)
            ws.write_string(row, 0, r.label, self.label_total if style in ("subtotal", "total") else self.label)
            values = mv.row(s.block, r.name)
            for t in range(len(labels)):
                f = writer.formula(ref, t)
                colour = GREEN if f.link else BLACK
                ws.write_formula(
                    row, FIRST_COLUMN + t, f.text, self.fmt(str(r.format), style, colour), float(values[t])
                )
                self.book.formula_count += 1
            if style == "check":
                last = FIRST_COLUMN + len(labels) - 1
                rule = {"type": "cell", "criteria": "not between", "minimum": -0.005, "maximum": 0.005}
                ws.conditional_format(row, FIRST_COLUMN, row, last, {**rule, "format": self.red})

    def _print(self, ws: Any, header_row: int, landscape: bool) -> None:
        if landscape:
            ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, header_row)
        ws.repeat_columns(0)
        ws.set_header("&L&A")
        meta = self.bound.plan.meta
        page = phrase(meta.language, "page").replace("&", "&&").replace("{page}", "&P").replace("{pages}", "&N")
        ws.set_footer("&L" + meta.title.replace("&", "&&") + "&R" + page)

    # --- what other blocks read from the model ---

    def target(self, block: Any, home: Any) -> Any:
        """The worksheet a block goes on: the one it names, else the summary."""
        name = getattr(block, "sheet", None)
        if not name or name.strip().casefold() == home.name.casefold():
            return home
        return self.worksheet(self.book.sheet_name(name, self.taken))

    def metric_text(self, m: Metric) -> str | None:
        """An Excel expression whose value is the metric's text as the document prints it, so a cell that
        quotes the model moves with its inputs: the period a row first turns positive (INDEX/MATCH over
        the period header), or a period's value through TEXT in the format docagent writes. None where
        Excel cannot print the same text (other languages' number forms)."""
        models, mv = self.models, self.bound.models
        if models is None or mv is None or m.row is None:
            return None
        i = models.by_title(m.model or "")
        assert i is not None
        section, row = self.book.places[RowRef(i, m.row)]
        sheet, n = quote_sheet(section.sheet), len(mv.labels(i))
        first, last = col_name(FIRST_COLUMN), col_name(FIRST_COLUMN + n - 1)
        if m.find == "first_positive":
            head = f"{sheet}!${first}${section.header + 1}:${last}${section.header + 1}"
            values = f"{sheet}!${first}${row + 1}:${last}${row + 1}"
            after = f'"after "&{sheet}!${last}${section.header + 1}'
            return f"IFERROR(INDEX({head},MATCH(TRUE,INDEX({values}>0,0),0)),{after})"
        if base(self.bound.plan.meta.language) != REFERENCE:
            return None
        cell = f"{sheet}!${col_name(FIRST_COLUMN + metric_period(m, models))}${row + 1}"
        if m.format == "compact":
            return compact_text(cell)
        code = TEXT_CODES.get(str(m.format))
        if code is None:
            return None
        if m.format == "currency":
            code = self.num_formats["currency"]
        return f"TEXT({cell},{formula_text(code)})"

    def metric_formula(self, m: Metric) -> str | None:
        """A KPI reading a model cell refers to it; a found period is the INDEX/MATCH that finds it."""
        models = self.models
        if m.find is not None:
            expr = self.metric_text(m)
            return f"={expr}" if expr else None
        if models is None or m.row is None:
            return None
        i = models.by_title(m.model or "")
        assert i is not None
        place = self.book.locate(RowRef(i, m.row))
        col = col_name(FIRST_COLUMN + metric_period(m, models))
        return f"={quote_sheet(place.sheet)}!${col}${place.row + 1}"

    def chart(self, block: Chart, palette: list[str]) -> Any:
        """A native chart drawn straight from the model rows, so it moves when an input changes."""
        models = self.models
        assert models is not None and block.model is not None
        i = models.by_title(block.model)
        assert i is not None
        kind = ChartKind(block.kind)
        xl_type, subtype = CHART_TYPES.get(kind, ("line", None))
        chart = self.wb.add_chart({"type": xl_type} | ({"subtype": subtype} if subtype else {}))
        line = self.wb.add_chart({"type": "line"}) if kind == ChartKind.combo and block.y2 else None
        count = models.blocks[i].periods.count
        for k, name in enumerate([*block.y, *(block.y2 or [])]):
            section, row = self.book.places[RowRef(i, name)]
            colour = palette[k % len(palette)]
            series = {
                "name": [section.sheet, row, 0],
                "categories": [section.sheet, section.header, FIRST_COLUMN, section.header, FIRST_COLUMN + count - 1],
                "values": [section.sheet, row, FIRST_COLUMN, row, FIRST_COLUMN + count - 1],
                "line": {"color": colour, "width": 2.25},
            }
            if k >= len(block.y) and line is not None:
                line.add_series({**series, "y2_axis": True})
            else:
                chart.add_series({**series, "fill": {"color": colour}})
        if line is not None:
            chart.combine(line)
        cf = self.chart_font  # the template's font in style mode; none named otherwise
        chart.set_title({"name": self.bound.text(block.title), "name_font": {"size": 12, "bold": True, **cf}})
        chart.set_legend({"position": "bottom", **({"font": cf} if cf else {})})
        grid = {"visible": True, "line": {"color": "#E5E7EB"}}
        chart.set_y_axis(
            {"num_format": self.num_formats["compact"], "major_gridlines": grid, **({"num_font": cf} if cf else {})}
        )
        if cf:
            chart.set_x_axis({"num_font": cf})
        return chart
