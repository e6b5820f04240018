"""What all three formats share: table cells as text, totals, numbering, captions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_never

from docagent.bind import Bound
from docagent.data.catalog import NUMERIC
from docagent.data.query import OutColumn
from docagent.formatting import format_value
from docagent.plan import Bullets, Callout, Chart, Heading, Kpi, Kpis, Metric, Model, PageBreak, Paragraph, Table

MAX_CELL_CHARS = 1000  # a longer cell is cut: a page cannot hold an unbounded row
WIDE_COLUMNS = 8  # a table with more columns gets a landscape page
CONTENTS = {"zh": "目录", "ja": "目次"}  # the contents page's title; English otherwise
ASSUMPTIONS = "Assumptions"  # the .xlsx sheet of model inputs, and their heading elsewhere
TOTAL_LABELS = {"zh": "合计", "ja": "合計", "de": "Gesamt", "fr": "Total", "es": "Total"}


@dataclass
class TableData:
    header: list[str]
    columns: list[OutColumn]
    rows: list[list[str]]
    values: list[tuple[Any, ...]]
    numeric: list[bool]
    totals: list[str] | None
    total_values: list[Any] | None


def additive(c: OutColumn) -> bool:
    if c.select is None:
        return c.measure  # literal numeric column
    return c.additive


def formula_text(text: str) -> str:
    """An Excel string literal: the only way text enters a formula."""
    return '"' + text.replace('"', '""') + '"'


def clip(text: str) -> str:
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def table_data(block: Table, bound: Bound, index: int) -> TableData:
    res = bound.results[index]
    numeric = [c.type in NUMERIC for c in res.columns]
    rows = [[clip(bound.fmt(v, c)) for v, c in zip(r, res.columns, strict=True)] for r in res.rows]
    totals = total_values = None
    if block.totals and res.rows and any(additive(c) for c in res.columns):
        total_values = []
        for i, c in enumerate(res.columns):
            if additive(c):
                total_values.append(sum(r[i] for r in res.rows if isinstance(r[i], int | float)))
            else:
                total_values.append(None)
        label = TOTAL_LABELS.get(bound.plan.meta.language[:2], "Total")
        totals = [bound.fmt(v, c) if v is not None else "" for v, c in zip(total_values, res.columns, strict=True)]
        if not additive(res.columns[0]):
            totals[0] = label
            total_values[0] = label
    return TableData(
        [bound.text(c.name) for c in res.columns],
        res.columns,
        rows,
        res.rows,
        numeric,
        totals,
        total_values,
    )


def numbering(bound: Bound) -> dict[int, str]:
    """'Table 2' / 'Figure 1' (or 表 2 / 图 1) for every table and chart block."""
    zh = bound.plan.meta.language.startswith("zh")
    names = ("表", "图") if zh else ("Table", "Figure")
    counts = [0, 0]
    out = {}
    for i, b in enumerate(bound.plan.blocks):
        if isinstance(b, Table | Chart):
            k = 0 if isinstance(b, Table) else 1
            counts[k] += 1
            out[i] = f"{names[k]} {counts[k]}"
    return out


def caption(block: Table | Chart, bound: Bound, label: str) -> str:
    zh = bound.plan.meta.language.startswith("zh")
    sep = "：" if zh else ". "
    text = f"{label}{sep}{bound.text(block.title)}"
    if block.caption:
        if not zh and text[-1] not in ".!?:":
            text += "."
        text += (" " if not zh else "") + bound.text(block.caption)
    source = bound.source_of(block)
    if source:
        text += f" {'来源' if zh else 'Source'}: {source}."
    return text


def contents_title(language: str) -> str:
    return CONTENTS.get(language[:2], "Contents")


def kpi_label(item: Kpi, metrics: dict[str, Metric]) -> str:
    """The line under a KPI's value: its own label, else its metric's label, else the metric's name."""
    metric = metrics.get(item.metric)
    return item.label or (metric.label if metric else item.metric)


def all_text(bound: Bound) -> list[str]:
    """Every string that will appear in the documents, for font coverage checks."""
    p = bound.plan
    out = [p.meta.title, p.meta.subtitle or "", p.meta.author or ""]
    for i, b in enumerate(p.blocks):
        match b:
            case Heading() | Paragraph():
                out.append(bound.text(b.text))
            case Bullets():
                out += [bound.text(x) for x in b.items]
            case Callout():
                out += [bound.text(b.text), b.title or ""]
            case Kpis():
                out += [k.label or "" for k in b.items]
                out += [m.label for m in p.metrics]
            case Table() | Chart():
                out += [b.title, b.caption or ""]
                res = bound.results.get(i)
                if res:
                    out += [c.name for c in res.columns]
                    out += [str(v) for r in res.rows for v in r if isinstance(v, str)]
            case Model():
                out += [
                    b.title,
                    *(r.label for r in b.rows),
                    *(x.label for x in b.inputs),
                    *(x.note or "" for x in b.inputs),
                ]
            case PageBreak():
                pass
            case _:
                assert_never(b)
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
    cur = bound.plan.meta.currency
    rows = [
        (r.label, [format_value(float(v), r.format, cur) for v in mv.row(index, r.name)], str(r.style))
        for r in block.rows
    ]
    inputs = [(x.label, format_value(x.value, x.format, cur), x.note or "") for x in block.inputs]
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
