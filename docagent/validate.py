"""Semantic checks of a plan against the actual datasets.

Every problem is collected (not just the first) and worded so that a person or
a model can fix it: where it is, what is wrong, what would be valid.
"""

from __future__ import annotations

from typing import assert_never

from docagent.data.catalog import NUMERIC, TEMPORAL, Catalog, Dataset
from docagent.data.query import output_columns, output_name
from docagent.errors import PlanError
from docagent.plan import (
    Agg,
    Block,
    Bullets,
    Callout,
    Chart,
    ChartKind,
    Filter,
    Heading,
    Kpis,
    Metric,
    Op,
    PageBreak,
    Paragraph,
    Period,
    Plan,
    Query,
    Table,
    placeholders,
)

NUMERIC_AGGS = {Agg.sum, Agg.avg, Agg.median}
ORDERED_OPS = {Op.gt, Op.ge, Op.lt, Op.le}


def _names(ds: Dataset) -> str:
    return ", ".join(f"{c.name!r} ({c.type})" for c in ds.columns)


def _dataset(catalog: Catalog, name: str, where: str, out: list[str]) -> Dataset | None:
    ds = catalog.get(name)
    if ds is None:
        known = ", ".join(repr(n) for n in catalog.datasets) or "none"
        out.append(f"{where}: unknown dataset {name!r}; available: {known}")
    return ds


def _agg_fits(agg: Agg, column: str | None, ds: Dataset, where: str, out: list[str]) -> bool:
    if column is None:
        if agg != Agg.count:
            out.append(f"{where}: {agg} needs a column (only count may omit it)")
            return False
        return True
    col = ds.column(column)
    if col is None:
        out.append(f"{where}: column {column!r} does not exist in {ds.name!r}; columns: {_names(ds)}")
        return False
    if agg in NUMERIC_AGGS and col.type not in NUMERIC:
        out.append(
            f"{where}: cannot {agg} column {column!r} of type {col.type}; "
            f"{agg} needs a number column (use count or count_distinct)"
        )
        return False
    if agg in (Agg.min, Agg.max) and col.type not in NUMERIC + TEMPORAL:
        out.append(f"{where}: {agg} of {column!r} ({col.type}) needs a number or date column")
        return False
    return True


def _filters(filters: list[Filter], ds: Dataset, where: str, out: list[str]) -> None:
    for f in filters:
        col = ds.column(f.column)
        if col is None:
            out.append(f"{where}: filter on unknown column {f.column!r}; columns: {_names(ds)}")
            continue
        if f.op in ORDERED_OPS and col.type not in NUMERIC + TEMPORAL:
            out.append(f"{where}: filter {f.op} on {f.column!r} ({col.type}) needs a number or date")
        if f.op in (Op.in_, Op.not_in) and not f.values:
            out.append(f"{where}: filter {f.op} on {f.column!r} needs a non-empty 'values' list")


def check_query(q: Query, catalog: Catalog, where: str, out: list[str]) -> list[str] | None:
    """Problems go to `out`; returns the output column names when the query is sound."""
    ds = _dataset(catalog, q.dataset, where, out)
    if ds is None:
        return None
    before = len(out)
    for s in q.select:
        w = f"{where}, select {output_name(s)!r}"
        if s.agg is not None:
            _agg_fits(Agg(s.agg), s.column, ds, w, out)
            if s.bucket:
                out.append(f"{w}: bucket applies to group keys, not to aggregated values")
            continue
        col = ds.column(s.column) if s.column else None
        if s.column is None:
            out.append(f"{w}: a select item without agg needs a column")
        elif col is None:
            out.append(f"{w}: column {s.column!r} does not exist in {ds.name!r}; columns: {_names(ds)}")
        elif s.bucket and col.type not in TEMPORAL:
            out.append(
                f"{w}: cannot bucket by {s.bucket} on {s.column!r} ({col.type}); time buckets need a date column"
            )
    _filters(q.filters, ds, where, out)
    names = [output_name(s) for s in q.select]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        out.append(f"{where}: output names must be unique; give a label to: {sorted(dupes)}")
    for order in q.sort:
        if order.by not in names:
            out.append(f"{where}: sort by {order.by!r} is not an output name; outputs: {names}")
    return names if len(out) == before else None


