"""The .xlsx renderer (XlsxWriter): summary sheet with live formulas, data sheets, native charts.

Aggregated cells are SUMIFS/AVERAGEIFS/COUNTIFS/MINIFS/MAXIFS over the data
sheet with the value DuckDB computed cached in the cell, so every viewer shows
numbers and Excel recalculates when the data changes. What a formula cannot
express (median, distinct counts, some filters, truncated data) is written as a
value with a cell comment saying so. Text from data is always written as text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, assert_never

from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from docagent.engine.bind import Bound, DataSheet, metric_format
from docagent.engine.data.query import OutColumn
from docagent.engine.formatting import CURRENCY_SYMBOLS, excel_compact, format_value
from docagent.engine.i18n import REFERENCE, base, phrase
from docagent.engine.images import ImageFile
from docagent.engine.plan import (
    PLACEHOLDER,
    Bullets,
    Callout,
    Chart,
    ChartKind,
    Filter,
    Fmt,
    Heading,
    Image,
    Kpis,
    Metric,
    Model,
    Op,
    PageBreak,
    Paragraph,
    Period,
    Query,
    Select,
    Table,
)
from docagent.renderers.charts import LOGO, RASTER_DPI, ChartImage, series_of
from docagent.renderers.common import (
    HIGHLIGHT_FILLS,
    MAX_FORMULA_TEXT,
    caption,
    formula_text,
    image_caption,
    kpi_label,
    numbering,
    owner,
    summary_rows,
    table_data,
)
from docagent.renderers.formulas import (
    Bounds,
    Crit,
    Ranges,
    RowFormulas,
    measure_formula,
    measure_node,
    period_bounds,
    text_value,
)
from docagent.renderers.modelsheet import CHART_TYPES, ModelSheets, compact_text
from docagent.renderers.theme import Theme

CRIT_OPS = {Op.eq: "", Op.ne: "<>", Op.gt: ">", Op.ge: ">=", Op.lt: "<", Op.le: "<="}
NEXT_BUCKET = {
    "day": "{c}+1",
    "week": "{c}+7",
    "month": "EDATE({c},1)",
    "quarter": "EDATE({c},3)",
    "year": "EDATE({c},12)",
}
NUM_FORMATS = {
    Fmt.integer: "#,##0",
    Fmt.number: "#,##0.00",
    Fmt.percent: "0.0%",
    Fmt.pp: '+0.0" pp";-0.0" pp";0.0" pp"',  # Excel cannot scale by 100 without "%": pp cells hold points
    Fmt.text: "@",
}


MAX_FORMULA_CHARS = 8192  # Excel's limit on a formula's length


def _literals(text: str) -> list[str]:
    """Text as Excel string literals of at most 255 characters each (Excel's limit per literal)."""
    return [formula_text(text[k : k + MAX_FORMULA_TEXT]) for k in range(0, len(text), MAX_FORMULA_TEXT) if text]


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers as (first, last) pairs: [3, 4, 5, 7] -> [(3, 5), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def num_formats(language: str) -> dict[Fmt, str]:
    """Each plan format's Excel number format; the compact one in the language's units (K/M, 万/亿)."""
    return {**NUM_FORMATS, Fmt.compact: excel_compact(language)}


PROSE_COLUMNS = 6  # prose is merged across A:F and wrapped
CF_OPS = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "=="}


def text_width(text: str, size: float = 10, bold: bool = False) -> float:
    """Excel column width (in characters of the default font) that shows `text` whole."""
    wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK glyphs take two cells
    return wide * size / 10 * (1.1 if bold else 1.0) + 2


def _criterion_key(text: str) -> object:
    """What Excel compares a text criterion by: a number when the text reads as one, else the text without case."""
    try:
        number = float(text.strip())
    except ValueError:
        return text.casefold()
    return number if math.isfinite(number) else text.casefold()


def currency_format(code: str) -> str:
    """The Excel number format of a currency, with the symbol the documents print (₹1,234.50, not INR)."""
    symbol = CURRENCY_SYMBOLS.get(code.upper())
    return f'"{symbol}"#,##0.00' if symbol else f'#,##0.00 "{code.upper()}"'


def _shown(v: Any) -> str:
    """Roughly what a data sheet cell displays, to size its column."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)[:19]
    return f"{v:,.2f}"


def points(v: Any, fmt: Fmt | str | None) -> Any:
    """A pp value as the cell holds it: points (0.012 -> 1.2), since only "%" scales in a number format."""
    return v * 100 if fmt == Fmt.pp and isinstance(v, int | float) and not isinstance(v, bool) else v


def _points_formula(f: str, fmt: Fmt | str | None) -> str:
    return f"=100*({f[1:]})" if fmt == Fmt.pp else f


@dataclass
class SheetRef:
    """Where a dataset's columns live in the workbook."""

    sheet: str
    first: int  # first data row (0-based)
    last: int
    columns: dict[str, int]

    def range(self, column: str) -> str:
        c = xl_col_to_name(self.columns[column])
        return f"{quote_sheetname(self.sheet)}!${c}${self.first + 1}:${c}${self.last + 1}"


DEFAULT_FONT = "Calibri"  # XlsxWriter's, and docagent's own workbooks'


class Builder:
    def __init__(
        self,
        bound: Bound,
        theme: Theme,
        path: Path,
        images: dict[int, ChartImage] | None = None,
        font: str = DEFAULT_FONT,
        reserved: Sequence[str] = (),
    ) -> None:
        """`reserved`: sheet names a template's own sheets hold (style mode); ours take other names."""
        self.bound, self.theme, self.images = bound, theme, images or {}
        self.base = {"font_name": font, "font_size": 10}
        # charts name a font only when it is not the default, so docagent's own workbooks are unchanged
        self.chart_font = {"name": font} if font != DEFAULT_FONT else {}
        self.reserved = {n.casefold() for n in reserved}
        self.wb = Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "use_future_functions": True,
                "default_date_format": "yyyy-mm-dd",
                "default_format_properties": {"font_name": font},  # what a cell typed into later takes
            },
        )
        meta = bound.plan.meta
        self.wb.set_properties(
            {
                "title": meta.title,
                "author": owner(meta),
                "subject": meta.subtitle or "",
                "comments": "Generated by docagent",
            }
        )
        self.f = self._formats()
        self.labels = numbering(bound)
        self.refs: dict[str, SheetRef] = {}
        self._keys: dict[str, dict[str, dict[object, set[str]]]] = {}
        language = meta.language
        self.summary_name = _free(phrase(language, "summary_sheet"), self.reserved)
        self.chart_data_name = _free(phrase(language, "chart_data_sheet"), self.reserved)
        self.models = ModelSheets(
            self.wb, bound, self.base, self.chart_font, currency_format(meta.currency), num_formats(meta.language)
        )

    def _formats(self) -> dict[str, Any]:
        t, wb, base = self.theme, self.wb, self.base
        cur = currency_format(self.bound.plan.meta.currency)
        kpi = {
            **base,
            "bold": True,
            "font_size": 16,
            "font_color": t.primary,
            "bg_color": t.band_fill,
            "top": 2,
            "top_color": t.accent,
        }
        f = {
            "title": wb.add_format({**base, "bold": True, "font_size": 18, "font_color": t.primary}),
            "subtitle": wb.add_format({**base, "font_color": t.muted, "font_size": 11}),
            "caption": wb.add_format({**base, "bold": True, "font_color": t.primary, "font_size": 11}),
            "note": wb.add_format({**base, "italic": True, "font_color": t.muted, "font_size": 8}),
            "head": wb.add_format(
                {
                    **base,
                    "bold": True,
                    "font_color": t.header_text,
                    "bg_color": t.header_fill,
                    "bottom": 1,
                    "text_wrap": True,
                    "valign": "top",
                }
            ),
            "head_num": wb.add_format(
                {
                    **base,
                    "bold": True,
                    "font_color": t.header_text,
                    "bg_color": t.header_fill,
                    "bottom": 1,
                    "align": "right",
                    "text_wrap": True,
                    "valign": "top",
                }
            ),
            "text": wb.add_format(base),
            "date": wb.add_format({**base, "num_format": "yyyy-mm-dd", "align": "left"}),
            "month": wb.add_format({**base, "num_format": "mmm yyyy", "align": "left"}),
            "datetime": wb.add_format({**base, "num_format": "yyyy-mm-dd hh:mm"}),
            "kpi_value": wb.add_format(kpi),
            "h1": wb.add_format(
                {**base, "bold": True, "font_size": 14, "font_color": t.primary, "bottom": 1, "bottom_color": t.primary}
            ),
            "h2": wb.add_format({**base, "bold": True, "font_size": 12, "font_color": t.primary}),
            "prose": wb.add_format({**base, "text_wrap": True, "valign": "top"}),
            "line": wb.add_format({**base, "bottom": 1, "bottom_color": t.muted}),
            **{
                f"callout:{k}": wb.add_format(
                    {**base, "text_wrap": True, "valign": "top", "bg_color": v, "left": 5, "left_color": t.accent}
                )
                for k, v in t.callout.items()
            },
            "kpi_text": wb.add_format({**kpi, "align": "right"}),  # a model period label, e.g. break-even
            "kpi_label": wb.add_format({**base, "font_size": 8, "font_color": t.muted, "bg_color": t.band_fill}),
        }
        for fmt, code in [*num_formats(self.bound.plan.meta.language).items(), (Fmt.currency, cur)]:
            f[f"num:{fmt}"] = wb.add_format({**base, "num_format": code})
            f[f"total:{fmt}"] = wb.add_format({**base, "num_format": code, "bold": True, "top": 1})
            f[f"kpi:{fmt}"] = wb.add_format({**kpi, "num_format": code})
            f[f"bold:{fmt}"] = wb.add_format({**base, "num_format": code, "bold": True})
        f["total:text"] = wb.add_format({**base, "bold": True, "top": 1})
        f["bold:text"] = wb.add_format({**base, "bold": True})
        for style, fill in HIGHLIGHT_FILLS.items():
            f[f"hl:{style}"] = wb.add_format({"bg_color": fill})
        return f

    # --- data sheets ---

    def plan_sheets(self) -> None:
        """Decide where each dataset goes before anything refers to it."""
        taken = {"summary", "chart data", self.summary_name.casefold(), self.chart_data_name.casefold(), *self.reserved}
        taken |= self.models.layout(taken)  # model statements get the names they ask for
        for sheet in self.bound.data.values():
            name = sheet.name[:31]
            if name.lower() in taken:
                name = f"{name[:26]}_data"
            taken.add(name.lower())
            cols = {c.name: k for k, c in enumerate(sheet.columns)}
            self.refs[sheet.name] = SheetRef(name, 1, max(1, len(sheet.rows)), cols)
        self.models.taken = taken

    def data_sheet(self, sheet: DataSheet) -> None:
        ws = self.wb.add_worksheet(self.refs[sheet.name].sheet)
        cols = sheet.columns
        widths = [max(8.0, min(40.0, len(c.name) + 2.0)) for c in cols]
        for r, row in enumerate(sheet.rows, 1):
            for k, (v, c) in enumerate(zip(row, cols, strict=True)):
                self.cell(ws, r, k, v, c.type)
                if r <= 200 and v is not None:
                    widths[k] = max(widths[k], min(40, text_width(_shown(v))))
        last = max(1, len(sheet.rows))
        ws.add_table(
            0,
            0,
            last,
            len(cols) - 1,
            {
                "name": f"t_{sheet.name}"[:250],
                "style": "Table Style Light 9",
                "columns": [{"header": c.name} for c in cols],
            },
        )
        ws.freeze_panes(1, 0)
        for k, w in enumerate(widths):
            ws.set_column(k, k, w)
        if not sheet.complete:
            ws.write_string(
                last + 2,
                0,
                phrase(
                    self.bound.plan.meta.language,
                    "first_rows",
                    shown=format_value(len(sheet.rows), language=self.bound.plan.meta.language),
                    total=format_value(sheet.total_rows, language=self.bound.plan.meta.language),
                ),
                self.f["note"],
            )

    def cell(self, ws: Worksheet, r: int, c: int, v: Any, typ: str, fmt: Any = None) -> None:
        if v is None:
            ws.write_blank(r, c, None, fmt)
        elif isinstance(v, bool):
            ws.write_boolean(r, c, v, fmt)
        elif isinstance(v, dt.datetime):
            ws.write_datetime(r, c, v, fmt or self.f["datetime" if v.time() != dt.time() else "date"])
        elif isinstance(v, dt.date):
            ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), fmt or self.f["date"])
        elif isinstance(v, int | float):
            ws.write_number(r, c, float(v), fmt or self.f["num:number" if typ == "number" else "text"])
        else:  # never a formula, whatever it starts with
            ws.write_string(r, c, str(v), fmt or self.f["text"])

    # --- formulas ---

    def _ranges(self, ref: SheetRef, dataset: str) -> Ranges:
        def rng(parts: tuple[str, ...]) -> str | None:
            if not parts:
                return ref.range(next(iter(ref.columns)))
            if len(parts) == 2 and parts[0] == dataset:
                parts = parts[1:]
            return ref.range(parts[0]) if len(parts) == 1 and parts[0] in ref.columns else None

        return rng

    def _criteria(self, filters: list[Filter], ref: SheetRef, dataset: str) -> list[Crit] | None:
        out = []
        for f in filters:
            value = text_value(f.value)
            if f.op not in CRIT_OPS or value is None or f.column not in ref.columns:
                return None
            if isinstance(f.value, str) and not self._unambiguous(dataset, f.column, f.value):
                return None
            out.append(Crit(ref.range(f.column), CRIT_OPS[f.op] or "=", value))
        return out

    def _unambiguous(self, dataset: str, column: str, value: str) -> bool:
        """Whether Excel's criterion matching (no case, numbers read from text) selects exactly the
        cells equal to `value`, as DuckDB's `=` does: no other text of the column matches it there."""
        cache = self._keys.setdefault(dataset, {})
        if column not in cache:
            sheet, k = self.bound.data[dataset], self.refs[dataset].columns[column]
            keys: dict[object, set[str]] = {}
            for r in sheet.rows:
                if isinstance(r[k], str):
                    keys.setdefault(_criterion_key(r[k]), set()).add(r[k])
            cache[column] = keys
        return cache[column].get(_criterion_key(value), {value}) <= {value}

    def formulas(
        self, q: Query, cols: list[OutColumn], rows: list[tuple[Any, ...]], top: int, left: int, folded: bool = False
    ) -> list[list[str | None]] | None:
        """A formula per measure cell (keys referenced by cell; None where a value has no
        faithful formula), or None when the rows themselves cannot be expressed as criteria."""
        sheet = self.bound.data.get(q.dataset)
        ref = self.refs.get(q.dataset)
        if sheet is None or ref is None or not sheet.complete or q.join or q.unpivot or q.union:  # rows elsewhere
            return None
        base = self._criteria(q.filters, ref, q.dataset)
        if base is None:
            return None
        dated = {c.name for c in sheet.columns if c.type in ("date", "datetime")}  # years, "2025-03": values
        if q.period is not None:  # the same bounds the SQL computed, as formulas over the data sheet
            if q.period.time_column not in dated:
                return None
            t = ref.range(q.period.time_column)
            start, end, inclusive = period_bounds(
                str(q.period.span), None, str(q.period.bucket or "day"), t, base, q.period.n or 1
            )[0]
            base = [*base, Crit(t, ">=", start), Crit(t, "<=" if inclusive else "<", end)]
        body = rows[:-1] if folded else rows
        keys = [(k, c) for k, c in enumerate(cols) if not c.measure]
        if any(c.time and c.time not in dated for c in cols) or any(
            c.pivot and c.pivot[1] and c.pivot[0] not in dated for c in cols
        ):
            return None  # a stock's or a pivot's time is a year or period text: no date criteria
        for k, c in keys:
            if c.select is None or c.select.column not in ref.columns:
                return None
            if c.bucket and c.select.column not in dated:
                return None
            if any(text_value(r[k]) is None for r in body):
                return None
            column = c.select.column
            if any(isinstance(r[k], str) and not self._unambiguous(q.dataset, column, r[k]) for r in body):
                return None
        ranges = self._ranges(ref, q.dataset)
        crits: list[list[Crit]] = []
        by_key: list[dict[str, list[Crit]]] = []
        for i in range(len(body)):
            mine: dict[str, list[Crit]] = {}
            for k, c in keys:
                assert c.select is not None and c.select.column is not None
                cell = xl_rowcol_to_cell(top + i, left + k, col_abs=True)
                rng = ref.range(c.select.column)
                if c.bucket:
                    mine[c.name] = [Crit(rng, ">=", cell), Crit(rng, "<", NEXT_BUCKET[c.bucket].format(c=cell))]
                else:
                    mine[c.name] = [Crit(rng, "=", cell)]
            crits.append([*base, *(x for cs in mine.values() for x in cs)])
            by_key.append(mine)
        whole = not folded and (q.limit is None or len(rows) < q.limit)  # every group is on the sheet
        spread = self._pivot_criteria(cols, ref, q.dataset)
        if spread is None:
            return None
        writer = RowFormulas(cols, body, crits, ranges, base, top, left, whole, by_key, spread)
        out = [writer.row(i) for i in range(len(body))]
        for k, c in enumerate(cols):
            if c.pivot == ():  # the total column: the row's pivoted cells added up
                first, last = min(spread), max(spread)
                for i, r in enumerate(out):
                    r[k] = f"=SUM({xl_rowcol_to_cell(top + i, left + first)}:{xl_rowcol_to_cell(top + i, left + last)})"
        if folded:
            out.append(writer.other_row(len(body)))
        return out

    def _pivot_criteria(self, cols: list[OutColumn], ref: SheetRef, dataset: str) -> dict[int, list[Crit]] | None:
        """Each pivoted column's condition on the data sheet (its key value); None when one has none."""
        out: dict[int, list[Crit]] = {}
        for k, c in enumerate(cols):
            if not c.pivot:
                continue
            column, bucket, v = c.pivot
            value = text_value(v)
            if column not in ref.columns or value is None:
                return None
            if isinstance(v, str) and not self._unambiguous(dataset, column, v):
                return None
            rng = ref.range(column)
            if bucket:
                out[k] = [Crit(rng, ">=", value), Crit(rng, "<", NEXT_BUCKET[bucket].format(c=value))]
            else:
                out[k] = [Crit(rng, "=", value)]
        return out

    def _compact_tile(self, formula: str, fmt: Fmt) -> str | None:
        """A compact KPI in English as text that docagent's formatter would print (three significant
        digits; a number format can show only one decimal); None where a number format must do."""
        if fmt != Fmt.compact or base(self.bound.plan.meta.language) != REFERENCE:
            return None
        live = "=" + compact_text(f"({formula.removeprefix('=')})")
        return live if len(live) <= MAX_FORMULA_CHARS else None

    def metric_formula(self, m: Metric) -> str | None:
        if m.model is not None or m.dataset is None:
            return self.models.metric_formula(m)
        ref, sheet = self.refs.get(m.dataset), self.bound.data.get(m.dataset)
        if ref is None or sheet is None or not sheet.complete:
            return None
        node = measure_node(Select(agg=m.agg, column=m.column, expr=m.expr), m.time_column)
        crit = self._criteria(m.filters, ref, m.dataset)
        if node is None or crit is None:
            return None
        ranges = self._ranges(ref, m.dataset)
        dated = {c.name for c in sheet.columns if c.type in ("date", "datetime")}
        if m.agg in ("last", "first") and m.time_column not in dated:
            return None
        if m.period == Period.all:
            f = measure_formula(node, ranges, crit)
            return None if f is None else f"={f}"
        if m.time_column not in dated or self.bound.windows.get(m.name, (None, None))[0] is None:
            return None
        t = ref.range(m.time_column)
        bucket = str(m.bucket or "day")
        if m.period == Period.change:  # the last bucket against the first
            win = period_bounds("last", None, bucket, t, crit)[0]
            against: Bounds | None = period_bounds("first", None, bucket, t, crit)[0]
        else:
            win, against = period_bounds(str(m.period), m.compare, bucket, t, crit)

        def within(b: Bounds) -> list[Crit]:
            start, end, inclusive = b
            return [*crit, Crit(t, ">=", start), Crit(t, "<=" if inclusive else "<", end)]

        value = measure_formula(node, ranges, within(win))
        if value is None:
            return None
        if m.period != Period.change and (m.compare is None or m.result == "value"):
            return f"={value}"
        if against is None:
            return None
        base = measure_formula(node, ranges, within(against))
        if m.period == Period.change or m.result == "pct_change":
            return f'=IFERROR(({value}-{base})/ABS({base}),"")'
        return f"=({value})-({base})"

    # --- summary sheet ---

    def num_format(self, c: OutColumn, kind: str = "num") -> Any:
        if c.type == "date" or c.type == "datetime":
            return self.f["month" if c.bucket in ("month", "quarter") else "date"]
        if c.type not in ("integer", "number"):
            return self.f[f"{kind}:text"] if kind in ("total", "bold") else None
        fmt = c.format or (Fmt.integer if c.type == "integer" else Fmt.number)
        if fmt == Fmt.text:
            fmt = Fmt.number
        return self.f[f"{kind}:{fmt}"]

    def write_result(
        self,
        ws: Worksheet,
        top: int,
        left: int,
        q: Query | None,
        cols: list[OutColumn],
        rows: list[tuple[Any, ...]],
        headers: list[str],
        folded: bool = False,
    ) -> tuple[int, bool]:
        """Header plus rows at (top, left); returns the next free row and whether formulas were used."""
        for k, (h, c) in enumerate(zip(headers, cols, strict=True)):
            numeric = c.type in ("integer", "number")
            ws.write_string(top, left + k, h, self.f["head_num" if numeric else "head"])
        first = top + 1
        formulas = self.formulas(q, cols, rows, first, left, folded) if q is not None else None
        for i, r in enumerate(rows):
            for k, (v, c) in enumerate(zip(r, cols, strict=True)):
                fmt = self.num_format(c)
                formula = formulas[i][k] if formulas else None
                v = points(v, c.format)
                if formula:
                    cached = v if isinstance(v, int | float | str) else ""
                    ws.write_formula(first + i, left + k, _points_formula(formula, c.format), fmt, cached)
                else:
                    self.cell(ws, first + i, left + k, v, c.type, fmt)
        if q is not None and rows:
            for k, c in enumerate(cols):
                live = formulas and any(row[k] for row in formulas)
                if c.measure and not live:
                    ws.write_comment(
                        top,
                        left + k,
                        "Values computed from the full data when the workbook was made: this aggregation "
                        "or filter has no spreadsheet formula, or the data sheet is truncated.",
                        {"x_scale": 2},
                    )
        return first + len(rows), formulas is not None

    def prose(self, ws: Worksheet, row: int, text: str, fmt: Any, size: float = 10, formula: str | None = None) -> int:
        """Text merged across the prose columns, wrapped, with a row tall enough to show it all;
        a `formula` (prose quoting a model) is written with the text as its cached value."""
        span = sum(self.widths[:PROSE_COLUMNS])
        lines = sum(max(1, math.ceil(text_width(part, size) / span)) for part in text.split("\n"))
        ws.set_row(row, max(15, 15 * lines * size / 10))
        ws.merge_range(row, 0, row, PROSE_COLUMNS - 1, "" if formula else text, fmt)
        if formula:
            ws.write_formula(row, 0, formula, fmt, text)
        return row + 1

    def live_text(self, text: str, metrics: dict[str, Metric]) -> str | None:
        """Prose whose every placeholder quotes a model cell, as a formula that moves with the model's
        inputs ("Net income turns positive in "&INDEX(...)); None for prose that stays text."""
        parts, at = [], 0
        for m in PLACEHOLDER.finditer(text):
            metric = metrics.get(m.group(1))
            expr = self.models.metric_text(metric) if metric is not None and not (m.group(2) or m.group(3)) else None
            if expr is None:
                return None
            parts += [*_literals(text[at : m.start()]), expr]
            at = m.end()
        if not parts:
            return None
        try:
            formula = "=" + "&".join([*parts, *_literals(text[at:])])
        except ValueError:  # text no formula literal can carry: it stays text
            return None
        return formula if len(formula) <= MAX_FORMULA_CHARS else None

    def summary(self) -> None:
        """The whole document on the first sheet, in reading order: prose as wrapped text cells,
        KPIs, tables, charts and images; the data behind them on the sheets after it."""
        ws = self.wb.add_worksheet(self.summary_name)
        self.models.write()  # the model sheets follow the summary
        home = ws
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_row(0, 28)
        ws.hide_gridlines(2)
        meta, t = self.bound.plan.meta, self.bound.text
        ws.write_string(0, 0, meta.title, self.f["title"])
        if meta.subtitle:
            ws.write_string(1, 0, meta.subtitle, self.f["subtitle"])
        logo = self.images.get(LOGO)
        if logo is not None:  # top right of the prose area
            scale = self._scale(logo, self.bound.images.get(self.theme.logo or ""))
            ws.insert_image(0, PROSE_COLUMNS - 1, "logo.png", {"image_data": io.BytesIO(logo.png), "x_scale": scale,
                            "y_scale": scale, "description": "logo"})  # fmt: skip
        row, self.widths = 3, [24.0] + [16.0] * 12
        self.charts_ws: Worksheet | None = None
        metrics = {m.name: m for m in self.bound.plan.metrics}
        for i, block in enumerate(self.bound.plan.blocks):
            self.models.book.cursor[ws.name] = row  # blocks that name a sheet go there
            ws = self.models.target(block, home)
            row = self.models.book.cursor.get(ws.name, 0)
            match block:
                case Heading():
                    row += 1 if row > 3 else 0
                    ws.write_string(row, 0, t(block.text), self.f["h1" if block.level == 1 else "h2"])
                    ws.set_row(row, 20 if block.level == 1 else 17)
                    row += 1
                case Paragraph():
                    live = self.live_text(block.text, metrics)
                    row = self.prose(ws, row, t(block.text), self.f["prose"], formula=live) + 1
                case Bullets():
                    row = self.bullets(ws, row, block) + 1
                case Callout():
                    text = (f"{block.title}\n" if block.title else "") + t(block.text)
                    row = self.prose(ws, row, text, self.f.get(f"callout:{block.style}", self.f["prose"])) + 1
                case Kpis():
                    row = self.kpis(ws, row, block, metrics)
                case Table():
                    row = self.table(ws, row, i, block)
                case Chart() if block.model is not None:
                    ws.insert_chart(
                        row, 0, self.models.chart(block, self.theme.palette), {"x_scale": 1.5, "y_scale": 1.2}
                    )
                    row += 23
                case Chart():
                    if self.charts_ws is None:
                        self.charts_ws = self.wb.add_worksheet(self.chart_data_name)
                        self._chart_row = 0
                        self.chart_widths = [12.0] * 8
                    chart = self.chart(i, block, self.charts_ws)
                    ws.insert_chart(row, 0, chart, {"x_scale": 1.5, "y_scale": 1.2})
                    row += 23
                case Image():
                    row = self.image(ws, row, i, block)
                case PageBreak():
                    ws.set_h_pagebreaks([row])
                case Model():
                    pass  # written on its own sheets by ModelSheets
                case _:
                    assert_never(block)

        self.models.book.cursor[ws.name] = row
        ws = home
        row = self.models.book.cursor.get(home.name, row)
        sources = sorted({d.source for d in self.bound.data.values()})
        if sources:
            row += 1
            label = phrase(meta.language, "sources")
            ws.write_string(row, 0, f"{label}: {', '.join(sources)}.", self.f["note"])
        for k, w in enumerate(self.widths):
            ws.set_column(k, k, w)
        if self.charts_ws is not None:
            for k, w in enumerate(self.chart_widths):
                self.charts_ws.set_column(k, k, w)

    def bullets(self, ws: Worksheet, row: int, block: Bullets) -> int:
        first = block.start or 1
        for n, item in enumerate(block.items):
            mark = f"{first + n}. " if block.ordered else "• "
            row = self.prose(ws, row, mark + self.bound.text(item), self.f["prose"])
            for _ in range(block.lines):  # writing lines, as on paper
                ws.set_row(row, 22)
                for k in range(PROSE_COLUMNS):
                    ws.write_blank(row, k, None, self.f["line"])
                row += 1
        return row

    def kpis(self, ws: Worksheet, row: int, block: Kpis, metrics: dict[str, Metric]) -> int:
        for k, item in enumerate(block.items):
            m = metrics.get(item.metric)
            value = self.bound.metrics.get(item.metric)
            fmt = metric_format(m) if m else Fmt.number
            formula = self.metric_formula(m) if m else None
            cell_fmt = self.f[f"kpi:{fmt}"]
            if formula and m is not None and m.find:  # the period it finds, found again after an edit
                ws.write_formula(row, k, formula, self.f["kpi_text"], self.bound.metric_text.get(item.metric, "–"))
            elif formula and (live := self._compact_tile(formula, fmt)):  # 4.67M as the PDF prints it
                ws.write_formula(row, k, live, self.f["kpi_text"], self.bound.metric_text.get(item.metric, "–"))
            elif formula:
                cached = points(value, fmt) if value is not None else ""
                ws.write_formula(row, k, _points_formula(formula, fmt), cell_fmt, cached)
            elif value is None or (m and m.find):
                text = self.bound.metric_text.get(item.metric, "–")
                ws.write_string(row, k, text, self.f["kpi_text" if m and m.find else "kpi_value"])
            else:
                ws.write_number(row, k, points(value, fmt), cell_fmt)
            label = kpi_label(item, metrics)
            ws.write_string(row + 1, k, label, self.f["kpi_label"])
            # a number too wide for its column shows as ### in Excel and LibreOffice
            shown = self.bound.metric_text.get(item.metric, "–")
            self.widths[k] = max(self.widths[k], text_width(shown, 16, bold=True), text_width(label, 8))
        ws.set_row(row, 24)
        return row + 3

    def table(self, ws: Worksheet, row: int, i: int, block: Table) -> int:
        data = table_data(block, self.bound, i)
        res = self.bound.results[i]
        ws.write_string(row, 0, caption(block, self.bound, self.labels[i]), self.f["caption"])
        end, _ = self.write_result(ws, row + 1, 0, block.query, data.columns, res.rows, data.header, res.folded)
        first = row + 2
        for n in sorted(data.emphasis):
            for k, (v, c) in enumerate(zip(res.rows[n], data.columns, strict=True)):
                self.cell(ws, first + n, k, points(v, c.format), c.type, self.num_format(c, "bold"))
        for h in block.highlight or []:
            if h.column not in data.header or not res.rows:
                continue
            k = [c.name for c in data.columns].index(h.column)
            opts: dict[str, Any] = {"format": self.f[f"hl:{h.style}"]}
            if h.op in ("top", "bottom"):  # native rules, so they follow edits to the values
                opts |= {"type": h.op, "value": int(h.value)}
            else:
                value = points(h.value, data.columns[k].format)
                value = int(value) if float(value).is_integer() else value
                opts |= {"type": "cell", "criteria": CF_OPS[h.op], "value": value}
            skip = summary_rows(block, res.rows, self.bound.plan.meta.language)
            keep = [first + n for n in range(len(res.rows)) if n not in skip]
            if not keep:
                continue
            col = xl_col_to_name(k)  # one rule over the rows that are not totals (top 3 ranks them together)
            runs = _runs(keep)
            opts["multi_range"] = " ".join(f"{col}{a + 1}:{col}{b + 1}" for a, b in runs)
            ws.conditional_format(runs[0][0], k, runs[0][1], k, opts)
        if data.total_values:
            for k, (v, c) in enumerate(zip(data.total_values, data.columns, strict=True)):
                if isinstance(v, int | float) and res.rows:
                    col = xl_col_to_name(k)
                    total = points(v, c.format)
                    ws.write_formula(end, k, f"=SUM({col}{row + 3}:{col}{end})", self.num_format(c, "total"), total)
                else:
                    ws.write_string(end, k, str(v or ""), self.f["total:text"])
            end += 1
        body = [data.header, *data.rows, *([data.totals] if data.totals else [])]
        for k in range(len(data.header)):
            if k < len(self.widths):
                longest = max(text_width(r[k], bold=r is body[0]) for r in body[:200])
                self.widths[k] = max(self.widths[k], min(47, longest))
        return end + 2

    @staticmethod
    def _scale(img: ChartImage, src: ImageFile | None) -> float:
        """Scale that shows the picture at its intended width (96 px an inch on a sheet);
        drawn PNGs (placeholders, rasterised SVG) are 200 px an inch."""
        px = src.width if src is not None and src.kind != "svg" else img.width_in * RASTER_DPI
        return img.width_in * 96 / px

    def image(self, ws: Worksheet, row: int, i: int, block: Image) -> int:
        img = self.images.get(i)
        if img is None:
            return row
        scale = self._scale(img, self.bound.images.get(block.source) if block.source else None)
        ws.insert_image(
            row, 0, f"image{i}.png",
            {"image_data": io.BytesIO(img.png), "x_scale": scale, "y_scale": scale, "object_position": 1,
             "description": block.alt},
        )  # fmt: skip
        row += math.ceil(img.height_in * 96 / 20) + 1
        if block.caption:
            ws.write_string(row, 0, image_caption(block, self.bound), self.f["note"])
            row += 1
        return row + 1

    def chart(self, i: int, block: Chart, ws: Worksheet) -> Any:
        s = series_of(block, self.bound, i)
        res = self.bound.results[i]
        top = self._chart_row
        ws.write_string(top, 0, self.bound.text(block.title), self.f["caption"])
        names = [c.name for c in res.columns]
        picked = [block.x, *block.y, *(block.y2 or [])]
        cols = [res.columns[names.index(n)] for n in picked]
        if s.folded or res.wide or res.folded or len(s.categories) != len(res.rows):
            rows = [(label, *(ys[k] for _, ys in (s.y + s.y2))) for k, label in enumerate(s.labels)]
            cols = [OutColumn(block.x, "text"), *cols[1:]]
            q = None
        else:
            idx = [names.index(n) for n in picked]
            rows = [tuple(r[j] for j in idx) for r in res.rows]
            q = block.query
            if q is not None:  # only the columns the chart draws, in that order
                q = q.model_copy(update={"select": [c.select for c in cols if c.select is not None]})
        end, _ = self.write_result(ws, top + 1, 0, q, cols, rows, picked)
        self._chart_row = end + 2
        for k, c in enumerate(cols[: len(self.chart_widths)]):
            shown = [picked[k], *(self.bound.fmt(r[k], c) for r in rows[:200])]
            self.chart_widths[k] = max(self.chart_widths[k], min(47, max(text_width(x) for x in shown)))
        kind = ChartKind(block.kind)
        xl_type = CHART_TYPES[kind]
        opts = {"type": xl_type[0]} | ({"subtype": xl_type[1]} if xl_type[1] else {})
        chart = self.wb.add_chart(opts)
        sheet = ws.name  # XlsxWriter quotes names in list-form ranges itself
        first, last = top + 2, end - 1
        cats = [sheet, first, 0, last, 0]
        palette = self.theme.palette
        for k in range(1, len(block.y) + 1):
            series: dict[str, Any] = {
                "name": [sheet, top + 1, k],
                "categories": cats,
                "values": [sheet, first, k, last, k],
            }
            if kind in (ChartKind.pie, ChartKind.donut):
                series["points"] = [{"fill": {"color": palette[j % len(palette)]}} for j in range(len(rows))]
            else:
                series["fill"] = {"color": palette[(k - 1) % len(palette)]}
                series["line"] = {"color": palette[(k - 1) % len(palette)], "width": 2}
            chart.add_series(series)
        if kind == ChartKind.combo and block.y2:
            line = self.wb.add_chart({"type": "line"})
            for j in range(len(block.y) + 1, len(block.y) + len(block.y2) + 1):
                line.add_series(
                    {
                        "name": [sheet, top + 1, j],
                        "categories": cats,
                        "values": [sheet, first, j, last, j],
                        "y2_axis": True,
                        "line": {"color": palette[(j - 1) % len(palette)], "width": 2.25},
                    }
                )
            chart.combine(line)
        cf = self.chart_font
        chart.set_title({"name": self.bound.text(block.title), "name_font": {"size": 12, "bold": True, **cf}})
        chart.set_legend(
            {"position": "bottom", **({"font": cf} if cf else {})}
            if len(block.y) + len(block.y2 or []) > 1 or kind in (ChartKind.pie, ChartKind.donut)
            else {"none": True}
        )
        chart.set_style(10)
        compact = excel_compact(self.bound.plan.meta.language)
        x_fmt = {"month": "mmm yyyy", "quarter": "mmm yyyy", "year": "yyyy"}.get(cols[0].bucket or "", "yyyy-mm-dd")
        categories: dict[str, Any] = {"num_font": cf} if cf else {}
        if cols[0].type in ("date", "datetime"):
            # a bucketed key labels its points only (a date axis would tick every month of a quarterly series)
            categories |= {"num_format": x_fmt, "num_font": {"rotation": -35, **cf}, "text_axis": bool(cols[0].bucket)}
        if kind in (ChartKind.bar, ChartKind.grouped_bar, ChartKind.stacked_bar, ChartKind.hbar):
            categories["label_position"] = "low"  # clear of bars that go below zero
        if categories:
            (chart.set_y_axis if kind == ChartKind.hbar else chart.set_x_axis)(categories)
        if kind not in (ChartKind.pie, ChartKind.donut):
            (chart.set_x_axis if kind == ChartKind.hbar else chart.set_y_axis)(
                {
                    "num_format": "0%" if s.percent else compact,
                    "major_gridlines": {"visible": True, "line": {"color": "#E5E7EB"}},
                    **({"num_font": cf} if cf else {}),
                }
            )
        return chart

    def build(self) -> None:
        self.plan_sheets()
        self.summary()
        for sheet in self.bound.data.values():
            self.data_sheet(sheet)
        self.wb.close()


def _free(name: str, taken: set[str]) -> str:
    """`name`, or "name 2", "name 3"... when a template's sheet holds it already."""
    n = 1
    found = name
    while found.casefold() in taken:
        n += 1
        found = f"{name[:28]} {n}"
    return found


def render_xlsx(bound: Bound, theme: Theme, path: Path, images: dict[int, ChartImage] | None = None) -> Path:
    Builder(bound, theme, path, images).build()
    return path


__all__ = ["render_xlsx"]
