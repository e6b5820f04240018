"""Compile bindings (`Query`) to parameterised SQL and run them.

Identifiers are quoted, user values are parameters; nothing a model writes is
pasted into SQL. Callers validate plans first (`docagent.engine.validate`, which asks
`query_problems`); compiling an unsound binding raises `QueryError`.

The SQL has one shape: `g` groups (with joins and filters), `t` computes the
transforms over the whole grouped result with window functions, and the outer
SELECT orders and limits, or folds the rows past the limit into "Other".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from docagent.engine.data.catalog import NUMERIC, TEMPORAL, Catalog, Column, Dataset
from docagent.engine.data.expressions import Compiled, ExprProblem, Scope, compile_expr
from docagent.engine.data.sql import quote
from docagent.engine.plan import Agg, Filter, Fmt, Op, Query, Select, Sort, Span, Transform
from docagent.errors import ExprError, QueryError

AGG_SQL = {
    Agg.sum: "sum({})",
    Agg.avg: "avg({})",
    Agg.min: "min({})",
    Agg.max: "max({})",
    Agg.count: "count({})",
    Agg.count_distinct: "count(DISTINCT {})",
    Agg.median: "median({})",
}
STOCKS = (Agg.last, Agg.first)  # the value at the latest (earliest) time of each output row, summed
STOCK_TIME = {Agg.last: quote("__docagent_last"), Agg.first: quote("__docagent_first")}
OP_SQL = {Op.eq: "=", Op.ne: "<>", Op.gt: ">", Op.ge: ">=", Op.lt: "<", Op.le: "<="}
OTHER = "Other"
ROW = quote("__docagent_row")
YEAR_BACK = {"week": "INTERVAL 52 WEEK"}  # the same ISO week a year earlier; every other bucket: 1 year
ADDITIVE_TRANSFORMS = (Transform.share,)
INTERVAL = {"day": "to_days({})", "week": "to_weeks({})", "month": "to_months({})", "year": "to_years({})"}


# Periods held as text: 2025-03 (a month), 2025 Q1 / 2025-Q1 (a quarter); fixed patterns, not plan text.
_MONTH_TEXT = "try_strptime({x}, '%Y-%m')"
_QUARTER_TEXT = (
    "make_date(TRY_CAST(regexp_extract({x}, '^(\\d{{4}})\\s*-?\\s*Q([1-4])$', 1) AS INTEGER), "
    "TRY_CAST(regexp_extract({x}, '^(\\d{{4}})\\s*-?\\s*Q([1-4])$', 2) AS INTEGER) * 3 - 2, 1)"
)


def time_sql(sql: str, typ: str) -> str | None:
    """A column as a date for periods and buckets: dates as they are, an integer year as its 1 January,
    "2025-03" and "2025 Q1" text as the first day of their month or quarter; None for anything else."""
    if typ in TEMPORAL:
        return sql
    if typ == "integer":
        return f"make_date({sql}, 1, 1)"
    if typ == "text":
        text = f"CAST({sql} AS VARCHAR)"
        return f"CAST(coalesce({_MONTH_TEXT.format(x=text)}, {_QUARTER_TEXT.format(x=text)}) AS DATE)"
    return None


def interval(bucket: str, n: int) -> str:
    """n buckets as a DuckDB interval; n is a validated int, so formatting it is not pasting text."""
    if bucket == "quarter":
        return f"to_months({3 * int(n)})"
    return INTERVAL[bucket].format(int(n))


@dataclass
class OutColumn:
    name: str
    type: str  # integer | number | date | datetime | boolean | text
    format: Fmt | None = None
    bucket: str | None = None
    measure: bool = False
    select: Select | None = None
    additive: bool = False  # values add up (sums, counts, shares): totals and "Other" rows may sum them
    order: list[str] | None = None  # natural order of an ordinal text key
    source: str | None = None  # the dataset column a key reads
    time: str | None = None  # last/first: the time column whose latest (earliest) value is taken
    pivot: tuple[Any, ...] | None = None  # a pivoted column: (key column, bucket, key value); () for the total


@dataclass
class Result:
    columns: list[OutColumn]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    sql: str = ""
    folded: bool = False  # the last row is the "Other" row
    wide: bool = False  # pivoted for a chart's series: one value column per series
    period: tuple[Any, Any, bool] | None = None  # the dates a query's period covers (start, end, inclusive)

    def column(self, name: str) -> list[Any]:
        i = [c.name for c in self.columns].index(name)
        return [r[i] for r in self.rows]


def output_name(s: Select) -> str:
    if s.label:
        return s.label
    if s.expr is not None:
        return "value"
    if s.agg is None:
        return s.column or "value"
    return str(s.agg) if s.column is None else f"{s.agg}_{s.column}"


UNION = quote("__docagent_union")
UNION_KEY = "dataset"  # the column naming each stacked dataset


def view(q: Query, ds: Dataset) -> Dataset:
    """The dataset as the query sees it: unpivoted period columns become a key and a value;
    stacked datasets (union) add a text column naming each."""
    if q.union and ds.column(UNION_KEY) is None:
        names = [ds.name, *q.union]
        ds = replace(ds, columns=[*ds.columns, Column(UNION_KEY, "text", names)])
    u = q.unpivot
    if u is None or (ds.column(u.name) and not any(ds.column(c) for c in u.columns)):
        return ds
    wide = [c for c in ds.columns if c.name in u.columns]
    kind = "integer" if wide and all(c.type == "integer" for c in wide) else "number"
    keep = [c for c in ds.columns if c.name not in u.columns]
    cols = [*keep, Column(u.name, "text", list(u.columns)), Column(u.value, kind)]
    return replace(ds, columns=cols)


def union_sql(q: Query, ds: Dataset, catalog: Catalog | None) -> tuple[str, list[Any]]:
    """The stacked datasets as a CTE (`u`), matched by column name; their names are parameters."""
    if not q.union or catalog is None:
        return "", []
    tables = [ds.table, *(d.table for n in q.union if (d := catalog.get(n)) is not None)]
    parts = [f"SELECT *, ?::VARCHAR AS {quote(UNION_KEY)} FROM {quote(t)}" for t in tables]
    return f"{UNION} AS ({' UNION ALL BY NAME '.join(parts)}), ", [ds.name, *q.union]


def from_sql(q: Query, ds: Dataset) -> str:
    """The table, or DuckDB's UNPIVOT of it (identifiers quoted, nothing pasted)."""
    if q.union:
        return UNION
    if q.unpivot is None:
        return quote(ds.table)
    u = q.unpivot
    on = ", ".join(quote(c) for c in u.columns)
    return f"(UNPIVOT {quote(ds.table)} ON {on} INTO NAME {quote(u.name)} VALUE {quote(u.value)})"


