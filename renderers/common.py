"""What all three formats share: table cells as text, totals, numbering, captions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, assert_never

from docagent.engine.bind import Bound, metric_format
from docagent.engine.data.catalog import NUMERIC
from docagent.engine.data.metrics import shift
from docagent.engine.data.query import OutColumn
from docagent.engine.formatting import format_value, short
from docagent.engine.i18n import phrase
from docagent.engine.plan import (
    Bullets,
    Callout,
    Chart,
    DocKind,
    Fmt,
    Heading,
    Image,
    Kpi,
    Kpis,
    Meta,
    Metric,
    Model,
    PageBreak,
    Paragraph,
    Plan,
    Table,
)
from docagent.engine.texts import block_texts

MAX_CELL_CHARS = 1000  # a longer cell is cut: a page cannot hold an unbounded row
WIDE_COLUMNS = 8  # a table with more columns gets a landscape page
MAX_FORMULA_TEXT = 255  # Excel's limit for a string literal inside a formula
HIGHLIGHT_FILLS = {"bad": "#F8D7DA", "good": "#D1E7DD", "warn": "#FFF3CD"}  # fills readable under dark text


@dataclass
class TableData:
    header: list[str]
    columns: list[OutColumn]
    rows: list[list[str]]
    values: list[tuple[Any, ...]]
    numeric: list[bool]
    totals: list[str] | None
    total_values: list[Any] | None
    emphasis: set[int] = field(default_factory=set)  # body rows set bold
    fills: dict[tuple[int, int], str] = field(default_factory=dict)  # (body row, column) -> highlight style


def column_format(c: OutColumn, values: list[Any], chosen: Fmt | str | None) -> OutColumn:
    """The column with its display format: the plan's choice, else integer when every value is whole."""
    if chosen:
        return replace(c, format=Fmt(chosen))
    if c.format or c.type not in NUMERIC:
        return c
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    whole = all(float(v).is_integer() for v in nums)
    return replace(c, format=Fmt.integer if whole else Fmt.number)


def summary_rows(block: Table, rows: list[tuple[Any, ...]], language: str = "en") -> set[int]:
    """Body rows that sum others up (emphasised, or labelled Total): no highlight rule colours them."""
    words = {phrase(language, "total").lower(), "total", "subtotal"}
    labelled = {i for i, r in enumerate(rows) if any(isinstance(v, str) and v.strip().lower() in words for v in r[:2])}
    return labelled | set(block.emphasis or [])


def highlight_cells(
    block: Table, columns: list[OutColumn], rows: list[tuple[Any, ...]], language: str = "en"
) -> dict[tuple[int, int], str]:
    names = [c.name for c in columns]
    out: dict[tuple[int, int], str] = {}
    skip = summary_rows(block, rows, language)
    for h in block.highlight or []:
        if h.column not in names:
            continue
        k = names.index(h.column)
        nums = [
            (r[k], i)
            for i, r in enumerate(rows)
            if isinstance(r[k], int | float) and not isinstance(r[k], bool) and i not in skip
        ]
        if h.op in ("top", "bottom"):
            picked = sorted(nums, key=lambda x: x[0], reverse=h.op == "top")[: int(h.value)]
            hits = {i for _, i in picked}
        else:
            test = {"gt": float.__gt__, "lt": float.__lt__, "ge": float.__ge__, "le": float.__le__, "eq": float.__eq__}
            hits = {i for v, i in nums if test[h.op](float(v), float(h.value))}  # a param is resolved by bind
        for i in hits:
            out.setdefault((i, k), h.style)  # the first rule that matches a cell wins
    return out


def additive(c: OutColumn) -> bool:
    if c.select is None:
        return c.measure  # literal numeric column
    return c.additive


def clip(text: str) -> str:
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def formula_text(value: str) -> str:
    """`value` as an Excel string literal: the one way any text enters a formula.

    A doubled quote is the only escape Excel has, so nothing inside can close the literal;
    what no literal can carry (control characters, over 255 characters) raises ValueError
    and the caller writes the value instead of a formula.
    """
    if len(value) > MAX_FORMULA_TEXT:
        raise ValueError(f"text over {MAX_FORMULA_TEXT} characters cannot be a formula literal")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000 for ch in value):
        raise ValueError("control characters cannot be a formula literal")
    return '"' + value.replace('"', '""') + '"'


