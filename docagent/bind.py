"""Compute every binding of a validated plan once; all renderers share the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docagent.data.catalog import Catalog, Column
from docagent.data.query import OutColumn, Result, run_metric, run_query
from docagent.data.sql import quote
from docagent.formatting import fill, format_value
from docagent.images import ImageFile
from docagent.plan import Chart, Fmt, Plan, Table

DATA_SHEET_ROWS = 100_000  # rows copied into the workbook's data sheets


@dataclass
class DataSheet:
    name: str
    source: str
    columns: list[Column]
    rows: list[tuple[Any, ...]]
    total_rows: int

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.total_rows


@dataclass
class Bound:
    plan: Plan
    metrics: dict[str, float | None] = field(default_factory=dict)
    metric_text: dict[str, str] = field(default_factory=dict)
    results: dict[int, Result] = field(default_factory=dict)  # by block index
    data: dict[str, DataSheet] = field(default_factory=dict)  # datasets the plan reads
    images: dict[str, ImageFile] = field(default_factory=dict)  # image files given with the job

    def text(self, s: str) -> str:
        return fill(s, self.metric_text)

    def fmt(self, value: Any, col: OutColumn) -> str:
        return format_value(value, col.format, self.plan.meta.currency, col.bucket)

    def source_of(self, block: Table | Chart) -> str | None:
        if block.query is None:
            return None
        sheet = self.data.get(block.query.dataset)
        return sheet.source if sheet else block.query.dataset


def _literal(block: Table | Chart) -> Result:
    columns = list(block.columns or [])
    rows = [tuple(r) for r in block.rows or []]
    out = []
    for i, name in enumerate(columns):
        values = [r[i] for r in rows if i < len(r) and r[i] is not None]
        numeric = bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        out.append(OutColumn(name, "number" if numeric else "text", None, None, numeric))
    return Result(out, rows)


def bind(plan: Plan, catalog: Catalog) -> Bound:
    bound = Bound(plan, images=dict(catalog.images))
    currency = plan.meta.currency
    for m in plan.metrics:
        value = run_metric(catalog, m)
        bound.metrics[m.name] = value
        fmt = Fmt.percent if m.period == "change" and m.format == Fmt.number else m.format
        bound.metric_text[m.name] = format_value(value, fmt, currency)
    used: set[str] = {m.dataset for m in plan.metrics}
    for i, b in enumerate(plan.blocks):
        if isinstance(b, Table | Chart):
            if b.query is None:
                bound.results[i] = _literal(b)
            else:
                bound.results[i] = run_query(catalog, b.query)
                used.add(b.query.dataset)
    for name in sorted(used):
        ds = catalog.get(name)
        if ds is None:
            continue
        rows = catalog.con.execute(f"SELECT * FROM {quote(ds.table)} LIMIT {DATA_SHEET_ROWS}").fetchall()
        bound.data[name] = DataSheet(name, ds.source, ds.columns, rows, ds.rows)
    return bound