def scope_of(q: Query, ds: Dataset, catalog: Catalog | None) -> Scope:
    ds = view(q, ds)
    joined = {j.dataset: catalog.get(j.dataset) for j in q.join} if catalog else {}
    found = {n: d for n, d in joined.items() if d is not None}
    aliases = {}
    if q.join:
        aliases = {ds.name: "t0"} | {n: f"t{i}" for i, n in enumerate(found, 1)}
    return Scope(ds, found, aliases)


class _Plan:
    """One query resolved against its datasets; `problems` lists what does not fit."""

    def __init__(self, q: Query, ds: Dataset, catalog: Catalog | None, time_column: str | None = None) -> None:
        self.q, self.ds = q, view(q, ds)
        self.union = union_sql(q, ds, catalog)
        self.scope = scope_of(q, ds, catalog)
        self.problems: list[str] = []
        self.stock_time = self._stock_time(time_column)
        self.sql: list[Compiled | None] = []
        self.columns: list[OutColumn] = []
        exprs = [self._compile(s, grouped=False) for s in q.select]
        self.grouped = any(s.agg for s in q.select) or any(c and c.aggregate for c in exprs)
        for s, c in zip(q.select, exprs, strict=True):
            if self.grouped and s.expr is not None and c is not None:
                c = self._compile(s, grouped=True)
            self.sql.append(c)
            self.columns.append(self._column(s, c))
        self.time_sql = self._period()
        keys = [c.name for c in self.columns if not c.measure]
        for s in q.select:
            if s.within is not None and s.within not in keys:
                self.problems.append(
                    f"{self.where(s)}: within names {s.within!r}, which is not a group key; group keys: {keys}"
                )

    def _period(self) -> str | None:
        """The period's time column as SQL, or None (with a problem when it does not fit)."""
        per = self.q.period
        if per is None:
            return None
        span = Span(per.span)
        if per.bucket is None and span != Span.to_date:
            self.problems.append(f"period {span}: needs bucket (day, week, month, quarter or year)")
        if span == Span.last_n and not (per.n and 1 <= per.n <= 120):
            self.problems.append("period last_n: needs n, the number of buckets (1-120)")
        if span != Span.last_n and per.n is not None:
            self.problems.append(f"period {span}: n is for last_n only; give null")
        found = self.scope.find(per.time_column)
        if found is None:
            self.problems.append(f"period: {self.scope.missing(per.time_column)}")
            return None
        sql = time_sql(self.scope.ref(per.time_column)[0], found[1].type)
        if sql is None:
            self.problems.append(
                f"period: time_column {per.time_column!r} is {found[1].type}; a period needs a date column, "
                "an integer year or text such as 2025-03 or 2025 Q1"
            )
        elif found[1].type == "integer" and per.bucket not in (None, "year"):
            self.problems.append(f"period: {per.time_column!r} holds years; its bucket is year")
        return sql

    def _stock_time(self, given: str | None) -> str | None:
        """The time column last/first read: a date group key, else the query's period, else `given`."""
        for s in self.q.select:
            if s.agg is None and s.expr is None and s.column:
                found = self.scope.find(s.column)
                if found is not None and (found[1].type in TEMPORAL or s.bucket):
                    return s.column
        return self.q.period.time_column if self.q.period is not None else given

    def where(self, s: Select) -> str:
        return f"select {output_name(s)!r}"

    def _compile(self, s: Select, grouped: bool) -> Compiled | None:
        try:
            if s.expr is not None:
                if s.agg is not None or s.column is not None or s.bucket is not None:
                    raise ExprProblem("give either expr, or column with agg/bucket, not both")
                c = compile_expr(s.expr, self.scope, grouped)
                if grouped and not c.aggregate:
                    raise ExprProblem(
                        f"expr {s.expr[:80]!r} has no aggregate, but other items aggregate; "
                        "write it as a measure, e.g. sum(a - b)"
                    )
                return c
            if s.column is None:
                if s.agg == Agg.count:
                    return Compiled("count(*)", [], "integer", True, True)
                raise ExprProblem(f"{s.agg or 'a group key'} needs a column (only count may omit it)")
            sql, col = self.scope.ref(s.column)
            if s.agg is None:
                if s.bucket:
                    when = time_sql(sql, col.type)
                    if when is None or (col.type == "integer" and s.bucket != "year"):
                        raise ExprProblem(
                            f"cannot bucket by {s.bucket} on {s.column!r} ({col.type}); time buckets need a date "
                            "column, an integer year (bucket year) or text such as 2025-03 or 2025 Q1"
                        )
                    sql = f"date_trunc('{s.bucket}', {when})"
                    if col.type != "datetime":  # DuckDB truncates to a timestamp; a date key stays a date
                        sql = f"CAST({sql} AS DATE)"
                    return Compiled(sql, [], "datetime" if col.type == "datetime" else "date", False, False)
                return Compiled(sql, [], col.type, False, False)
            agg = Agg(s.agg)
            if s.bucket:
                raise ExprProblem("bucket applies to group keys, not to aggregated values")
            if agg in STOCKS:
                return self._stock(agg, s, sql, col)
            if agg in (Agg.sum, Agg.avg, Agg.median) and col.type not in NUMERIC:
                raise ExprProblem(
                    f"cannot {agg} column {s.column!r} of type {col.type}; "
                    f"{agg} needs a number column (use count or count_distinct)"
                )
            if agg in (Agg.min, Agg.max) and col.type not in NUMERIC + TEMPORAL:
                raise ExprProblem(f"{agg} of {s.column!r} ({col.type}) needs a number or date column")
            if agg in (Agg.count, Agg.count_distinct):
                typ = "integer"
            elif agg in (Agg.avg, Agg.median) or (agg == Agg.sum and col.type == "number"):
                typ = "number"
            else:
                typ = col.type
            return Compiled(AGG_SQL[agg].format(sql), [], typ, True, agg in (Agg.sum, Agg.count))
        except ExprError as e:
            self.problems.append(f"{self.where(s)}: expression {e.message}")
        except ExprProblem as e:
            self.problems.append(f"{self.where(s)}: {e}")
        return None

    def stock_sql(self) -> str:
        assert self.stock_time is not None
        sql, col = self.scope.ref(self.stock_time)
        return time_sql(sql, col.type) or sql

    def _stock(self, agg: Agg, s: Select, sql: str, col: Column) -> Compiled:
        if col.type not in NUMERIC:
            raise ExprProblem(f"cannot take {agg} of {s.column!r} ({col.type}); {agg} needs a number column")
        if self.q.join or self.q.unpivot:
            raise ExprProblem(f"{agg} reads one dataset's dates; it cannot be used with join or unpivot")
        if self.stock_time is None:
            raise ExprProblem(
                f"{agg} takes the value at the {'latest' if agg == Agg.last else 'earliest'} date of each row: "
                "it needs a date group key (with a bucket) or the query's period"
            )
        t = self.stock_sql()
        typ = "number" if col.type == "number" else "integer"
        return Compiled(f"sum({sql}) FILTER (WHERE {t} = {STOCK_TIME[agg]})", [], typ, True, False)

    def _column(self, s: Select, c: Compiled | None) -> OutColumn:
        measure = c.aggregate if c is not None else bool(s.agg)
        typ = c.type if c is not None else "number"
        additive = bool(c and c.additive)
        if s.within is not None and s.transform is None:
            self.problems.append(f"{self.where(s)}: within applies to a transform (share, rank, pct_change, diff, ...)")
        if s.transform is not None:
            if not measure:
                self.problems.append(f"{self.where(s)}: transform {s.transform} applies to an aggregated value")
            additive = s.transform in ADDITIVE_TRANSFORMS
            if s.transform == Transform.rank:
                typ = "integer"
            elif s.transform != Transform.running_total:
                typ = "number"  # ratios and differences
        order = source = None
        if not measure and s.column is not None and not s.bucket:
            found = self.scope.find(s.column)
            if found is not None:
                order, source = found[1].order, s.column
        fmt = s.format
        if s.transform == Transform.diff and fmt == Fmt.percent:
            fmt = Fmt.pp  # the difference of two percentages is in points
        time = self.stock_time if s.agg in STOCKS else None
        return OutColumn(output_name(s), typ, fmt, s.bucket, measure, s, additive, order, source, time)

    @property
    def keys(self) -> list[OutColumn]:
        return [c for c in self.columns if not c.measure]

    def time_key(self) -> OutColumn | None:
        return next((c for c in self.keys if c.type in TEMPORAL), None)


