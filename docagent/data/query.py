"""Compile bindings (`Query`, `Metric`) to parameterised SQL and run them.

Identifiers are quoted, user values are parameters; nothing a model writes is
pasted into SQL. Callers validate plans first (`docagent.validate`); compiling an
unvalidated binding raises `QueryError`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from docagent.data.catalog import Catalog, Dataset
from docagent.data.sql import quote
from docagent.errors import QueryError
from docagent.plan import Agg, Filter, Fmt, Metric, Op, Period, Query, Select

AGG_SQL = {
    Agg.sum: "sum({})",
    Agg.avg: "avg({})",
    Agg.min: "min({})",
    Agg.max: "max({})",
    Agg.count: "count({})",
    Agg.count_distinct: "count(DISTINCT {})",
    Agg.median: "median({})",
}
OP_SQL = {Op.eq: "=", Op.ne: "<>", Op.gt: ">", Op.ge: ">=", Op.lt: "<", Op.le: "<="}


@dataclass
class OutColumn:
    name: str
    type: str  # integer | number | date | datetime | boolean | text
    format: Fmt | None = None
    bucket: str | None = None
    measure: bool = False
    select: Select | None = None


@dataclass
class Result:
    columns: list[OutColumn]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    sql: str = ""

    def column(self, name: str) -> list[Any]:
        i = [c.name for c in self.columns].index(name)
        return [r[i] for r in self.rows]


def output_name(s: Select) -> str:
    if s.label:
        return s.label
    if s.agg is None:
        return s.column or "value"
    return str(s.agg) if s.column is None else f"{s.agg}_{s.column}"


def output_columns(q: Query, ds: Dataset) -> list[OutColumn]:
    out = []
    for s in q.select:
        col = ds.column(s.column) if s.column else None
        if s.column and col is None:
            raise QueryError(f"dataset {ds.name!r} has no column {s.column!r}")
        base = col.type if col else "integer"
        if s.agg in (Agg.count, Agg.count_distinct):
            t = "integer"
        elif s.agg in (Agg.avg, Agg.median) or (s.agg == Agg.sum and base == "number"):
            t = "number"
        else:
            t = base
        out.append(OutColumn(output_name(s), t, s.format, s.bucket, s.agg is not None, s))
    return out


def _expr(s: Select) -> str:
    col = quote(s.column) if s.column else "*"
    if s.bucket:
        col = f"date_trunc('{s.bucket}', {col})"
    return AGG_SQL[Agg(s.agg)].format(col) if s.agg else col


def _where(filters: list[Filter]) -> tuple[str, list[Any]]:
    parts, params = [], []
    for f in filters:
        col, op = quote(f.column), Op(f.op)
        if op in OP_SQL:
            parts.append(f"{col} {OP_SQL[op]} ?")
            params.append(f.value)
        elif op in (Op.in_, Op.not_in):
            values = f.values or []
            if not values:
                parts.append("FALSE" if op == Op.in_ else "TRUE")
                continue
            marks = ", ".join("?" for _ in values)
            parts.append(f"{col} {'NOT IN' if op == Op.not_in else 'IN'} ({marks})")
            params.extend(values)
        elif op == Op.contains:
            parts.append(f"CAST({col} AS VARCHAR) ILIKE ? ESCAPE '\\'")
            text = str(f.value or "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{text}%")
        else:
            parts.append(f"{col} IS {'NOT ' if op == Op.not_null else ''}NULL")
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def compile_query(q: Query, ds: Dataset) -> tuple[str, list[Any]]:
    cols = output_columns(q, ds)
    select = ", ".join(f"{_expr(s)} AS {quote(c.name)}" for s, c in zip(q.select, cols, strict=True))
    where, params = _where(q.filters)
    sql = f"SELECT {select} FROM {quote(ds.table)}{where}"
    keys = [i for i, s in enumerate(q.select, 1) if s.agg is None]
    if any(s.agg for s in q.select) and keys:
        sql += " GROUP BY " + ", ".join(str(i) for i in keys)
    names = [c.name for c in cols]
    order = []
    for s in q.sort:
        if s.by not in names:
            raise QueryError(f"sort by {s.by!r}: not an output column ({', '.join(names)})")
        order.append(f"{quote(s.by)} {'DESC' if s.desc else 'ASC'} NULLS LAST")
    if not order and keys and any(s.agg for s in q.select):
        order = [str(i) for i in keys]  # deterministic output for group-bys
    if order:
        sql += " ORDER BY " + ", ".join(order)
    sql += f" LIMIT {int(q.limit or 100000)}"
    return sql, params


def run_query(catalog: Catalog, q: Query) -> Result:
    ds = catalog.get(q.dataset)
    if ds is None:
        raise QueryError(f"no dataset named {q.dataset!r}")
    sql, params = compile_query(q, ds)
    try:
        rows = catalog.con.execute(sql, params).fetchall()
    except Exception as e:  # duckdb raises many kinds (conversion, binder)
        raise QueryError(f"query on {q.dataset!r} failed: {str(e).splitlines()[0]}") from None
    return Result(output_columns(q, ds), rows, sql)


def _bucket_bound(m: Metric, ds: Dataset, which: str) -> tuple[str, list[Any]]:
    assert m.time_column and m.bucket
    t = f"date_trunc('{m.bucket}', {quote(m.time_column)})"
    where, params = _where(m.filters)
    inner = f"SELECT {which}({t}) FROM {quote(ds.table)}{where}"
    return f"{t} = ({inner})", params


def _metric_value(catalog: Catalog, m: Metric, ds: Dataset, period: str) -> float | None:
    col = quote(m.column) if m.column else "*"
    where, params = _where(m.filters)
    if period in ("first", "last"):
        cond, p2 = _bucket_bound(m, ds, "min" if period == "first" else "max")
        where = (where + " AND " if where else " WHERE ") + cond
        params = params + p2
    assert m.agg is not None  # validated: a dataset metric has one
    sql = f"SELECT {AGG_SQL[Agg(m.agg)].format(col)} FROM {quote(ds.table)}{where}"
    try:
        row = catalog.con.execute(sql, params).fetchone()
    except Exception as e:
        raise QueryError(f"metric {m.name!r} failed: {str(e).splitlines()[0]}") from None
    value = row[0] if row else None
    if isinstance(value, dt.date | dt.datetime) or value is None:
        return None
    return float(value)


def run_metric(catalog: Catalog, m: Metric) -> float | None:
    if m.dataset is None:
        raise QueryError(f"metric {m.name!r} reads no dataset")
    ds = catalog.get(m.dataset)
    if ds is None:
        raise QueryError(f"no dataset named {m.dataset!r}")
    if m.period != Period.change:
        return _metric_value(catalog, m, ds, str(m.period))
    first = _metric_value(catalog, m, ds, "first")
    last = _metric_value(catalog, m, ds, "last")
    if first in (None, 0) or last is None:
        return None
    return (last - first) / abs(first)


__all__ = [
    "OutColumn",
    "Result",
    "compile_query",
    "output_name",
    "run_metric",
    "run_query",
]