def table_data(block: Table, bound: Bound, index: int) -> TableData:
    res = bound.results[index]
    formats = block.formats or [None] * len(res.columns)
    columns = [
        column_format(c, [r[k] for r in res.rows], f)
        for k, (c, f) in enumerate(zip(res.columns, formats, strict=False))
    ]
    numeric = [c.type in NUMERIC for c in columns]
    rows = [[clip(bound.fmt(v, c)) for v, c in zip(r, columns, strict=True)] for r in res.rows]
    totals = total_values = None
    if block.totals and res.rows and any(additive(c) for c in columns):
        total_values = []
        for i, c in enumerate(columns):
            if additive(c):
                total_values.append(sum(r[i] for r in res.rows if isinstance(r[i], int | float)))
            else:
                total_values.append(None)
        label = phrase(bound.plan.meta.language, "total")
        totals = [bound.fmt(v, c) if v is not None else "" for v, c in zip(total_values, columns, strict=True)]
        first_text = next((k for k, c in enumerate(columns) if not additive(c)), None)
        if first_text is not None:  # the label goes in the first column that has no sum
            totals[first_text] = label
            total_values[first_text] = label
    return TableData(
        [bound.text(c.name) for c in columns],
        columns,
        rows,
        res.rows,
        numeric,
        totals,
        total_values,
        set(block.emphasis or []),
        highlight_cells(block, columns, res.rows, bound.plan.meta.language),
    )


def numbering(bound: Bound) -> dict[int, str]:
    """'Table 2' / 'Figure 1' (Tableau 2, 表 2 …) for every table and chart block."""
    language = bound.plan.meta.language
    names = (phrase(language, "table"), phrase(language, "figure"))
    counts = [0, 0]
    out = {}
    for i, b in enumerate(bound.plan.blocks):
        if isinstance(b, Table | Chart):
            k = 0 if isinstance(b, Table) else 1
            counts[k] += 1
            out[i] = f"{names[k]} {counts[k]}"
    return out


def period_text(block: Table | Chart, bound: Bound) -> str | None:
    """The dates a query's period covered: 2025 Q2; 2024 Q3 – 2025 Q2; 2025-01-01 – 2025-06-28 (to date)."""
    res = bound.results.get(bound.plan.blocks.index(block)) if block in bound.plan.blocks else None
    per = block.query.period if block.query is not None else None
    if res is None or res.period is None or per is None:
        return None
    start, end, inclusive = res.period
    language = bound.plan.meta.language
    bucket = None if inclusive else str(per.bucket or "day")
    if inclusive:
        return f"{format_value(start, language=language)} – {format_value(end, language=language)}"
    last = shift(end, bucket or "day", -1)
    first_text = format_value(start, bucket=bucket, language=language)
    last_text = format_value(last, bucket=bucket, language=language)
    return first_text if first_text == last_text else f"{first_text} – {last_text}"


def caption(block: Table | Chart, bound: Bound, label: str) -> str:
    language = bound.plan.meta.language
    text = f"{label}{phrase(language, 'caption_sep')}{bound.text(block.title)}"
    if shown := period_text(block, bound):
        wide = language.startswith(("zh", "ja"))
        text += f"（{shown}）" if wide else f" ({shown})"
    if block.caption:
        text = punctuate(text, language) + phrase(language, "space") + bound.text(block.caption)
    source = bound.source_of(block)
    if source:
        text = punctuate(text, language) + phrase(language, "space") + phrase(language, "source", source=source)
    return punctuate(text, language)


def kpi_texts(bound: Bound, metrics: list[str], fits: Callable[[str], bool]) -> list[str]:
    """A KPI row's values as formatted, or all in short form when any would not fit its card on
    one line (one row reads alike; the exact values stay in the tables and the workbook)."""
    full = [bound.metric_text.get(m, "–") for m in metrics]
    if all(fits(t) for t in full):
        return full
    meta, defs = bound.plan.meta, {m.name: m for m in bound.plan.metrics}
    out = []
    for name, text in zip(metrics, full, strict=True):
        value, m = bound.metrics.get(name), defs.get(name)
        if not isinstance(value, int | float) or m is None:
            out.append(text)
            continue
        out.append(short(value, metric_format(m), meta.currency, meta.language))
    return out


def punctuate(text: str, language: str = "en") -> str:
    """A caption ends with a full stop, so the source that follows reads as its own sentence."""
    text = text.rstrip()
    if text and text[-1] not in ".!?:;…。！？：":
        text += phrase(language, "full_stop")
    return text


def image_caption(block: Image, bound: Bound) -> str:
    return punctuate(bound.text(block.caption or ""), bound.plan.meta.language)