def _check_metric(m: Metric, catalog: Catalog, out: list[str]) -> None:
    where = f"metric {m.name!r}"
    ds = _dataset(catalog, m.dataset, where, out)
    if ds is None:
        return
    _agg_fits(Agg(m.agg), m.column, ds, where, out)
    _filters(m.filters, ds, where, out)
    if m.period != Period.all:
        col = ds.column(m.time_column) if m.time_column else None
        if col is None or m.bucket is None:
            out.append(f"{where}: period {m.period} needs time_column (a date column) and bucket")
        elif col.type not in TEMPORAL:
            out.append(
                f"{where}: cannot bucket by {m.bucket} on {m.time_column!r} ({col.type}); "
                "time buckets need a date column"
            )


def _check_chart(b: Chart, names: list[str], types: dict[str, str], where: str, out: list[str]) -> None:
    for enc in [b.x, *b.y, *(b.y2 or [])]:
        if enc not in names:
            out.append(f"{where}: chart encodes {enc!r}, which is not a column of its data {names}")
            return
    for y in [*b.y, *(b.y2 or [])]:
        if types.get(y, "number") not in NUMERIC:
            out.append(f"{where}: chart value {y!r} must be numeric, it is {types[y]}")
    kind = ChartKind(b.kind)
    if kind in (ChartKind.pie, ChartKind.donut) and (len(b.y) != 1 or b.y2):
        out.append(f"{where}: a {kind} chart shows exactly one value series in y, and no y2")
    if kind == ChartKind.combo and not b.y2:
        out.append(f"{where}: a combo chart needs y2 (the line on the secondary axis)")
    if kind != ChartKind.combo and b.y2:
        out.append(f"{where}: y2 is only for combo charts")
    if kind == ChartKind.scatter and types.get(b.x, "number") not in NUMERIC:
        out.append(f"{where}: a scatter chart needs a numeric x, {b.x!r} is {types[b.x]}")


def _literal(b: Table | Chart, where: str, out: list[str]) -> list[str] | None:
    if b.query is not None and (b.rows is not None or b.columns is not None):
        out.append(f"{where}: give either query or literal columns/rows, not both")
        return None
    if b.query is None:
        if not b.columns or b.rows is None:
            out.append(f"{where}: needs a query, or literal columns and rows")
            return None
        bad = [i for i, r in enumerate(b.rows, 1) if len(r) != len(b.columns)]
        if bad:
            out.append(f"{where}: rows {bad[:5]} do not have {len(b.columns)} cells like columns")
        return list(b.columns)
    return None


def _check_data_block(b: Table | Chart, where: str, catalog: Catalog, out: list[str]) -> None:
    names = _literal(b, where, out)
    types: dict[str, str] = {}
    if b.query is not None:
        names = check_query(b.query, catalog, where, out)
        ds = catalog.get(b.query.dataset)
        if names is not None and ds is not None:
            types = {c.name: c.type for c in output_columns(b.query, ds)}
    if isinstance(b, Chart) and names is not None:
        if b.query is None:
            types = {n: "number" for n in names}
            types[b.x] = "text"
            if b.kind == ChartKind.scatter:
                types[b.x] = "number"
        _check_chart(b, names, types, where, out)


def _check_block(b: Block, where: str, catalog: Catalog, known: set[str], out: list[str]) -> list[str]:
    """Append the block's problems to `out`; returns its texts, whose placeholders must name metrics."""
    match b:
        case Heading() | Paragraph():
            return [b.text]
        case Bullets():
            return b.items
        case Callout():
            return [b.text, b.title or ""]
        case Kpis():
            for k in b.items:
                if k.metric not in known:
                    out.append(f"{where}: KPI refers to unknown metric {k.metric!r}; metrics: {sorted(known)}")
            return []
        case Table() | Chart():
            _check_data_block(b, where, catalog, out)
            return [b.title, b.caption or ""]
        case PageBreak():
            return []
        case _:
            assert_never(b)


def problems(plan: Plan, catalog: Catalog) -> list[str]:
    out: list[str] = []
    metric_names = [m.name for m in plan.metrics]
    for n in sorted({n for n in metric_names if metric_names.count(n) > 1}):
        out.append(f"metric name {n!r} is used twice")
    for m in plan.metrics:
        _check_metric(m, catalog, out)
    known = set(metric_names)
    for i, b in enumerate(plan.blocks, 1):
        where = f"block {i} ({b.type})"
        for t in _check_block(b, where, catalog, known, out):
            for p in placeholders(t):
                if p not in known:
                    out.append(
                        f"{where}: placeholder {{{p}}} does not name a metric; "
                        f"define it in metrics or use one of {sorted(known)}"
                    )
    return out


def validate(plan: Plan, catalog: Catalog) -> Plan:
    found = problems(plan, catalog)
    if found:
        raise PlanError(found)
    return plan
