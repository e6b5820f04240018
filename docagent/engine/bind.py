"""Compute every binding of a validated plan once; all renderers share the result."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from docagent.engine.data.catalog import Catalog, Column
from docagent.engine.data.metrics import Window, metric_windows, partial_period, run_metric
from docagent.engine.data.query import OutColumn, Result, run_query
from docagent.engine.data.sql import quote
from docagent.engine.finance.bind import ModelValues, bind_models
from docagent.engine.formatting import fill, format_value
from docagent.engine.i18n import phrase
from docagent.engine.images import ImageFile
from docagent.engine.measures import resolve
from docagent.engine.plan import Callout, Chart, Fmt, Metric, Plan, Table

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
    windows: dict[str, tuple[Window | None, Window | None]] = field(default_factory=dict)  # periods, for formulas
    results: dict[int, Result] = field(default_factory=dict)  # by block index
    data: dict[str, DataSheet] = field(default_factory=dict)  # datasets the plan reads
    images: dict[str, ImageFile] = field(default_factory=dict)  # image files given with the job
    models: ModelValues | None = None  # the evaluated model blocks, when the plan has any
    notes: list[str] = field(default_factory=list)  # what a reader should know about the figures

    def text(self, s: str) -> str:
        return fill(s, self.metric_text)

    def fmt(self, value: Any, col: OutColumn) -> str:
        return format_value(value, col.format, self.plan.meta.currency, col.bucket, self.plan.meta.language)

    def source_of(self, block: Table | Chart) -> str | None:
        if block.query is None:
            return None
        names = [block.query.dataset, *block.query.union, *(j.dataset for j in block.query.join)]
        return ", ".join(self.data[n].source if n in self.data else n for n in names)


def _literal(block: Table | Chart) -> Result:
    columns = list(block.columns or [])
    rows = [tuple(r) for r in block.rows or []]
    out = []
    for i, name in enumerate(columns):
        values = [r[i] for r in rows if i < len(r) and r[i] is not None]
        numeric = bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        out.append(OutColumn(name, "number" if numeric else "text", None, None, numeric))
    return Result(out, rows)


def metric_format(m: Metric) -> Fmt:
    """A change is a ratio: shown as a percentage unless the plan says otherwise; the difference of
    two percentages is in percentage points."""
    ratio = m.period == "change" or (m.compare is not None and m.result == "pct_change")
    if m.compare is not None and m.result == "diff" and m.format == Fmt.percent:
        return Fmt.pp
    return Fmt.percent if ratio and m.format == Fmt.number else Fmt(m.format)


def widen(block: Chart, res: Result) -> tuple[Chart, Result]:
    """Long rows (x, series, y) to one column per series value, in order of first appearance."""
    names = [c.name for c in res.columns]
    xi, si, yi = names.index(block.x), names.index(block.series or ""), names.index(block.y[0])
    xs: dict[Any, dict[str, Any]] = {}
    series: dict[str, None] = {}
    ycol = res.columns[yi]
    for r in res.rows:
        label = "–" if r[si] is None else str(r[si])
        series.setdefault(label)
        xs.setdefault(r[xi], {})[label] = r[yi]
    cols = [res.columns[xi]] + [
        OutColumn(s, ycol.type, ycol.format, None, True, ycol.select, ycol.additive) for s in series
    ]
    rows = [(x, *(v.get(s) for s in series)) for x, v in xs.items()]
    wide = block.model_copy(update={"y": list(series) or block.y, "series": None})
    return wide, Result(cols, rows, res.sql, wide=True, period=res.period)


def _stated(plan: Plan) -> Plan:
    """The request's own numbers (params) listed at the end, so a reader sees what the figures are held against."""
    if not plan.params:
        return plan
    meta = plan.meta
    text = "; ".join(
        f"{p.label}: {format_value(p.value, p.format, meta.currency, language=meta.language)}" for p in plan.params
    )
    note = Callout(style="info", title=phrase(meta.language, "assumptions"), text=text + ".")
    return plan.model_copy(update={"blocks": [*plan.blocks, note]})