SHORT_KINDS = {DocKind.letter, DocKind.worksheet, DocKind.scorecard}  # read at once: no cover, no contents
MAX_PLAIN_PAGES = 3  # a document this short opens on its content


@dataclass(frozen=True)
class Front:
    """What comes before the content: a title page, a contents list."""

    cover: bool
    contents: bool


def front_matter(plan: Plan, pages: int | None = None) -> Front:
    """meta.cover and meta.contents as decided: a plan's true/false wins; "auto" leaves them out of
    letters, worksheets and scorecards and of documents of `pages` <= 3 (None: not yet known, kept)."""
    meta = plan.meta
    short = meta.kind in SHORT_KINDS or (pages is not None and pages <= MAX_PLAIN_PAGES)
    headings = any(isinstance(b, Heading) for b in plan.blocks)  # no headings, nothing to list
    cover = meta.cover if isinstance(meta.cover, bool) else not short
    contents = (meta.contents if isinstance(meta.contents, bool) else not short) and headings
    return Front(cover, contents)


def estimate_pages(bound: Bound) -> int:
    """A rough page count for formats that cannot count their pages (the PDF counts its own)."""
    pages = 0.0
    for i, b in enumerate(bound.plan.blocks):
        match b:
            case Paragraph() | Callout():
                pages += 0.04 + len(b.text) / 3000
            case Bullets():
                pages += 0.03 * len(b.items) * (1 + (b.lines or 0))
            case Table():
                res = bound.results.get(i)
                pages += 0.1 + 0.022 * (len(res.rows) if res else len(b.rows or []))
            case Chart() | Image() | Model():
                pages += 0.45
            case PageBreak():
                pages = float(int(pages) + 1)
            case Heading() | Kpis():
                pages += 0.06
            case _:
                assert_never(b)
    return int(pages) + 1


def by_length(plan: Plan) -> bool:
    """Whether the front matter waits for the page count (an "auto" that the kind does not settle)."""
    meta = plan.meta
    return meta.kind not in SHORT_KINDS and "auto" in (meta.cover, meta.contents)


def owner(meta: Meta) -> str:
    """Who the document is by: the plan's author, else the brand kit's organisation; never the product."""
    return meta.author or (meta.brand.organisation if meta.brand else None) or ""


def contents_title(language: str) -> str:
    return phrase(language, "contents")


def kpi_label(item: Kpi, metrics: dict[str, Metric]) -> str:
    """The line under a KPI's value: its own label, else its metric's label, else the metric's name."""
    metric = metrics.get(item.metric)
    return item.label or (metric.label if metric else item.metric)


def all_text(bound: Bound) -> list[str]:
    """Every string that will appear in the documents, for font coverage checks."""
    p = bound.plan
    out = [p.meta.title, p.meta.subtitle or "", p.meta.author or "", *(m.label for m in p.metrics)]
    for i, b in enumerate(p.blocks):
        out += [bound.text(t) for t in block_texts(b)]
        res = bound.results.get(i)
        if res:  # a table's or chart's header and text cells
            out += [c.name for c in res.columns]
            out += [str(v) for r in res.rows for v in r if isinstance(v, str)]
    return out


@dataclass
class ModelTable:
    """A model block as text: period header, one line per row, and the assumptions it uses."""

    title: str
    header: list[str]
    rows: list[tuple[str, list[str], str]]  # label, values as text, style
    assumptions: list[tuple[str, str, str]]  # label, value as text, note


def model_table(bound: Bound, index: int) -> ModelTable:
    mv = bound.models
    assert mv is not None
    block = mv.block(index)
    cur, lang = bound.plan.meta.currency, bound.plan.meta.language
    rows = [
        (r.label, [format_value(float(v), r.format, cur, language=lang) for v in mv.row(index, r.name)], str(r.style))
        for r in block.rows
    ]
    inputs = [(x.label, format_value(x.value, x.format, cur, language=lang), x.note or "") for x in block.inputs]
    return ModelTable(block.title, ["", *mv.labels(index)], rows, inputs)


def split_periods(data: ModelTable, per: int) -> list[ModelTable]:
    """The table cut into column groups of about `per` periods (balanced), each with the labels."""
    n = len(data.header) - 1
    groups = -(-n // max(1, per))
    size = -(-n // groups)
    out = []
    for a in range(0, n, size):
        rows = [(label, values[a : a + size], style) for label, values, style in data.rows]
        out.append(ModelTable(data.title, ["", *data.header[1 + a : 1 + a + size]], rows, data.assumptions))
    return out
