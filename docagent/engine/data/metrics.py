"""Compute named scalars (`Metric`): a measure over all rows or over a period found in the data.

Relative periods (latest, previous, year_ago, to_date) are anchored on the
latest date present in the data, so a plan written today gives the right
figures on next month's data. Period bounds are computed here and enter the SQL
as parameters; the .xlsx renderer reuses them as SUMIFS criteria.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from docagent.engine.data.catalog import Catalog, Dataset
from docagent.engine.data.query import _Plan, _where, stock_from, time_sql
from docagent.engine.data.sql import quote
from docagent.engine.plan import Metric, Period, Query, Select
from docagent.errors import QueryError

RELATIVE = (Period.latest, Period.previous, Period.year_ago, Period.to_date)
Day = dt.date | dt.datetime


@dataclass(frozen=True)
class Window:
    """Rows with start <= time < end (time <= end when `inclusive`)."""

    start: Day
    end: Day
    inclusive: bool = False


def _months(d: Day, n: int) -> Day:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return d.replace(year=year, month=month, day=min(d.day, last))


def shift(d: Day, bucket: str, n: int) -> Day:
    """`d` moved by n buckets (a bucket start stays a bucket start)."""
    if bucket == "day":
        return d + dt.timedelta(days=n)
    if bucket == "week":
        return d + dt.timedelta(weeks=n)
    return _months(d, n * {"month": 1, "quarter": 3, "year": 12}[bucket])


def year_back(d: Day, bucket: str) -> Day:
    return shift(d, "week", -52) if bucket == "week" else _months(d, -12)


def measure_plan(m: Metric, ds: Dataset) -> _Plan:
    sel = Select(agg=m.agg, column=m.column, expr=m.expr, label=m.name)
    return _Plan(Query(dataset=m.dataset, select=[sel]), ds, None, m.time_column)


def metric_problems(m: Metric, ds: Dataset) -> list[str]:
    """What keeps this metric from computing, worded for the planner."""
    out = []
    if m.expr is None and m.agg is None:
        out.append("give agg (with column) or expr")
    else:
        p = measure_plan(m, ds)
        out += [s.split(": ", 1)[-1] for s in p.problems]
        if not p.problems and not p.columns[0].measure:
            out.append("a metric aggregates: use agg, or an expr such as sum(x) / count()")
    period = Period(str(m.period))  # an index is for model metrics only
    if period != Period.all:
        col = ds.column(m.time_column) if m.time_column else None
        if col is None or (m.bucket is None and period != Period.to_date):
            out.append(f"period {period} needs time_column (a date column) and bucket")
        elif time_sql("x", col.type) is None or (col.type == "integer" and m.bucket not in (None, "year")):
            out.append(
                f"cannot bucket by {m.bucket} on {m.time_column!r} ({col.type}); time buckets need a date column, "
                "an integer year (bucket year) or text such as 2025-03 or 2025 Q1"
            )
    if m.compare is not None and period not in RELATIVE:
        out.append(f"compare needs period latest, previous, year_ago or to_date, not {period}")
    if m.result != "value" and m.compare is None:
        out.append(f"result {m.result} needs compare: previous or year_ago")
    return out


def _time(m: Metric, ds: Dataset) -> str:
    """The metric's time column as a date (an integer year or period text read as its first day)."""
    assert m.time_column
    col = ds.column(m.time_column)
    t = quote(m.time_column)
    return (time_sql(t, col.type) if col is not None else None) or t


def _anchors(catalog: Catalog, m: Metric, ds: Dataset) -> tuple[Day | None, Day | None, Day | None]:
    """First and latest bucket starts and the latest time, among the metric's rows."""
    t = _time(m, ds)
    b = f"date_trunc('{m.bucket or 'day'}', {t})"
    where, params = _where(m.filters)
    row = catalog.con.execute(f"SELECT min({b}), max({b}), max({t}) FROM {quote(ds.table)}{where}", params).fetchone()
    return (row[0], row[1], row[2]) if row else (None, None, None)


def windows(catalog: Catalog, m: Metric, ds: Dataset) -> tuple[Window | None, Window | None]:
    """The metric's period and, with `compare`, the period it is compared with."""
    period = Period(str(m.period))  # an index is for model metrics only
    if period in (Period.all, Period.change):
        return None, None
    first, latest, last_time = _anchors(catalog, m, ds)
    if latest is None or first is None or last_time is None:
        return None, None
    b = str(m.bucket or "day")
    if period == Period.to_date:
        start = last_time.replace(month=1, day=1)
        if isinstance(start, dt.datetime):
            start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        win = Window(start, last_time, True)
        if m.compare is None:
            return win, None
        return win, Window(year_back(start, "month"), year_back(last_time, "month"), True)
    start = {
        Period.first: first,
        Period.last: latest,
        Period.latest: latest,
        Period.previous: shift(latest, b, -1),
        Period.year_ago: year_back(latest, b),
    }[period]
    win = Window(start, shift(start, b, 1))
    if m.compare is None:
        return win, None
    other = shift(start, b, -1) if m.compare == "previous" else year_back(start, b)
    return win, Window(other, shift(other, b, 1))