def pivot(block: Table, res: Result, language: str) -> Result:
    """Long rows (keys, pivot key, one value) to one column per pivot value, in the order they first
    appear (the query's natural order of its keys); with totals, a total column when the value adds up."""
    names = [c.name for c in res.columns]
    pi = names.index(block.pivot or "")
    vi = next(k for k, c in enumerate(res.columns) if c.measure)
    keys = [k for k, c in enumerate(res.columns) if not c.measure and k != pi]
    pcol, vcol = res.columns[pi], res.columns[vi]
    values: dict[Any, None] = {}
    cells: dict[tuple[Any, ...], dict[Any, Any]] = {}
    for r in res.rows:
        values.setdefault(r[pi])
        cells.setdefault(tuple(r[k] for k in keys), {})[r[pi]] = r[vi]
    source = pcol.select.column if pcol.select else None
    cols = [res.columns[k] for k in keys] + [
        replace(
            vcol,
            name=format_value(v, None, bucket=pcol.bucket, language=language),
            pivot=(source, pcol.bucket, v),
        )
        for v in values
    ]
    rows = [(*key, *(row.get(v) for v in values)) for key, row in cells.items()]
    if block.totals and (vcol.additive or vcol.time):  # a stock adds up across its other keys
        cols.append(replace(vcol, name=phrase(language, "total"), pivot=(), additive=vcol.additive))
        rows = [(*r, sum(x for x in r[len(keys) :] if isinstance(x, int | float))) for r in rows]
    return Result(cols, rows, res.sql, wide=True, period=res.period)


def bind(plan: Plan, catalog: Catalog, sheets: bool = True) -> Bound:
    """sheets=False skips the data sheets a workbook copies (a burst's filled templates never show them)."""
    widened = {}
    plan = _stated(resolve(plan)[0])  # measures and params written out; validation reported what did not resolve
    bound = Bound(plan, images=dict(getattr(catalog, "images", {})))  # a model-only plan has no catalog
    currency = plan.meta.currency
    for p in plan.params:
        bound.metric_text[p.name] = format_value(p.value, p.format, currency, language=plan.meta.language)
    bound.models = bind_models(bound)  # model cells, model metrics and model charts
    for m in plan.metrics:
        if m.model is not None:
            continue
        value = run_metric(catalog, m)
        bound.metrics[m.name] = value
        bound.windows[m.name] = metric_windows(catalog, m)
        if note := partial_period(catalog, m):
            bound.notes.append(note)
        bound.metric_text[m.name] = format_value(value, metric_format(m), currency, language=plan.meta.language)
    used: set[str] = {m.dataset for m in plan.metrics if m.dataset}
    for i, b in enumerate(plan.blocks):
        if isinstance(b, Chart) and b.model is not None:
            continue
        if isinstance(b, Table | Chart):
            if b.query is None:
                bound.results[i] = _literal(b)
            else:
                bound.results[i] = run_query(catalog, b.query)
                used.add(b.query.dataset)
                used.update(j.dataset for j in b.query.join)
                used.update(b.query.union)
            if isinstance(b, Chart) and b.series and b.query is not None:
                widened[i], bound.results[i] = widen(b, bound.results[i])
            if isinstance(b, Table) and b.pivot and b.query is not None:
                bound.results[i] = pivot(b, bound.results[i], plan.meta.language)
    if widened:  # renderers draw the wide form: one y per series value
        blocks = [widened.get(i, b) for i, b in enumerate(plan.blocks)]
        bound.plan = plan.model_copy(update={"blocks": blocks})
    for name in sorted(used) if sheets else ():
        ds = catalog.get(name)
        if ds is None:
            continue
        # the first rows in file order (tables are stored in it); a LIMIT alone takes whichever a thread reads first
        rows = catalog.con.execute(f"SELECT * FROM {quote(ds.table)} ORDER BY rowid LIMIT {DATA_SHEET_ROWS}").fetchall()
        bound.data[name] = DataSheet(name, ds.source, ds.columns, rows, ds.rows)
    return bound