def _where(filters: list[Filter], scope: Scope | None = None) -> tuple[str, list[Any]]:
    parts, params = [], []
    for f in filters:
        col = scope.ref(f.column)[0] if scope else quote(f.column)
        op = Op(f.op)
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


def _positioned(name: str, values: list[str], desc: bool) -> tuple[str, list[Any]]:
    """Order by position in an explicit list; values not listed follow, in their own order."""
    col = quote(name)
    pos = f"coalesce(list_position(?::VARCHAR[], CAST({col} AS VARCHAR)), {len(values) + 1})"
    way = "DESC" if desc else "ASC"
    return f"{pos} {way}, {col} {way} NULLS LAST", [list(values)]


def sort_spec(p: _Plan) -> list[tuple[str, list[Any]]]:
    """ORDER BY items over output names: explicit sorts, else the group keys (ordinal keys in natural order)."""
    by = {c.name: c for c in p.columns}
    items: list[Sort] = list(p.q.sort)
    if not items and p.grouped:
        if p.q.other and any(c.measure for c in p.columns):
            items = [Sort(by=next(c.name for c in p.columns if c.measure), desc=True)]
        else:
            items = [Sort(by=c.name) for c in p.keys]
    out = []
    for s in items:
        col = by.get(s.by)
        order = s.order or (col.order if col else None)
        if order:
            out.append(_positioned(s.by, order, s.desc))
        else:
            out.append((f"{quote(s.by)} {'DESC' if s.desc else 'ASC'} NULLS LAST", []))
    return out