def metric_windows(catalog: Catalog, m: Metric) -> tuple[Window | None, Window | None]:
    """The period and the one it is compared with; a `change` compares the last bucket with the first."""
    ds = catalog.get(m.dataset) if m.dataset else None
    if ds is None:
        return None, None
    if m.period == Period.change:
        last = windows(catalog, m.model_copy(update={"period": Period.last}), ds)[0]
        first = windows(catalog, m.model_copy(update={"period": Period.first}), ds)[0]
        return last, first
    return windows(catalog, m, ds)


def _value(catalog: Catalog, m: Metric, ds: Dataset, win: Window | None) -> float | None:
    p = measure_plan(m, ds)
    if p.problems or p.sql[0] is None:
        raise QueryError(f"metric {m.name!r}: " + "; ".join(p.problems))
    where, params = _where(m.filters)
    params = p.sql[0].params + params
    if win is not None:
        t = _time(m, ds)
        where += (" AND " if where else " WHERE ") + f"{t} >= ? AND {t} {'<=' if win.inclusive else '<'} ?"
        params += [win.start, win.end]
    source = f"{quote(ds.table)}{where}"
    if p.columns[0].time:  # last/first: the value at the latest (earliest) time inside the window
        source = stock_from(quote(ds.table), [], where, _time(m, ds))
    sql = f"SELECT {p.sql[0].sql} FROM {source}"
    try:
        row = catalog.con.execute(sql, params).fetchone()
    except Exception as e:  # duckdb raises many kinds
        raise QueryError(f"metric {m.name!r} failed: {str(e).splitlines()[0]}") from None
    value: Any = row[0] if row else None
    if isinstance(value, dt.date | dt.datetime) or value is None:
        return None
    return float(value)


def _last_time(catalog: Catalog, m: Metric, ds: Dataset, win: Window) -> Day | None:
    t = _time(m, ds)
    where, params = _where(m.filters)
    where += (" AND " if where else " WHERE ") + f"{t} >= ? AND {t} < ?"
    sql = f"SELECT max({t}) FROM {quote(ds.table)}{where}"
    row = catalog.con.execute(sql, [*params, win.start, win.end]).fetchone()
    return row[0] if row else None


def _at(d: Day) -> dt.datetime:
    return d if isinstance(d, dt.datetime) else dt.datetime.combine(d, dt.time())


def partial_period(catalog: Catalog, m: Metric) -> str | None:
    """A note when the latest period is still running but is compared with a whole one.

    The data's own cadence decides: the latest bucket is partial when its rows reach a shorter way into it
    than the compared bucket's rows reach into that one (monthly rows in quarters, daily rows in months).
    """
    if m.period != Period.latest or m.compare is None or m.bucket in (None, "day") or not m.dataset:
        return None
    ds = catalog.get(m.dataset)
    win, against = metric_windows(catalog, m) if ds else (None, None)
    if ds is None or win is None or against is None:
        return None
    last, base_last = _last_time(catalog, m, ds, win), _last_time(catalog, m, ds, against)
    if last is None or base_last is None:
        return None
    reach, base_reach = _at(last) - _at(win.start), _at(base_last) - _at(against.start)
    if reach >= base_reach * 0.9:
        return None
    return (
        f"metric {m.name!r}: the latest {m.bucket} has data up to {last:%Y-%m-%d} only, while the {m.bucket} "
        f"it is compared with runs to {base_last:%Y-%m-%d}; the comparison sets part of a {m.bucket} "
        "against a whole one"
    )


def change(value: float | None, base: float | None, result: str) -> float | None:
    if value is None or base is None:
        return None
    if result == "diff":
        return value - base
    return None if base == 0 else (value - base) / abs(base)


def run_metric(catalog: Catalog, m: Metric) -> float | None:
    ds = catalog.get(m.dataset) if m.dataset else None
    if ds is None:
        raise QueryError(f"no dataset named {m.dataset!r}")
    win, against = metric_windows(catalog, m)
    if m.period == Period.change:
        if win is None or against is None:
            return None
        return change(_value(catalog, m, ds, win), _value(catalog, m, ds, against), "pct_change")
    if m.period != Period.all and win is None:
        return None  # no dated rows at all
    value = _value(catalog, m, ds, win)
    if m.compare is None or m.result == "value":
        return value
    return change(value, _value(catalog, m, ds, against) if against else None, m.result)


__all__ = [
    "RELATIVE",
    "Window",
    "change",
    "metric_problems",
    "metric_windows",
    "partial_period",
    "run_metric",
    "shift",
    "windows",
    "year_back",
]