def _joined(o: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    return ", ".join(s for s, _ in o), [v for _, ps in o for v in ps]


def _window(p: _Plan, c: OutColumn) -> tuple[str, list[Any]]:
    """The transformed value of measure column `c` over the grouped rows `g`."""
    m = quote(c.name)
    assert c.select is not None and c.select.transform is not None
    t = Transform(c.select.transform)
    tk = p.time_key()
    others = [quote(k.name) for k in p.keys if k is not tk]
    within = c.select.within
    if within is not None:  # one group's rows at a time: its share, its rank, its change
        if tk is not None and within == tk.name:
            tk = None
        others = [quote(within)]
    if t == Transform.share:
        part = f"PARTITION BY {quote(within)}" if within else ""
        return f"{m} / nullif(sum({m}) OVER ({part}), 0)", []
    if t == Transform.rank:
        if within is not None:
            return f"rank() OVER (PARTITION BY {quote(within)} ORDER BY {m} DESC NULLS LAST)", []
        part = f"PARTITION BY {quote(tk.name)} " if tk is not None and others else ""
        return f"rank() OVER ({part}ORDER BY {m} DESC NULLS LAST)", []
    if t == Transform.yoy_pct_change:
        assert tk is not None
        back = YEAR_BACK.get(tk.bucket or "", "INTERVAL 1 YEAR")
        tq = quote(tk.name)
        same = "".join(f" AND y.{k} IS NOT DISTINCT FROM g.{k}" for k in others)
        prev = f"(SELECT y.{m} FROM g AS y WHERE y.{tq} = g.{tq} - {back}{same})"
        return f"(g.{m} - {prev}) / nullif(abs({prev}), 0)", []
    if tk is not None:
        part = f"PARTITION BY {', '.join(others)} " if others else ""
        over, params = f"{part}ORDER BY {quote(tk.name)}", list[Any]()
    else:
        order, params = _joined(sort_spec(p))
        part = f"PARTITION BY {quote(within)} " if within else ""
        over = f"{part}ORDER BY {order}" if order else part
    if t == Transform.running_total:
        return f"sum({m}) OVER ({over} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)", params
    lag = f"lag({m}) OVER ({over})"
    if t == Transform.diff:
        return f"{m} - {lag}", params
    return f"({m} - {lag}) / nullif(abs({lag}), 0)", params * 2


def stock_from(table: str, keys: list[str], where: str, t: str) -> str:
    """Rows with the latest and earliest time of their output row (the keys' partition) beside them."""
    part = f"PARTITION BY {', '.join(keys)}" if keys else ""
    return (
        f"(SELECT *, max({t}) OVER ({part}) AS {STOCK_TIME[Agg.last]}, min({t}) OVER ({part}) AS "
        f"{STOCK_TIME[Agg.first]} FROM {table}{where})"
    )


def _from(p: _Plan) -> str:
    if not p.q.join:
        return from_sql(p.q, p.ds)
    sql = f"{from_sql(p.q, p.ds)} AS t0"
    for j in p.q.join:
        other = p.scope.joined[j.dataset]
        alias = p.scope.aliases[j.dataset]
        on = " AND ".join(f"t0.{quote(a)} = {alias}.{quote(b)}" for a, b in j.on)
        sql += f" {'LEFT' if j.how == 'left' else 'INNER'} JOIN {quote(other.table)} AS {alias} ON {on}"
    return sql


def _span(p: _Plan, where: str) -> tuple[str, str, bool] | None:
    """The period's start and end as SQL over the anchor (the latest time the filters keep); the two
    together name the anchor twice, so its parameters are the filters' twice."""
    per, t = p.q.period, p.time_sql
    if per is None or t is None:
        return None
    anchor = f"(SELECT max({t}) FROM {_from(p)}{where})"
    span, b = Span(per.span), str(per.bucket or "day")
    if span == Span.to_date:
        return f"date_trunc('year', {anchor})", anchor, True
    start = f"date_trunc('{b}', {anchor})"
    back = {Span.latest: 0, Span.previous: 1, Span.last_n: int(per.n or 1) - 1}.get(span)
    if back is None:  # year_ago: the same ISO week a year earlier, every other bucket 1 year
        start = f"({start} - {interval('week', 52) if b == 'week' else interval('year', 1)})"
    elif back:
        start = f"({start} - {interval(b, back)})"
    return start, f"({start} + {interval(b, int(per.n or 1) if span == Span.last_n else 1)})", False


def period_where(p: _Plan, where: str, params: list[Any]) -> tuple[str, list[Any]]:
    """The condition keeping the period's rows: a subquery over the same rows, so the SQL stays one statement."""
    found = _span(p, where)
    if found is None:
        return "", []
    start, end, inclusive = found
    return f"{p.time_sql} >= {start} AND {p.time_sql} {'<=' if inclusive else '<'} {end}", params * 2


def period_window(catalog: Catalog, q: Query) -> tuple[Any, Any, bool] | None:
    """The dates a query's period covers (start, end, end inclusive), for a caption; None without one."""
    ds = catalog.get(q.dataset)
    if q.period is None or ds is None:
        return None
    p = _Plan(q, ds, catalog)
    where, wparams = _where(q.filters, p.scope)
    found = _span(p, where) if not p.problems else None
    if found is None:
        return None
    union, uparams = p.union
    head = f"WITH {union.rstrip(', ')} " if union else ""
    sql = f"{head}SELECT CAST({found[0]} AS DATE), CAST({found[1]} AS DATE)"
    row = catalog.con.execute(sql, uparams + wparams * 2).fetchone()
    return (row[0], row[1], found[2]) if row and row[0] is not None else None


def compile_query(q: Query, ds: Dataset, catalog: Catalog | None = None) -> tuple[str, list[Any]]:
    p = _Plan(q, ds, catalog)
    if p.problems:
        raise QueryError(f"query on {q.dataset!r}: " + "; ".join(p.problems))
    return _sql(p)


def _sql(p: _Plan) -> tuple[str, list[Any]]:
    q = p.q
    select = ", ".join(f"{c.sql} AS {quote(o.name)}" for c, o in zip(p.sql, p.columns, strict=True) if c)
    params = [v for c in p.sql if c for v in c.params]
    try:
        where, wparams = _where(q.filters, p.scope)
    except ExprProblem as e:
        raise QueryError(f"query on {q.dataset!r}: {e}") from None
    span, sparams = period_where(p, where, wparams)
    if span:
        where = f"{where} AND {span}" if where else f" WHERE {span}"
    source_sql = f"{_from(p)}{where}"
    if any(c.time for c in p.columns) and p.stock_time:  # last/first: filter first, then find each row's time
        parts = [c for c, o in zip(p.sql, p.columns, strict=True) if c and not o.measure]
        t = p.stock_sql()
        source_sql = stock_from(_from(p), [c.sql for c in parts], where, t)
        params += [v for c in parts for v in c.params] * 2  # the keys partition both windows
    union, uparams = p.union
    sql = f"WITH {union}g AS (SELECT {select} FROM {source_sql}"
    params = uparams + params + wparams + sparams  # the union's names come first in the text
    keys = [i for i, c in enumerate(p.columns, 1) if not c.measure]
    if p.grouped and keys:
        sql += " GROUP BY " + ", ".join(str(i) for i in keys)
    sql += ")"
    source = "g"
    if any(c.select and c.select.transform for c in p.columns):
        items = []
        for c in p.columns:
            if c.select is not None and c.select.transform is not None:
                text, ps = _window(p, c)
                items.append(f"{text} AS {quote(c.name)}")
                params += ps
            else:
                items.append(f"g.{quote(c.name)}")
        sql += f", t AS (SELECT {', '.join(items)} FROM g)"
        source = "t"
    order, oparams = _joined(sort_spec(p))
    names = ", ".join(quote(c.name) for c in p.columns)
    if q.other and q.limit:
        n = int(q.limit)
        sql += f", r AS (SELECT *, row_number() OVER ({'ORDER BY ' + order if order else ''}) AS {ROW} FROM {source})"
        params += oparams
        rest = ", ".join("?" if not c.measure else f"sum({quote(c.name)})" for c in p.columns)
        params += [OTHER for c in p.columns if not c.measure]
        sql += (
            f" SELECT {names} FROM (SELECT {names}, {ROW} FROM r WHERE {ROW} <= {n}"
            f" UNION ALL SELECT {rest}, {n + 1} FROM r WHERE {ROW} > {n} HAVING count(*) > 0) ORDER BY {ROW}"
        )
        return sql, params
    sql += f" SELECT {names} FROM {source}"
    if order:
        sql += f" ORDER BY {order}"
        params += oparams
    sql += f" LIMIT {int(q.limit or 100000)}"
    return sql, params


def union_problems(q: Query, ds: Dataset, catalog: Catalog) -> list[str]:
    """Stacked datasets must exist and have the query's dataset's columns (in any order)."""
    out = []
    if q.union and q.unpivot:
        out.append("union: stack datasets, or unpivot one, not both in one query")
    if q.union and ds.column(UNION_KEY) is not None:
        out.append(f"union: {ds.name!r} already has a column {UNION_KEY!r}, which union would add")
    mine = {c.name for c in ds.columns}
    for name in q.union:
        other = catalog.get(name)
        if other is None or name == ds.name:
            why = "is the query's own dataset" if name == ds.name else "is not a dataset"
            out.append(f"union: {name!r} {why}; available: {', '.join(catalog.datasets)}")
        elif {c.name for c in other.columns} != mine:
            diff = sorted(mine ^ {c.name for c in other.columns})
            out.append(f"union: {name!r} must have the same columns as {ds.name!r}; differing: {diff}")
    return out


def unreadable_periods(catalog: Catalog, ds: Dataset, name: str) -> str | None:
    """Why a text column cannot be time (its values do not read as 2025-03 or 2025 Q1), or None."""
    col = ds.column(name)
    if col is None or col.type != "text":
        return None
    parsed = time_sql(quote(name), "text")
    row = catalog.con.execute(
        f"SELECT min({quote(name)}) FROM {quote(ds.table)} WHERE {quote(name)} IS NOT NULL AND {parsed} IS NULL"
    ).fetchone()
    if not row or row[0] is None:
        return None
    return (
        f"{name!r} is text that does not read as periods (e.g. {str(row[0])[:40]!r}); time needs a date "
        "column, an integer year, or text such as 2025-03 or 2025 Q1"
    )


def _period_text_problems(p: _Plan, ds: Dataset, catalog: Catalog) -> list[str]:
    """A text column used as time must read as periods in every row that has a value."""
    if p.q.join or p.q.union or p.q.unpivot:
        return []
    names = [s.column for s in p.q.select if s.bucket and s.column]
    names += [p.q.period.time_column] if p.q.period else []
    return [why for name in dict.fromkeys(names) if (why := unreadable_periods(catalog, ds, name))]


def query_problems(q: Query, catalog: Catalog) -> list[str]:
    """What keeps this query from compiling, worded for the planner (joins, exprs, transforms, other)."""
    ds = catalog.get(q.dataset)
    if ds is None:
        return []  # the caller reports unknown datasets
    out = []
    for j in q.join:
        other = catalog.get(j.dataset)
        if j.dataset == q.dataset:
            out.append(f"join {j.dataset!r}: a dataset cannot join itself")
            continue
        if other is None:
            out.append(f"join: unknown dataset {j.dataset!r}; available: {', '.join(catalog.datasets)}")
            continue
        for pair in j.on:
            if len(pair) != 2:
                out.append(f"join {j.dataset!r}: each 'on' item is [left column, right column], got {pair}")
            elif ds.column(pair[0]) is None or other.column(pair[1]) is None:
                out.append(
                    f"join {j.dataset!r}: {pair[0]!r} must be a column of {ds.name!r} and "
                    f"{pair[1]!r} a column of {j.dataset!r}"
                )
    out += union_problems(q, ds, catalog)
    if out:
        return out
    p = _Plan(q, ds, catalog)
    out += p.problems
    if out:
        return out
    out += _period_text_problems(p, ds, catalog)
    tk = p.time_key()
    for c in p.columns:
        t = c.select.transform if c.select else None
        if t == Transform.yoy_pct_change and tk is None:
            out.append(f"select {c.name!r}: yoy_pct_change needs a date group key (a date column with a bucket)")
    if q.other:
        if not q.limit:
            out.append("other: true needs a limit (the rows past it fold into one Other row)")
        if len(p.keys) != 1 or p.keys[0].type != "text":
            out.append("other: true needs exactly one text group key (its Other row is labelled 'Other')")
        bad = [c.name for c in p.columns if c.measure and not c.additive]
        if bad:
            out.append(
                f"other: true adds up the folded rows, so every value must be a sum, a count or a share; "
                f"not additive: {bad}"
            )
    for s in q.sort:
        if s.order is not None and s.by in {c.name for c in p.columns if c.type != "text"}:
            out.append(f"sort by {s.by!r}: order lists values of a text key")
    return out


def output_columns(q: Query, ds: Dataset, catalog: Catalog | None = None) -> list[OutColumn]:
    p = _Plan(q, ds, catalog)
    if p.problems:
        raise QueryError(f"query on {q.dataset!r}: " + "; ".join(p.problems))
    return p.columns


def run_query(catalog: Catalog, q: Query) -> Result:
    ds = catalog.get(q.dataset)
    if ds is None:
        raise QueryError(f"no dataset named {q.dataset!r}")
    p = _Plan(q, ds, catalog)
    if p.problems:
        raise QueryError(f"query on {q.dataset!r}: " + "; ".join(p.problems))
    sql, params = _sql(p)
    try:
        rows = catalog.con.execute(sql, params).fetchall()
    except Exception as e:  # duckdb raises many kinds (conversion, binder)
        raise QueryError(f"query on {q.dataset!r} failed: {str(e).splitlines()[0]}") from None
    folded = bool(q.other and q.limit and len(rows) > q.limit)
    return Result(p.columns, rows, sql, folded, period=period_window(catalog, q))


__all__ = [
    "OutColumn",
    "Result",
    "compile_query",
    "from_sql",
    "output_columns",
    "output_name",
    "period_window",
    "unreadable_periods",
    "query_problems",
    "run_query",
    "scope_of",
    "sort_spec",
    "view",
]
